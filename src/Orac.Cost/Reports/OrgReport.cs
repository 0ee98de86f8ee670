using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Orac.Cost.Opportunities;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost.Reports;

/// <summary>The multi-org report (docs/cost.md "Org report"). Owner: the opportunities work.</summary>
public static class OrgReport
{
    /// <summary>Formats <see cref="Render"/> knows.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["md", "csv", "json", "html"];

    /// <summary>Opportunities shown per org.</summary>
    public const int TopPerOrg = 3;

    /// <summary>Builds the report from one cost answer per org for this and the previous period.</summary>
    public static OrgReportDocument Build(IReadOnlyDictionary<string, CostResult> current, IReadOnlyDictionary<string, CostResult> previous, long fromMs, long untilMs)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(previous);
        var options = new OpportunityOptions { Top = TopPerOrg };

        var orgs = new SortedSet<string>(current.Keys, StringComparer.Ordinal);
        orgs.UnionWith(previous.Keys);

        var rows = new List<OrgReportRow>(orgs.Count);
        var notes = new List<string>();
        var partial = false;
        double fleetNow = 0, fleetBefore = 0;
        foreach (var org in orgs)
        {
            current.TryGetValue(org, out var now);
            previous.TryGetValue(org, out var before);
            var annualNow = now is null ? 0 : now.Document.Total.Usd * now.YearFactor;
            var annualBefore = before is null ? 0 : before.Document.Total.Usd * before.YearFactor;
            fleetNow += annualNow;
            fleetBefore += annualBefore;

            if (now is null)
            {
                notes.Add($"{org}: no data this period (it had some in the previous one)");
                rows.Add(new OrgReportRow
                {
                    Org = org,
                    Figures = new CostFigures(),
                    ProjectedPerYear = new CostFigures { EnergyBasis = Basis.Projection },
                    ChangePercent = Change(0, annualBefore),
                });
                continue;
            }

            if (before is null && previous.Count > 0)
            {
                notes.Add($"{org}: no data in the previous period; the fleet's change counts all its cost as new");
            }

            partial |= now.Document.Partial;
            foreach (var n in now.Document.Notes)
            {
                notes.Add($"{org}: {n}");
            }

            rows.Add(new OrgReportRow
            {
                Org = org,
                Figures = Copy(now.Document.Total),
                ProjectedPerYear = Copy(now.Document.ProjectedPerYear),
                ChangePercent = before is null ? null : Change(annualNow, annualBefore),
                Partial = now.Document.Partial,
                Top = OpportunityRanker.Rank(now, before, options).Items,
            });
        }

        rows.Sort((a, b) =>
        {
            var c = b.Figures.Usd.CompareTo(a.Figures.Usd);
            return c != 0 ? c : string.CompareOrdinal(a.Org, b.Org);
        });

        var total = new CostFigures();
        var perYear = new CostFigures { EnergyBasis = Basis.Projection };
        string? basis = null;
        foreach (var r in rows)
        {
            Add(total, r.Figures);
            Add(perYear, r.ProjectedPerYear);
            if (r.Figures.Kwh > 0)
            {
                basis = basis is null || basis == r.Figures.EnergyBasis ? r.Figures.EnergyBasis : Basis.Mixed;
            }
        }

        foreach (var r in rows)
        {
            if (r.Top.Exists(t => t.Kind == OpportunityRanker.KindGpu))
            {
                notes.Add(OpportunityRanker.GpuEnergyNote);
                break;
            }
        }

