using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orac.Collect.PerfEvents;
using Orac.Collect.Symbols;
using Orac.Formats.Folded;
using Orac.Formats.Svg;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac record</c> verb: samples on-CPU stacks with perf_event_open (no perf binary), symbolizes
/// as it goes and writes a flame graph SVG (default), folded stacks, and a top-10 table.
/// </summary>
public static class RecordCommand
{
    private const string UsageLine = "usage: orac record [-a | -p PID[,PID...] | -- COMMAND ARGS...] [-F HZ] [-d DURATION] [-e EVENT] [-o FILE.svg|FILE.folded|FILE.json]";

    /// <summary>Default sampling frequency (Hz): like perf's 99, off the beat of periodic timers.</summary>
    public const int DefaultHz = 99;

    /// <summary>Where the flame graph goes when <c>-o</c> is not given.</summary>
    public const string DefaultOutput = "orac-record.svg";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("record")
        .Flag("--all-cpus", "-a")
        .Option("--pid", "-p")
        .Option("--freq", "-F")
        .Option("--duration", "-d")
        .Option("--event", "-e")
        .Option("--output", "-o")
        .Flag("--help", "-h");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx) => Run(args, ctx, null);

    /// <summary>Runs the verb with a given symbol resolver (null: the real symbolizer).</summary>
    internal static int Run(IReadOnlyList<string> args, CliContext ctx, ISymbolResolver? resolver)
    {
        (List<string> options, List<string> command) = SplitCommand(args);
        ArgParser p = Create().Parse(options);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count > 0)
        {
            throw p.Usage($"unexpected argument '{p.Positionals[0]}' (put a command after '--')");
        }

        int modes = (p.Has("--all-cpus") ? 1 : 0) + (p.Has("--pid") ? 1 : 0) + (command.Count > 0 ? 1 : 0);
        if (modes != 1)
        {
            throw p.Usage("give exactly one of -a, -p PID or -- COMMAND");
        }

        int hz = p.GetInt("--freq", DefaultHz);
        if (hz < 1 || hz > 100_000)
        {
            throw p.Usage($"-F needs a frequency between 1 and 100000 Hz, got {hz}");
        }

        TimeSpan? duration = p.Get("--duration") is string d ? ParseDuration(p, d) : null;
        string outputPath = p.Get("--output") ?? DefaultOutput;
        OutputKind kind = KindOf(p, outputPath);
        PerfEventSpec ev = PerfEventSpec.CpuClock;
        if (p.Get("--event") is string evName)
        {
            ev = PerfEventSpec.Parse(evName) ?? throw p.Usage($"unknown event '{evName}' (cpu-clock, task-clock, cycles, instructions)");
        }

        List<int>? pids = p.Get("--pid") is string pidList ? ParsePids(p, pidList) : null;
        var symbolizer = resolver is null ? new Symbolizer() : null;
        resolver ??= symbolizer!;
        var sink = new SampleProfileSink(resolver);

        StoppedChild? child = command.Count > 0 ? StoppedChild.Start(command) : null;
        RecordResult result;
        try
        {
            if (child is not null)
            {
                pids = [child.Pid];
            }

            if (pids is not null)
            {
                foreach (int pid in pids)
                {
                    resolver.NoteProcess(pid);
                }
            }

            result = Sample(ev, hz, pids, duration, child, sink, ctx);
        }
        finally
        {
            child?.Dispose();
        }

        Profile profile = sink.Build(1_000_000_000L / hz);
        WriteOutput(profile, kind, outputPath, result, ctx);
        WriteSummary(profile, result, ev, hz, outputPath, ctx);
        symbolizer?.Warnings.WriteTo(ctx.Error);
        return 0;
    }

    private enum OutputKind
    {
        Svg,
        Folded,
        Json,
    }

    private readonly record struct RecordResult(TimeSpan Elapsed, bool Interrupted, int? ChildExit, PerfDecodeStats Stats, int Cpus);

    private static RecordResult Sample(PerfEventSpec ev, int hz, List<int>? pids, TimeSpan? duration, StoppedChild? child, SampleProfileSink sink, CliContext ctx)
    {
        using PerfSampler sampler = PerfSampler.Open(ev, hz, pids);
        bool progress = !Console.IsErrorRedirected && ctx.Error is StreamWriter;
        ctx.StopsGracefully = true;
        var watch = Stopwatch.StartNew();
        sampler.Enable();
        child?.Continue();
        long nextProgress = 0;
        int? childExit = null;
        bool interrupted = false;
        try
        {
            while (true)
            {
                if (CollectionStop.Reached(ctx, watch, duration, child, pids, ref interrupted, ref childExit))
                {
                    break;
                }

                // Each wake-up costs CPU time: at low rates the rings (woken early at half full) can wait
                // 500 ms, which still stops within half a second of Ctrl-C or the -d deadline.
                int wait = progress ? 250 : 500;
                if (duration is TimeSpan lim)
                {
                    wait = (int)Math.Clamp((lim - watch.Elapsed).TotalMilliseconds, 0, wait);
                }

                sampler.Poll(child is not null ? Math.Min(wait, 20) : wait, sink);
                if (progress && watch.ElapsedMilliseconds >= nextProgress)
                {
                    ctx.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rorac record: {watch.Elapsed.TotalSeconds:0.0} s elapsed, {sink.Samples:N0} samples"));
                    nextProgress = watch.ElapsedMilliseconds + 500;
                }
            }
        }
        finally
        {
            sampler.Stop(sink);
            ctx.StopsGracefully = false;
            if (progress)
            {
                ctx.Error.Write("\r\x1b[K");
            }
        }

        return new RecordResult(watch.Elapsed, interrupted, childExit, sampler.Stats, sampler.Cpus);
    }

    private static void WriteOutput(Profile profile, OutputKind kind, string path, RecordResult r, CliContext ctx)
    {
        using Stream output = ctx.OpenOutput(path);
        if (kind == OutputKind.Folded)
        {
            FoldedWriter.Write(profile, output);
            return;
        }

        if (kind == OutputKind.Json)
        {
            string? why = r.Interrupted ? "stopped by Ctrl-C"
                : r.Stats.Lost > 0 ? $"{r.Stats.Lost} samples lost"
                : r.Stats.Malformed > 0 ? $"{r.Stats.Malformed} malformed records skipped"
                : null;
            Orac.Model.Wire.ProfileJson.Write(Orac.Model.Wire.ProfileJson.ToDocument(profile, "orac record", why is not null, why), output);
            return;
        }

        var input = new FoldedInput();
        input.AddProfile(profile, reverse: false);
        var options = new FlameGraphOptions { Title = "orac record", CountName = "samples" };
        if (!FlameGraphSvg.Render(input, options, output, ctx.Error))
        {
            ctx.Error.WriteLine("orac: record: no samples were taken; the flame graph is empty");
        }
    }

    private static void WriteSummary(Profile profile, RecordResult r, PerfEventSpec ev, int hz, string path, CliContext ctx)
    {
        var sb = new StringBuilder();
        long samples = profile.Total();
        sb.Append(CultureInfo.InvariantCulture, $"recorded {samples:N0} samples (measured) of {ev.Name} at {hz} Hz on {r.Cpus} CPUs in {r.Elapsed.TotalSeconds:0.00} s (wall clock); wrote {path}\n");
        bool partial = false;
        if (r.Stats.Lost > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Stats.Lost:N0} samples lost (partial): the ring buffer was full\n");
            partial = true;
        }

        if (r.Stats.Malformed > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Stats.Malformed:N0} malformed records skipped (partial), first: {r.Stats.FirstMalformed}\n");
            partial = true;
        }

        if (r.Interrupted)
        {
            sb.Append(CultureInfo.InvariantCulture, $"stopped by Ctrl-C after {r.Elapsed.TotalSeconds:0.00} s (partial)\n");
            partial = true;
        }

        if (r.ChildExit is int code)
        {
            sb.Append(CultureInfo.InvariantCulture, $"command exited with code {code}\n");
        }

        if (samples > 0)
        {
            TopFunctions top = TopFunctions.Compute(profile, TopOrder.Self);
            TopReport report = TopCommand.ToReport(top, partial ? "orac record (partial)" : "orac record", TopOrder.Self, 10);
            sb.Append(TopCommand.RenderTable(report));
        }

        using Stream output = ctx.OpenOutput(null);
        output.Write(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private static (List<string> Options, List<string> Command) SplitCommand(IReadOnlyList<string> args)
    {
        var options = new List<string>();
        var command = new List<string>();
        bool inCommand = false;
        foreach (string a in args)
        {
            if (!inCommand && a == "--")
            {
                inCommand = true;
                continue;
            }

            (inCommand ? command : options).Add(a);
        }

        return (options, command);
    }

    private static OutputKind KindOf(ArgParser p, string path)
    {
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            return OutputKind.Svg;
        }

        if (path.EndsWith(".folded", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            return OutputKind.Folded;
        }

        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return OutputKind.Json;
        }

        throw p.Usage($"-o '{path}': the extension chooses the format: .svg (flame graph), .folded (folded stacks) or .json (Orac profile)");
    }

    internal static List<int> ParsePids(ArgParser p, string list)
    {
        var pids = new List<int>();
        foreach (string s in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
            {
                throw p.Usage($"-p needs process ids like 123,456, got '{s}'");
            }

            if (!Directory.Exists($"/proc/{pid}"))
            {
                throw new OracException($"no process with pid {pid}");
            }

            pids.Add(pid);
        }

        if (pids.Count == 0)
        {
            throw p.Usage("-p needs at least one process id");
        }

        return pids;
    }

    /// <summary>Parses <c>10</c>, <c>10s</c>, <c>2.5s</c>, <c>2m</c>, <c>500ms</c>.</summary>
    internal static TimeSpan ParseDuration(ArgParser p, string text) => TimeSpan.FromSeconds(Durations.ParseSeconds(p, text, allowZero: false));

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  -a              every process on every CPU (until Ctrl-C or -d)");
        w.WriteLine("  -p PID[,PID]    these processes and the children they start (until they exit, Ctrl-C or -d)");
        w.WriteLine("  -- COMMAND      start COMMAND and sample it and its children until it exits");
        w.WriteLine($"  -F HZ           samples per second per CPU (default {DefaultHz})");
        w.WriteLine("  -d DURATION     stop after 10, 10s, 2m, 500ms");
        w.WriteLine("  -e EVENT        cpu-clock (default, software), task-clock, cycles or instructions (need a hardware PMU)");
        w.WriteLine($"  -o FILE         .svg flame graph (default {DefaultOutput}), .folded stacks or .json Orac profile");
        w.WriteLine("Ctrl-C stops early and still writes everything (marked partial). Needs root, CAP_PERFMON or a low kernel.perf_event_paranoid.");
    }
}
