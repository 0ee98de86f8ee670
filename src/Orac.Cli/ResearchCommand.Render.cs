using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Cli;

// The text answers of `orac research`: every figure with its unit, "measured" where agents measured it, and PARTIAL
// on the first line when hosts are missing. The agents' raw results (check, pmc, trace) are read with JsonDocument
// field by field: one host's odd result is shown as unreadable for that host, never a crash.
public static partial class ResearchCommand
{
    /// <summary>The answer's first lines: PARTIAL (with the missing hosts) when partial, then what the task was and how many hosts answered.</summary>
    public static string Header(TaskDocument task)
    {
        var sb = new StringBuilder();
        int total = task.Parts.Count;
        int done = task.Parts.Count(p => p.State == PartStates.Done && !p.Late);
        int late = task.Parts.Count(p => p.Late);
        if (task.Partial || task.State == "partial")
        {
            List<string> missing = task.Missing.Count > 0
                ? task.Missing
                : [.. task.Parts.Where(p => p.State != PartStates.Done || p.Late).Select(p => $"{p.Host} ({p.State.Replace('_', ' ')})")];
            sb.Append(CultureInfo.InvariantCulture, $"PARTIAL: {done}/{total} hosts answered by the deadline; missing: {(missing.Count == 0 ? "(the server did not say which)" : string.Join(", ", missing))}\n");
        }
        else if (task.State == "running")
        {
            sb.Append(CultureInfo.InvariantCulture, $"RUNNING: {done}/{total} hosts answered so far; the deadline is {FleetCommand.Rfc3339(task.DeadlineMs)}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"task {task.Id}: {Describe(task)}; {done}/{total} hosts done{(late > 0 ? $", {late} late (kept, not in the answer given at the deadline)" : "")}; created {FleetCommand.Rfc3339(task.CreatedMs)} by {task.CreatedBy}\n");
        return Clean(sb.ToString());
    }

    /// <summary>One progress line for stderr: parts by state and the hosts still awaited.</summary>
    public static string Progress(TaskDocument task)
    {
        int done = 0, failed = 0, running = 0, queued = 0, timedOut = 0;
        var waiting = new List<string>();
        foreach (TaskPart p in task.Parts)
        {
            switch (p.State)
            {
                case PartStates.Done: done++; break;
                case PartStates.Failed: failed++; break;
                case PartStates.TimedOut: timedOut++; break;
                case PartStates.Running: running++; waiting.Add(p.Host); break;
                default: queued++; waiting.Add(p.Host); break;
            }
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"research: {task.Id}: {done}/{task.Parts.Count} hosts done");
        if (failed > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {failed} failed");
        }

        if (timedOut > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {timedOut} timed out");
        }

        if (running + queued > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {running} running, {queued} queued; waiting for {string.Join(", ", waiting.Take(5))}{(waiting.Count > 5 ? $" and {waiting.Count - 5} more" : "")}");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"; task {task.State}");
        }

        return Clean(sb.ToString());
    }

    /// <summary>What the task asks, in words: "profile of {} for 30 s at 99 Hz".</summary>
    public static string Describe(TaskDocument task)
    {
        string sel = task.Selector.Length == 0 || task.Selector == "{}" ? "{} (every agent)" : task.Selector;
        string dur = (task.DurationMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " s";
        return task.Kind switch
        {
            TaskKinds.Profile => $"profile of {sel} for {dur} at {task.Hz} Hz",
            TaskKinds.Check => $"check of {sel} over {dur}",
            TaskKinds.Pmc => $"pmc of {sel} for {dur}{(task.Events.Count > 0 ? " (" + string.Join(", ", task.Events) + ")" : " (default counters)")}",
            TaskKinds.Trace => $"trace {task.Tool} on {sel} for {dur}",
            _ => $"{task.Kind} of {sel} for {dur}",
        };
    }

    /// <summary>The hosts of a profile task, most different from the rest first.</summary>
    public static string RenderHosts(HostsDocument hosts, int max = 10)
    {
        var sb = new StringBuilder();
        sb.Append("hosts most different from the rest (self-time share per function, measured; distance = half the L1 distance of the shares, percentage points)\n");
        if (hosts.Hosts.Count == 0)
        {
            sb.Append("no host sent a profile\n");
            return sb.ToString();
        }

        var table = new TextTable("HOST", $"TOTAL ({hosts.Unit})", "DISTANCE (pp)", "DIFFERS MOST (self % on the host vs the rest)");
        foreach (HostDivergence h in hosts.Hosts.Take(max))
        {
            string differs = h.Differs.Count == 0
                ? "-"
                : string.Join("; ", h.Differs.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Name} {f.HostPercent:0.0}% vs {f.RestPercent:0.0}%")));
            table.Row(h.Host, h.Total.ToString("N0", CultureInfo.InvariantCulture), h.DistancePercent.ToString("0.0", CultureInfo.InvariantCulture), differs);
        }

        sb.Append(table.Render());
        if (hosts.Hosts.Count > max)
        {
            sb.Append(CultureInfo.InvariantCulture, $"({hosts.Hosts.Count - max} more hosts; --json shows all)\n");
        }

        if (hosts.Partial)
        {
            sb.Append(CultureInfo.InvariantCulture, $"PARTIAL: compared without {string.Join(", ", hosts.Missing)}\n");
        }

        return sb.ToString();
    }

    /// <summary>The <c>research ls</c> table.</summary>
    public static string RenderTaskList(TaskListDocument list)
    {
        if (list.Tasks.Count == 0)
        {
            return "no research tasks yet (start one with `orac research profile SELECTOR`)\n";
        }

        var table = new TextTable("ID", "KIND", "CREATED (UTC)", "STATE", "HOSTS (done/total)", "CREATED BY");
        foreach (TaskDocument t in list.Tasks)
        {
            int done = t.Parts.Count(p => p.State == PartStates.Done);
            table.Row(t.Id, t.Kind == TaskKinds.Trace && t.Tool is not null ? $"trace {t.Tool}" : t.Kind, FleetCommand.Rfc3339(t.CreatedMs),
                t.State == "partial" || t.Partial ? "PARTIAL" : t.State, $"{done}/{t.Parts.Count}", t.CreatedBy);
        }

        return table.Render();
    }

    /// <summary>The <c>research show</c> part table: each host's state, reason, times and lateness.</summary>
    public static string RenderTaskParts(TaskDocument task, long nowMs)
    {
        var sb = new StringBuilder(Header(task));
        var table = new TextTable("HOST", "STATE", "REASON", "STARTED (UTC)", "FINISHED (UTC)", "TOOK (s)", "LATE", "RESULT (bytes)");
        foreach (TaskPart p in task.Parts.OrderBy(p => p.Host, StringComparer.Ordinal))
        {
            string took = p.StartedMs is long s && p.FinishedMs is long f ? ((f - s) / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) : "-";
            table.Row(p.Host, p.State, p.Reason ?? "-", p.StartedMs is long st ? FleetCommand.Rfc3339(st) : "-", p.FinishedMs is long fi ? FleetCommand.Rfc3339(fi) : "-",
                took, p.Late ? "late" : "-", p.ResultBytes.ToString("N0", CultureInfo.InvariantCulture));
        }

        sb.Append('\n').Append(table.Render());
        if (task.State == "running")
        {
            long left = task.DeadlineMs - nowMs;
            sb.Append(CultureInfo.InvariantCulture, $"still running; deadline in {Math.Max(0, left) / 1000.0:0} s\n");
        }

        return sb.ToString();
    }

    /// <summary>One flagged problem of a host's check: the USE resource and kind, the rule, the message and the USE figure it rests on ("" when none).</summary>
    internal sealed record CheckProblem(string Resource, string Kind, string Rule, string Message, string Figure);

    /// <summary>One host's check as read from its raw result: <see cref="Why"/> set (and no problems) when the result is missing or unreadable.</summary>
    internal sealed record CheckHost(string Host, string? Why, List<CheckProblem> Problems, bool Partial);

    /// <summary>
    /// Reads every host's check report (the <c>orac check --json</c> shape: <c>use</c> rows and <c>problems</c>) field by
    /// field; one host's odd result is that host's <see cref="CheckHost.Why"/>, never a crash. Shared by the research
    /// answer and <c>orac ask</c>'s slow verdict.
    /// </summary>
    internal static List<CheckHost> ReadChecks(ResultsDocument results)
    {
        var hosts = new List<CheckHost>(results.Results.Count);
        foreach (PartResult r in results.Results)
        {
            if (NoResult(r) is string why)
            {
                hosts.Add(new CheckHost(r.Host, why, [], false));
                continue;
            }

            JsonElement root = r.Result!.Value;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("problems", out JsonElement problems) || problems.ValueKind != JsonValueKind.Array)
            {
                hosts.Add(new CheckHost(r.Host, "unreadable result: not a check report (no 'problems' list)", [], false));
                continue;
            }

            var use = new List<(string Resource, string U, string S, string E)>();
            if (root.TryGetProperty("use", out JsonElement useRows) && useRows.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement u in useRows.EnumerateArray())
                {
                    use.Add((Str(u, "resource"), Str(u, "utilization"), Str(u, "saturation"), Str(u, "errors")));
                }
            }

            var list = new List<CheckProblem>();
            foreach (JsonElement pr in problems.EnumerateArray())
            {
                string resource = Str(pr, "resource");
                string kind = Str(pr, "kind");
                var row = use.FirstOrDefault(u => u.Resource == resource);
                string figure = kind switch
                {
                    "utilization" => row.U,
                    "saturation" => row.S,
                    "errors" => row.E,
                    _ => "",
                };
                list.Add(new CheckProblem(resource, kind, Str(pr, "rule"), Str(pr, "message"), figure is null or "-" ? "" : figure));
            }

            hosts.Add(new CheckHost(r.Host, null, list, Bool(root, "partial")));
        }

        return hosts;
    }

    /// <summary>The check answer: hosts with problems first (most problems first), then each distinct problem with how many hosts have it.</summary>
    public static string RenderCheck(ResultsDocument results)
    {
        var rows = new List<(string Host, int Problems, string Flags, bool Ok)>();
        var fleet = new Dictionary<string, (string What, string Example, SortedSet<string> Hosts)>(StringComparer.Ordinal);
        int readable = 0;
        foreach (CheckHost h in ReadChecks(results))
        {
            if (h.Why is string why)
            {
                rows.Add((h.Host, -1, why, false));
                continue;
            }

            readable++;
            var flags = new List<string>();
            foreach (CheckProblem pr in h.Problems)
            {
                // Two problems of one resource and kind (CPU saturation: run queue and steal) show the same USE figure: once.
                string flag = pr.Figure.Length == 0 ? $"{pr.Resource} {pr.Kind}" : $"{pr.Resource} {pr.Kind} {pr.Figure}";
                if (!flags.Contains(flag))
                {
                    flags.Add(flag);
                }

                string key = pr.Rule.Length > 0 ? pr.Rule : $"{pr.Resource}/{pr.Kind}";
                if (!fleet.TryGetValue(key, out var entry))
                {
                    entry = ($"{pr.Resource} {pr.Kind}", pr.Message, new SortedSet<string>(StringComparer.Ordinal));
                    fleet[key] = entry;
                }

                entry.Hosts.Add(h.Host);
            }

            int count = h.Problems.Count;
            string flagText = count == 0 ? "-" : string.Join("; ", flags.Take(3)) + (flags.Count > 3 ? $"; +{flags.Count - 3} more" : "");
            if (h.Partial)
            {
                flagText += " (the host's check is partial)";
            }

            rows.Add((h.Host, count, flagText, true));
        }

        rows.Sort((a, b) =>
        {
            int c = b.Problems.CompareTo(a.Problems);
            return c != 0 ? c : string.CompareOrdinal(a.Host, b.Host);
        });
        var sb = new StringBuilder();
        int withProblems = rows.Count(r => r.Problems > 0);
        sb.Append(CultureInfo.InvariantCulture, $"{withProblems}/{readable} hosts with problems (USE method; figures measured by each agent over its window)\n");
        var table = new TextTable("HOST", "PROBLEMS", "WORST USE FLAGS");
        foreach (var r in rows)
        {
            table.Row(r.Host, r.Ok ? r.Problems.ToString(CultureInfo.InvariantCulture) : "-", r.Flags);
        }

        sb.Append(table.Render());
        if (fleet.Count == 0)
        {
            sb.Append(readable > 0 ? "\nno problems flagged on any host\n" : "\nno host sent a readable check report\n");
            return Clean(sb.ToString());
        }

        sb.Append("\nproblems across the fleet (hosts that have each)\n");
        var ft = new TextTable("RULE", "RESOURCE", "HOSTS", "EXAMPLE");
        foreach (var kv in fleet.OrderByDescending(k => k.Value.Hosts.Count).ThenBy(k => k.Key, StringComparer.Ordinal))
        {
            string hostList = kv.Value.Hosts.Count <= 3 ? string.Join(',', kv.Value.Hosts) : string.Join(',', kv.Value.Hosts.Take(3)) + ",…";
            ft.Row(kv.Key, kv.Value.What, $"{kv.Value.Hosts.Count}/{readable} ({hostList})", kv.Value.Example);
        }

        sb.Append(ft.Render());
        return Clean(sb.ToString());
    }

    /// <summary>
    /// The pmc answer: one row per host, one column per counter (with its unit), then fleet min, median and max rows.
    /// Reads the <c>orac pmc --json</c> shape (<c>PmcReport</c>): <c>counters: [{name, value, unit, provenance}]</c>; a
    /// counter that never ran (null value) is blank, not zero.
    /// </summary>
    public static string RenderPmc(ResultsDocument results)
    {
        var columns = new List<string>();
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        var hostRows = new List<(string Host, Dictionary<string, double>? Values, string Note)>();
        foreach (PartResult r in results.Results.OrderBy(r => r.Host, StringComparer.Ordinal))
        {
            if (NoResult(r) is string why)
            {
                hostRows.Add((r.Host, null, why));
                continue;
            }

            JsonElement root = r.Result!.Value;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("counters", out JsonElement counters) || counters.ValueKind != JsonValueKind.Array)
            {
                hostRows.Add((r.Host, null, "unreadable result: not a pmc report (no 'counters' list)"));
                continue;
            }

            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            var notes = new List<string>();
            if (Bool(root, "partial"))
            {
                notes.Add("partial");
            }

            if (root.TryGetProperty("hasHardware", out JsonElement hw) && hw.ValueKind == JsonValueKind.False)
            {
                notes.Add("no hardware PMU");
            }

            foreach (JsonElement c in counters.EnumerateArray())
            {
                string name = Str(c, "name");
                if (Str(c, "provenance").Contains("scaled", StringComparison.Ordinal) && !notes.Contains("scaled (multiplexed)"))
                {
                    notes.Add("scaled (multiplexed)");
                }

                if (name.Length == 0 || c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("value", out JsonElement v)
                    || v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
                {
                    continue; // a counter that never ran has no value: left blank, not zero
                }

                if (!units.ContainsKey(name))
                {
                    columns.Add(name);
                    string unit = Str(c, "unit");
                    units[name] = unit.Length == 0 ? "count" : unit;
                }

                values[name] = d;
            }

            hostRows.Add((r.Host, values, string.Join("; ", notes)));
        }

        var headers = new List<string> { "HOST" };
        headers.AddRange(columns.Select(c => $"{c} ({units[c]})"));
        headers.Add("NOTE");
        var table = new TextTable([.. headers]);
        foreach (var (host, values, note) in hostRows)
        {
            var cells = new List<string> { host };
            cells.AddRange(columns.Select(c => values is not null && values.TryGetValue(c, out double v) ? Num(v) : "-"));
            cells.Add(note.Length == 0 ? "-" : note);
            table.Row([.. cells]);
        }

        int measured = hostRows.Count(h => h.Values is not null);
        foreach ((string label, Func<List<double>, double> f) in new (string, Func<List<double>, double>)[] { ("fleet min", l => l[0]), ("fleet median", Median), ("fleet max", l => l[^1]) })
        {
            var cells = new List<string> { label };
            foreach (string c in columns)
            {
                var list = hostRows.Where(h => h.Values is not null && h.Values.ContainsKey(c)).Select(h => h.Values![c]).Order().ToList();
                cells.Add(list.Count == 0 ? "-" : Num(f(list)));
            }

            cells.Add($"over {measured} hosts");
            table.Row([.. cells]);
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"counters measured by each agent over {(results.Task.DurationMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)} s, system-wide\n");
        sb.Append(table.Render());
        return Clean(sb.ToString());
    }

    /// <summary>The trace answer: one line per host summarising its TraceReport (histogram count and percentiles, top syscalls, execs, off-CPU stacks).</summary>
    public static string RenderTrace(ResultsDocument results)
    {
        var table = new TextTable("HOST", "STATE", "SUMMARY (measured)");
        foreach (PartResult r in results.Results.OrderBy(r => r.Host, StringComparer.Ordinal))
        {
            if (NoResult(r) is string why)
            {
                table.Row(r.Host, r.State, why);
                continue;
            }

            JsonElement root = r.Result!.Value;
            string summary = root.ValueKind == JsonValueKind.Object ? TraceSummary(root) : "unreadable result: not a trace report";
            table.Row(r.Host, r.State, summary + (root.ValueKind == JsonValueKind.Object && Bool(root, "partial") ? " (partial: a lower bound)" : ""));
        }

        return Clean($"trace {results.Task.Tool} on each host for {(results.Task.DurationMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)} s\n" + table.Render());
    }

    private static string TraceSummary(JsonElement root)
    {
        if (root.TryGetProperty("histogram", out JsonElement h) && h.ValueKind == JsonValueKind.Object)
        {
            string unit = Str(h, "unit");
            unit = unit.Length == 0 ? "?" : unit == "microseconds" ? "us" : unit;
            var buckets = new List<(long? Low, long? High, long Count)>();
            if (h.TryGetProperty("buckets", out JsonElement bs) && bs.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement b in bs.EnumerateArray())
                {
                    long count = Long(b, "count") ?? 0;
                    buckets.Add((Long(b, "low"), Long(b, "high"), Math.Max(0, count)));
                }
            }

            long total = 0;
            foreach (var b in buckets)
            {
                total = total > long.MaxValue - b.Count ? long.MaxValue : total + b.Count;
            }

            if (total == 0)
            {
                return "0 events";
            }

            return string.Create(CultureInfo.InvariantCulture, $"{total:N0} events; p50 in {Bucket(buckets, total, 0.50, unit)}; p99 in {Bucket(buckets, total, 0.99, unit)}");
        }

        if (root.TryGetProperty("syscalls", out JsonElement sc) && sc.ValueKind == JsonValueKind.Array)
        {
            long calls = 0;
            var top = new List<string>();
            foreach (JsonElement s in sc.EnumerateArray())
            {
                long c = Long(s, "count") ?? 0;
                calls += Math.Max(0, c);
                if (top.Count < 3)
                {
                    top.Add(string.Create(CultureInfo.InvariantCulture, $"{Str(s, "name")} {c:N0} calls, {Long(s, "totalMicroseconds") ?? 0:N0} us"));
                }
            }

            return string.Create(CultureInfo.InvariantCulture, $"{calls:N0} syscalls; top: {(top.Count == 0 ? "-" : string.Join("; ", top))}");
        }

        if (root.TryGetProperty("execs", out JsonElement ex) && ex.ValueKind == JsonValueKind.Array)
        {
            var byComm = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonElement e in ex.EnumerateArray())
            {
                string comm = Str(e, "comm");
                byComm[comm] = byComm.GetValueOrDefault(comm) + 1;
            }

            string top = string.Join(", ", byComm.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Take(3).Select(k => $"{k.Key} ({k.Value})"));
            return $"{ex.GetArrayLength()} execs{(top.Length > 0 ? "; most from " + top : "")}";
        }

