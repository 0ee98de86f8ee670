using System.Globalization;
using Orac.Formats.Folded;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Tests.Shared;

namespace Orac.Cost.Tests;

/// <summary>
/// docs/cost.md "Worked example": computes the example and checks every number of the section's two tables, parsed
/// from the document itself, to the last digit printed (at least to the cent and the watt-hour).
/// </summary>
public class WorkedExampleTests
{
    internal static CostResult ComputeWorkedExample(CostModel? model = null)
    {
        model ??= CostModel.Load(Path.Combine(TestPaths.Data, "cost", "worked-model.jsonc"));
        Profile profile;
        using (FileStream fs = File.OpenRead(Path.Combine(TestPaths.Data, "cost", "worked.folded")))
        {
            profile = FoldedReader.Read(fs, "worked.folded", new ParseWarnings());
        }

        var input = new CostInput
        {
            StartNs = 0,
            EndNs = 7_200_000_000_000,
            Selection = "worked example",
            Hosts =
            [
                new HostInput { Org = "acme", Host = "box-1", ObservedSeconds = 7200, Workloads = [new WorkloadProfile("shop", profile)] },
                new HostInput
                {
                    Org = "acme",
                    Host = "gpu-1",
                    Labels = new Dictionary<string, string> { ["service"] = "trainer" },
                    ObservedSeconds = 7200,
                    Gpus =
                    [
                        new GpuUsage { Index = 0, Model = "H100", ObservedSeconds = 7200, BusySeconds = 3600, TrapSeconds = 1800, SmActivePercent = 20 },
                        new GpuUsage { Index = 1, Model = "H100", ObservedSeconds = 7200, BusySeconds = 1800, MeasuredJoules = 1_800_000, LowUtilSeconds = 3600 },
                    ],
                },
            ],
        };
        return CostCalculator.Compute(model, input, new CostOptions { Hz = 100 });
    }

    [Fact]
    public void WorkedExample_MatchesTheDocumentRowByRow()
    {
        CostDocument d = ComputeWorkedExample().Document;
        List<string[]> rows = Table("worked-example:rows");
        Assert.Equal(14, rows.Count);
        foreach (string[] row in rows)
        {
            string name = row[0];
            CostFigures f = Find(d, name);
            Near(row[1], f.CpuSeconds, name, "CPU s", cap: 0.5);
            Near(row[2], f.GpuSeconds, name, "GPU s", cap: 0.5);
            Near(row[3], f.Usd, name, "$", cap: 0.005);
            Near(row[4], f.Kwh * 1000, name, "Wh", cap: 0.5);
            Near(row[5], f.KgCo2e * 1000, name, "g CO2e", cap: 0.5);
            Near(row[6], f.EmbodiedKgCo2e, name, "embodied kg", cap: 0.0005);
            Assert.True(row[7] == f.EnergyBasis, $"{name}: basis {f.EnergyBasis}, the document says {row[7]}");
        }

        Assert.Equal(4, d.Functions.Count);
        Assert.Equal(["gpu-1", "box-1"], d.Hosts.ConvertAll(h => h.Name));
        Assert.Equal(["worked-gpu", "worked-box"], d.Hosts.ConvertAll(h => h.Class!));
        Assert.False(d.Partial);
    }

    [Fact]
    public void WorkedExample_GpuRowsMatchTheDocument()
    {
        CostDocument d = ComputeWorkedExample().Document;
        List<string[]> rows = Table("worked-example:gpus");
        Assert.Equal(d.Gpus.Count, rows.Count);
        foreach (string[] row in rows)
        {
            string[] id = row[0].Split('#');
            GpuCostRow g = d.Gpus.Single(x => x.Host == id[0] && x.Index == int.Parse(id[1], CultureInfo.InvariantCulture));
            Near(row[1], g.UtilPercent, row[0], "util %", cap: 0.5);
            Near(row[2], g.Figures.Usd, row[0], "$", cap: 0.005);
            Near(row[3], g.Figures.Kwh * 1000, row[0], "Wh", cap: 0.5);
            Near(row[4], g.Figures.KgCo2e * 1000, row[0], "g", cap: 0.5);
            Near(row[5], g.StrandedIdleUsd, row[0], "stranded idle $", cap: 0.005);
            Near(row[6], g.StrandedTrapUsd, row[0], "trap $", cap: 0.005);
            Assert.Equal(row[7], g.Figures.EnergyBasis);
            Assert.Equal("trainer", g.Service);
        }
    }

    private static CostFigures Find(CostDocument d, string name)
    {
        static CostFigures One(List<CostRow> rows, string n, string what) =>
            rows.Find(r => r.Name == n)?.Figures ?? throw new InvalidOperationException($"no {what} row '{n}' in the computed document");

        return name switch
        {
            "idle" => d.Idle,
            "total" => d.Total,
            "per year" => d.ProjectedPerYear,
            _ when name.StartsWith("function ", StringComparison.Ordinal) => One(d.Functions, name[9..], "function"),
            _ when name.StartsWith("service ", StringComparison.Ordinal) => One(d.Services, name[8..], "service"),
            _ when name.StartsWith("host ", StringComparison.Ordinal) => One(d.Hosts, name[5..], "host"),
            _ when name.StartsWith("idle ", StringComparison.Ordinal) => One(d.HostIdle, name[5..], "host idle"),
            _ when name.StartsWith("org ", StringComparison.Ordinal) => One(d.Orgs, name[4..], "org"),
            _ => throw new InvalidOperationException($"unknown row '{name}' in docs/cost.md"),
        };
    }

    /// <summary>Equal to the last digit printed in the document, and never looser than <paramref name="cap"/>.</summary>
    private static void Near(string printed, double actual, string row, string column, double cap)
    {
        int dot = printed.IndexOf('.', StringComparison.Ordinal);
        int decimals = dot < 0 ? 0 : printed.Length - dot - 1;
        double tolerance = Math.Min(0.5 * Math.Pow(10, -decimals), cap) + 1e-9;
        double expected = double.Parse(printed, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{row} {column}: computed {actual.ToString("R", CultureInfo.InvariantCulture)}, docs/cost.md says {printed}");
    }

    /// <summary>The body rows of the table after the marker comment <c>&lt;!-- MARKER</c> in docs/cost.md.</summary>
    internal static List<string[]> Table(string marker)
    {
        string[] lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "docs", "cost.md"));
        int i = Array.FindIndex(lines, l => l.StartsWith("<!-- " + marker, StringComparison.Ordinal));
        Assert.True(i >= 0, $"docs/cost.md has no '<!-- {marker}' table");
        var rows = new List<string[]>();
        for (int j = i + 3; j < lines.Length && lines[j].StartsWith('|'); j++)
        {
            rows.Add(lines[j].Trim('|').Split('|').Select(c => c.Trim()).ToArray());
        }

        return rows;
    }
}
