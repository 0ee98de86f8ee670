using System.Text;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary>How <c>orac query</c> turns the server's documents into text: the diff table and the CPU-time conversion of <c>orac up</c>.</summary>
public class QueryRenderTests
{
    // total → main → {work (self 30, base 10), idle (self 5, base 20)}; main → work again under "other" to check summing.
    private const string DiffTree = """
        {"type":"process_cpu:cpu:nanoseconds:cpu:nanoseconds","unit":"nanoseconds","provenance":"measured","partial":false,
         "from":0,"until":1,"total":40,"baseTotalValue":35,
         "names":["total","main","work","idle","other"],
         "nodes":{"parent":[-1,0,1,1,1,4],"name":[0,1,2,3,4,2],"total":[40,40,30,5,5,5],"self":[0,0,25,5,0,5],
                  "baseTotal":[35,35,10,20,5,5],"baseSelf":[0,0,5,20,5,5]},
         "truncated":0}
        """;

    [Fact]
    public void Diff_SumsSelfPerFunction_SortsByAbsoluteDelta()
    {
        DiffReport r = DiffReport.FromFlameTree(Encoding.UTF8.GetBytes(DiffTree), "{} a..b", "{} c..d");
        Assert.Equal([("work", 10L, 30L), ("idle", 20L, 5L), ("other", 5L, 0L)], r.Rows);
        Assert.Equal(35, r.BaseTotal);
        Assert.Equal(40, r.Total);
        string text = r.Render(10);
        string expected = """
            values are measured; unit: nanoseconds; type process_cpu:cpu:nanoseconds:cpu:nanoseconds; self value per function
            before: {} a..b (total 35 nanoseconds)
            after:  {} c..d (total 40 nanoseconds)
            function  before (nanoseconds)  after (nanoseconds)  delta (nanoseconds)  delta %
            work                        10                   30                  +20   +200.0
            idle                        20                    5                  -15    -75.0
            other                        5                    0                   -5     gone

            """;
        Assert.Equal(expected.Replace("\r\n", "\n", StringComparison.Ordinal), text);
    }

    [Fact]
    public void Diff_MoreRowsThanAsked_SaysHowManyMore()
    {
        string text = DiffReport.FromFlameTree(Encoding.UTF8.GetBytes(DiffTree), "b", "a").Render(1);
        Assert.Contains("(2 more functions changed; --top N shows more)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("idle", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"unit\":\"x\"}")]
    [InlineData("{\"unit\":\"n\",\"total\":1,\"baseTotalValue\":1,\"names\":[\"total\"],\"nodes\":{\"parent\":[-1,0],\"name\":[0],\"self\":[0,0],\"baseSelf\":[0,0]}}")]
    [InlineData("{\"unit\":\"n\",\"total\":1,\"baseTotalValue\":1,\"names\":[\"total\"],\"nodes\":{\"parent\":[-1,0],\"name\":[0,7],\"self\":[0,0],\"baseSelf\":[0,0]}}")]
    public void Diff_BadDocument_IsOneClearError(string json)
    {
        var e = Assert.Throws<OracException>(() => DiffReport.FromFlameTree(Encoding.UTF8.GetBytes(json), "b", "a"));
        Assert.Contains("diff flame tree", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AgentProfiler_CpuTime_IsSamplesTimesPeriod()
    {
        var b = new ProfileBuilder(new SampleType("cpu", "samples"));
        b.Add(b.Stack([b.Frame("main"), b.Frame("work")]), 3);
        b.Add(b.Stack([b.Frame("main")]), 1);
        ProfileDocument d = Orac.Agent.ContinuousProfiler.ToCpuTime(ProfileJson.ToDocument(b.Build(), "t"), 52_631_578);
        Assert.Equal("nanoseconds", Assert.Single(d.SampleTypes).Unit);
        Assert.Equal([3 * 52_631_578L, 52_631_578L], d.Samples.Select(s => s.Values[0]));
        Assert.Equal(52_631_578, d.Period);
    }
}
