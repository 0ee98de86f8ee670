namespace Orac.Ask.Tests;

/// <summary>The rule changes of 2026-11-29 (docs/ask.md "Decisions"): unknown scope words, function positions, range order, adjacent scopes, follow-up matchers.</summary>
public class PlannerRuleChangesTests
{
    private const string LastHour = "2026-11-25T13:30:00Z..2026-11-25T14:30:00Z";
    private const string Week = "2026-11-18T14:30:00Z..2026-11-25T14:30:00Z";
    private const string Today = "2026-11-25T00:00:00Z..2026-11-25T14:30:00Z";
    private const string Yesterday = "2026-11-24T00:00:00Z..2026-11-25T00:00:00Z";

    private static string P(string q, bool mem = false, string? after = null)
    {
        Plan? prev = after is null ? null : Planner.Plan(after, AskFixture.Context(mem));
        return Planner.Plan(q, AskFixture.Context(mem, prev)).ToString();
    }

    [Theory]
    [InlineData("hottest functions on frontends", "clarify scope got=\"frontends\"")]
    [InlineData("top functions in payments", "clarify scope got=\"payments\"")]
    [InlineData("what should we optimise first for ledger", "clarify scope got=\"ledger\"")]
    [InlineData("why is the ledger service slow", "clarify scope got=\"ledger\"")]
    [InlineData("profile host zeppelin for 30 seconds", "clarify host got=\"zeppelin\"")]
    public void Unknown_scope_word_is_asked_back(string q, string plan) => Assert.Equal(plan, P(q));

    [Theory]
    [InlineData("hottest functions on frontends", "top {host=~\"web-.*\"} " + LastHour + " n=10 memory=m3")]
    [InlineData("top functions in api in the last hour", "top {service_name=\"api\"} " + LastHour + " n=10")]
    [InlineData("top functions on the fleet", "top {} " + LastHour + " n=10")]
    [InlineData("top functions in prod", "top {env=\"prod\"} " + LastHour + " n=10")]
    [InlineData("profile web-1 for 30 seconds", "profile {host=\"web-1\"} seconds=30")]
    [InlineData("profile all hosts for 2 minutes", "profile {} seconds=120 confirm")]
    [InlineData("hottest functions in production", "top {} " + LastHour + " n=10")]
    [InlineData("profile web-1 for a bit", "profile {host=\"web-1\"} seconds=30")]
    [InlineData("top functions on average for now", "top {} " + LastHour + " n=10")]
    [InlineData("what is eating cpu in api in the meantime", "top {service_name=\"api\"} " + LastHour + " n=10")]
    public void Common_scope_phrases_still_read(string q, string plan) => Assert.Equal(plan, P(q, mem: q.Contains("frontends", StringComparison.Ordinal)));

    [Theory]
    [InlineData("annual cost of malloc", "function-cost {} " + Week + " fn=\"malloc\"")]
    [InlineData("what does memcpy cost per year", "function-cost {} " + Week + " fn=\"memcpy\"")]
    [InlineData("how much do we spend on gzip in checkout", "function-cost {service_name=\"checkout\"} " + Week + " fn=\"gzip\"")]
    [InlineData("what does api cost", "clarify function")]
    [InlineData("cost of the service", "clarify function")]
    public void Function_positions(string q, string plan) => Assert.Equal(plan, P(q));

    [Theory]
    [InlineData("compare api yesterday and today", "diff {service_name=\"api\"} " + Today + " vs {service_name=\"api\"} " + Yesterday)]
    [InlineData("compare api today and yesterday", "diff {service_name=\"api\"} " + Today + " vs {service_name=\"api\"} " + Yesterday)]
    [InlineData("api yesterday vs today", "diff {service_name=\"api\"} " + Today + " vs {service_name=\"api\"} " + Yesterday)]
    [InlineData("what changed between today and yesterday on web-1", "diff {host=\"web-1\"} " + Today + " vs {host=\"web-1\"} " + Yesterday)]
    public void Two_ranges_later_is_new(string q, string plan) => Assert.Equal(plan, P(q));

    [Theory]
    [InlineData("diff web-1 web-2", "diff {host=\"web-1\"} " + LastHour + " vs {host=\"web-2\"} " + LastHour)]
    [InlineData("diff web-2 web-1 today", "diff {host=\"web-2\"} " + Today + " vs {host=\"web-1\"} " + Today)]
    [InlineData("what changed on web-1 and web-2", "diff {host=~\"web-1|web-2\"} " + LastHour + " vs {host=~\"web-1|web-2\"} 2026-11-25T12:30:00Z..2026-11-25T13:30:00Z")]
    public void Adjacent_scopes_new_then_base(string q, string plan) => Assert.Equal(plan, P(q));

    [Theory]
    [InlineData("and the 1.4.2 version?", "top functions in api", "top {service_name=\"api\", version=\"1.4.2\"} " + LastHour + " n=10")]
    [InlineData("and for the inference service?", "top functions in api in prod", "top {env=\"prod\", service_name=\"inference\"} " + LastHour + " n=10")]
    [InlineData("and for the inference service?", "top functions in api", "top {service_name=\"inference\"} " + LastHour + " n=10")]
    [InlineData("what about web-2?", "why is api slow on web-1", "slow {host=\"web-2\", service_name=\"api\"} seconds=30 confirm")]
    [InlineData("and on all hosts?", "top functions in api", "top {} " + LastHour + " n=10")]
    public void Follow_up_replaces_same_label(string q, string after, string plan) => Assert.Equal(plan, P(q, after: after));
}
