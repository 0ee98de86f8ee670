using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac query</c> verb: asks a server (docs/api.md) for the merged profile of a selection and shows
/// it as the <c>orac top</c> table (default), an SVG flame graph, folded stacks, the flame tree JSON, or the
/// functions that changed most against a base selection (<c>--diff</c>).
/// </summary>
public static class QueryCommand
{
    private const string UsageLine = "usage: orac query [SELECTOR] [--type T] [--from now-1h] [--until now] [--top N [--total] | --svg FILE | --folded FILE | --json | --diff --base-from T --base-until T [--base SELECTOR]] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("query")
        .Option("--type")
        .Option("--from")
        .Option("--until")
        .Option("--top", "-n")
        .Flag("--total")
        .Option("--svg")
        .Option("--folded")
        .Flag("--json")
        .Flag("--diff")
        .Option("--base")
        .Option("--base-from")
        .Option("--base-until")
        .Flag("--help", "-h"));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count > 1)
        {
            throw p.Usage($"expected at most one SELECTOR, got {p.Positionals.Count} (quote it: '{{service_name=\"api\"}}')");
        }

        string selector = p.Positionals.Count == 1 ? p.Positionals[0] : "{}";
        Selector.Parse(selector);
        if (p.Get("--base") is string baseSel)
        {
            Selector.Parse(baseSel);
        }

        if (p.Get("--type") is string type)
        {
            ProfileTypeId.Parse(type);
        }

        long now = TimeSpec.NowNs();
        foreach (string opt in (string[])["--from", "--until", "--base-from", "--base-until"])
        {
            if (p.Get(opt) is string t && !TimeSpec.TryParse(t, now, out _))
            {
                throw p.Usage($"bad time for {opt}: '{t}' (now, now-1h, RFC 3339 or Unix seconds)");
            }
        }

        int modes = (p.Has("--svg") ? 1 : 0) + (p.Has("--folded") ? 1 : 0) + (p.Has("--json") ? 1 : 0) + (p.Has("--diff") ? 1 : 0);
        if (modes > 1)
        {
            throw p.Usage("--svg, --folded, --json and --diff exclude each other");
        }

        if (!p.Has("--diff") && (p.Has("--base") || p.Has("--base-from") || p.Has("--base-until")))
        {
            throw p.Usage("--base, --base-from and --base-until go with --diff");
        }

        if (p.Has("--diff") && !p.Has("--base") && !p.Has("--base-from") && !p.Has("--base-until"))
        {
            throw p.Usage("--diff needs a base to compare with: --base-from T --base-until T and/or --base SELECTOR");
        }

        int count = p.GetInt("--top", TopCommand.DefaultCount);
        if (count < 1)
        {
            throw p.Usage($"--top needs a positive count, got {count}");
        }

        string from = p.Get("--from") ?? "now-1h";
        string until = p.Get("--until") ?? "now";
        RemoteTarget target = RemoteTarget.Resolve(p, ctx);
        using var client = target.Client();
        string? chosenType = p.Get("--type") ?? (Selector.Parse(selector).Type is null ? TypeWithData(client, selector, from, until) : null);
        (string, string?)[] common = [("query", selector), ("type", chosenType), ("from", from), ("until", until)];
        if (p.Get("--svg") is string svg)
        {
            return Export(client, common, "svg", svg, ctx);
        }

        if (p.Get("--folded") is string folded)
        {
            return Export(client, common, "folded", folded, ctx);
        }

        if (p.Has("--json"))
        {
            byte[] tree = client.Get(RemoteClient.PathWithQuery("/api/v1/query", common));
            Write(ctx, tree, newline: tree.Length == 0 || tree[^1] != (byte)'\n');
            return 0;
        }

        if (p.Has("--diff"))
        {
            string baseSelector = p.Get("--base") ?? selector;
            string baseFrom = p.Get("--base-from") ?? from;
            string baseUntil = p.Get("--base-until") ?? until;
            byte[] tree = client.Get(RemoteClient.PathWithQuery("/api/v1/query/diff",
                [.. common, ("baseQuery", baseSelector), ("baseFrom", baseFrom), ("baseUntil", baseUntil)]));
            DiffReport report = DiffReport.FromFlameTree(tree, $"{baseSelector} {baseFrom}..{baseUntil}", $"{selector} {from}..{until}");
            Write(ctx, Encoding.UTF8.GetBytes(report.Render(count)), newline: false);
            return 0;
        }

        byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/query/top",
            [.. common, ("limit", count.ToString(CultureInfo.InvariantCulture)), ("order", p.Has("--total") ? "total" : "self")]));
        TopReport report2;
        try
        {
            report2 = JsonSerializer.Deserialize(answer, OracJsonContext.Default.TopReport)
                ?? throw new OracException($"the server at {client.Server} answered null to the top query");
        }
        catch (JsonException e)
        {
            throw new OracException($"the server at {client.Server} answered the top query with something that is not a top report: {e.Message}");
        }

        Write(ctx, Encoding.UTF8.GetBytes(TopCommand.RenderTable(report2)), newline: false);
        if (report2.ProfileTotal == 0)
        {
            ctx.Error.WriteLine($"query: no samples match {selector} from {from} until {until}");
        }

        return 0;
    }

    /// <summary>
    /// Without <c>--type</c>: the first profile type with data for this selection (CPU time first, as the server
    /// orders them), so <c>orac query api</c> shows api's samples even when other services hold CPU time. Null
    /// (the server's default) when there are none or only one.
    /// </summary>
    private static string? TypeWithData(RemoteClient client, string selector, string from, string until)
    {
        byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/query/types", ("from", from), ("until", until)));
        var types = new List<string>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(answer);
            foreach (JsonElement t in doc.RootElement.GetProperty("types").EnumerateArray())
            {
                if (t.GetString() is string s)
                {
                    types.Add(s);
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OracException($"the server at {client.Server} answered /api/v1/query/types with something else than {{\"types\": [...]}}");
        }

        if (types.Count < 2)
        {
            return null;
        }

        string preferred = ProfileTypeId.ProcessCpu.ToString();
        types.Sort((a, b) => (b == preferred).CompareTo(a == preferred));
        foreach (string type in types)
        {
            byte[] top = client.Get(RemoteClient.PathWithQuery("/api/v1/query/top", ("query", selector), ("type", type), ("from", from), ("until", until), ("limit", "1")));
            TopReport? r = null;
            try
            {
                r = JsonSerializer.Deserialize(top, OracJsonContext.Default.TopReport);
            }
            catch (JsonException)
            {
            }

            if (r is { ProfileTotal: > 0 })
            {
                return type;
            }
        }

        return null;
    }

    private static int Export(RemoteClient client, (string, string?)[] common, string format, string path, CliContext ctx)
    {
        byte[] bytes = client.Get(RemoteClient.PathWithQuery("/api/v1/query/export", [.. common, ("format", format)]));
        using (Stream output = ctx.OpenOutput(path))
        {
            output.Write(bytes);
        }

        if (path != "-")
        {
            ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"query: wrote {path} ({format}, {bytes.Length:N0} bytes)"));
        }

        return 0;
    }

    private static void Write(CliContext ctx, byte[] bytes, bool newline)
    {
        using Stream output = ctx.OpenOutput(null);
        output.Write(bytes);
        if (newline)
        {
            output.Write("\n"u8);
        }
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  SELECTOR          {service_name=\"api\", host=~\"gpu-.*\"}, optionally prefixed by a profile type id; a bare name means service_name=NAME; default {} (everything)");
        w.WriteLine("  --type T          profile type id (default: the first type with data for this selection, CPU time first)");
        w.WriteLine("  --from/--until T  time range: now, now-1h, RFC 3339 or Unix seconds (default now-1h .. now)");
        w.WriteLine($"  --top N           top N functions by self value (default {TopCommand.DefaultCount}); --total ranks by total");
        w.WriteLine("  --svg FILE        write the flame graph SVG");
        w.WriteLine("  --folded FILE     write folded stacks");
        w.WriteLine("  --json            print the flame tree JSON (docs/api.md)");
        w.WriteLine("  --diff            the functions that changed most (self value) against --base-from/--base-until/--base");
        w.WriteLine("  --server URL      server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN     bearer token (default: ORAC_TOKEN, else the CLI config)");
    }
}

