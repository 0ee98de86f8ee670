using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orac.Collect.PerfEvents;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac pmc</c> verb: counting mode of the perf_event layer. Software counters (task-clock,
/// context switches, CPU migrations, page faults) always; cycles, instructions, IPC, cache and branch
/// counters where a hardware PMU exists, and one line saying so where it does not.
/// </summary>
public static class PmcCommand
{
    private const string UsageLine = "usage: orac pmc [-a | -p PID | -- COMMAND ARGS...] [-d DURATION] [--json]";

    /// <summary>The line printed when the hardware counters cannot be opened.</summary>
    public const string NoPmuLine = "no hardware PMU on this machine: cycles, instructions, cache and branch counters are not available";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("pmc")
        .Flag("--all-cpus", "-a")
        .Option("--pid", "-p")
        .Option("--duration", "-d")
        .Flag("--json")
        .Flag("--help", "-h");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        int dash = -1;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                dash = i;
                break;
            }
        }

        List<string> options = dash < 0 ? [.. args] : [.. args.Take(dash)];
        List<string> command = dash < 0 ? [] : [.. args.Skip(dash + 1)];
        ArgParser p = Create().Parse(options);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  -a            every CPU (until Ctrl-C or -d)");
            ctx.Error.WriteLine("  -p PID        one process and the children it starts (until it exits, Ctrl-C or -d)");
            ctx.Error.WriteLine("  -- COMMAND    run COMMAND and count until it exits");
            ctx.Error.WriteLine("  -d DURATION   stop after 10, 10s, 2m, 500ms");
            ctx.Error.WriteLine("  --json        machine-readable output (the report an agent's pmc task returns)");
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

        TimeSpan? duration = p.Get("--duration") is string d ? RecordCommand.ParseDuration(p, d) : null;
        int? pid = null;
        if (p.Get("--pid") is string pidText)
        {
            List<int> pids = RecordCommand.ParsePids(p, pidText);
            if (pids.Count != 1)
            {
                throw p.Usage("pmc counts one process: give one PID");
            }

            pid = pids[0];
        }

        using StoppedChild? child = command.Count > 0 ? StoppedChild.Start(command) : null;
        if (child is not null)
        {
            pid = child.Pid;
        }

        using PerfCounters counters = PerfCounters.Open(pid);
        ctx.StopsGracefully = true;
        var watch = Stopwatch.StartNew();
        counters.Enable();
        child?.Continue();
        bool interrupted = false;
        int? childExit = null;
        try
        {
            while (true)
            {
                if (CollectionStop.Reached(ctx, watch, duration, child, pid is int target ? [target] : null, ref interrupted, ref childExit))
                {
                    break;
                }

                Thread.Sleep(child is not null ? 5 : 50);
            }
        }
        finally
        {
            counters.Disable();
            ctx.StopsGracefully = false;
        }

        TimeSpan elapsed = watch.Elapsed;
        List<CounterReading> readings = counters.Read();
        string what = child is not null ? $"command '{string.Join(' ', command)}'" : pid is int pp ? $"pid {pp}" : "all CPUs";
        if (p.Has("--json"))
        {
            PmcReport report = PmcReport.Build(what, readings, elapsed, counters, null);
            report.Partial = interrupted;
            report.PartialReason = interrupted ? "stopped by Ctrl-C" : null;
            report.CommandExitCode = childExit;
            using Stream json = ctx.OpenOutput(null);
            json.Write(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(report, PmcJsonContext.Default.PmcReport));
            json.Write("\n"u8);
            return 0;
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"counters for {what} over {elapsed.TotalSeconds:0.000} s (wall clock)");
        sb.Append(interrupted ? "; stopped by Ctrl-C (partial)\n" : "\n");
        if (!counters.HasHardware)
        {
            sb.Append(NoPmuLine).Append(CultureInfo.InvariantCulture, $" ({counters.HardwareError})\n");
        }

        sb.Append(RenderTable(readings, elapsed));
        if (childExit is int code)
        {
            sb.Append(CultureInfo.InvariantCulture, $"command exited with code {code}\n");
        }

        using Stream output = ctx.OpenOutput(null);
        output.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        return 0;
    }

    private static string RenderTable(List<CounterReading> readings, TimeSpan elapsed)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{"counter",-18}  {"value",18}  {"unit",-6}  {"rate",16}  {"rate unit",-10}  provenance\n");
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        double? cycles = null, instructions = null;
        foreach (CounterReading r in readings)
        {
            if (r.NeverRan)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{r.Name,-18}  {"not counted",18}  {"",-6}  {"",16}  {"",-10}  the counter never ran (no measurement)\n");
                continue;
            }

            double v = r.Value;
            string prov = r.Scaled ? $"measured, scaled (ran {100.0 * r.RunningNs / r.EnabledNs:0.0}% of the time)" : "measured";
            if (r.Name == "task-clock")
            {
                double ms = v / 1e6;
                sb.Append(CultureInfo.InvariantCulture, $"{r.Name,-18}  {ms,18:N3}  {"ms",-6}  {v / 1e9 / seconds,16:0.000}  {"CPUs used",-10}  {prov}\n");
                continue;
            }

            if (r.Name == "cycles")
            {
                cycles = v;
            }
            else if (r.Name == "instructions")
            {
                instructions = v;
            }

            sb.Append(CultureInfo.InvariantCulture, $"{r.Name,-18}  {v,18:N0}  {"count",-6}  {v / seconds,16:N1}  {"count/s",-10}  {prov}\n");
        }

        if (cycles is double c && instructions is double i && c > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{"IPC",-18}  {i / c,18:0.000}  {"ratio",-6}  {"",16}  {"",-10}  derived from measured instructions / cycles\n");
        }

        return sb.ToString();
    }
}
