namespace Orac.Ask.Tests;

/// <summary>Every phrase of docs/ask.md "Reading questions", Time, against the fixed clock (2026-11-25T14:30:00Z, a Wednesday, UTC).</summary>
public class TimePhraseTests
{
    private static string Range(string question) => Planner.Plan("top functions in api " + question, AskFixture.Context()).ToString()
        .Replace("top {service_name=\"api\"} ", "", StringComparison.Ordinal).Replace(" n=10", "", StringComparison.Ordinal);

    [Theory]
    [InlineData("last hour", "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("past hour", "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("in the last hour", "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("last 30 minutes", "2026-11-25T14:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("last 6 hours", "2026-11-25T08:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("last 2 days", "2026-11-23T14:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("over 45 min", "2026-11-25T13:45:00Z..2026-11-25T14:30:00Z")]
    [InlineData("15m", "2026-11-25T14:15:00Z..2026-11-25T14:30:00Z")]
    [InlineData("2h", "2026-11-25T12:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("3d", "2026-11-22T14:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("today", "2026-11-25T00:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("yesterday", "2026-11-24T00:00:00Z..2026-11-25T00:00:00Z")]
    [InlineData("yesterday 14:00–15:00", "2026-11-24T14:00:00Z..2026-11-24T15:00:00Z")]
    [InlineData("yesterday 14:00-15:00", "2026-11-24T14:00:00Z..2026-11-24T15:00:00Z")]
    [InlineData("yesterday from 2pm to 3pm", "2026-11-24T14:00:00Z..2026-11-24T15:00:00Z")]
    [InlineData("yesterday between 14:00 and 15:00", "2026-11-24T14:00:00Z..2026-11-24T15:00:00Z")]
    [InlineData("yesterday 2-3pm", "2026-11-24T14:00:00Z..2026-11-24T15:00:00Z")]
    [InlineData("this morning", "2026-11-25T06:00:00Z..2026-11-25T12:00:00Z")]
    [InlineData("since Tuesday", "2026-11-24T00:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("since wednesday", "2026-11-18T00:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("since friday", "2026-11-20T00:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("on Monday", "2026-11-23T00:00:00Z..2026-11-24T00:00:00Z")]
    [InlineData("on sunday", "2026-11-22T00:00:00Z..2026-11-23T00:00:00Z")]
    [InlineData("since 13:00", "2026-11-25T13:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("since 1pm", "2026-11-25T13:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("since 1 pm", "2026-11-25T13:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("since 16:00", "2026-11-24T16:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("between 9 and 11", "2026-11-25T09:00:00Z..2026-11-25T11:00:00Z")]
    [InlineData("from 09:00 to 11:00", "2026-11-25T09:00:00Z..2026-11-25T11:00:00Z")]
    [InlineData("between 2 and 3pm", "2026-11-25T14:00:00Z..2026-11-25T15:00:00Z")]
    [InlineData("last week", "2026-11-18T14:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("past week", "2026-11-18T14:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("last 7 days", "2026-11-18T14:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("this week", "2026-11-23T00:00:00Z..2026-11-25T14:30:00Z")]
    [InlineData("right now", "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("rn", "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    public void TimePhrase_FixedClock(string phrase, string range) => Assert.Equal(range, Range(phrase));

    [Theory]
    [InlineData("since blorpday", "blorpday")]
    [InlineData("on blorpday", "blorpday")]
    [InlineData("since the deploy", "deploy")]
    [InlineData("last 100000 days", "last 100000 days")]
    public void TimePhrase_Unreadable_Clarifies(string phrase, string got) =>
        Assert.Equal($"clarify range got=\"{got}\"", Planner.Plan("top functions in api " + phrase, AskFixture.Context()).ToString());

    [Fact]
    public void TimePhrase_ZoneMovesDayBoundaries()
    {
        // 14:30Z is 09:30 in New York (UTC−5 in November): "today" starts at 05:00Z.
        var zone = TimeZoneInfo.CreateCustomTimeZone("test-5", TimeSpan.FromHours(-5), "test-5", "test-5");
        var ctx = new PlanContext { Now = AskFixture.Now, Zone = zone, Inventory = AskFixture.Inventory };
        Assert.Equal("top {} 2026-11-25T05:00:00Z..2026-11-25T14:30:00Z n=10", Planner.Plan("top functions today", ctx).ToString());
        Assert.Equal("top {} 2026-11-25T11:00:00Z..2026-11-25T14:30:00Z n=10", Planner.Plan("top functions this morning", ctx).ToString());
    }

    [Fact]
    public void Defaults_PerKind()
    {
        var ctx = AskFixture.Context();
        Assert.Equal("opportunities {} 2026-11-18T14:30:00Z..2026-11-25T14:30:00Z n=10", Planner.Plan("where can we save money", ctx).ToString());
        Assert.Equal("outliers {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z", Planner.Plan("which hosts are outliers", ctx).ToString());
        Assert.Equal("gpu-idle {} 2026-11-18T14:30:00Z..2026-11-25T14:30:00Z", Planner.Plan("idle GPUs", ctx).ToString());
        Assert.Equal("diff {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z vs {} 2026-11-25T12:30:00Z..2026-11-25T13:30:00Z", Planner.Plan("what changed", ctx).ToString());
    }
}
