using Orac.Model.Query;

namespace Orac.Model.Tests;

public class QueryParsingTests
{
    private static readonly Dictionary<string, string> Api = new() { ["service_name"] = "api", ["host"] = "gpu-7" };

    private static string? Lookup(string name) => Api.GetValueOrDefault(name);

    [Theory]
    [InlineData("{service_name=\"api\"}", true)]
    [InlineData("{service_name=\"api\", host=~\"gpu-.*\"}", true)]
    [InlineData("{service_name=\"api\",host=~\"gpu\"}", false)] // regexes are anchored
    [InlineData("{host!=\"gpu-7\"}", false)]
    [InlineData("{host!~\"cpu-.*\"}", true)]
    [InlineData("{zone=\"\"}", true)] // a missing label has the value ""
    [InlineData("{zone!=\"\"}", false)]
    [InlineData("{}", true)]
    [InlineData("", true)]
    [InlineData("api", true)] // a bare service name
    [InlineData("{service_name='api',}", true)] // single quotes and a trailing comma
    public void Selector_Matches(string text, bool expected) =>
        Assert.Equal(expected, Selector.Parse(text).Matches(Lookup));

    [Fact]
    public void Selector_TypePrefix_IsParsed()
    {
        var s = Selector.Parse("process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"api\"}");
        Assert.Equal(ProfileTypeId.ProcessCpu, s.Type);
        Assert.Single(s.Matchers);
        Assert.Equal("process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"api\"}", s.ToString());
    }

    [Theory]
    [InlineData("{service_name=api}", "offset 14: expected a quoted value")]
    [InlineData("{service_name=\"api\"", "offset 19: expected ',' or '}'")]
    [InlineData("{service_name==\"a\"}", "offset 14: expected a quoted value")]
    [InlineData("{=\"a\"}", "offset 1: expected a label name")]
    [InlineData("{a=\"x} ", "unterminated quoted value")]
    [InlineData("{a=\"x\"} extra", "unexpected text after '}'")]
    [InlineData("cpu{a=\"x\"}", "is not a profile type id")]
    [InlineData("{a=~\"(\"}", "bad regular expression for label 'a'")]
    [InlineData("a b", "expected '{'")]
    public void Selector_BadText_SaysWhereAndWhat(string text, string expected)
    {
        var e = Assert.Throws<OracException>(() => Selector.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(OracException.Usage, e.ExitCode);
    }

    [Fact]
    public void Selector_Huge_IsRefused() =>
        Assert.Throws<OracException>(() => Selector.Parse("{a=\"" + new string('x', 5000) + "\"}"));

    [Theory]
    [InlineData("process_cpu:cpu:nanoseconds:cpu:nanoseconds", true)]
    [InlineData("memory:alloc_space:bytes:space:bytes", true)]
    [InlineData("process_cpu:cpu:nanoseconds:cpu", false)]
    [InlineData("a::b:c:d", false)]
    [InlineData("a:b:c:d:e{", false)]
    [InlineData("", false)]
    public void ProfileTypeId_Parses(string text, bool ok)
    {
        Assert.Equal(ok, ProfileTypeId.TryParse(text, out var id));
        if (ok)
        {
            Assert.Equal(text, id.ToString());
        }
    }

    private const long Now = 1_764_400_000L * TimeSpec.NsPerSecond; // 2025-11-29T07:06:40Z

    [Theory]
    [InlineData("now", 0L)]
    [InlineData("now-1h", -3600L)]
    [InlineData("now-90s", -90L)]
    [InlineData("now - 7d", -7 * 86400L)]
    [InlineData("now+1m", 60L)]
    [InlineData("now-1h30m", -5400L)]
    public void TimeSpec_Relative(string text, long offsetSeconds) =>
        Assert.Equal(Now + (offsetSeconds * TimeSpec.NsPerSecond), TimeSpec.Parse(text, Now, "--from"));

    [Theory]
    [InlineData("1764400000", 1_764_400_000_000_000_000L)] // seconds
    [InlineData("1764400000123", 1_764_400_000_123_000_000L)] // milliseconds
    [InlineData("1764400000123456", 1_764_400_000_123_456_000L)] // microseconds
    [InlineData("1764400000123456789", 1_764_400_000_123_456_789L)] // nanoseconds
    [InlineData("2025-11-29T07:06:40Z", 1_764_400_000_000_000_000L)]
    [InlineData("2025-11-29T08:06:40+01:00", 1_764_400_000_000_000_000L)]
    public void TimeSpec_Absolute(string text, long ns) => Assert.Equal(ns, TimeSpec.Parse(text, Now, "--from"));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("now-")]
    [InlineData("now-1y")]
    [InlineData("now*2")]
    [InlineData("-5")]
    [InlineData("now-99999999999999d")]
    public void TimeSpec_Bad_NamesTheParameter(string text)
    {
        var e = Assert.Throws<OracException>(() => TimeSpec.Parse(text, Now, "--until"));
        Assert.Contains("--until", e.Message, StringComparison.Ordinal);
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeSpec_Format_IsRfc3339Utc() => Assert.Equal("2025-11-29T07:06:40.000Z", TimeSpec.Format(Now));
}