/// <summary>The functions whose self value changed most between a base and a main selection, from the diff flame tree.</summary>
public sealed class DiffReport
{
    private DiffReport(string unit, string type, long baseTotal, long total, List<(string Name, long Before, long After)> rows, string before, string after, bool partial)
    {
        Unit = unit;
        Type = type;
        BaseTotal = baseTotal;
        Total = total;
        Rows = rows;
        Before = before;
        After = after;
        Partial = partial;
    }

    /// <summary>Unit of every value.</summary>
    public string Unit { get; }

    /// <summary>Profile type id.</summary>
    public string Type { get; }

    /// <summary>Total of the base selection.</summary>
    public long BaseTotal { get; }

    /// <summary>Total of the main selection.</summary>
    public long Total { get; }

    /// <summary>Every function with its self value before (base) and after (main), sorted by |after - before| descending, then name.</summary>
    public IReadOnlyList<(string Name, long Before, long After)> Rows { get; }

    /// <summary>What the base selection was.</summary>
    public string Before { get; }

    /// <summary>What the main selection was.</summary>
    public string After { get; }

    /// <summary>True when the server said the answer is partial or truncated nodes.</summary>
    public bool Partial { get; }

    /// <summary>Reads the diff flame tree (docs/api.md) and sums self values per function name.</summary>
    public static DiffReport FromFlameTree(byte[] json, string before, string after)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            string unit = root.GetProperty("unit").GetString() ?? "";
            string type = root.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "" : "";

