using System.Globalization;
using System.Text;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// Text answers of <c>orac cost</c> and <c>orac opportunities</c> (docs/cost.md "Verbs"): a header saying what was
/// priced, over what period, with which model and which figures are measured, estimated or projected; PARTIAL first
/// when data was missing; every column header names its unit.
/// </summary>
public static class CostRender
{
    /// <summary>Longest function or opportunity name shown in a text table (JSON keeps the whole name).</summary>
    public const int MaxNameWidth = 60;

    private const string CpuHead = "CPU (s)";
    private const string GpuHead = "GPU (s)";
    private const string UsdHead = "cost ($)";
    private const string KwhHead = "energy (kWh)";
    private const string Co2Head = "CO2e (kg)";
    private const string EmbodiedHead = "embodied CO2e (kg)";
    private const string ShareHead = "CPU (%)";
    private const string LinkLabel = "flame graph: ";

    /// <summary>The whole text answer of <c>orac cost</c>.</summary>
    public static string Cost(CostDocument d)
    {
        var sb = new StringBuilder();
        if (d.Partial)
        {
            sb.Append("PARTIAL: some data was missing; see the notes at the end\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"cost of {Clean(d.Selection)}, {Period(d.From, d.Until)}; model: {Clean(d.Model)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"CPU seconds measured; $ and CO2e estimated; kWh {Clean(d.Total.EnergyBasis)}\n\n");

        var totals = new CostTable(["", CpuHead, GpuHead, UsdHead, KwhHead, Co2Head, EmbodiedHead], [false, true, true, true, true, true, true]);
        CostFigures t = d.Total;
        CostFigures i = d.Idle;
        totals.Row(["total", Num(t.CpuSeconds), Num(t.GpuSeconds), Num(t.Usd), Num(t.Kwh), Num(t.KgCo2e), Num(t.EmbodiedKgCo2e)]);
        totals.Row(["  attributed to workloads", Num(t.CpuSeconds - i.CpuSeconds), Num(t.GpuSeconds - i.GpuSeconds), Num(t.Usd - i.Usd),
            Num(t.Kwh - i.Kwh), Num(t.KgCo2e - i.KgCo2e), Num(t.EmbodiedKgCo2e - i.EmbodiedKgCo2e)]);
        CostFigures y = d.ProjectedPerYear;
        if (d.Until > d.From)
        {
            totals.Row(["  idle / unattributed", Num(i.CpuSeconds), Num(i.GpuSeconds), Num(i.Usd), Num(i.Kwh), Num(i.KgCo2e), Num(i.EmbodiedKgCo2e)]);
            totals.Row(["per year (projection)", Num(y.CpuSeconds), Num(y.GpuSeconds), Num(y.Usd), Num(y.Kwh), Num(y.KgCo2e), Num(y.EmbodiedKgCo2e)]);
        }
        else
        {
            // No period: idle is computed over observed time and the projection scales from the period; neither exists.
            totals.Row(["  idle / unattributed", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]);
            totals.Row(["per year (projection)", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]);
        }

        sb.Append(totals.Render());

        if (d.Functions.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nfunctions (self CPU time, largest cost first{(d.FunctionsOmitted > 0 ? $"; {d.FunctionsOmitted:N0} more not shown, see --top" : "")})\n");
            var f = new CostTable(["function", "service", CpuHead, ShareHead, UsdHead, KwhHead, Co2Head], [false, false, true, true, true, true, true]);
            foreach (CostRow r in d.Functions)
            {
                f.Row([Short(r.Name), r.Service ?? "(several)", Num(r.Figures.CpuSeconds), Pct(r.CpuPercent), Num(r.Figures.Usd), Num(r.Figures.Kwh), Num(r.Figures.KgCo2e)]);
            }

            sb.Append(f.Render());
        }

        if (d.Services.Count > 0)
        {
            sb.Append("\nservices (attributed)\n");
            sb.Append(RowTable("service", d.Services, withOrg: d.Orgs.Count > 1));
        }

        if (d.Hosts.Count > 0)
        {
            sb.Append("\nhosts (attributed, then the host's idle / unattributed)\n");
            var h = new CostTable(["host", "class", CpuHead, ShareHead, UsdHead, KwhHead, Co2Head, "idle " + UsdHead, "idle " + KwhHead],
                [false, false, true, true, true, true, true, true, true]);
            for (int k = 0; k < d.Hosts.Count; k++)
            {
                CostRow r = d.Hosts[k];
                CostRow? idle = FindIdle(d, k, r.Name);
                h.Row([r.Name, r.Class ?? "", Num(r.Figures.CpuSeconds), Pct(r.CpuPercent), Num(r.Figures.Usd), Num(r.Figures.Kwh), Num(r.Figures.KgCo2e),
                    idle is null ? "-" : Num(idle.Figures.Usd), idle is null ? "-" : Num(idle.Figures.Kwh)]);
            }

            sb.Append(h.Render());
        }

        if (d.Orgs.Count > 1)
        {
            sb.Append("\norgs (attributed)\n");
            sb.Append(RowTable("org", d.Orgs, withOrg: false));
        }

        if (d.Gpus.Count > 0)
        {
            sb.Append("\nGPUs (utilization and power measured where readings had them; stranded = billed while idle or in the utilization trap)\n");
            var g = new CostTable(["host", "GPU", "model", "util (%)", "SM active (%)", GpuHead, UsdHead, KwhHead, Co2Head, "stranded idle ($)", "util trap ($)"],
                [false, true, false, true, true, true, true, true, true, true, true]);
            foreach (GpuCostRow r in d.Gpus)
            {
                g.Row([r.Host, r.Index.ToString(CultureInfo.InvariantCulture), r.Model, Pct(r.UtilPercent), r.SmActivePercent is double sm ? Pct(sm) : "n/a",
                    Num(r.Figures.GpuSeconds), Num(r.Figures.Usd), Num(r.Figures.Kwh), Num(r.Figures.KgCo2e), Num(r.StrandedIdleUsd), Num(r.StrandedTrapUsd)]);
            }

            sb.Append(g.Render());
        }

        Notes(sb, d.Notes);
        return sb.ToString();
    }

    /// <summary>
    /// The whole text answer of <c>orac opportunities</c>: one ranked row per opportunity, then its savings, advice and
    /// link on indented lines, so that it reads in 120 columns. <paramref name="server"/> makes links absolute (null:
    /// files, no links).
    /// </summary>
    public static string Opportunities(OpportunitiesDocument d, Uri? server)
    {
        var sb = new StringBuilder();
        if (d.Partial)
        {
            sb.Append("PARTIAL: some data was missing; see the notes at the end\n");
        }

        string imp = Pct(d.ImprovementPercent);
        sb.Append(CultureInfo.InvariantCulture, $"opportunities in {Clean(d.Selection)}, {Period(d.From, d.Until)}\n");
        sb.Append("figures per year are projections of the period; $, kWh and CO2e are estimated\n");
        sb.Append(CultureInfo.InvariantCulture, $"save: what a {imp} % improvement would save per year; trend: {(server is null ? "n/a for files (no previous period)" : "change against the previous period of the same length")}\n");
        Savings total = d.TotalPerYear;
        sb.Append(CultureInfo.InvariantCulture, $"whole selection per year (projection): ${Num(total.Usd)}, {Num(total.Kwh)} kWh, {Num(total.KgCo2e)} kg CO2e\n\n");
        if (d.Items.Count == 0)
        {
            sb.Append("no opportunities: the selection has no CPU or GPU time priced\n");
            Notes(sb, d.Notes);
            return sb.ToString();
        }

        var table = new CostTable(["#", "kind", "name", "$/year", "kWh/year", "kgCO2e/year", $"save {imp}% ($/year)", "owners", "trend"],
            [true, false, false, true, true, true, true, false, true]);
        var details = new List<string[]>(d.Items.Count);
        foreach (Opportunity o in d.Items)
        {
            table.Row([o.Rank.ToString(CultureInfo.InvariantCulture), o.Kind, Short(o.Name, 44), Num(o.Annual.Usd), Num(o.Annual.Kwh), Num(o.Annual.KgCo2e),
                Num(o.IfImproved.Usd), Owners(o.Owners), o.TrendPercent is double tr ? Signed(tr) + " %" : "n/a"]);
            var lines = new List<string>(4)
            {
                string.Create(CultureInfo.InvariantCulture,
                    $"saves per year: {imp} % better ${Num(o.IfImproved.Usd)}, {Num(o.IfImproved.Kwh)} kWh, {Num(o.IfImproved.KgCo2e)} kg CO2e; eliminated ${Num(o.IfEliminated.Usd)}, {Num(o.IfEliminated.Kwh)} kWh, {Num(o.IfEliminated.KgCo2e)} kg CO2e"),
            };
            if (o.Name.Length > 44)
            {
                lines.Insert(0, "name: " + Clean(o.Name));
            }

            if (o.Advice.Length > 0)
            {
                lines.Add("advice: " + Clean(o.Advice));
            }

            if (server is not null && o.Link.Length > 0)
            {
                lines.Add(LinkLabel + Link(server, o.Link));
            }

            details.Add([.. lines]);
        }

        // The table renders row by row; each row's details follow it, indented under the name.
        string[] rendered = table.Render().Split('\n');
        sb.Append(rendered[0]).Append('\n');
        int indent = table.ColumnStart(2);
        for (int k = 0; k < details.Count; k++)
        {
            sb.Append(rendered[k + 1]).Append('\n');
            foreach (string line in details[k])
            {
                if (line.StartsWith(LinkLabel, StringComparison.Ordinal))
                {
                    // A link is copied and clicked whole.
                    sb.Append(' ', indent).Append(line).Append('\n');
                }
                else
                {
                    Wrap(sb, line, indent, TextWidth);
                }
            }
        }

        Notes(sb, d.Notes);
        return sb.ToString();
    }

    /// <summary>Width the opportunities' detail lines are wrapped to (links are never broken).</summary>
    public const int TextWidth = 120;

    /// <summary>Appends <paramref name="text"/> indented by <paramref name="indent"/>, wrapped at spaces to <paramref name="width"/> columns; continuation lines are indented two more.</summary>
    internal static void Wrap(StringBuilder sb, string text, int indent, int width)
    {
        int room = Math.Max(40, width - indent);
        int at = 0;
        bool first = true;
        while (at < text.Length)
        {
            int lead = first ? 0 : 2;
            int take = text.Length - at;
            if (take > room - lead)
            {
                int cut = text.LastIndexOf(' ', at + room - lead, room - lead);
                take = cut > at ? cut - at : room - lead;
                if (text.IndexOf(' ', at, Math.Min(text.Length - at, room - lead + 1)) < 0)
                {
                    // One word longer than the room (a link): keep it whole.
                    int end = text.IndexOf(' ', at);
                    take = (end < 0 ? text.Length : end) - at;
                }
            }

            sb.Append(' ', indent + lead).Append(text, at, take).Append('\n');
            at += take;
            while (at < text.Length && text[at] == ' ')
            {
                at++;
            }

            first = false;
        }
    }

    /// <summary>
    /// A figure with the precision it deserves: thousands separated above 1000, two decimals above 1, three
    /// significant digits below (a 20-second recording costs fractions of a cent), scientific below 1e-5.
    /// </summary>
    public static string Num(double v)
    {
        if (!double.IsFinite(v))
        {
            return "n/a";
        }

        double a = Math.Abs(v);
        if (a == 0)
        {
            return "0";
        }

        if (a >= 1000)
        {
            return v.ToString("N0", CultureInfo.InvariantCulture);
        }

        if (a >= 1)
        {
            return v.ToString("0.00", CultureInfo.InvariantCulture);
        }

        if (a < 1e-5)
        {
            return v.ToString("0.00e+0", CultureInfo.InvariantCulture);
        }

        int decimals = Math.Min(9, 2 - (int)Math.Floor(Math.Log10(a)));
        return v.ToString("0." + new string('0', decimals), CultureInfo.InvariantCulture);
    }

    /// <summary>A period for a header: its length and UTC edges, or "period unknown" when the answer has none.</summary>
    public static string Period(long fromMs, long untilMs)
    {
        if (untilMs <= fromMs || fromMs < 0)
        {
            return "period unknown (the files hold no duration; pass --period)";
        }

        var from = DateTimeOffset.FromUnixTimeMilliseconds(fromMs);
        var until = DateTimeOffset.FromUnixTimeMilliseconds(untilMs);
        return $"period {Length((untilMs - fromMs) / 1000.0)} ({from.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} to {until.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)";
    }

    private static string Length(double seconds) => seconds switch
    {
        >= 86_400 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 86_400:0.##} d"),
        >= 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.##} h"),
        >= 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.##} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.###} s"),
    };

    private static string RowTable(string what, List<CostRow> rows, bool withOrg)
    {
        var t = new CostTable([what, withOrg ? "org" : "", CpuHead, ShareHead, UsdHead, KwhHead, Co2Head], [false, false, true, true, true, true, true]);
        foreach (CostRow r in rows)
        {
            t.Row([Short(r.Name), withOrg ? r.Org ?? "" : "", Num(r.Figures.CpuSeconds), Pct(r.CpuPercent), Num(r.Figures.Usd), Num(r.Figures.Kwh), Num(r.Figures.KgCo2e)]);
        }

        return t.Render();
    }

    private static CostRow? FindIdle(CostDocument d, int index, string host)
    {
        if (index < d.HostIdle.Count && d.HostIdle[index].Name == host)
        {
            return d.HostIdle[index];
        }

        foreach (CostRow r in d.HostIdle)
        {
            if (r.Name == host)
            {
                return r;
            }
        }

        return null;
    }

    private static void Notes(StringBuilder sb, List<string> notes)
    {
        if (notes.Count == 0)
        {
            return;
        }

        sb.Append("\nnotes:\n");
        foreach (string n in notes)
        {
            sb.Append("  - ").Append(Clean(n)).Append('\n');
        }
    }

    private static string Owners(List<OwnerShare> owners)
    {
        if (owners.Count == 0)
        {
            return "-";
        }

        var parts = new List<string>(3);
        for (int k = 0; k < owners.Count && k < 2; k++)
        {
            OwnerShare s = owners[k];
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Org}/{s.Service} {s.Percent:0}%"));
        }

        string text = string.Join(", ", parts);
        return owners.Count > 2 ? string.Create(CultureInfo.InvariantCulture, $"{text} +{owners.Count - 2}") : text;
    }

    private static string Link(Uri server, string link)
    {
        if (Uri.TryCreate(link, UriKind.Absolute, out Uri? abs) && abs.Scheme is "http" or "https")
        {
            return abs.ToString();
        }

        string b = server.ToString().TrimEnd('/');
        return link.StartsWith('/') ? b + link : b + "/" + link;
    }

    private static string Pct(double v) => double.IsFinite(v) ? v.ToString("0.#", CultureInfo.InvariantCulture) : "n/a";

    private static string Signed(double v) => v.ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture);

