using Orac.Ask;

namespace Orac.Ask.Tests;

public class PlanFormatTests
{
    private static long Ns(int hour, int minute) => (new DateTimeOffset(2026, 11, 25, hour, minute, 0, TimeSpan.Zero).ToUnixTimeMilliseconds()) * 1_000_000;

    [Fact]
    public void Canonical_Top_RangeAndCount()
    {
        var p = new Plan { Kind = PlanKind.Top, Selector = "{service_name=\"api\"}", FromNs = Ns(13, 30), UntilNs = Ns(14, 30), Top = 5 };
        Assert.Equal("top {service_name=\"api\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5", p.ToString());
    }

    [Fact]
    public void Canonical_ClarifyAndMemories()
    {
        var p = new Plan { Kind = PlanKind.Clarify, Field = "service", Got = "infer", Suggestions = ["inference"], MemoriesUsed = ["m2"] };
        Assert.Equal("clarify service got=\"infer\" suggest=inference memory=m2", p.ToString());
        Assert.Equal("profile {host=\"web-1\"} seconds=30 confirm", new Plan { Kind = PlanKind.Profile, Selector = "{host=\"web-1\"}", Seconds = 30, Confirm = true }.ToString());
    }

    [Fact]
    public void Canonical_StatedFact_RidesBeforeMemories()
    {
        var p = new Plan { Kind = PlanKind.GpuIdle, FromNs = Ns(13, 30), UntilNs = Ns(14, 30), Text = "our \"H100s\" cost $2.10", MemoriesUsed = ["m4"] };
        Assert.Equal("gpu-idle {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z remember=\"our \\\"H100s\\\" cost $2.10\" memory=m4", p.ToString());
        Assert.Equal("remember \"x\"", new Plan { Kind = PlanKind.Remember, Text = "x" }.ToString());
        Assert.Equal("help remember=\"x\"", new Plan { Kind = PlanKind.Help, Text = "x" }.ToString());
    }
}
