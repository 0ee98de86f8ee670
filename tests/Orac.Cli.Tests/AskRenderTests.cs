using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orac.Ask;
using Orac.Cli.Ask;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary>The answer model and renderer: verdict first, tables with units and basis, links, memory lines, voices, JSON.</summary>
public sealed partial class AskRenderTests
{
    private static Answer Sample()
    {
        var plan = new Plan { Kind = PlanKind.Top, Selector = "{service_name=\"api\"}", FromNs = 1_764_077_400_000_000_000, UntilNs = 1_764_081_000_000_000_000, Top = 2, MemoriesUsed = ["m4"] };
        var a = new Answer { Plan = plan, Verdict = new Said("serve eats 66.7 % of the nanoseconds. Start there.", "The top function is serve with 66.7 % of nanoseconds.") };
        var t = new AnswerTable { Title = "top 2 functions", Basis = "measured", Columns = ["function", "self (nanoseconds)", "self (%)"] };
        t.Row("serve", "28,000,000,000", "66.7").Row("json_encode", "14,000,000,000", "33.3");
        a.Tables.Add(t);
        a.Links.Add(new AnswerLink("flame graph", "http://127.0.0.1:4040/#/?query=x"));
        a.UsedMemory("m4", "I work on the inference service");
        a.MemoryLines.Add("Memory updated: \"our H100s cost $2.10 an hour\" (forget it: orac memory forget m5)");
        return a;
    }