        total.EnergyBasis = basis ?? Basis.Estimated;
        perYear.EnergyBasis = Basis.Projection;
        return new OrgReportDocument
        {
            From = fromMs,
            Until = untilMs,
            Orgs = rows,
            Total = total,
            ProjectedPerYear = perYear,
            ChangePercent = previous.Count == 0 ? null : Change(fleetNow, fleetBefore),
            ImprovementPercent = options.ImprovementPercent,
            Partial = partial,
            Notes = notes,
        };
    }

    /// <summary>Renders as <c>md</c>, <c>csv</c>, <c>json</c> or <c>html</c> (self-contained, no script).</summary>
    public static string Render(OrgReportDocument report, string format)
    {
        ArgumentNullException.ThrowIfNull(report);
        return format switch
        {
            "md" => Markdown(report),
            "csv" => Csv(report),
            "json" => JsonSerializer.Serialize(report, OracJsonContext.Default.OrgReportDocument) + "\n",
            "html" => Html(report),
            _ => throw new OracException($"unknown report format '{format}' (expected md, csv, json or html)", OracException.Usage),
        };
    }

    private static double? Change(double now, double before) => before > 0 ? (now - before) / before * 100 : null;

    private static CostFigures Copy(CostFigures f) => new()
    {
        CpuSeconds = f.CpuSeconds,
        GpuSeconds = f.GpuSeconds,
        Usd = f.Usd,
        Kwh = f.Kwh,
        KgCo2e = f.KgCo2e,
        EmbodiedKgCo2e = f.EmbodiedKgCo2e,
        EnergyBasis = f.EnergyBasis,
    };

    private static void Add(CostFigures sum, CostFigures f)
    {
        sum.CpuSeconds += f.CpuSeconds;
        sum.GpuSeconds += f.GpuSeconds;
        sum.Usd += f.Usd;
        sum.Kwh += f.Kwh;
        sum.KgCo2e += f.KgCo2e;
        sum.EmbodiedKgCo2e += f.EmbodiedKgCo2e;
    }

    // ---- shared text ---------------------------------------------------------------------------------------------

    private const string PartialBanner = "Partial answer: some data was missing, so figures may be low; see the notes.";

    private const string BasisLine =
        "CPU and GPU time are measured; cost and CO2e are estimated (usage priced with the cost model); the energy basis " +
        "(measured, estimated or mixed) is given per row. Per-year figures are projections: the period scaled to a year, " +
        "assuming it repeats.";

    private static string Period(OrgReportDocument r)
    {
        var len = TimeSpan.FromMilliseconds(Math.Max(0, r.Until - r.From));
        var span = len.TotalDays >= 1 ? $"{len.TotalDays:0.#} days" : $"{len.TotalHours:0.#} hours";
        return $"{Time(r.From)} to {Time(r.Until)} ({span})";
    }

    private static string Time(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A figure for people: thousands separated, two decimals from 1 up, up to six significant decimals below.</summary>
    private static string Num(double v)
    {
        var a = Math.Abs(v);
        return a switch
        {
            0 => "0",
            >= 1000 => v.ToString("N0", CultureInfo.InvariantCulture),
            >= 1 => v.ToString("N2", CultureInfo.InvariantCulture),
            >= 0.000001 => v.ToString("0.######", CultureInfo.InvariantCulture),
            _ => v > 0 ? "<0.000001" : ">-0.000001",
        };
    }

    private static string Pct(double? v) => v is { } p ? p.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) : "n/a (no data)";

    private static string Owners(Opportunity o)
    {
        var sb = new StringBuilder();
        foreach (var w in o.Owners)
        {
            if (sb.Length > 0)
            {
                sb.Append(", ");
            }

            sb.Append(w.Service).Append(" (").Append(w.Percent.ToString("0", CultureInfo.InvariantCulture)).Append(" %)");
        }

        return sb.ToString();
    }

    // ---- md ------------------------------------------------------------------------------------------------------

    private static string Markdown(OrgReportDocument r)
    {
        var sb = new StringBuilder();
        sb.Append("# Org report\n\n");
        sb.Append("Period: ").Append(Period(r)).Append(".\n\n");
        if (r.Partial)
        {
            sb.Append("> **").Append(PartialBanner).Append("**\n\n");
        }

        sb.Append(BasisLine).Append("\n\n");
        sb.Append("| org | cost (USD, estimated) | change from previous period (%) | CPU time (CPU-hours, measured) | GPU time (GPU-hours, measured) | energy (kWh) | energy basis | CO2e (kg, estimated) | cost per year (USD, projection) | CO2e per year (kg, projection) |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|\n");
        foreach (var o in r.Orgs)
        {
            MdRow(sb, Md(o.Org) + (o.Partial ? " (partial)" : ""), o.Figures, o.ChangePercent, o.ProjectedPerYear);
        }

        MdRow(sb, "**fleet**", r.Total, r.ChangePercent, r.ProjectedPerYear);

        sb.Append("\n## Top opportunities per org\n");
        var pct = r.ImprovementPercent.ToString("0.##", CultureInfo.InvariantCulture);
        foreach (var o in r.Orgs)
        {
            sb.Append("\n### ").Append(Md(o.Org)).Append("\n\n");
            if (o.Top.Count == 0)
            {
                sb.Append("No opportunities: no priced CPU or GPU time in the period.\n");
                continue;
            }

            sb.Append("| # | kind | name | cost per year (USD, projection) | saved by a ").Append(pct)
              .Append(" % improvement (USD per year, projection) | energy per year (kWh, projection) | CO2e per year (kg, projection) | trend (%) | owners (service, share of cost) | advice |\n");
            sb.Append("|---:|---|---|---:|---:|---:|---:|---:|---|---|\n");
            foreach (var t in o.Top)
            {
                sb.Append("| ").Append(t.Rank).Append(" | ").Append(t.Kind).Append(" | ").Append(Md(t.Name))
                  .Append(" | ").Append(Num(t.Annual.Usd)).Append(" | ").Append(Num(t.IfImproved.Usd))
                  .Append(" | ").Append(Num(t.Annual.Kwh)).Append(" | ").Append(Num(t.Annual.KgCo2e))
                  .Append(" | ").Append(Pct(t.TrendPercent)).Append(" | ").Append(Md(Owners(t)))
                  .Append(" | ").Append(Md(t.Advice)).Append(" |\n");
            }
        }

        if (r.Notes.Count > 0)
        {
            sb.Append("\n## Notes\n\n");
            foreach (var n in r.Notes)
            {
                sb.Append("- ").Append(Md(n)).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static void MdRow(StringBuilder sb, string name, CostFigures f, double? change, CostFigures perYear) =>
        sb.Append("| ").Append(name)
          .Append(" | ").Append(Num(f.Usd))
          .Append(" | ").Append(Pct(change))
          .Append(" | ").Append(Num(f.CpuSeconds / 3600))
          .Append(" | ").Append(Num(f.GpuSeconds / 3600))
          .Append(" | ").Append(Num(f.Kwh))
          .Append(" | ").Append(f.EnergyBasis)
          .Append(" | ").Append(Num(f.KgCo2e + f.EmbodiedKgCo2e))
          .Append(" | ").Append(Num(perYear.Usd))
          .Append(" | ").Append(Num(perYear.KgCo2e + perYear.EmbodiedKgCo2e))
          .Append(" |\n");

    /// <summary>Text safe in a Markdown table cell: Markdown punctuation backslash-escaped, HTML's &lt; &gt; &amp; as entities, line breaks as spaces.</summary>
    internal static string Md(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r' or '\n' or '\t': sb.Append(' '); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '~': sb.Append('\\').Append(ch); break;
                default:
                    if (!char.IsControl(ch))
                    {
                        sb.Append(ch);
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    // ---- csv -----------------------------------------------------------------------------------------------------

    /// <summary>The CSV header: one row, units and basis in the column names.</summary>
    public const string CsvHeader =
        "row,org,partial,usd_estimated,change_percent,cpu_seconds_measured,gpu_seconds_measured,kwh,kwh_basis," +
        "kg_co2e_estimated,embodied_kg_co2e_estimated,usd_per_year_projection,kwh_per_year_projection,kg_co2e_per_year_projection," +
        "top1_kind,top1_name,top1_usd_per_year_projection,top2_kind,top2_name,top2_usd_per_year_projection," +
        "top3_kind,top3_name,top3_usd_per_year_projection";

    private static string Csv(OrgReportDocument r)
    {
        var sb = new StringBuilder();
        sb.Append(CsvHeader).Append("\r\n");
        foreach (var o in r.Orgs)
        {
            CsvRow(sb, "org", o.Org, o.Partial, o.Figures, o.ChangePercent, o.ProjectedPerYear, o.Top);
        }

        CsvRow(sb, "fleet", "", r.Partial, r.Total, r.ChangePercent, r.ProjectedPerYear, []);
        return sb.ToString();
    }

    private static void CsvRow(StringBuilder sb, string kind, string org, bool partial, CostFigures f, double? change, CostFigures y, List<Opportunity> top)
    {
        sb.Append(kind).Append(',').Append(CsvField(org)).Append(',').Append(partial ? "true" : "false");
        sb.Append(',').Append(R(f.Usd));
        sb.Append(',').Append(change is { } c ? R(c) : "");
        sb.Append(',').Append(R(f.CpuSeconds)).Append(',').Append(R(f.GpuSeconds)).Append(',').Append(R(f.Kwh))
          .Append(',').Append(f.EnergyBasis).Append(',').Append(R(f.KgCo2e)).Append(',').Append(R(f.EmbodiedKgCo2e))
          .Append(',').Append(R(y.Usd)).Append(',').Append(R(y.Kwh)).Append(',').Append(R(y.KgCo2e + y.EmbodiedKgCo2e));
        for (var i = 0; i < TopPerOrg; i++)
        {
            if (i < top.Count)
            {
                sb.Append(',').Append(top[i].Kind).Append(',').Append(CsvField(top[i].Name)).Append(',').Append(R(top[i].Annual.Usd));
            }
            else
            {
                sb.Append(",,,");
            }
        }

        sb.Append("\r\n");
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.</summary>
    internal static string CsvField(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    // ---- html ----------------------------------------------------------------------------------------------------

    private const string Style =
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}" +
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}" +
        "th,td{border:1px solid #ccc;padding:0.25em 0.6em;vertical-align:top}" +
        "th{background:#f3f3f3;text-align:left}" +
        "td.n{text-align:right;font-variant-numeric:tabular-nums}" +
        "tr.fleet td{font-weight:bold;background:#fafafa}" +
        ".partial{background:#fff3cd;border:1px solid #e0c060;padding:0.5em 1em}" +
        ".basis{color:#555}";

    private static string Html(OrgReportDocument r)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n<title>Orac org report</title>\n<style>")
          .Append(Style).Append("</style>\n</head>\n<body>\n<h1>Org report</h1>\n");
        sb.Append("<p>Period: ").Append(H(Period(r))).Append(".</p>\n");
        if (r.Partial)
        {
            sb.Append("<p class=\"partial\"><strong>").Append(H(PartialBanner)).Append("</strong></p>\n");
        }

        sb.Append("<p class=\"basis\">").Append(H(BasisLine)).Append("</p>\n");
        sb.Append("<table>\n<thead><tr><th>org</th><th>cost (USD, estimated)</th><th>change from previous period (%)</th>")
          .Append("<th>CPU time (CPU-hours, measured)</th><th>GPU time (GPU-hours, measured)</th><th>energy (kWh)</th>")
          .Append("<th>energy basis</th><th>CO2e (kg, estimated)</th><th>cost per year (USD, projection)</th>")
          .Append("<th>CO2e per year (kg, projection)</th></tr></thead>\n<tbody>\n");
        foreach (var o in r.Orgs)
        {
            HtmlRow(sb, "", H(o.Org) + (o.Partial ? " (partial)" : ""), o.Figures, o.ChangePercent, o.ProjectedPerYear);
        }

        HtmlRow(sb, " class=\"fleet\"", "fleet", r.Total, r.ChangePercent, r.ProjectedPerYear);
        sb.Append("</tbody>\n</table>\n<h2>Top opportunities per org</h2>\n");
        var pct = r.ImprovementPercent.ToString("0.##", CultureInfo.InvariantCulture);
        foreach (var o in r.Orgs)
        {
            sb.Append("<h3>").Append(H(o.Org)).Append("</h3>\n");
            if (o.Top.Count == 0)
            {
                sb.Append("<p>No opportunities: no priced CPU or GPU time in the period.</p>\n");
                continue;
            }

            sb.Append("<table>\n<thead><tr><th>#</th><th>kind</th><th>name</th><th>cost per year (USD, projection)</th>")
              .Append("<th>saved by a ").Append(pct).Append(" % improvement (USD per year, projection)</th>")
              .Append("<th>energy per year (kWh, projection)</th><th>CO2e per year (kg, projection)</th><th>trend (%)</th>")
              .Append("<th>owners (service, share of cost)</th><th>advice</th></tr></thead>\n<tbody>\n");
            foreach (var t in o.Top)
            {
                sb.Append("<tr><td class=\"n\">").Append(t.Rank).Append("</td><td>").Append(H(t.Kind)).Append("</td><td>")
                  .Append(H(t.Name)).Append("</td><td class=\"n\">").Append(Num(t.Annual.Usd)).Append("</td><td class=\"n\">")
                  .Append(Num(t.IfImproved.Usd)).Append("</td><td class=\"n\">").Append(Num(t.Annual.Kwh))
                  .Append("</td><td class=\"n\">").Append(Num(t.Annual.KgCo2e)).Append("</td><td class=\"n\">")
                  .Append(H(Pct(t.TrendPercent))).Append("</td><td>").Append(H(Owners(t))).Append("</td><td>")
                  .Append(H(t.Advice)).Append("</td></tr>\n");
            }

            sb.Append("</tbody>\n</table>\n");
        }

        if (r.Notes.Count > 0)
        {
            sb.Append("<h2>Notes</h2>\n<ul>\n");
            foreach (var n in r.Notes)
            {
                sb.Append("<li>").Append(H(n)).Append("</li>\n");
            }

            sb.Append("</ul>\n");
        }

        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static void HtmlRow(StringBuilder sb, string rowAttr, string nameHtml, CostFigures f, double? change, CostFigures y) =>
        sb.Append("<tr").Append(rowAttr).Append("><td>").Append(nameHtml)
          .Append("</td><td class=\"n\">").Append(Num(f.Usd))
          .Append("</td><td class=\"n\">").Append(H(Pct(change)))
          .Append("</td><td class=\"n\">").Append(Num(f.CpuSeconds / 3600))
          .Append("</td><td class=\"n\">").Append(Num(f.GpuSeconds / 3600))
          .Append("</td><td class=\"n\">").Append(Num(f.Kwh))
          .Append("</td><td>").Append(H(f.EnergyBasis))
          .Append("</td><td class=\"n\">").Append(Num(f.KgCo2e + f.EmbodiedKgCo2e))
          .Append("</td><td class=\"n\">").Append(Num(y.Usd))
          .Append("</td><td class=\"n\">").Append(Num(y.KgCo2e + y.EmbodiedKgCo2e))
          .Append("</td></tr>\n");

    /// <summary>HTML-escaped text (WebUtility.HtmlEncode: &amp; &lt; &gt; " ' and Latin-1/astral characters as references); characters XML does not allow (controls other than whitespace, U+FFFE/U+FFFF) dropped and lone surrogates replaced by U+FFFD, so the page stays well-formed XML.</summary>
    internal static string H(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var ch = s[i];
            if (char.IsHighSurrogate(ch) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(ch).Append(s[++i]);
            }
            else if (char.IsSurrogate(ch))
            {
                sb.Append('\uFFFD');
            }
            else if (System.Xml.XmlConvert.IsXmlChar(ch))
            {
                sb.Append(ch);
            }
        }

        return WebUtility.HtmlEncode(sb.ToString());
    }
}
