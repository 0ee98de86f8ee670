using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Collect.PerfEvents;
using Orac.Collect.Trace;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac research</c> verb (docs/fleet.md): sends a task from the fixed catalogue (profile, check, pmc, trace)
/// to the agents a selector matches, waits for their parts (progress on stderr) until every host answered or the
/// deadline passed, and prints the fleet's answer, labelled PARTIAL on its first line when hosts are missing.
/// <c>ls</c> and <c>show</c> read tasks already made.
/// </summary>
public static partial class ResearchCommand
{
    /// <summary>Exit code of an answer that lacks some hosts (printed, labelled PARTIAL).</summary>
    public const int PartialExit = 3;

    /// <summary>How long after the task's deadline the CLI keeps waiting for the server to close it.</summary>
    public static readonly TimeSpan ServerGrace = TimeSpan.FromSeconds(30);

    private const string UsageLine = "usage: orac research (profile SELECTOR [-d 30s] [--hz 99] [-o FILE] [--top N] | check SELECTOR [-d 60s] | pmc SELECTOR [-d 10s] [--event NAME]... | trace TOOL SELECTOR [-d 10s]) [--deadline DUR] [--json] | ls [--limit N] [--json] | show ID [-o FILE] [--top N] [--json]";

    // The server keeps the newest 200 tasks (docs/fleet.md, Server state) and refuses a larger limit.
    private const int KeptTasks = 200;