    private static string Short(string name, int max = MaxNameWidth) => name.Length <= max ? name : string.Concat(name.AsSpan(0, max - 1), "…");

    private static string Clean(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }
}

/// <summary>A text table with right-aligned number columns, two spaces apart; control characters in cells become '?'.</summary>
internal sealed class CostTable(string[] headers, bool[] rightAligned)
{
    private readonly List<string[]> _rows = [];
    private int[]? _widths;

    public void Row(string[] cells)
    {
        System.Diagnostics.Debug.Assert(cells.Length == headers.Length, "one cell per column");
        _rows.Add(cells);
        _widths = null;
    }

    /// <summary>The column where cell <paramref name="column"/> starts, in characters.</summary>
    public int ColumnStart(int column)
    {
        int[] w = Widths();
        int start = 0;
        for (int i = 0; i < column; i++)
        {
            start += w[i] == 0 ? 0 : w[i] + 2;
        }

        return start;
    }

    public string Render()
    {
        int[] widths = Widths();
        var sb = new StringBuilder();
        Line(sb, headers, widths);
        foreach (string[] r in _rows)
        {
            Line(sb, r, widths);
        }

        return sb.ToString();
    }

    private int[] Widths()
    {
        if (_widths is not null)
        {
            return _widths;
        }

        var widths = new int[headers.Length];
        for (int i = 0; i < headers.Length; i++)
        {
            widths[i] = headers[i].Length;
            foreach (string[] r in _rows)
            {
                widths[i] = Math.Max(widths[i], r[i].Length);
            }
        }

        _widths = widths;
        return widths;
    }

    private void Line(StringBuilder sb, string[] cells, int[] widths)
    {
        int start = sb.Length;
        for (int i = 0; i < cells.Length; i++)
        {
            if (widths[i] == 0)
            {
                continue;
            }

            string cell = Clean(cells[i]);
            sb.Append(rightAligned[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
            if (i < cells.Length - 1)
            {
                sb.Append("  ");
            }
        }

        while (sb.Length > start && sb[^1] == ' ')
        {
            sb.Length--;
        }

        sb.Append('\n');
    }

    private static string Clean(string s)
    {
        foreach (char c in s)
        {
            if (char.IsControl(c))
            {
                var sb = new StringBuilder(s.Length);
                foreach (char d in s)
                {
                    sb.Append(char.IsControl(d) ? '?' : d);
                }

                return sb.ToString();
            }
        }

        return s;
    }
}
