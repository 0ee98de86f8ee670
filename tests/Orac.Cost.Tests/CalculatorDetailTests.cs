using Orac.Model.Wire;

namespace Orac.Cost.Tests;

public class CalculatorDetailTests
{
    private static readonly CostModel s_model = CostModel.Parse("""
        {
          "regions": { "day": { "hourly": [0,0,0,800,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,400] } },
          "classes": {
            "box": { "usd_per_hour": 2, "usd_per_vcpu_hour": 0, "vcpus": 2, "cpu_watts_idle": 1, "cpu_watts_max": 11, "memory_gb": 0, "pue": 1, "region": "day", "embodied_kg_co2e": 0 },
            "gpus": { "base": "box", "usd_per_hour": 20, "gpu": { "model": "H200", "count": 4, "watts_idle": 50, "watts_max": 700, "usd_per_gpu_hour": 4 } },
          },
          "hosts": [ { "match": { "vcpus": 96, "host": "n?de-*" }, "class": "gpus" } ],
        }
        """, "detail.jsonc");

    [Fact]
    public void HourlyGrid_ActiveEnergyFollowsBusyHours_IdleUsesTheMean()
    {
        double[] busy = new double[24];
        busy[3] = 100;
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts =
            [
                new HostInput
                {
                    Org = "o", Host = "h", ClassName = "box", ObservedSeconds = 3600, CpuSecondsByUtcHour = busy,
                    Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("f", 360_000_000_000)))],
                },
            ],
        };
        CostDocument d = CostCalculator.Compute(s_model, input).Document;

        // Active: 360 s × 10 W = 3,600 J = 1 Wh at hour 3's 800 g/kWh = 0.8 g. Idle: 1 W × 2 × 3600 s = 2 Wh at the mean 50 g/kWh = 0.1 g.
        Assert.Equal(0.001, d.Hosts[0].Figures.Kwh, 12);
        Assert.Equal(0.0008, d.Hosts[0].Figures.KgCo2e, 12);
        Assert.Equal(0.002, d.Idle.Kwh, 12);
        Assert.Equal(0.0001, d.Idle.KgCo2e, 12);
    }

    [Fact]
    public void GpusWithoutReadings_ArePricedOnTheIdleLine()
    {
        var facts = new HostFacts(96, 0, ["NVIDIA H200"]);
        Assert.Equal("gpus", s_model.ClassFor("node-7", new Dictionary<string, string>(), facts).Name);
        // The file's rule fails (name, then vCPU count), so the built-in H200 rule that follows the file's rules wins.
        Assert.Equal("h200-sxm", s_model.ClassFor("nodes-7", new Dictionary<string, string>(), facts).Name);
        Assert.Equal("h200-sxm", s_model.ClassFor("node-7", new Dictionary<string, string>(), facts with { Cpus = 95 }).Name);
        Assert.Equal("default", s_model.ClassFor("nodes-7", new Dictionary<string, string>(), facts with { Gpus = [] }).Name);
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts =
            [
                new HostInput
                {
                    Org = "o", Host = "node-7", Facts = facts, ObservedSeconds = 3600,
                    Gpus = [new GpuUsage { Index = 0, Model = "NVIDIA H200", ObservedSeconds = 3600, BusySeconds = 3600 }],
                },
            ],
        };
        CostDocument d = CostCalculator.Compute(s_model, input).Document;

        // GPU 0: $4, (50 + 1.0 × 650) W × 1 h = 0.7 kWh. Idle: CPU pool $20 − $16 = $4 + 3 unread GPUs × $4 = $16;
        // energy 1 W × 2 vCPUs × 1 h + 3 × 50 W × 1 h = 0.152 kWh.
        Assert.Equal(4, d.Hosts[0].Figures.Usd, 12);
        Assert.Equal(0.7, d.Hosts[0].Figures.Kwh, 12);
        Assert.Equal(3600, d.Hosts[0].Figures.GpuSeconds, 12);
        Assert.Equal(16, d.Idle.Usd, 12);
        Assert.Equal(0.152, d.Idle.Kwh, 12);
        Assert.Equal("(gpu)", d.Services[0].Name);
        Assert.Null(d.Gpus[0].Service);
        Assert.Equal(100, d.Gpus[0].UtilPercent, 12);
        Assert.Contains("host node-7: class gpus has 4 GPUs, 1 sent readings: 3 priced as idle (price and idle watts, estimated)", d.Notes);
    }

    [Fact]
    public void Projection_UsesTheBaseSecondsWhenGiven()
    {
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts = [new HostInput { Org = "o", Host = "h", ClassName = "box", ObservedSeconds = 3600 }],
        };
        CostResult r = CostCalculator.Compute(s_model, input, new CostOptions { ProjectionBaseSeconds = 86_400 });
        Assert.Equal(365.25, r.YearFactor, 12);
        Assert.Equal(2 * 365.25, r.Document.ProjectedPerYear.Usd, 9);
        Assert.Equal(8766, CostCalculator.Compute(s_model, input).YearFactor, 9);
        CostResult none = CostCalculator.Compute(s_model, new CostInput { Hosts = input.Hosts });
        Assert.Equal(0, none.YearFactor);
        Assert.Contains("no period length: no yearly projection", none.Document.Notes);
    }

    [Fact]
    public void TopFunctions_KeepsTheCostliestAndCountsTheRest()
    {
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts =
            [
                new HostInput
                {
                    Org = "o", Host = "h", ClassName = "box", ObservedSeconds = 3600,
                    Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("a", 3_000_000_000), ("b", 2_000_000_000), ("c", 1_000_000_000), ("", 500_000_000)))],
                },
            ],
        };
        CostResult r = CostCalculator.Compute(s_model, input, new CostOptions { TopFunctions = 2 });
        Assert.Equal(["a", "b"], r.Document.Functions.ConvertAll(f => f.Name));
        Assert.Equal(2, r.Document.FunctionsOmitted);
        Assert.Equal(4, r.Atoms.Count);
        Assert.Contains(r.Atoms, a => a.Function == CostCalculator.NoStackFunction && a.Figures.CpuSeconds == 0.5);
        Assert.Equal(6.5, r.Document.Total.CpuSeconds, 12);
    }

    [Fact]
    public void Glob_StarsAndQuestionMarks()
    {
        Assert.True(Glob.IsMatch("web-*-eu?", "web-12-eu1", ignoreCase: false));
        Assert.False(Glob.IsMatch("web-*-eu?", "web-12-eu12", ignoreCase: false));
        Assert.True(Glob.IsMatch("*", "", ignoreCase: false));
        Assert.True(Glob.IsMatch("a*b*c", "aXbYbZc", ignoreCase: false));
        Assert.False(Glob.IsMatch("WEB", "web", ignoreCase: false));
        Assert.True(Glob.IsMatch("WEB", "web", ignoreCase: true));
        Assert.False(Glob.IsMatch(new string('*', 50) + "b", new string('a', 10_000), ignoreCase: false));
    }

    [Fact]
    public void MeasuredEnergyWithoutProfiledCpu_GoesToTheIdleLine()
    {
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts = [new HostInput { Org = "o", Host = "h", ClassName = "box", ObservedSeconds = 3600, CpuEnergy = new MeasuredCpuEnergy(90_000, 10, 3600, "rapl") }],
        };
        CostDocument d = CostCalculator.Compute(s_model, input).Document;

        // 90,000 J measured, idle 10 W × 3600 s = 36,000 J; the 54,000 J above idle has no CPU time to follow: all idle.
        Assert.Equal(0.025, d.Idle.Kwh, 12);
        Assert.Equal(0, d.Hosts[0].Figures.Kwh);
        Assert.Equal(Basis.Measured, d.Idle.EnergyBasis);
        Assert.Contains("host h: CPU energy measured (rapl)", d.Notes);
    }

    [Fact]
    public void NegativeValues_AreSkippedAndMarkTheAnswerPartial_GpuServiceFromServiceName()
    {
        var input = new CostInput
        {
            EndNs = 3_600_000_000_000,
            Hosts =
            [
                new HostInput
                {
                    Org = "o", Host = "h", ClassName = "gpus", ObservedSeconds = 3600,
                    Labels = new Dictionary<string, string> { ["service_name"] = "infer" },
                    Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("a", 2_000_000_000), ("b", -1_000_000_000)))],
                    Gpus = [new GpuUsage { Model = "H200", ObservedSeconds = 3600, BusySeconds = 100, MeasuredJoules = double.NaN }],
                },
            ],
        };
        CostDocument d = CostCalculator.Compute(s_model, input).Document;
        Assert.True(d.Partial);
        Assert.Contains("host h: service s: 1 samples with negative values skipped (a diff profile cannot be priced)", d.Notes);
        Assert.Equal(2 + 100, d.Total.CpuSeconds + d.Total.GpuSeconds, 12);
        Assert.Equal("infer", d.Gpus[0].Service);
        Assert.Equal(Basis.Estimated, d.Gpus[0].Figures.EnergyBasis);
        Assert.Contains(d.Services, r => r.Name == "infer");
    }
}
