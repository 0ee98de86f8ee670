using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Collect.Trace;
using Orac.Formats.Folded;
using Orac.Formats.Svg;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac trace</c> verb: runs one tool from Orac's fixed bpftrace catalogue (no program text can
/// be passed) for a duration and prints Orac's table or histogram, or JSON; <c>offcpu</c> also writes a
/// flame graph. Ctrl-C stops bpftrace early and still prints what it collected, labelled partial.
/// </summary>
public static class TraceCommand
{
    private const string UsageLine = "usage: orac trace [TOOL [-d SECONDS] [-p PID] [--json] [-o FILE] [--folded FILE] [--bpftrace PATH]]";

    /// <summary>Seconds a tool runs when <c>-d</c> is not given.</summary>
    public const int DefaultSeconds = 5;

    /// <summary>Longest <c>-d</c> accepted.</summary>
    public const int MaxSeconds = 3600;

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("trace")
        .Flag("--json")
        .Flag("--help", "-h")
        .Option("--duration", "-d")
        .Option("--pid", "-p")
        .Option("--output", "-o")
        .Option("--folded")
        .Option("--bpftrace");

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
            using Stream list = ctx.OpenOutput(null);
            list.Write(Encoding.UTF8.GetBytes(Catalogue()));
            return 0;
        }

        if (p.Positionals.Count > 1)
        {
            throw p.Usage($"expected one TOOL, got {p.Positionals.Count}");
        }

        TraceTool tool = TraceCatalogue.Find(p.Positionals[0])
            ?? throw p.Usage($"unknown tool '{p.Positionals[0]}' (one of {TraceCatalogue.Names})");
        int seconds = p.GetInt("--duration", DefaultSeconds);
        if (seconds < 1 || seconds > MaxSeconds)
        {
            throw p.Usage($"-d needs whole seconds from 1 to {MaxSeconds}, got {seconds}");
        }

        int pid = p.GetInt("--pid", 0);
        if (p.Has("--pid") && pid < 1)
        {
            throw p.Usage($"-p needs a positive process id, got {pid}");
        }

        if (p.Has("--pid") && !tool.TakesPid)
        {
            throw p.Usage($"{tool.Name} has no process filter (the issuing process is not the completing one)");
        }

        if (p.Has("--output") && tool.Output != TraceOutputKind.OffCpuStacks)
        {
            throw p.Usage("-o names the flame graph file, which only offcpu writes");
        }

        if (p.Has("--folded") && tool.Output != TraceOutputKind.OffCpuStacks)
        {
            throw p.Usage("--folded names the folded stacks file, which only offcpu writes");
        }

        var options = new TraceRunOptions
        {
            DurationSeconds = seconds,
            Pid = pid,
            Bpftrace = p.Get("--bpftrace") ?? "bpftrace",
            Log = ctx.Error,

            // Said once bpftrace has attached, so a failure before that stays one line.
            OnAttached = () => ctx.Error.WriteLine($"orac: tracing {tool.Name} for {seconds} s (Ctrl-C stops early and prints what was collected)"),
        };
        if (BpftraceRunner.Resolve(options.Bpftrace) is null)
        {
            throw new OracException(BpftraceRunner.NotInstalled);
        }

        ctx.StopsGracefully = true;
        TraceRun run = BpftraceRunner.Run(tool, options, ctx.Interrupt.Token);
        (TraceReport report, Profile? profile) = TraceRender.Build(tool, run, options);

        if (profile is not null)
        {
            string svg = p.Get("--output") ?? "offcpu.svg";
            WriteFlameGraph(profile, svg, report, ctx);
            report.FlameGraph = svg;
            if (p.Get("--folded") is string folded)
            {
                using Stream f = ctx.OpenOutput(folded);
                FoldedWriter.Write(profile, f);
            }
        }

        using (Stream output = ctx.OpenOutput(null))
        {
            if (p.Has("--json"))
            {
                output.Write(JsonSerializer.SerializeToUtf8Bytes(report, TraceJsonContext.Default.TraceReport));
                output.Write("\n"u8);
            }
            else
            {
                output.Write(Encoding.UTF8.GetBytes(TraceRender.Render(report)));
            }
        }

        return 0;
    }

    /// <summary>The catalogue as a table: name, -p support, description.</summary>
    public static string Catalogue()
    {
        var sb = new StringBuilder("tools (run with: orac trace TOOL [-d SECONDS] [-p PID] [--json]):\n");
        foreach (TraceTool t in TraceCatalogue.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {t.Name,-11} {(t.TakesPid ? "-p" : "  ")}  {t.Description}\n");
        }

        return sb.ToString();
    }

    private static void WriteFlameGraph(Profile profile, string path, TraceReport report, CliContext ctx)
    {
        var input = new FoldedInput();
        input.AddProfile(profile, reverse: false);
        var options = new FlameGraphOptions
        {
            Title = report.Partial ? "Off-CPU Time Flame Graph (PARTIAL)" : "Off-CPU Time Flame Graph",
            Subtitle = $"orac trace offcpu, {report.DurationSeconds} s, {(report.Pid is int pid ? $"pid {pid}" : "all processes")}; widths are off-CPU microseconds",
            CountName = "us",
            Colors = "io",
        };
        using Stream output = ctx.OpenOutput(path);
        _ = FlameGraphSvg.Render(input, options, output, ctx.Error);
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  runs one vetted bpftrace tool shipped inside orac (needs bpftrace and root); no TOOL lists them");
        w.WriteLine($"  -d SECONDS   how long to trace (default {DefaultSeconds}, at most {MaxSeconds})");
        w.WriteLine("  -p PID       only this process (runqlat, syscount, offcpu; execsnoop: children of PID)");
        w.WriteLine("  --json       machine-readable output");
        w.WriteLine("  -o FILE      offcpu: flame graph SVG path (default offcpu.svg)");
        w.WriteLine("  --folded FILE  offcpu: also write the stacks as folded text (comm;frame;... microseconds)");
        w.WriteLine("  --bpftrace PATH  the bpftrace executable (default: bpftrace from PATH)");
        w.WriteLine("exit codes: 0 ok (partial results say so), 1 bpftrace missing, not permitted or failed to attach, 2 usage error");
    }
}
