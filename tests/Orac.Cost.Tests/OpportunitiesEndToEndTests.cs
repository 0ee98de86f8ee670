using CsCheck;
using Orac.Cost.Opportunities;
using Orac.Cost.Reports;
using Orac.Model.Wire;

namespace Orac.Cost.Tests;

/// <summary>The ranking and the org report on the calculator's own answers (not hand-built ones).</summary>
public class OpportunitiesEndToEndTests
{
    private const long Hour = 3600L * 1_000_000_000;

    private static HostInput Host(string org, string host, string service, params (string Stack, long Nanos)[] rows) => new()
    {
        Org = org,
        Host = host,
        ClassName = "aws",
        Facts = new HostFacts(8, 32L << 30, []),
        ObservedSeconds = 3600,
        Workloads = [new WorkloadProfile(service, TestProfiles.CpuNanos(rows))],
    };

    private static CostResult Compute(params HostInput[] hosts) =>
        CostCalculator.Compute(CostModel.Defaults, new CostInput { StartNs = 0, EndNs = Hour, Selection = "{}", Hosts = [.. hosts] });

    [Fact]
    public void Rank_OnACalculatedAnswer_PricesPatternsAsTheirFunctionsShare()
    {
        var r = Compute(Host("acme", "h1", "api",
            ("main;serve;memcpy", 3_000_000_000),
            ("main;serve;__memmove_avx_unaligned_erms", 1_000_000_000),
            ("main;compute", 6_000_000_000)));
        Assert.True(r.YearFactor > 0);

        var d = OpportunityRanker.Rank(r, null, new OpportunityOptions { Top = 100 });

        double attributed = 0;
        foreach (var a in r.Atoms)
        {
            attributed += a.Figures.Usd;
        }

        Assert.True(attributed > 0);
        var copies = d.Items.Single(o => o.Kind == "pattern" && o.Name == "memory copies");
        Assert.Equal(0.4 * attributed * r.YearFactor, copies.Annual.Usd, 9);
        Assert.Equal("acme", Assert.Single(copies.Owners).Org);
        Assert.Equal("compute", d.Items.Single(o => o.Kind == "function" && o.Rank == 1).Name);
        Assert.Equal(r.Document.ProjectedPerYear.Usd, d.TotalPerYear.Usd, 9);
    }

    [Fact]
    public void Rank_FunctionEntriesAddUpToTheAttributedCostPerYear()
    {
        Gen.Int.Sample(seed =>
        {
            // The fleet's classes are those of the property tests' model; price them with built-in ones.
            var fleet = CostPropertyTests.Fleet(seed);
            var input = new CostInput
            {
                StartNs = fleet.StartNs,
                EndNs = fleet.EndNs,
                Hosts = fleet.Hosts.ConvertAll(h => new HostInput
                {
                    Org = h.Org, Host = h.Host, Labels = h.Labels, Facts = h.Facts, ClassName = h.Gpus.Count > 0 ? "h100-sxm" : "aws",
                    ObservedSeconds = h.ObservedSeconds, Workloads = h.Workloads, CpuSecondsByUtcHour = h.CpuSecondsByUtcHour,
                    CpuEnergy = h.CpuEnergy, Gpus = h.Gpus,
                }),
            };
            var r = CostCalculator.Compute(CostModel.Defaults, input);
            var d = OpportunityRanker.Rank(r, r, new OpportunityOptions { Top = int.MaxValue });
            double atoms = 0, functions = 0, gpus = 0;
            double gpuCost = 0;
            foreach (var a in r.Atoms)
            {
                if (a.Function == CostCalculator.GpuFunction)
                {
                    gpuCost += a.Figures.Usd;
                }
                else
                {
                    atoms += a.Figures.Usd;
                }
            }

            foreach (var o in d.Items)
            {
                functions += o.Kind == "function" ? o.Annual.Usd : 0;
                gpus += o.Kind == "gpu" ? o.Annual.Usd : 0;
                Assert.True(o.TrendPercent is null || Math.Abs(o.TrendPercent.Value) < 1e-6, $"seed {seed}: trend against itself {o.TrendPercent}");
            }

            var expected = atoms * r.YearFactor;
            Assert.True(Math.Abs(expected - functions) <= 1e-9 * Math.Max(1, expected), $"seed {seed}: functions {functions:R} vs atoms {expected:R}");
            Assert.True(gpus <= (gpuCost * r.YearFactor * (1 + 1e-9)) + 1e-9, $"seed {seed}: stranded GPU cost {gpus:R} exceeds the GPU cost");
            Assert.DoesNotContain(d.Items, o => o.Name == CostCalculator.GpuFunction);
        });
    }

    [Fact]
    public void OrgReport_OnCalculatedAnswers_AddsUpToTheFleet()
    {
        HostInput[] hosts =
        [
            Host("acme", "h1", "api", ("main;serve;memcpy", 3_000_000_000), ("main;compute", 6_000_000_000)),
            Host("acme", "h2", "web", ("main;render;malloc", 2_000_000_000)),
            Host("zeta", "z1", "batch", ("main;crunch", 9_000_000_000), ("main;_int_free", 1_000_000_000)),
        ];
        var current = new Dictionary<string, CostResult>
        {
            ["acme"] = Compute(hosts[0], hosts[1]),
            ["zeta"] = Compute(hosts[2]),
        };
        var previous = new Dictionary<string, CostResult> { ["acme"] = Compute(hosts[0]) };
        var report = OrgReport.Build(current, previous, 0, Hour / 1_000_000);
        var fleet = Compute(hosts).Document.Total;

        Assert.Equal(fleet.Usd, report.Total.Usd, 9);
        Assert.Equal(fleet.Kwh, report.Total.Kwh, 9);
        Assert.Equal(fleet.CpuSeconds, report.Total.CpuSeconds, 9);
        var acme = report.Orgs.Single(o => o.Org == "acme");
        Assert.True(acme.ChangePercent > 0);
        Assert.InRange(acme.Top.Count, 1, 3);
        foreach (var format in OrgReport.Formats)
        {
            Assert.False(string.IsNullOrWhiteSpace(OrgReport.Render(report, format)));
        }
    }
}
