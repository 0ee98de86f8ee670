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
        Assert.Contains("host h1: class aws leaves vcpus unset; vCPUs taken from the host's reported size (agent, or this machine for a file recorded here)", d.Notes);
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

    [Fact]
    public void Notes_OneLinePerKind_NamingTheHosts()
    {
        var hosts = new List<HostInput>();
        for (int i = 0; i < 7; i++)
        {
            hosts.Add(new HostInput
            {
                Org = "o",
                Host = $"h{i}",
                Labels = i == 0 ? new Dictionary<string, string> { ["class"] = "nope" } : new Dictionary<string, string>(),
                Facts = new HostFacts(2, 4_000_000_000, []),
                ObservedSeconds = 60,
            });
        }

        CostDocument d = CostCalculator.Compute(CostModel.Defaults, new CostInput { EndNs = 60_000_000_000, Hosts = hosts }).Document;
        Assert.Equal(
            [
                "host h0: label class=nope names no class of the model; ignored",
                "7 hosts (h0, h1, h2, h3, h4, …): class default leaves vcpus unset; vCPUs taken from the host's reported size (agent, or this machine for a file recorded here)",
            ],
            d.Notes);
        Assert.False(d.Partial);

        // Idle only: 2 vCPUs × $0.05 × 1 min each, memory 4 GB from the facts.
        Assert.Equal(7 * 2 * 0.05 / 60, d.Total.Usd, 12);
        Assert.Equal(7 * ((0.74 * 2 * 60 / 3.6e6) + (4 * 0.000392 / 60)) * 1.135, d.Total.Kwh, 12);
        Assert.Empty(d.Functions);
    }
}

public class CpuRatesTests
{
    [Fact]
    public void RatesFor_MatchComputePerCpuSecond()
    {
        var facts = new HostFacts(4, 8_000_000_000, []);
        var idle = new HostInput { Org = "o", Host = "h", ClassName = "gcp", Facts = facts, ObservedSeconds = 3600 };
        CpuRates est = CostCalculator.RatesFor(CostModel.Defaults, idle);
        Assert.Equal("gcp", est.Class);
        Assert.Equal(0.05 / 3600, est.UsdPerCpuSecond, 15);
        Assert.Equal((4.26 - 0.71) / 3.6e6 * 1.1, est.KwhPerCpuSecond, 15);
        Assert.Equal(est.KwhPerCpuSecond * 379 / 1000, est.KgCo2ePerCpuSecond, 15);
        Assert.Equal(Basis.Estimated, est.EnergyBasis);

        // Measured: 20,000 J above idle shared by the host's 100 profiled CPU-seconds → 200 J each.
        var busy = new HostInput
        {
            Org = "o", Host = "h", ClassName = "gcp", Facts = facts, ObservedSeconds = 3600,
            CpuEnergy = new MeasuredCpuEnergy(20_000 + (5 * 3600), 5, 3600, "rapl"),
            Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("a", 60_000_000_000), ("b", 40_000_000_000)))],
        };
        CpuRates m = CostCalculator.RatesFor(CostModel.Defaults, busy);
        Assert.Equal(200 / 3.6e6 * 1.1, m.KwhPerCpuSecond, 15);
        Assert.Equal(Basis.Measured, m.EnergyBasis);
    }
}
