using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac fleet</c> verb (docs/fleet.md): what agents there are and what they collect (<c>ls</c>), change
/// what they collect (<c>set</c>, admin), and who did what (<c>audit</c>, admin).
/// </summary>
public static class FleetCommand
{
    private const string UsageLine = "usage: orac fleet ls [SELECTOR] [--json] | set SELECTOR (--hz N | --pause | --resume | --label k=v ...) [--no-wait] [--json] | audit [--limit N] [--json]   [--server URL] [--token TOKEN]";

    /// <summary>How long <c>fleet set</c> waits for the agents to apply a change.</summary>
    public static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(30);

    // The server serves the newest 10,000 audit entries and refuses a larger limit.
    private const int KeptAuditEntries = 10_000;

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("fleet")
        .Flag("--json")
        .Option("--hz")
        .Flag("--pause")
        .Flag("--resume")
        .Repeatable("--label")
        .Flag("--no-wait")
        .Option("--limit")
        .Option("--wait-seconds")
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

        if (p.Positionals.Count == 0)
        {
            throw p.Usage("expected a sub-command: ls, set or audit");
        }

        string sub = p.Positionals[0];
        List<string> rest = p.Positionals.GetRange(1, p.Positionals.Count - 1);
        return sub switch
        {
            "ls" => Ls(p, rest, ctx),
            "set" => Set(p, rest, ctx),
            "audit" => Audit(p, rest, ctx),
            _ => throw p.Usage($"unknown sub-command '{sub}' (ls, set or audit)"),
        };
    }

    private static int Ls(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "ls", "--json");
        if (rest.Count > 1)
        {
            throw p.Usage($"ls takes at most one SELECTOR, got {rest.Count} (quote it: '{{service_name=\"api\"}}')");
        }

        string selector = rest.Count == 1 ? CheckSelector(p, rest[0]) : "";
        using var client = RemoteTarget.Resolve(p, ctx).Client();
        byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/agents", ("query", selector.Length == 0 ? null : selector)));
        FleetDocument fleet = FleetAnswers.Fleet(answer, client.Server);
        if (p.Has("--json"))
        {
            WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(fleet, OracJsonContext.Default.FleetDocument));
            return 0;
        }

        Write(ctx, RenderAgents(fleet.Agents, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        return 0;
    }

    private static int Set(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "set", "--hz", "--pause", "--resume", "--label", "--no-wait", "--json", "--wait-seconds");
        if (rest.Count != 1)
        {
            throw p.Usage($"set needs one SELECTOR (use '{{}}' for every agent of the org), got {rest.Count}");
        }

        string selector = CheckSelector(p, rest[0]);
        if (p.Has("--pause") && p.Has("--resume"))
        {
            throw p.Usage("--pause and --resume exclude each other");
        }

        int? hz = null;
        if (p.Has("--hz"))
        {
            hz = p.GetInt("--hz", 0);
            if (hz is < 1 or > 1000)
            {
                throw p.Usage($"--hz needs a rate from 1 to 1000 Hz, got {hz}");
            }
        }

        Dictionary<string, string>? labels = null;
        foreach (string kv in p.GetAll("--label"))
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? "" : kv[..eq];
            if (eq <= 0 || !IsLabelName(name))
            {
                throw p.Usage($"--label needs NAME=VALUE with NAME of [A-Za-z_][A-Za-z0-9_]* (an empty VALUE removes it), got '{kv}'");
            }

            if (name == "host")
            {
                throw p.Usage("--label cannot change 'host': it is the agent's host name");
            }

            labels ??= new Dictionary<string, string>(StringComparer.Ordinal);
            labels[name] = kv[(eq + 1)..];
        }

        bool? paused = p.Has("--pause") ? true : p.Has("--resume") ? false : null;
        if (hz is null && paused is null && labels is null)
        {
            throw p.Usage("set needs at least one of --hz N, --pause, --resume, --label k=v");
        }

        double waitSeconds = p.GetDouble("--wait-seconds", ApplyWait.TotalSeconds);
        if (waitSeconds is < 0 or > 3600)
        {
            throw p.Usage($"--wait-seconds needs 0 to 3600, got {waitSeconds}");
        }

        var request = new FleetSetRequest { Selector = selector, Hz = hz, Paused = paused, Labels = labels };
        using var client = RemoteTarget.Resolve(p, ctx).Client();
        byte[] answer = client.Post("/api/v1/agents/settings", Json(JsonSerializer.SerializeToUtf8Bytes(request, OracJsonContext.Default.FleetSetRequest)));
        FleetSetResult result = FleetAnswers.SetResult(answer, client.Server);
        if (p.Has("--json"))
        {
            WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(result, OracJsonContext.Default.FleetSetResult));
        }
        else
        {
            Write(ctx, RenderChanged(result.Agents));
        }

        if (p.Has("--no-wait") || result.Agents.Count == 0)
        {
            return 0;
        }

        return WaitApplied(client, result.Agents, TimeSpan.FromSeconds(waitSeconds), ctx, toStderr: p.Has("--json"));
    }

    /// <summary>Polls the agent list until every changed agent reports the new settings version, or <paramref name="wait"/> passed.</summary>
    private static int WaitApplied(RemoteClient client, List<AgentDocument> changed, TimeSpan wait, CliContext ctx, bool toStderr)
    {
        var want = new Dictionary<string, (string Host, long Version)>(StringComparer.Ordinal);
        foreach (AgentDocument a in changed)
        {
            want[a.Info.Id] = (a.Info.Hostname, a.Settings.Version);
        }

        ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fleet: waiting up to {wait.TotalSeconds:0} s for {want.Count} agents to apply the change (--no-wait skips this)"));
        var watch = Stopwatch.StartNew();
        var applied = new HashSet<string>(StringComparer.Ordinal);
        var status = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            // Not filtered by the selector: the change itself may have moved labels the selector names.
            FleetDocument fleet = FleetAnswers.Fleet(client.Get("/api/v1/agents"), client.Server);
            foreach (AgentDocument a in fleet.Agents)
            {
                if (want.TryGetValue(a.Info.Id, out var w))
                {
                    status[a.Info.Id] = a.Status;
                    if (a.AppliedVersion >= w.Version)
                    {
                        applied.Add(a.Info.Id);
                    }
                }
            }

            if (applied.Count == want.Count || watch.Elapsed >= wait)
            {
                break;
            }

            Thread.Sleep(200);
        }

        var sb = new StringBuilder();
        if (applied.Count == want.Count)
        {
            sb.Append(CultureInfo.InvariantCulture, $"applied by {applied.Count}/{want.Count} agents ({watch.Elapsed.TotalSeconds:0.0} s)\n");
            Say(ctx, sb.ToString(), toStderr);
            return 0;
        }

        var pending = new List<string>();
        foreach (var kv in want.OrderBy(k => k.Value.Host, StringComparer.Ordinal))
        {
            if (!applied.Contains(kv.Key))
            {
                string st = status.TryGetValue(kv.Key, out string? s) ? s : "gone from the agent list";
                pending.Add($"{kv.Value.Host} ({st}, not at version {kv.Value.Version})");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"PARTIAL: applied by {applied.Count}/{want.Count} agents after {wait.TotalSeconds:0.#} s; not yet: {string.Join(", ", pending)}\n");
        sb.Append("the server keeps the settings: each agent applies them at its next heartbeat; `orac fleet ls` shows when\n");
        Say(ctx, sb.ToString(), toStderr);
        return ResearchCommand.PartialExit;
    }

    private static int Audit(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "audit", "--limit", "--json");
        if (rest.Count != 0)
        {
            throw p.Usage($"audit takes no arguments, got '{rest[0]}'");
        }

        int limit = p.GetInt("--limit", 100);
        if (limit is < 1 or > KeptAuditEntries)
        {
            throw p.Usage($"--limit needs 1 to {KeptAuditEntries}, got {limit}");
        }

        using var client = RemoteTarget.Resolve(p, ctx).Client();
        byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/audit", ("limit", limit.ToString(CultureInfo.InvariantCulture))));
        AuditDocument audit = FleetAnswers.Audit(answer, client.Server);
        if (p.Has("--json"))
        {
            WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(audit, OracJsonContext.Default.AuditDocument));
            return 0;
        }

        Write(ctx, RenderAudit(audit));
        return 0;
    }

    /// <summary>The <c>fleet ls</c> table, sorted by host then id; ages against <paramref name="nowMs"/> (Unix ms).</summary>
    public static string RenderAgents(IReadOnlyList<AgentDocument> agents, long nowMs)
    {
        var sorted = agents.OrderBy(a => a.Info.Hostname, StringComparer.Ordinal).ThenBy(a => a.Info.Id, StringComparer.Ordinal).ToList();
        var table = new TextTable("HOST", "STATUS", "LAST SEEN", "LABELS", "CAPABILITIES", "HZ", "AGENT CPU (% of 1 core)", "AGENT RSS (MB)", "SPOOL (files, bytes, dropped uploads)");
        int online = 0, applying = 0;
        foreach (AgentDocument a in sorted)
        {
            online += a.Status == "online" ? 1 : 0;
            string hz = a.Settings.Paused ? $"paused ({a.Settings.Hz} Hz)" : $"{a.Settings.Hz} Hz";
            if (a.AppliedVersion < a.Settings.Version)
            {
                hz += $", applying v{a.Settings.Version}";
                applying++;
            }

            table.Row(
                a.Info.Hostname,
                a.Status,
                Age(nowMs - a.LastSeenMs),
                Labels(a.Labels),
                a.Info.Capabilities.Count == 0 ? "-" : string.Join(',', a.Info.Capabilities),
                hz,
                a.Overhead.CpuPercent.ToString("0.0", CultureInfo.InvariantCulture),
                (a.Overhead.RssBytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{a.Spool.Files:N0}, {Bytes(a.Spool.Bytes)}, {a.Spool.DroppedUploads:N0}"));
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{sorted.Count} agents, {online} online{(applying > 0 ? $", {applying} still applying new settings" : "")}; agent CPU and RSS are measured by each agent (/proc/self) and reported in its last heartbeat\n");
        if (sorted.Count == 0)
        {
            sb.Append("no agents match (start one with `orac agent --server URL --token TOKEN`)\n");
            return sb.ToString();
        }

        sb.Append(table.Render());
        return sb.ToString();
    }

    /// <summary>What <c>fleet set</c> changed: one line per agent with its new settings.</summary>
    public static string RenderChanged(IReadOnlyList<AgentDocument> agents)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"changed {agents.Count} agents:\n");
        var table = new TextTable("HOST", "HZ", "PAUSED", "SET LABELS", "VERSION");
        foreach (AgentDocument a in agents.OrderBy(a => a.Info.Hostname, StringComparer.Ordinal).ThenBy(a => a.Info.Id, StringComparer.Ordinal))
        {
            table.Row(a.Info.Hostname, $"{a.Settings.Hz} Hz", a.Settings.Paused ? "yes" : "no", Labels(a.Settings.Labels),
                a.Settings.Version.ToString(CultureInfo.InvariantCulture));
        }

        sb.Append(table.Render());
        return sb.ToString();
    }

    /// <summary>The audit table, as the server orders it (newest first).</summary>
    public static string RenderAudit(AuditDocument audit)
    {
        var table = new TextTable("TIME (UTC)", "WHO", "ACTION", "DETAIL", "HOSTS");
        foreach (AuditEntry e in audit.Entries)
        {
            string hosts = e.Hosts.Count <= 4 ? string.Join(',', e.Hosts) : string.Join(',', e.Hosts.Take(3)) + $",… ({e.Hosts.Count} hosts)";
            table.Row(Rfc3339(e.TimeMs), e.Who, e.Action, e.Detail, hosts.Length == 0 ? "-" : hosts);
        }

        return audit.Entries.Count == 0 ? "the audit log is empty\n" : table.Render();
    }

    /// <summary>Unix ms as RFC 3339 UTC to the second; out-of-range values are shown as the number.</summary>
    public static string Rfc3339(long ms) =>
        ms is >= -62_135_596_800_000 and <= 253_402_300_799_999
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : ms.ToString(CultureInfo.InvariantCulture) + " ms";

    /// <summary>An age in milliseconds as "3 s ago", "5 min ago", "2 h ago", "4 d ago"; clocks a little ahead read "just now".</summary>
    public static string Age(long ms)
    {
        if (ms < 1000)
        {
            return "just now";
        }

        long s = ms / 1000;
        return s switch
        {
            < 120 => $"{s} s ago",
            < 7200 => $"{s / 60} min ago",
            < 172_800 => $"{s / 3600} h ago",
            _ => $"{s / 86_400} d ago",
        };
    }

    /// <summary>Bytes with a binary-free decimal unit: 0 B, 950 B, 1.2 kB, 3.4 MB, 5.6 GB.</summary>
    public static string Bytes(long b) => b switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{b} B"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{b / 1e3:0.0} kB"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{b / 1e6:0.0} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / 1e9:0.0} GB"),
    };

    /// <summary>Validates a selector here so a typo is a usage error before any request; returns it as given.</summary>
    internal static string CheckSelector(ArgParser p, string selector)
    {
        try
        {
            Selector.Parse(selector);
        }
        catch (OracException e)
        {
            throw p.Usage($"bad SELECTOR: {e.Message}");
        }

        return selector;
    }

    /// <summary>Refuses options that belong to another sub-command.</summary>
    internal static void Only(ArgParser p, string sub, params string[] allowed)
    {
        foreach (string opt in (string[])["--json", "--hz", "--pause", "--resume", "--label", "--no-wait", "--limit", "--wait-seconds"])
        {
            if (p.Has(opt) && Array.IndexOf(allowed, opt) < 0)
            {
                throw p.Usage($"{opt} does not go with '{sub}'");
            }
        }
    }

    internal static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    internal static void Write(CliContext ctx, string text)
    {
        using Stream output = ctx.OpenOutput(null);
        output.Write(Encoding.UTF8.GetBytes(text));
    }

    // With --json, stdout holds only the document; the wait's outcome goes to stderr.
    private static void Say(CliContext ctx, string text, bool toStderr)
    {
        if (toStderr)
        {
            ctx.Error.Write(text);
        }
        else
        {
            Write(ctx, text);
        }
    }

    internal static void WriteJson(CliContext ctx, byte[] json)
    {
        using Stream output = ctx.OpenOutput(null);
        output.Write(json);
        output.Write("\n"u8);
    }

    private static string Labels(Dictionary<string, string> labels)
    {
        var parts = new List<string>();
        foreach (var kv in labels.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (kv.Key != "host")
            {
                parts.Add($"{kv.Key}={kv.Value}");
            }
        }

        return parts.Count == 0 ? "-" : string.Join(',', parts);
    }

    private static bool IsLabelName(string s)
    {
        if (s.Length == 0 || char.IsAsciiDigit(s[0]))
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  ls [SELECTOR]       agents (all of the org, or those whose labels match): status, last heartbeat, labels, capabilities,");
        w.WriteLine("                      profiling rate, the agent's own CPU and memory (measured), its upload spool");
        w.WriteLine("  set SELECTOR ...    (admin) change continuous profiling of the matching agents; '{}' means every agent");
        w.WriteLine("    --hz N            profiling rate, 1-1000 Hz");
        w.WriteLine("    --pause/--resume  stop or restart continuous profiling (research tasks still run)");
        w.WriteLine("    --label k=v       add or replace a label on every upload (k= removes it); repeatable");
        w.WriteLine($"    --no-wait         do not wait (up to {ApplyWait.TotalSeconds:0} s) for the agents to apply the change");
        w.WriteLine("  audit [--limit N]   (admin) who created tasks, changed settings, registered agents; newest first (default 100)");
        w.WriteLine("  --json              print the server's document");
        w.WriteLine("  SELECTOR            {service_name=\"api\", host=~\"web-.*\"} over agent labels and host; a bare name means service_name=NAME");
        w.WriteLine("  --server URL        server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN       bearer token (default: ORAC_TOKEN, else the CLI config)");
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error, 3 set: some agents had not applied the change when the wait ended");
    }
}

/// <summary>A left-aligned text table: columns as wide as their widest cell, two spaces apart.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Row(params string[] cells)
    {
        Debug.Assert(cells.Length == headers.Length, "one cell per column");
        _rows.Add(cells);
    }

    public string Render()
    {
        var widths = new int[headers.Length];
        for (int i = 0; i < headers.Length; i++)
        {
            widths[i] = headers[i].Length;
            foreach (string[] r in _rows)
            {
                widths[i] = Math.Max(widths[i], r[i].Length);
            }
        }

        var sb = new StringBuilder();
        Line(sb, headers, widths);
        foreach (string[] r in _rows)
        {
            Line(sb, r, widths);
        }

        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            string cell = Clean(cells[i]);
            sb.Append(i == cells.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }

        sb.Append('\n');
    }

    // A host name or label from the server is shown, never interpreted: control characters (an escape sequence, a
    // newline that would fake a row) become '?'.
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
