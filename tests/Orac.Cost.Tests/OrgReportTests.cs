using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using CsCheck;
using Orac.Cost.Opportunities;
using Orac.Cost.Reports;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Tests.Shared;
using static Orac.Cost.Tests.CostResults;

namespace Orac.Cost.Tests;

public class OrgReportTests
{
    private const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";
    private const string Hostile = "<script>alert(\"x\")</script>, | *evil* & 'co'\r\nline";

    /// <summary>The docs' example: two orgs this week and last, one GPU host, one partial note.</summary>
    internal static OrgReportDocument Example()
    {
        var current = new Dictionary<string, CostResult>
        {
            ["payments"] = Result(
                [
                    Atom("payments", "api", "__memcpy_avx_unaligned_erms", Libc, usd: 12, kwh: 3, kgCo2e: 1.2, cpuSeconds: 86_400),
                    Atom("payments", "api", "memmove", Libc, usd: 3, kwh: 0.75, kgCo2e: 0.3, cpuSeconds: 21_600),
                    Atom("payments", "api", "runtime.mallocgc", "/usr/bin/api", usd: 9, kwh: 2.25, kgCo2e: 0.9, cpuSeconds: 64_800),
                    Atom("payments", "ledger", "main.reconcile", "/usr/bin/ledger", usd: 20, kwh: 5, kgCo2e: 2, cpuSeconds: 144_000),
                ],
                idleUsd: 4),
            ["research"] = Result(
                [Atom("research", "notebook", "_PyEval_EvalFrameDefault", "/usr/bin/python3.12", usd: 6, kwh: 1.5, kgCo2e: 0.6, cpuSeconds: 43_200)],
                gpus:
                [
                    new GpuCostRow
                    {
                        Host = "gpu-7", Org = "research", Service = "trainer", Index = 0, Model = "NVIDIA H100 80GB HBM3",
                        ObservedSeconds = 604_800, UtilPercent = 12,
                        Figures = new CostFigures { Usd = 336, Kwh = 40, KgCo2e = 15, GpuSeconds = 72_576, EnergyBasis = Basis.Measured },
                        StrandedIdleUsd = 250,
                    },
                ],
                partial: true,
                notes: ["host gpu-7: no class for model, priced as h100-sxm"],
                basis: Basis.Mixed),
        };
        var previous = new Dictionary<string, CostResult>
        {
            ["payments"] = Result(
                [
                    Atom("payments", "api", "__memcpy_avx_unaligned_erms", Libc, usd: 8),
                    Atom("payments", "ledger", "main.reconcile", "/usr/bin/ledger", usd: 22),
                ],
                idleUsd: 4,
                from: WeekStart - Week),
        };
        return OrgReport.Build(current, previous, WeekStart, WeekStart + Week);
    }

    [Fact]
    public void Build_GivesEachOrgItsFiguresChangeAndTopThree()
    {
        var r = Example();

        Assert.Equal(["research", "payments"], r.Orgs.Select(o => o.Org));
        var pay = r.Orgs[1];
        Assert.Equal(48, pay.Figures.Usd, 9);
        Assert.Equal((48.0 - 34) / 34 * 100, pay.ChangePercent!.Value, 9);
        Assert.Equal(48 * WeeksPerYear, pay.ProjectedPerYear.Usd, 9);
        Assert.Equal(["main.reconcile", "libc.so.6", "memory copies"], pay.Top.Select(t => t.Name));
        Assert.All(pay.Top, t => Assert.All(t.Owners, w => Assert.Equal("payments", w.Org)));

        var res = r.Orgs[0];
        Assert.Null(res.ChangePercent);
        Assert.True(res.Partial);
        Assert.Equal("gpu", res.Top[0].Kind);

        Assert.Equal(48 + 342, r.Total.Usd, 9);
        Assert.Equal(pay.Figures.Kwh + res.Figures.Kwh, r.Total.Kwh, 9);
        Assert.Equal(Basis.Estimated, pay.Figures.EnergyBasis);
        Assert.Equal(Basis.Mixed, r.Total.EnergyBasis);
        Assert.Equal((390.0 - 34) / 34 * 100, r.ChangePercent!.Value, 9);
        Assert.True(r.Partial);
        Assert.Contains("research: host gpu-7: no class for model, priced as h100-sxm", r.Notes);
        Assert.Contains(OpportunityRanker.GpuEnergyNote, r.Notes);
        Assert.Equal(10, r.ImprovementPercent);
    }

