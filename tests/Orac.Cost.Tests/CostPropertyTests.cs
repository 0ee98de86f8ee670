using CsCheck;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost.Tests;

/// <summary>
/// Invariants of <see cref="CostCalculator.Compute"/> over random fleets (docs/cost.md "Attribution"): rows add up,
/// attributed + idle = total, idle is never attributed, PUE and grid intensity scale exactly what they should.
/// </summary>
public class CostPropertyTests
{
    private const string ModelText = """
        {
          "regions": {
            "flat": { "g_per_kwh": 300 },
            "hourly": { "hourly": [100,110,120,130,140,150,160,170,180,190,200,210,220,230,240,250,260,270,280,290,300,310,320,330] },
          },
          "classes": {
            "box": { "usd_per_hour": 0.8, "usd_per_vcpu_hour": 0, "vcpus": 8, "memory_gb": 32, "region": "flat", "embodied_kg_co2e": 1200, "lifetime_years": 4 },
            "sized": { "base": "gcp", "region": "hourly", "embodied_kg_co2e": 500 },
            "gpu": { "base": "h100-sxm", "gpu": { "count": 2 }, "region": "hourly" },
          },
        }
        """;

    private static readonly CostModel s_model = CostModel.Parse(ModelText, "props.jsonc");
    private static readonly string[] s_functions = ["main", "parse", "gc", "memcpy", "hash", "regex"];
    private static readonly string[] s_classes = ["box", "sized", "gpu", "aws", "on-prem"];

    /// <summary>A random fleet from one seed, so failures reproduce.</summary>
    internal static CostInput Fleet(int seed)
    {
        var rng = new Random(seed);
        var hosts = new List<HostInput>();
        int n = rng.Next(1, 5);
        for (int i = 0; i < n; i++)
        {
            var workloads = new List<WorkloadProfile>();
            int services = rng.Next(0, 3);
            for (int s = 0; s < services; s++)
            {
                var rows = new List<(string, long)>();
                for (int r = rng.Next(1, 6); r > 0; r--)
                {
                    string stack = string.Join(';', Enumerable.Range(0, rng.Next(1, 4)).Select(_ => s_functions[rng.Next(s_functions.Length)]));
                    rows.Add((stack, rng.NextInt64(1, 2_000_000_000_000)));
                }

                Profile p = rng.Next(2) == 0 ? TestProfiles.CpuNanos([.. rows]) : TestProfiles.Samples(10_000_000, [.. rows.Select(x => (x.Item1, x.Item2 / 10_000_000 + 1))]);
                workloads.Add(new WorkloadProfile($"svc{rng.Next(3)}", p));
            }

            var gpus = new List<GpuUsage>();
            for (int g = rng.Next(0, 3); g > 0; g--)
            {
                double obs = rng.Next(0, 7201);
                gpus.Add(new GpuUsage
                {
                    Index = g,
                    Model = "H100",
                    ObservedSeconds = obs,
                    BusySeconds = rng.NextDouble() * obs,
                    MeasuredJoules = rng.Next(2) == 0 ? null : rng.NextDouble() * 5e6,
                    LowUtilSeconds = rng.NextDouble() * obs,
                });
            }

            hosts.Add(new HostInput
            {
                Org = rng.Next(2) == 0 ? "alpha" : "beta",
                Host = $"h{i}",
                ClassName = s_classes[rng.Next(s_classes.Length)],
                Labels = rng.Next(2) == 0 ? new Dictionary<string, string> { ["service"] = "trainer" } : new Dictionary<string, string>(),
                Facts = rng.Next(4) == 0 ? null : new HostFacts(rng.Next(1, 65), rng.NextInt64(1, 256L << 30), []),
                ObservedSeconds = rng.Next(5) == 0 ? 0 : rng.Next(1, 86_401),
                Workloads = workloads,
                Gpus = gpus,
                CpuSecondsByUtcHour = rng.Next(2) == 0 ? null : Enumerable.Range(0, 24).Select(_ => rng.NextDouble() * 100).ToArray(),
                CpuEnergy = rng.Next(3) == 0 ? new MeasuredCpuEnergy(rng.NextDouble() * 1e7, rng.NextDouble() * 50, rng.Next(1, 86_401), "rapl") : null,
            });
        }

        return new CostInput { StartNs = 0, EndNs = rng.NextInt64(1, 30L * 86_400) * 1_000_000_000, Hosts = hosts };
    }