        if (root.TryGetProperty("offCpu", out JsonElement off) && off.ValueKind == JsonValueKind.Array)
        {
            long totalUs = Long(root, "offCpuTotalMicroseconds") ?? 0;
            string top = "-";
            foreach (JsonElement o in off.EnumerateArray())
            {
                top = string.Create(CultureInfo.InvariantCulture, $"{Str(o, "comm")}: {Str(o, "stack")} ({Long(o, "microseconds") ?? 0:N0} us)");
                break;
            }

            return string.Create(CultureInfo.InvariantCulture, $"{totalUs:N0} us off-CPU; top stack {top}");
        }

        return "no figures in the report";
    }

    private static string Bucket(List<(long? Low, long? High, long Count)> buckets, long total, double q, string unit)
    {
        double target = q * total;
        double seen = 0;
        foreach (var b in buckets)
        {
            seen += b.Count;
            if (seen >= target)
            {
                string lo = b.Low is long l ? l.ToString(CultureInfo.InvariantCulture) : "";
                string hi = b.High is long hh ? hh.ToString(CultureInfo.InvariantCulture) : "";
                return lo.Length == 0 ? $"≤{hi} {unit}" : hi.Length == 0 ? $"≥{lo} {unit}" : $"{lo}-{hi} {unit}";
            }
        }

        return "?";
    }

    private static string? NoResult(PartResult r)
    {
        if (r.Result is JsonElement e && e.ValueKind != JsonValueKind.Null && e.ValueKind != JsonValueKind.Undefined)
        {
            return null;
        }

        string state = r.State.Replace('_', ' ');
        return r.Reason is string reason && reason.Length > 0 ? $"no result ({state}: {reason})" : $"no result ({state})";
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static string Num(double v) =>
        Math.Abs(v) >= 100 || v == Math.Floor(v) ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? SafeString(v) : "";

    private static string SafeString(JsonElement v)
    {
        try
        {
            return v.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            return "?"; // not valid UTF-8
        }
    }

    private static long? Long(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : null;

    private static bool Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;

    private static string Clean(string s)
    {
        // Host names and results come from agents: no control characters other than the newlines we put there.
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c != '\n' && char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }
}