            // Plain counts are named by what they count, as orac top does ("samples", not "count").
            if (unit is "count" or "" && type.Split(':') is [_, string counted, ..] && counted.Length > 0)
            {
                unit = counted;
            }
            long total = root.GetProperty("total").GetInt64();
            long baseTotal = root.GetProperty("baseTotalValue").GetInt64();
            bool partial = (root.TryGetProperty("partial", out JsonElement pe) && pe.ValueKind == JsonValueKind.True)
                || (root.TryGetProperty("truncated", out JsonElement tr) && tr.TryGetInt64(out long tn) && tn > 0);
            JsonElement names = root.GetProperty("names");
            JsonElement nodes = root.GetProperty("nodes");
            JsonElement parent = nodes.GetProperty("parent");
            JsonElement name = nodes.GetProperty("name");
            JsonElement self = nodes.GetProperty("self");
            JsonElement baseSelf = root.TryGetProperty("baseSelf", out JsonElement bs) ? bs : nodes.GetProperty("baseSelf");
            int n = parent.GetArrayLength();
            if (name.GetArrayLength() != n || self.GetArrayLength() != n || baseSelf.GetArrayLength() != n)
            {
                throw new OracException("the server's diff flame tree has columns of different lengths");
            }

            var nameList = new List<string>(names.GetArrayLength());
            foreach (JsonElement e in names.EnumerateArray())
            {
                nameList.Add(e.GetString() ?? "");
            }