    private static CostDocument Doc(CostInput input, CostModel? model = null) =>
        CostCalculator.Compute(model ?? s_model, input, new CostOptions { TopFunctions = 10_000 }).Document;

    private static void Close(double expected, double actual, string what)
    {
        double tolerance = 1e-9 * Math.Max(Math.Abs(expected), Math.Abs(actual)) + 1e-12;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R}");
    }

    private static CostFigures Sum(IEnumerable<CostFigures> rows)
    {
        var s = new CostFigures();
        foreach (CostFigures f in rows)
        {
            s.CpuSeconds += f.CpuSeconds;
            s.GpuSeconds += f.GpuSeconds;
            s.Usd += f.Usd;
            s.Kwh += f.Kwh;
            s.KgCo2e += f.KgCo2e;
            s.EmbodiedKgCo2e += f.EmbodiedKgCo2e;
        }

        return s;
    }

    private static void SameFigures(CostFigures expected, CostFigures actual, string what)
    {
        Close(expected.CpuSeconds, actual.CpuSeconds, what + " CPU s");
        Close(expected.GpuSeconds, actual.GpuSeconds, what + " GPU s");
        Close(expected.Usd, actual.Usd, what + " $");
        Close(expected.Kwh, actual.Kwh, what + " kWh");
        Close(expected.KgCo2e, actual.KgCo2e, what + " kg CO2e");
        Close(expected.EmbodiedKgCo2e, actual.EmbodiedKgCo2e, what + " embodied");
    }

    [Fact]
    public void Rows_SumToTheAttributedTotal_AndAttributedPlusIdleIsTotal()
    {
        Gen.Int.Sample(seed =>
        {
            CostDocument d = Doc(Fleet(seed));
            CostFigures attributed = Sum(d.Hosts.Select(h => h.Figures));
            SameFigures(attributed, Sum(d.Functions.Select(r => r.Figures)), $"seed {seed}: functions");
            SameFigures(attributed, Sum(d.Services.Select(r => r.Figures)), $"seed {seed}: services");
            SameFigures(attributed, Sum(d.Orgs.Select(r => r.Figures)), $"seed {seed}: orgs");
            SameFigures(d.Idle, Sum(d.HostIdle.Select(r => r.Figures)), $"seed {seed}: host idle");
            CostFigures both = Sum([attributed, d.Idle]);
            SameFigures(d.Total, both, $"seed {seed}: attributed + idle");
            Assert.Equal(0, d.FunctionsOmitted);
            Assert.Equal(d.Hosts.Count, d.HostIdle.Count);
            foreach (CostFigures f in d.Hosts.Concat(d.HostIdle).Concat(d.Functions).Select(r => r.Figures).Append(d.Total))
            {
                Assert.True(f.Usd >= 0 && f.Kwh >= 0 && f.KgCo2e >= 0 && f.EmbodiedKgCo2e >= 0 && double.IsFinite(f.Usd + f.Kwh + f.KgCo2e), $"seed {seed}: negative or non-finite figure");
            }
        }, iter: 300);
    }

    [Fact]
    public void IdleHost_AttributesNothing_AndChangesNoFunctionRow()
    {
        Gen.Int.Sample(seed =>
        {
            CostInput input = Fleet(seed);
            CostDocument before = Doc(input);
            var idleHost = new HostInput { Org = "alpha", Host = "idle-box", ClassName = "box", ObservedSeconds = 3600 };
            CostDocument after = Doc(new CostInput { StartNs = input.StartNs, EndNs = input.EndNs, Hosts = [.. input.Hosts, idleHost] });
            Assert.Equal(before.Functions.Count, after.Functions.Count);
            for (int i = 0; i < before.Functions.Count; i++)
            {
                Assert.Equal(before.Functions[i].Name, after.Functions[i].Name);
                SameFigures(before.Functions[i].Figures, after.Functions[i].Figures, $"seed {seed}: function {before.Functions[i].Name}");
            }

            int at = after.Hosts.FindIndex(h => h.Name == "idle-box");
            CostFigures attributed = after.Hosts[at].Figures, idle = after.HostIdle[at].Figures;
            Assert.Equal((0.0, 0.0, 0.0), (attributed.Usd, attributed.Kwh, attributed.CpuSeconds));

            // The full baseline: $0.80 × 1 h; (0.74 W × 8 vCPUs × 3600 s / 3.6e6 + 32 GB × 0.000392 kWh) × PUE 1.135.
            Close(0.8, idle.Usd, "idle $");
            Close(((0.74 * 8 * 3600 / 3.6e6) + (32 * 0.000392)) * 1.135, idle.Kwh, "idle kWh");
            Close(idle.Kwh * 300 / 1000, idle.KgCo2e, "idle CO2e");
            Close(1200 / (4 * CostCalculator.SecondsPerYear) * 3600, idle.EmbodiedKgCo2e, "idle embodied");
        }, iter: 100);
    }

    private static CostModel Scaled(Func<MachineClass, MachineClass> classes, Func<RegionIntensity, RegionIntensity> regions) => new(
        s_model.Source,
        s_model.Classes.ToDictionary(kv => kv.Key, kv => classes(kv.Value)),
        s_model.Regions.ToDictionary(kv => kv.Key, kv => regions(kv.Value)),
        s_model.Rules,
        s_model.DefaultClass);

    [Fact]
    public void Pue_ScalesEnergyAndCarbonExactly_AndLeavesDollars()
    {
        Gen.Select(Gen.Int, Gen.Double[1.0, 3.0]).Sample((seed, k) =>
        {
            CostInput input = Fleet(seed);
            CostDocument a = Doc(input);
            CostDocument b = Doc(input, Scaled(c => c with { Pue = c.Pue * k }, r => r));
            foreach ((CostFigures x, CostFigures y, string what) in Pairs(a, b))
            {
                Close(x.Kwh * k, y.Kwh, $"seed {seed} k {k}: {what} kWh");
                Close(x.KgCo2e * k, y.KgCo2e, $"seed {seed} k {k}: {what} CO2e");
                Close(x.Usd, y.Usd, $"seed {seed} k {k}: {what} $");
                Close(x.EmbodiedKgCo2e, y.EmbodiedKgCo2e, $"seed {seed} k {k}: {what} embodied");
            }
        }, iter: 200);
    }

    [Fact]
    public void GridIntensity_ScalesCarbonOnly()
    {
        Gen.Select(Gen.Int, Gen.Double[0.0, 4.0]).Sample((seed, k) =>
        {
            CostInput input = Fleet(seed);
            CostDocument a = Doc(input);
            CostDocument b = Doc(input, Scaled(c => c, r => r with { GramsPerKwh = r.GramsPerKwh * k, Hourly = r.Hourly?.Select(h => h * k).ToArray() }));
            foreach ((CostFigures x, CostFigures y, string what) in Pairs(a, b))
            {
                Close(x.KgCo2e * k, y.KgCo2e, $"seed {seed} k {k}: {what} CO2e");
                Close(x.Kwh, y.Kwh, $"seed {seed} k {k}: {what} kWh");
                Close(x.Usd, y.Usd, $"seed {seed} k {k}: {what} $");
            }
        }, iter: 200);
    }

    private static IEnumerable<(CostFigures, CostFigures, string)> Pairs(CostDocument a, CostDocument b)
    {
        yield return (a.Total, b.Total, "total");
        yield return (a.Idle, b.Idle, "idle");
        yield return (a.ProjectedPerYear, b.ProjectedPerYear, "per year");
        for (int i = 0; i < a.Hosts.Count; i++)
        {
            yield return (a.Hosts[i].Figures, b.Hosts.Single(h => h.Name == a.Hosts[i].Name).Figures, "host " + a.Hosts[i].Name);
        }

        foreach (CostRow f in a.Functions)
        {
            yield return (f.Figures, b.Functions.Single(x => x.Name == f.Name && x.Service == f.Service && x.Org == f.Org).Figures, "function " + f.Name);
        }
    }

    [Fact]
    public void MeasuredEnergy_BeatsTheEstimate_AndFlipsTheBasis()
    {
        Gen.Select(Gen.Double[1e3, 1e7], Gen.Double[0, 40], Gen.Int[1, 4]).Sample((joules, idleWatts, hours) =>
        {
            double seconds = hours * 3600.0;
            HostInput Host(MeasuredCpuEnergy? m) => new()
            {
                Org = "o",
                Host = "h",
                ClassName = "box",
                ObservedSeconds = seconds,
                CpuEnergy = m,
                Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("a;b", 3_000_000_000_000), ("a", 1_000_000_000_000)))],
            };
            CostDocument est = Doc(new CostInput { EndNs = (long)(seconds * 1e9), Hosts = [Host(null)] });
            CostDocument mea = Doc(new CostInput { EndNs = (long)(seconds * 1e9), Hosts = [Host(new MeasuredCpuEnergy(joules, idleWatts, seconds, "rapl"))] });
            Assert.Equal(Basis.Estimated, est.Hosts[0].Figures.EnergyBasis);
            Assert.Equal(Basis.Measured, mea.Hosts[0].Figures.EnergyBasis);
            Assert.All(mea.Functions, f => Assert.Equal(Basis.Measured, f.Figures.EnergyBasis));

            // Attributed = active measured energy (above idle) × PUE; estimate = 4,000 CPU s × (3.5 − 0.74) W × PUE.
            double active = Math.Max(0, joules - (idleWatts * seconds));
            Close(active / 3.6e6 * 1.135, mea.Hosts[0].Figures.Kwh, "measured attributed kWh");
            Close(4000 * (3.5 - 0.74) / 3.6e6 * 1.135, est.Hosts[0].Figures.Kwh, "estimated attributed kWh");
            Close(((idleWatts * seconds / 3.6e6) + (32 * 0.000392 * hours)) * 1.135, mea.Idle.Kwh, "measured idle kWh");
            Assert.Equal(idleWatts > 0 ? Basis.Mixed : Basis.Estimated, mea.Idle.EnergyBasis);
            Close(est.Total.Usd, mea.Total.Usd, "dollars do not depend on energy");
        }, iter: 200);
    }

    [Fact]
    public void OverCapacity_ClampsIdleAtZero_WithANote()
    {
        // 4,000 CPU-s on 8 vCPUs observed 100 s (capacity 800 s).
        var input = new CostInput
        {
            EndNs = 100_000_000_000,
            Hosts = [new HostInput { Org = "o", Host = "h", ClassName = "box", ObservedSeconds = 100, Workloads = [new WorkloadProfile("s", TestProfiles.CpuNanos(("a", 4_000_000_000_000)))] }],
        };
        CostDocument d = Doc(input);
        Assert.Equal(0, d.Idle.Usd);
        Assert.Equal(0, d.Idle.EmbodiedKgCo2e);
        Assert.True(d.Idle.Kwh > 0);
        Assert.Contains(d.Notes, n => n.Contains("exceeds capacity", StringComparison.Ordinal) && n.Contains("idle clamped at 0", StringComparison.Ordinal));
    }
}