    [Fact]
    public void Text_VerdictFirst_ThenTableWithUnitsAndBasis_ThenLinkAndMemory()
    {
        string text = AnswerRenderer.Text(Sample(), Voice.Plain);
        string[] lines = text.Split('\n');

        Assert.Equal("The top function is serve with 66.7 % of nanoseconds.", lines[0]);
        Assert.Equal("top 2 functions (measured)", lines[2]);
        Assert.Matches(@"^function\s+self \(nanoseconds\)\s+self \(%\)$", lines[3]);
        Assert.Matches(@"^serve\s+28,000,000,000\s+66\.7$", lines[4]);
        Assert.Contains("\nflame graph: http://127.0.0.1:4040/#/?query=x\n", text, StringComparison.Ordinal);
        Assert.Contains("\nused memory m4: I work on the inference service\n", text, StringComparison.Ordinal);
        Assert.EndsWith("Memory updated: \"our H100s cost $2.10 an hour\" (forget it: orac memory forget m5)\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_Partial_FirstLineSaysWhatIsMissing()
    {
        Answer a = Sample();
        a.Partial = true;
        a.Missing.Add("web-2 (timed out) from the profile");

        Assert.StartsWith("PARTIAL: missing web-2 (timed out) from the profile\n", AnswerRenderer.Text(a, Voice.Orac), StringComparison.Ordinal);
    }

    [Fact]
    public void Voices_DifferInProseOnly()
    {
        AssertVoicesAgree(Sample());
    }

    [Fact]
    public void Json_PlanCanonicalStepsAndData()
    {
        Answer a = Sample();
        a.ExitCode = 0;
        using JsonDocument doc = JsonDocument.Parse(AnswerRenderer.Json(a, Voice.Orac));
        JsonElement root = doc.RootElement;

        Assert.Equal("top {service_name=\"api\"} 2025-11-25T13:30:00Z..2025-11-25T14:30:00Z n=2 memory=m4", root.GetProperty("plan").GetProperty("canonical").GetString());
        Assert.Equal("query.top", root.GetProperty("plan").GetProperty("steps")[0].GetString());
        Assert.Equal("serve eats 66.7 % of the nanoseconds. Start there.", root.GetProperty("verdict").GetString());
        Assert.Equal("28,000,000,000", root.GetProperty("tables")[0].GetProperty("rows")[0][1].GetString());
        Assert.Equal("self (nanoseconds)", root.GetProperty("tables")[0].GetProperty("columns")[1].GetString());
        Assert.Equal("m4", root.GetProperty("memoriesUsed")[0].GetProperty("id").GetString());
        Assert.Equal(0, root.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public void AnswerTable_RowWithWrongCellCount_Throws()
    {
        var t = new AnswerTable { Title = "t", Basis = "measured", Columns = ["a", "b"] };
        Assert.Throws<ArgumentException>(() => t.Row("only one"));
    }

    [Fact]
    public void Outliers_BeyondTwiceTheMedianOrThreeMads_Labelled()
    {
        List<HostSpread> h = Outliers.Find([Row("web-1", 10), Row("web-2", 11), Row("web-3", 12), Row("web-4", 9), Row("web-5", 40), Row("web-6", 11), Row("web-7", 0.5)]);

        // Sorted: 0.5 9 10 11 11 12 40 → median 11; deviations 10.5 2 1 0 0 1 29 → MAD 1.
        Assert.Equal(11, h[0].Median);
        Assert.Equal(1, h[0].Mad);
        Assert.Equal(("web-5", "high"), (h[0].Host, h[0].Label));
        Assert.Equal(("web-7", "low"), (h[^1].Host, h[^1].Label));
        Assert.All(h.Where(x => x.Host is not ("web-5" or "web-7")), x => Assert.Equal("", x.Label));
    }

    [Fact]
    public void Outliers_FewerThanThreeHosts_NoLabels()
    {
        Assert.All(Outliers.Find([Row("a", 1), Row("b", 100)]), x => Assert.Equal("", x.Label));
    }

    [Fact]
    public void DiffRows_SelfSummedPerFunction_LargestChangeFirst_BrokenIndexSkipped()
    {
        var tree = new FlameTree
        {
            Type = "cpu",
            Unit = "nanoseconds",
            Provenance = "measured",
            Partial = false,
            From = 0,
            Until = 1,
            Total = 100,
            Names = ["total", "main", "f", "g"],
            // total → main → f, main → g → f (f counted twice), and one node with a name index out of range.
            Nodes = new FlameNodes
            {
                Parent = [-1, 0, 1, 1, 3, 0],
                Name = [0, 1, 2, 3, 2, 99],
                Total = [100, 100, 30, 70, 20, 0],
                Self = [0, 0, 30, 50, 20, 5],
                BaseTotal = [60, 60, 10, 50, 0, 0],
                BaseSelf = [0, 0, 10, 50, 0, 0],
            },
            Truncated = 0,
            BaseTotalValue = 60,
        };

        List<FunctionChange> c = DiffRows.Changes(tree);

        Assert.Equal(new FunctionChange("f", 10, 50), c[0]);
        Assert.Equal(new FunctionChange("g", 50, 50), c[1]);
        Assert.Equal(2, c.Count);
    }

    /// <summary>The two voices differ in prose only: every table, link, note and memory line is the same text, and the verdicts hold the same numbers.</summary>
    internal static void AssertVoicesAgree(Answer a)
    {
        string orac = AnswerRenderer.Text(a, Voice.Orac);
        string plain = AnswerRenderer.Text(a, Voice.Plain);
        Assert.Equal(Strip(a, orac, Voice.Orac), Strip(a, plain, Voice.Plain));
        Assert.Equal(Numbers(a.Verdict.Orac), Numbers(a.Verdict.Plain));
        using JsonDocument jo = JsonDocument.Parse(AnswerRenderer.Json(a, Voice.Orac));
        using JsonDocument jp = JsonDocument.Parse(AnswerRenderer.Json(a, Voice.Plain));
        Assert.Equal(jo.RootElement.GetProperty("tables").GetRawText(), jp.RootElement.GetProperty("tables").GetRawText());
        Assert.Equal(jo.RootElement.GetProperty("links").GetRawText(), jp.RootElement.GetProperty("links").GetRawText());
    }

    private static string Strip(Answer a, string text, Voice v)
    {
        var sb = new StringBuilder(text);
        sb.Replace(a.Verdict.In(v), "<verdict>");
        foreach (Said s in a.Remarks)
        {
            sb.Replace(s.In(v), "<remark>");
        }

        return sb.ToString();
    }

    private static List<string> Numbers(string s) => [.. NumberRegex().Matches(s).Select(m => m.Value).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"[-+]?\$?\d[\d,]*(\.\d+)?")]
    private static partial Regex NumberRegex();

    private static CostRow Row(string host, double cpu) => new() { Name = host, Figures = new CostFigures { CpuSeconds = cpu } };
}