    private static readonly string[] s_taskOptions = ["--duration", "--deadline", "--json"];

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("research")
        .Option("--duration", "-d")
        .Option("--hz")
        .Option("--deadline")
        .Option("--output", "-o")
        .Option("--top", "-n")
        .Repeatable("--event", "-e")
        .Option("--limit")
        .Flag("--json")
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
            throw p.Usage("expected a sub-command: profile, check, pmc, trace, ls or show");
        }

        string sub = p.Positionals[0];
        List<string> rest = p.Positionals.GetRange(1, p.Positionals.Count - 1);
        return sub switch
        {
            "profile" => Profile(p, rest, ctx),
            "check" => CheckTask(p, rest, ctx),
            "pmc" => Pmc(p, rest, ctx),
            "trace" => Trace(p, rest, ctx),
            "ls" => Ls(p, rest, ctx),
            "show" => Show(p, rest, ctx),
            _ => throw p.Usage($"unknown sub-command '{sub}' (profile, check, pmc, trace, ls or show)"),
        };
    }

    private static int Profile(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "profile", [.. s_taskOptions, "--hz", "--output", "--top"]);
        string selector = OneSelector(p, "profile", rest);
        long durationMs = DurationMs(p, 30);
        int hz = p.GetInt("--hz", 99);
        if (hz is < 1 or > 1000)
        {
            throw p.Usage($"--hz needs a rate from 1 to 1000 Hz, got {hz}");
        }

        int top = TopCount(p);
        string? output = OutputPath(p);
        var request = new TaskRequest { Kind = TaskKinds.Profile, Selector = selector, DurationMs = durationMs, Hz = hz, DeadlineMs = DeadlineMs(p, durationMs) };
        using var client = RemoteTarget.Resolve(p, ctx).Client();
        TaskDocument? task = Execute(client, request, ctx);
        if (task is null)
        {
            return OracException.Failure;
        }

        return ProfileAnswer(client, task, top, output ?? $"research-{SafeFileId(task.Id)}.svg", p.Has("--json"), ctx);
    }

    private static int CheckTask(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "check", s_taskOptions);
        string selector = OneSelector(p, "check", rest);
        long durationMs = DurationMs(p, 60);
        var request = new TaskRequest { Kind = TaskKinds.Check, Selector = selector, DurationMs = durationMs, DeadlineMs = DeadlineMs(p, durationMs) };
        return RunResultTask(p, request, ctx);
    }

    private static int Pmc(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "pmc", [.. s_taskOptions, "--event"]);
        string selector = OneSelector(p, "pmc", rest);
        long durationMs = DurationMs(p, 10);
        var events = new List<string>();
        foreach (string e in p.GetAll("--event"))
        {
            if (!PmcReport.KnownEvents.Contains(e))
            {
                throw p.Usage($"unknown counter '{e}' for --event (one of {string.Join(", ", PmcReport.KnownEvents)})");
            }

            events.Add(e);
        }

        var request = new TaskRequest { Kind = TaskKinds.Pmc, Selector = selector, DurationMs = durationMs, Events = events, DeadlineMs = DeadlineMs(p, durationMs) };
        return RunResultTask(p, request, ctx);
    }

    private static int Trace(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "trace", s_taskOptions);
        if (rest.Count == 0)
        {
            throw p.Usage($"trace needs a TOOL ({TraceCatalogue.Names}) and a SELECTOR");
        }

        TraceTool tool = TraceCatalogue.Find(rest[0]) ?? throw p.Usage($"unknown trace tool '{rest[0]}' (one of {TraceCatalogue.Names})");
        string selector = OneSelector(p, "trace", rest.GetRange(1, rest.Count - 1));
        long durationMs = DurationMs(p, 10);
        var request = new TaskRequest { Kind = TaskKinds.Trace, Selector = selector, Tool = tool.Name, DurationMs = durationMs, DeadlineMs = DeadlineMs(p, durationMs) };
        return RunResultTask(p, request, ctx);
    }

    private static int RunResultTask(ArgParser p, TaskRequest request, CliContext ctx)
    {
        using var client = RemoteTarget.Resolve(p, ctx).Client();
        TaskDocument? task = Execute(client, request, ctx);
        return task is null ? OracException.Failure : ResultsAnswer(client, task, p.Has("--json"), ctx);
    }

    private static int Ls(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "ls", ["--limit", "--json"]);
        if (rest.Count != 0)
        {
            throw p.Usage($"ls takes no arguments, got '{rest[0]}'");
        }

        int limit = p.GetInt("--limit", 50);
        if (limit is < 1 or > KeptTasks)
        {
            throw p.Usage($"--limit needs 1 to {KeptTasks} (the server keeps the newest {KeptTasks} tasks), got {limit}");
        }

        using var client = RemoteTarget.Resolve(p, ctx).Client();
        byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/tasks", ("limit", limit.ToString(CultureInfo.InvariantCulture))));
        TaskListDocument list = FleetAnswers.TaskList(answer, client.Server);
        if (p.Has("--json"))
        {
            FleetCommand.WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(list, OracJsonContext.Default.TaskListDocument));
            return 0;
        }

        FleetCommand.Write(ctx, RenderTaskList(list));
        return 0;
    }

    private static int Show(ArgParser p, List<string> rest, CliContext ctx)
    {
        Only(p, "show", ["--json", "--output", "--top"]);
        if (rest.Count != 1)
        {
            throw p.Usage($"show needs one task ID (see `orac research ls`), got {rest.Count}");
        }

        string id = rest[0];
        if (SafeFileId(id) != id || id.Length > 128)
        {
            throw p.Usage($"'{id}' is not a task id (letters, digits, '.', '_' and '-')");
        }

        int top = TopCount(p);
        string? output = OutputPath(p);
        using var client = RemoteTarget.Resolve(p, ctx).Client();
        TaskDocument task = FleetAnswers.Task(client.Get(TaskPath(id)), client.Server);
        if (task.State == "running")
        {
            if (p.Has("--json"))
            {
                FleetCommand.WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(task, OracJsonContext.Default.TaskDocument));
                return 0;
            }

            FleetCommand.Write(ctx, RenderTaskParts(task, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            return 0;
        }

        if (!p.Has("--json"))
        {
            FleetCommand.Write(ctx, RenderTaskParts(task, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        }

        return task.Kind == TaskKinds.Profile
            ? ProfileAnswer(client, task, top, output, p.Has("--json"), ctx, header: false)
            : ResultsAnswer(client, task, p.Has("--json"), ctx, header: false);
    }

    /// <summary>
    /// Creates the task and long-polls it until it is no longer running; progress goes to stderr. Null when Ctrl-C
    /// stopped the wait (the task goes on on the server; the message says how to see it later).
    /// </summary>
    private static TaskDocument? Execute(RemoteClient client, TaskRequest request, CliContext ctx)
    {
        ctx.StopsGracefully = true;
        CancellationToken stop = ctx.Interrupt.Token;
        TaskDocument? task = null;
        try
        {
            byte[] created = client.Post("/api/v1/tasks", FleetCommand.Json(JsonSerializer.SerializeToUtf8Bytes(request, OracJsonContext.Default.TaskRequest)), stop);
            task = FleetAnswers.Task(created, client.Server);
            double deadlineS = (task.DeadlineMs - task.CreatedMs) / 1000.0;
            ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"research: task {task.Id}: {Describe(task)} on {task.Parts.Count} hosts; deadline in {deadlineS:0.#} s (Ctrl-C stops waiting; the task goes on)"));
            var watch = Stopwatch.StartNew();
            long budgetMs = Math.Max(0, task.DeadlineMs - task.CreatedMs) + (long)ServerGrace.TotalMilliseconds;
            string last = "";
            while (task.State == "running")
            {
                stop.ThrowIfCancellationRequested();
                long left = budgetMs - watch.ElapsedMilliseconds;
                if (left <= 0)
                {
                    throw new OracException(string.Create(CultureInfo.InvariantCulture,
                        $"research: the server still says task {task.Id} is running {ServerGrace.TotalSeconds:0} s after its deadline; look again with `orac research show {task.Id}`"));
                }

                // Short waits: the server answers at once when the task finishes, and in between each answer is a
                // progress line (which hosts are still awaited).
                long wait = Math.Clamp(left, 100, 1_000);
                byte[] answer = client.Get(RemoteClient.PathWithQuery(TaskPath(task.Id), ("wait", wait.ToString(CultureInfo.InvariantCulture))), stop);
                TaskDocument next = FleetAnswers.Task(answer, client.Server);
                if (next.Id != task.Id)
                {
                    throw new OracException($"the server at {client.Server} answered task {task.Id} with task {next.Id}");
                }

                task = next;
                string progress = Progress(task);
                if (progress != last)
                {
                    ctx.Error.WriteLine(progress);
                    last = progress;
                }
            }

            return task;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            ctx.Error.WriteLine(task is null
                ? "research: interrupted before the server answered; the task may exist anyway: `orac research ls`"
                : $"research: stopped waiting for task {task.Id}; it goes on on the server: see its answer with `orac research show {task.Id}`");
            return null;
        }
        finally
        {
            ctx.StopsGracefully = false;
        }
    }

    /// <summary>0 when every host answered, <see cref="PartialExit"/> when some did, 1 when none did (nothing to show).</summary>
    public static int ExitCode(TaskDocument task) =>
        !task.Parts.Any(p => p.State == PartStates.Done) ? OracException.Failure : task.Partial || task.State == "partial" ? PartialExit : 0;

    private static int ProfileAnswer(RemoteClient client, TaskDocument task, int top, string? svgPath, bool json, CliContext ctx, bool header = true)
    {
        string id = task.Id;
        if (!task.Parts.Any(p => p.State == PartStates.Done))
        {
            // Nothing to merge: the header says which hosts are missing and why.
            if (json)
            {
                FleetCommand.WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(task, OracJsonContext.Default.TaskDocument));
            }
            else
            {
                FleetCommand.Write(ctx, (header ? Header(task) : "") + "no host sent a profile: there is nothing to merge\n");
            }

            return ExitCode(task);
        }

        byte[] topBytes = client.Get(RemoteClient.PathWithQuery(TaskPath(id) + "/top", ("limit", top.ToString(CultureInfo.InvariantCulture))));
        TopReport topReport = FleetAnswers.Top(topBytes, client.Server);
        byte[] hostBytes = client.Get(TaskPath(id) + "/hosts");
        HostsDocument hosts = FleetAnswers.Hosts(hostBytes, client.Server);
        long svgBytes = 0;
        if (svgPath is not null)
        {
            byte[] svg = client.Get(RemoteClient.PathWithQuery(TaskPath(id) + "/export", ("format", "svg")));
            if (!LooksLikeSvg(svg))
            {
                throw new OracException($"the server at {client.Server} answered the flame graph export of task {id} with something that is not SVG");
            }

            using (Stream f = ctx.OpenOutput(svgPath))
            {
                f.Write(svg);
            }

            svgBytes = svg.Length;
        }

        if (json)
        {
            FleetCommand.WriteJson(ctx, Combine(
                ("task", JsonSerializer.SerializeToUtf8Bytes(task, OracJsonContext.Default.TaskDocument)),
                ("top", topBytes),
                ("hosts", hostBytes),
                ("flameGraph", Encoding.UTF8.GetBytes(svgPath is null ? "null" : $"\"{JsonEncodedText.Encode(svgPath)}\""))));
            return ExitCode(task);
        }

        var sb = new StringBuilder();
        if (header)
        {
            sb.Append(Header(task));
        }

        sb.Append('\n').Append(TopCommand.RenderTable(topReport));
        if (topReport.ProfileTotal == 0)
        {
            sb.Append("no samples: no host sent any CPU time for this task\n");
        }

        sb.Append('\n').Append(RenderHosts(hosts));
        sb.Append('\n');
        if (svgPath is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"flame graph (merged, {task.Parts.Count(pt => pt.State == PartStates.Done)} hosts): {svgPath} ({svgBytes:N0} bytes)\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"flame graph: `orac research show {id} -o FILE.svg` writes it\n");
        }

        FleetCommand.Write(ctx, sb.ToString());
        return ExitCode(task);
    }

    private static int ResultsAnswer(RemoteClient client, TaskDocument task, bool json, CliContext ctx, bool header = true)
    {
        byte[] bytes = client.Get(TaskPath(task.Id) + "/results");
        ResultsDocument results = FleetAnswers.Results(bytes, client.Server);
        if (json)
        {
            FleetCommand.WriteJson(ctx, bytes);
            return ExitCode(results.Task);
        }

        var sb = new StringBuilder();
        if (header)
        {
            sb.Append(Header(results.Task));
        }

        sb.Append('\n').Append(results.Task.Kind switch
        {
            TaskKinds.Check => RenderCheck(results),
            TaskKinds.Pmc => RenderPmc(results),
            TaskKinds.Trace => RenderTrace(results),
            _ => $"task kind '{results.Task.Kind}' has no summary here; --json prints every host's result\n",
        });
        FleetCommand.Write(ctx, sb.ToString());
        return ExitCode(results.Task);
    }

    private static string TaskPath(string id) => "/api/v1/tasks/" + Uri.EscapeDataString(id);

    private static byte[] Combine(params (string Name, byte[] Json)[] parts)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach ((string name, byte[] json) in parts)
            {
                w.WritePropertyName(name);
                w.WriteRawValue(json);
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    internal static bool LooksLikeSvg(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> head = bytes[..Math.Min(bytes.Length, 512)];
        return head.IndexOf("<svg"u8) >= 0 || head.StartsWith("<?xml"u8);
    }

    /// <summary>The id with anything but [A-Za-z0-9._-] replaced by '_', so it can name a file.</summary>
    internal static string SafeFileId(string id)
    {
        var sb = new StringBuilder(id.Length);
        foreach (char c in id)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        string s = sb.ToString();
        return s.Length == 0 || s.All(c => c == '.') ? "task" : s;
    }

    private static string OneSelector(ArgParser p, string sub, List<string> rest)
    {
        if (rest.Count != 1)
        {
            throw p.Usage($"{sub} needs one SELECTOR ('{{}}' for every agent; quote it: '{{service_name=\"api\"}}'), got {rest.Count}");
        }

        return FleetCommand.CheckSelector(p, rest[0]);
    }

    private static long DurationMs(ArgParser p, double defaultSeconds)
    {
        double seconds = p.Get("--duration") is string d ? Durations.ParseSeconds(p, d, allowZero: false) : defaultSeconds;
        if (seconds is < 1 or > 600)
        {
            throw p.Usage($"-d must be from 1 s to 10 min for a research task, got '{p.Get("--duration")}'");
        }

        return (long)Math.Round(seconds * 1000);
    }

    private static long DeadlineMs(ArgParser p, long durationMs)
    {
        if (p.Get("--deadline") is not string text)
        {
            return 0; // the server's default: duration + 30 s
        }

        long ms = (long)Math.Round(Durations.ParseSeconds(p, text, allowZero: false) * 1000);
        if (ms > durationMs + 600_000)
        {
            throw p.Usage($"--deadline may be at most the duration + 10 min, got '{text}'");
        }

        return ms;
    }

    private static int TopCount(ArgParser p)
    {
        int n = p.GetInt("--top", TopCommand.DefaultCount);
        if (n is < 1 or > 10_000)
        {
            throw p.Usage($"--top needs a count from 1 to 10000, got {n}");
        }

        return n;
    }

    private static string? OutputPath(ArgParser p)
    {
        string? o = p.Get("--output");
        if (o is "-" or "")
        {
            throw p.Usage("-o names the flame graph file (the text answer goes to stdout)");
        }

        return o;
    }

    private static void Only(ArgParser p, string sub, string[] allowed)
    {
        foreach (string opt in (string[])["--duration", "--hz", "--deadline", "--output", "--top", "--event", "--limit", "--json"])
        {
            if (p.Has(opt) && Array.IndexOf(allowed, opt) < 0)
            {
                throw p.Usage($"{opt} does not go with '{sub}'");
            }
        }
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  asks the agents a SELECTOR matches to collect, now, and answers for the fleet; only the catalogue below runs on hosts");
        w.WriteLine("  profile SELECTOR   CPU profile of every matching host: merged top table, the hosts most different from the rest,");
        w.WriteLine("                     and the merged flame graph (-o FILE, default research-ID.svg); -d 30s, --hz 99, --top 20");
        w.WriteLine("  check SELECTOR     the 60-second USE check on every host: hosts with problems first, then each problem with its host count");
        w.WriteLine("  pmc SELECTOR       counters on every host (-d 10s, --event NAME repeatable): per-host table with fleet min/median/max");
        w.WriteLine($"  trace TOOL SEL     a bpftrace catalogue tool ({TraceCatalogue.Names}) on every host: per-host summary");
        w.WriteLine("  ls                 recent tasks, newest first (--limit 50)");
        w.WriteLine("  show ID            a task, each host's part, and its answer (profile: -o FILE also writes the flame graph)");
        w.WriteLine("  -d DUR             collection time per host: 1s to 10m");
        w.WriteLine("  --deadline DUR     how long the server waits for all hosts, from creation (default duration + 30 s)");
        w.WriteLine("  --json             the server's documents instead of tables");
        w.WriteLine("  SELECTOR           {service_name=\"api\", host=~\"web-.*\"} over agent labels and host; a bare name means service_name=NAME; {} = every agent");
        w.WriteLine("  --server URL / --token TOKEN   as for `orac query`");
        w.WriteLine("exit codes: 0 every host answered, 1 failure or no host answered (or Ctrl-C while waiting: the task goes on; `orac research show ID`),");
        w.WriteLine("            2 usage error,");
        w.WriteLine("            3 PARTIAL: the answer was printed but some hosts are missing from it (failed, timed out or late)");
    }
}
