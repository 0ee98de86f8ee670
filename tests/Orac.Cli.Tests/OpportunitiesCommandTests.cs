using System.Text.Json;
using Orac.Model.Wire;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// <c>orac opportunities</c> on files, in-process: tests/data/cost/cli-100hz.folded (compress 5, memcpy 3, parse 2
/// CPU-seconds) standing for 20 s, priced with tests/data/cost/cli-model.jsonc ($0.00025 per CPU-second), projected
/// to a year (365.25 days / 20 s).
/// </summary>
public sealed class OpportunitiesCommandTests
{
    private const double UsdPerCpuSecond = 3.6 / 4 / 3600;
    private const double YearFactor = 365.25 * 86400 / 20;

    private static string Data(string name) => Path.Combine(TestPaths.Data, "cost", name);

    private static readonly string[] s_args = ["opportunities", Data("cli-100hz.folded"), "--hz", "100", "--period", "20s", "--model", Data("cli-model.jsonc")];

    [Fact]
    public void File_Json_AnnualCostAndSavingsByHand()
    {
        var (code, output, err) = FleetTestEnv.RunLocal([.. s_args, "--json", "--improve", "25"]);

        Assert.True(code == 0, $"exit {code}: {err}");
        OpportunitiesDocument d = JsonSerializer.Deserialize(output, OracJsonContext.Default.OpportunitiesDocument)!;
        Assert.False(d.Partial, string.Join("\n", d.Notes));
        Assert.Equal(25, d.ImprovementPercent);
        Opportunity compress = d.Items.Single(o => o.Kind == "function" && o.Name == "compress");
        Near(5 * UsdPerCpuSecond * YearFactor, compress.Annual.Usd);
        Near(5 * UsdPerCpuSecond * YearFactor * 0.25, compress.IfImproved.Usd);
        Near(5 * UsdPerCpuSecond * YearFactor, compress.IfEliminated.Usd);
        Assert.Null(compress.TrendPercent);
        // memcpy is all of the pattern "memory copies": one entry, the function, naming its pattern.
        Opportunity copies = d.Items.Single(o => o.Name == "memcpy");
        Assert.Equal("memcpy", copies.Pattern);
        Assert.Equal("compression", compress.Pattern);
        Near(3 * UsdPerCpuSecond * YearFactor, copies.Annual.Usd);
        Assert.False(string.IsNullOrWhiteSpace(copies.Advice));
        for (int i = 0; i < d.Items.Count; i++)
        {
            Assert.Equal(i + 1, d.Items[i].Rank);
        }

        // Ranked by annual cost.
        for (int i = 1; i < d.Items.Count; i++)
        {
            Assert.True(d.Items[i - 1].Annual.Usd >= d.Items[i].Annual.Usd);
        }
    }

    [Fact]
    public void File_Text_RankedRowsWithSavingsAndAdvice_NoLinks()
    {
        var (code, output, err) = FleetTestEnv.RunLocal(s_args);

        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.StartsWith("opportunities in ", output, StringComparison.Ordinal);
        Assert.Contains("cli-100hz.folded, period 20 s (", output, StringComparison.Ordinal);
        Assert.Contains("whole selection per year (projection): $", output, StringComparison.Ordinal);
        string compressYear = CostRender.Num(5 * UsdPerCpuSecond * YearFactor);
        Assert.Matches(@"\n\s*\d+\s+function\s+compress\s+" + System.Text.RegularExpressions.Regex.Escape(compressYear) + @"\s", output);
        Assert.Matches(@"\n\s*\d+\s+function\s+memcpy\s", output);
        Assert.Contains("advice: Copy less", output, StringComparison.Ordinal);
        Assert.Contains("trend: n/a for files (no previous period)", output, StringComparison.Ordinal);
        // The table and its detail lines fit in 120 columns (the header names the file, whatever its length).
        string table = output[output.IndexOf("\n#  ", StringComparison.Ordinal)..];
        foreach (string line in table.Split('\n'))
        {
            Assert.True(line.Length <= 120, line);
        }

        Assert.Contains("saves per year: 10 % better $", output, StringComparison.Ordinal);
        // Files have no server: no flame-graph links.
        Assert.DoesNotContain("flame graph:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void File_NoPeriod_NothingToProject_SaidAndPartial_Exit3()
    {
        var (code, output, err) = FleetTestEnv.RunLocal("opportunities", Data("cli-100hz.folded"), "--hz", "100", "--model", Data("cli-model.jsonc"));

        Assert.True(code == CostCommand.PartialExit, $"exit {code}: {err}");
        Assert.StartsWith("PARTIAL: ", output, StringComparison.Ordinal);
        Assert.Contains("cannot be projected", output, StringComparison.Ordinal);
    }

    [Fact]
    public void File_WithoutHz_OneLineAskingForHz_Exit1()
    {
        var (code, output, err) = FleetTestEnv.RunLocal("opportunities", Data("cli-100hz.folded"));

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("--hz", Assert.Single(err.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");
}