    [Fact]
    public void Build_AnOrgGoneSinceThePreviousPeriodShowsMinusAHundredPercent()
    {
        var before = new Dictionary<string, CostResult> { ["old"] = Result([Atom("old", "svc", "f", "", usd: 5)]) };
        var r = OrgReport.Build(new Dictionary<string, CostResult>(), before, WeekStart, WeekStart + Week);

        var row = Assert.Single(r.Orgs);
        Assert.Equal(0, row.Figures.Usd);
        Assert.Equal(-100, row.ChangePercent!.Value, 9);
        Assert.Contains(r.Notes, n => n.StartsWith("old: no data this period", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_NoPreviousPeriodMeansNoChange()
    {
        var r = OrgReport.Build(new Dictionary<string, CostResult> { ["a"] = Result([Atom("a", "s", "f", "", usd: 1)]) }, new Dictionary<string, CostResult>(), 0, Week);
        Assert.Null(r.ChangePercent);
        Assert.Null(r.Orgs[0].ChangePercent);
        Assert.False(r.Partial);
    }

    [Fact]
    public void Markdown_MatchesTheGoldenExampleInTheDocs()
    {
        var md = OrgReport.Render(Example(), "md");
        Golden.AssertMatches(Path.Combine(TestPaths.Data, "cost", "org-report.expected.md"), md);

        var docs = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "cost.md"));
        Assert.True(docs.Contains("````markdown\n" + md + "````\n", StringComparison.Ordinal), "docs/cost.md \"Org report\" should show tests/data/cost/org-report.expected.md in a ````markdown block");
    }

    [Fact]
    public void Markdown_LabelsUnitsBasisAndPartial()
    {
        var md = OrgReport.Render(Example(), "md");
        Assert.Contains("Partial answer", md, StringComparison.Ordinal);
        Assert.Contains("cost (USD, estimated)", md, StringComparison.Ordinal);
        Assert.Contains("cost per year (USD, projection)", md, StringComparison.Ordinal);
        Assert.Contains("CPU time (CPU-hours, measured)", md, StringComparison.Ordinal);
        Assert.Contains("| **fleet** |", md, StringComparison.Ordinal);

        var whole = Example();
        var notPartial = new OrgReportDocument { From = whole.From, Until = whole.Until, Total = whole.Total, Orgs = [whole.Orgs[1]] };
        Assert.DoesNotContain("Partial answer", OrgReport.Render(notPartial, "md"), StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_EscapesAHostileOrgSoTheTableKeepsItsColumns()
    {
        var md = OrgReport.Render(HostileReport(), "md");
        Assert.DoesNotContain("<script>", md, StringComparison.Ordinal);
        var header = md.Split('\n').First(l => l.StartsWith("| org |", StringComparison.Ordinal));
        var row = md.Split('\n').First(l => l.Contains("&lt;script&gt;", StringComparison.Ordinal) && l.StartsWith("| ", StringComparison.Ordinal));
        Assert.Equal(Cells(header), Cells(row));
    }

    [Fact]
    public void Csv_HasOneHeaderRowAndParsesBackToTheFigures()
    {
        var report = Example();
        var rows = ParseCsv(OrgReport.Render(report, "csv"));

        Assert.Equal(OrgReport.CsvHeader.Split(','), rows[0]);
        Assert.Equal(report.Orgs.Count + 2, rows.Count);
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
        Assert.Single(rows, r => r[0] == "row");

        var col = (string name) => Array.IndexOf(rows[0], name);
        var pay = rows.Single(r => r[1] == "payments");
        Assert.Equal(report.Orgs[1].Figures.Usd, double.Parse(pay[col("usd_estimated")], CultureInfo.InvariantCulture));
        Assert.Equal(report.Orgs[1].ChangePercent, double.Parse(pay[col("change_percent")], CultureInfo.InvariantCulture));
        Assert.Equal("main.reconcile", pay[col("top1_name")]);
        Assert.Equal("", rows.Single(r => r[1] == "research")[col("change_percent")]);
        var fleet = rows.Single(r => r[0] == "fleet");
        Assert.Equal(report.Total.Usd, double.Parse(fleet[col("usd_estimated")], CultureInfo.InvariantCulture));
        Assert.Equal("mixed", fleet[col("kwh_basis")]);
        Assert.All(rows[0], h => Assert.Matches("^[a-z0-9_]+$", h));
    }

    [Fact]
    public void Csv_QuotesAHostileOrgNameAndItParsesBack()
    {
        var rows = ParseCsv(OrgReport.Render(HostileReport(), "csv"));
        Assert.Contains(rows, r => r[0] == "org" && r[1] == Hostile);
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
    }

    [Fact]
    public void Json_RoundTripsThroughTheSourceGeneratedContext()
    {
        var report = Example();
        var json = OrgReport.Render(report, "json");
        var back = JsonSerializer.Deserialize(json, OracJsonContext.Default.OrgReportDocument)!;

        Assert.Equal(report.Orgs.Select(o => o.Org), back.Orgs.Select(o => o.Org));
        Assert.Equal(report.Total.Usd, back.Total.Usd);
        Assert.Equal(report.Orgs[1].Top[0].Link, back.Orgs[1].Top[0].Link);
        Assert.Equal(report.Orgs[0].ChangePercent, back.Orgs[0].ChangePercent);
        Assert.True(back.Partial);
        Assert.Contains("\"projectedPerYear\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_IsWellFormedSelfContainedAndEscaped()
    {
        var html = OrgReport.Render(HostileReport(), "html");

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" href=", html, StringComparison.Ordinal);

        var xml = new XmlDocument { XmlResolver = null };
        using (var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null }))
        {
            xml.Load(reader);
        }

        Assert.Equal("html", xml.DocumentElement!.Name);
        Assert.Empty(xml.GetElementsByTagName("script"));
        Assert.Single(xml.GetElementsByTagName("style"));
        var cells = xml.GetElementsByTagName("td").Cast<XmlElement>().Select(e => e.InnerText).ToList();
        var expected = Hostile.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(cells, c => c.Replace("\r\n", "\n", StringComparison.Ordinal).StartsWith(expected, StringComparison.Ordinal));
        Assert.Contains("Partial answer", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_ExampleParsesAndHasOneTablePerOrgPlusTheSummary()
    {
        var report = Example();
        var xml = new XmlDocument { XmlResolver = null };
        using (var reader = XmlReader.Create(new StringReader(OrgReport.Render(report, "html")), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null }))
        {
            xml.Load(reader);
        }

        Assert.Equal(1 + report.Orgs.Count, xml.GetElementsByTagName("table").Count);
        Assert.Equal(report.Orgs.Count + 1, xml.GetElementsByTagName("tbody")[0]!.ChildNodes.Cast<XmlNode>().Count(n => n.Name == "tr"));
    }

    [Fact]
    public void Render_AnyNamesKeepEveryFormatParseable()
    {
        var name = Gen.OneOf(Gen.String, Gen.String[Gen.Char["<>&\"',|\r\n*_`[]\\#!~\u0000\u0001\uD800\uDC00\uFFFE\uFFFF=-"], 0, 30]);
        Gen.Select(name, name, name).Sample(t =>
        {
            var (org, service, function) = t;
            var current = new Dictionary<string, CostResult> { [org] = Result([Atom(org, service, function, "", usd: 1)], notes: [function]) };
            var report = OrgReport.Build(current, new Dictionary<string, CostResult>(), WeekStart, WeekStart + Week);

            var rows = ParseCsv(OrgReport.Render(report, "csv"));
            Assert.Equal(org, rows[1][1]);
            Assert.Equal(function, rows[1][Array.IndexOf(rows[0], "top1_name")]);

            var xml = new XmlDocument { XmlResolver = null };
            using (var reader = XmlReader.Create(new StringReader(OrgReport.Render(report, "html")), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null }))
            {
                xml.Load(reader);
            }

            Assert.Empty(xml.GetElementsByTagName("script"));
            Assert.Equal(2, xml.GetElementsByTagName("table").Count);

            var md = OrgReport.Render(report, "md").Split('\n');
            var header = md.First(l => l.StartsWith("| org |", StringComparison.Ordinal));
            var at = Array.IndexOf(md, header);
            Assert.Equal(Cells(header), Cells(md[at + 2]));
            Assert.Equal(Cells(header), Cells(md[at + 3]));
            Assert.DoesNotContain(md, l => l.Contains('<', StringComparison.Ordinal));

            var back = JsonSerializer.Deserialize(OrgReport.Render(report, "json"), OracJsonContext.Default.OrgReportDocument)!;
            // UTF-8 cannot carry a lone surrogate: the JSON writer puts U+FFFD in its place.
            Assert.Equal(ScalarValues(org), back.Orgs[0].Org);
        });
    }

    [Fact]
    public void Render_UnknownFormatIsAUsageError()
    {
        var e = Assert.Throws<OracException>(() => OrgReport.Render(Example(), "pdf"));
        Assert.Equal(OracException.Usage, e.ExitCode);
        Assert.Contains("'pdf'", e.Message, StringComparison.Ordinal);
    }

    private static OrgReportDocument HostileReport()
    {
        var current = new Dictionary<string, CostResult>
        {
            [Hostile] = Result([Atom(Hostile, "svc<b>", "operator new<T>(&)|x", "", usd: 3)], partial: true, notes: ["<b>bold</b>"]),
        };
        return OrgReport.Build(current, new Dictionary<string, CostResult>(), WeekStart, WeekStart + Week);
    }

    private static string ScalarValues(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(s[i]).Append(s[++i]);
            }
            else
            {
                sb.Append(char.IsSurrogate(s[i]) ? '\uFFFD' : s[i]);
            }
        }

        return sb.ToString();
    }

    /// <summary>Cells of a Markdown table row: split on unescaped pipes.</summary>
    private static int Cells(string line)
    {
        var n = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
            }
            else if (line[i] == '|')
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>An RFC 4180 reader: CRLF records, quoted fields with doubled quotes; throws on a malformed quote.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var sb = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"')
            {
                i++;
                while (true)
                {
                    Assert.True(i < text.Length, "unterminated quoted field");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(text[i++]);
                }
            }

            while (i < text.Length && text[i] != ',' && text[i] != '\r')
            {
                Assert.NotEqual('"', text[i]);
                Assert.NotEqual('\n', text[i]);
                sb.Append(text[i++]);
            }

            fields.Add(sb.ToString());
            sb.Clear();
            if (i < text.Length && text[i] == ',')
            {
                i++;
                continue;
            }

            Assert.True(i + 1 < text.Length && text[i] == '\r' && text[i + 1] == '\n', $"record not ended by CRLF at {i}");
            i += 2;
            rows.Add([.. fields]);
            fields.Clear();
        }

        return rows;
    }
}
