using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost.Tests;

public class CalculatorBasicsTests
{
    [Fact]
    public void NanosPerValue_ByUnit()
    {
        Assert.Equal(1, CostCalculator.NanosPerValue(TestProfiles.CpuNanos(("a", 5))));
        Assert.Equal(10_000_000, CostCalculator.NanosPerValue(TestProfiles.Samples(10_000_000, ("a", 5))));
        Assert.Equal(10_000_000, CostCalculator.NanosPerValue(TestProfiles.Samples(10_000_000, ("a", 5)), hz: 99));
        Assert.Equal(1e9 / 99, CostCalculator.NanosPerValue(TestProfiles.Counts(("a", 5)), hz: 99));
        var e = Assert.Throws<OracException>(() => CostCalculator.NanosPerValue(TestProfiles.Counts(("a", 5))));
        Assert.Contains("pass --hz", e.Message, StringComparison.Ordinal);
        Assert.Throws<OracException>(() => CostCalculator.NanosPerValue(TestProfiles.Counts(("a", 5)), hz: 0));
        Assert.Throws<OracException>(() => CostCalculator.NanosPerValue(TestProfiles.Build(new SampleType("alloc_space", "bytes"), new ProfileMetadata(), [("a", 5)])));
    }

    [Fact]
    public void Compute_AttributesSelfTimeAndKeepsIdleApart()
    {
        // 1 vCPU-hour of CPU on a 4-vCPU aws host observed for 1 h: 1/4 attributed, 3/4 idle capacity.
        var input = new CostInput
        {
            StartNs = 0,
            EndNs = 3_600_000_000_000,
            Hosts =
            [
                new HostInput
                {
                    Org = "acme",
                    Host = "h1",
                    ClassName = "aws",
                    Facts = new HostFacts(4, 0, []),
                    ObservedSeconds = 3600,
                    Workloads = [new WorkloadProfile("api", TestProfiles.CpuNanos(("main;work", 2_700_000_000_000), ("main", 900_000_000_000)))],
                },
            ],
        };
        CostResult r = CostCalculator.Compute(CostModel.Defaults, input);
        CostDocument d = r.Document;
        Assert.Equal(3600, d.Total.CpuSeconds, 9);
        Assert.Equal(0.05, d.Hosts[0].Figures.Usd, 12);                       // 1 vCPU-h × $0.05
        Assert.Equal(0.15, d.Idle.Usd, 12);                                   // 3 unused vCPU-h
        Assert.Equal(0.20, d.Total.Usd, 12);
        Assert.Equal((3.5 - 0.74) * 3600 / 3.6e6 * 1.135, d.Hosts[0].Figures.Kwh, 12);
        Assert.Equal(0.74 * 4 * 3600 / 3.6e6 * 1.135, d.Idle.Kwh, 12);
        Assert.Equal(d.Total.Kwh * 379 / 1000, d.Total.KgCo2e, 12);
        Assert.Equal(["work", "main"], d.Functions.ConvertAll(f => f.Name));
        Assert.Equal(75, d.Functions[0].CpuPercent, 9);
        Assert.Equal("api", d.Functions[0].Service);
        Assert.Equal(2, r.Atoms.Count);
        Assert.Equal(Basis.Estimated, d.Total.EnergyBasis);
        Assert.Equal(Basis.Projection, d.ProjectedPerYear.EnergyBasis);
        Assert.Equal(d.Total.Usd * 8766, d.ProjectedPerYear.Usd, 9);
        Assert.False(d.Partial);
        Assert.Contains(d.Notes, n => n.Contains("4 vCPUs from the agent's facts", StringComparison.Ordinal));
    }

    [Fact]
    public void Compute_UnknownObservedTime_NoIdleLineAndPartial()
    {
        var input = new CostInput
        {
            Hosts = [new HostInput { Org = "o", Host = "h", Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("f", 1_000_000_000)))] }],
        };
        CostDocument d = CostCalculator.Compute(CostModel.Defaults, input).Document;
        Assert.Equal(0, d.Idle.Usd);
        Assert.True(d.Partial);
        Assert.Contains(d.Notes, n => n.Contains("no idle", StringComparison.Ordinal));
        Assert.Equal(0.05 / 3600, d.Total.Usd, 15);
    }

    [Fact]
    public void Compute_FoldedCountsWithoutHz_Throws()
    {
        var input = new CostInput { Hosts = [new HostInput { Org = "o", Host = "h", Workloads = [new WorkloadProfile("s", TestProfiles.Counts(("f", 10)))] }] };
        Assert.Throws<OracException>(() => CostCalculator.Compute(CostModel.Defaults, input));
        CostDocument d = CostCalculator.Compute(CostModel.Defaults, input, new CostOptions { Hz = 100 }).Document;
        Assert.Equal(0.1, d.Total.CpuSeconds, 12);
    }
}