            var sums = new Dictionary<string, (long Before, long After)>(StringComparer.Ordinal);
            using var pi = parent.EnumerateArray().GetEnumerator();
            using var ni = name.EnumerateArray().GetEnumerator();
            using var si = self.EnumerateArray().GetEnumerator();
            using var bi = baseSelf.EnumerateArray().GetEnumerator();
            while (pi.MoveNext() && ni.MoveNext() && si.MoveNext() && bi.MoveNext())
            {
                if (pi.Current.GetInt32() < 0)
                {
                    continue; // the root ("total") is not a function
                }

                int ix = ni.Current.GetInt32();
                if ((uint)ix >= (uint)nameList.Count)
                {
                    throw new OracException($"the server's diff flame tree names string {ix}, but has {nameList.Count}");
                }

                string fn = nameList[ix];
                sums.TryGetValue(fn, out (long Before, long After) v);
                sums[fn] = (v.Before + bi.Current.GetInt64(), v.After + si.Current.GetInt64());
            }

            var rows = new List<(string Name, long Before, long After)>(sums.Count);
            foreach (var kv in sums)
            {
                if (kv.Value.Before != 0 || kv.Value.After != 0)
                {
                    rows.Add((kv.Key, kv.Value.Before, kv.Value.After));
                }
            }

            rows.Sort((a, b) =>
            {
                int c = Math.Abs(b.After - b.Before).CompareTo(Math.Abs(a.After - a.Before));
                return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
            });
            return new DiffReport(unit, type, baseTotal, total, rows, before, after, partial);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new OracException($"the server's answer is not a diff flame tree (docs/api.md): {e.Message}");
        }
    }

    /// <summary>The table of the first <paramref name="count"/> changes, with the unit in every value header.</summary>
    public string Render(int count)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"values are measured; unit: {Unit}; type {Type}; self value per function{(Partial ? " (partial: the server truncated the tree)" : "")}\n");
        sb.Append(CultureInfo.InvariantCulture, $"before: {Before} (total {Num(BaseTotal)} {Unit})\n");
        sb.Append(CultureInfo.InvariantCulture, $"after:  {After} (total {Num(Total)} {Unit})\n");
        if (Rows.Count == 0)
        {
            sb.Append("no function has samples in either selection\n");
            return sb.ToString();
        }

        string beforeHead = $"before ({Unit})";
        string afterHead = $"after ({Unit})";
        string deltaHead = $"delta ({Unit})";
        const string PctHead = "delta %";
        int n = Math.Min(count, Rows.Count);
        int nameWidth = "function".Length;
        int bw = beforeHead.Length, aw = afterHead.Length, dw = deltaHead.Length, pw = PctHead.Length;
        var cells = new (string Name, string B, string A, string D, string P)[n];
        for (int i = 0; i < n; i++)
        {
            (string name, long before, long after) = Rows[i];
            long delta = after - before;
            string pct = before == 0 ? "new" : after == 0 ? "gone" : (100.0 * delta / before).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
            cells[i] = (name, Num(before), Num(after), delta > 0 ? "+" + Num(delta) : Num(delta), pct);
            nameWidth = Math.Max(nameWidth, name.Length);
            bw = Math.Max(bw, cells[i].B.Length);
            aw = Math.Max(aw, cells[i].A.Length);
            dw = Math.Max(dw, cells[i].D.Length);
            pw = Math.Max(pw, cells[i].P.Length);
        }

        sb.Append("function".PadRight(nameWidth)).Append("  ").Append(beforeHead.PadLeft(bw)).Append("  ")
            .Append(afterHead.PadLeft(aw)).Append("  ").Append(deltaHead.PadLeft(dw)).Append("  ").Append(PctHead.PadLeft(pw)).Append('\n');
        foreach (var c in cells)
        {
            sb.Append(c.Name.PadRight(nameWidth)).Append("  ").Append(c.B.PadLeft(bw)).Append("  ")
                .Append(c.A.PadLeft(aw)).Append("  ").Append(c.D.PadLeft(dw)).Append("  ").Append(c.P.PadLeft(pw)).Append('\n');
        }

        if (Rows.Count > n)
        {
            sb.Append(CultureInfo.InvariantCulture, $"({Rows.Count - n:N0} more functions changed; --top N shows more)\n");
        }

        return sb.ToString();
    }

    private static string Num(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
