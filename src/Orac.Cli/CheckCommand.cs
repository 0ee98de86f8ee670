using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Collect.Check;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac check</c> verb: the 60-second analysis of this host from /proc and /sys, as a USE
/// table (utilization, saturation, errors per resource) with each problem flagged and explained, or
/// as JSON. Exit code 0 even when problems are flagged; 1 when the check itself fails.
/// </summary>
public static class CheckCommand
{
    private const string UsageLine = "usage: orac check [-d SECONDS|--now] [--json]";

    /// <summary>Window when <c>-d</c> is not given, seconds.</summary>
    public const double DefaultSeconds = 10;

    /// <summary>Longest window accepted, seconds.</summary>
    public const double MaxSeconds = 3600;

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("check")
        .Flag("--json")
        .Flag("--now")
        .Flag("--help", "-h")
        .Option("--duration", "-d")
        .Option("--root")
        .Option("--replay");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine($"  -d SECONDS  window between the two snapshots: 10, 10s, 1.5m (default {DefaultSeconds:0} s); 0 = since boot");
            ctx.Error.WriteLine("  --now       no window: every rate is an average since boot (same as -d 0)");
            ctx.Error.WriteLine("  --json      machine-readable output");
            ctx.Error.WriteLine("exit code 0 even when problems are flagged; 1 when the check could not run");
            return 0;
        }

        if (p.Positionals.Count != 0)
        {
            throw p.Usage($"takes no FILE, got '{p.Positionals[0]}'");
        }

        double seconds = p.Has("--now") ? 0 : ParseDuration(p, p.Get("--duration"));
        if (p.Has("--now") && p.Has("--duration") && seconds != 0)
        {
            throw p.Usage("--now and -d exclude each other");
        }

        if (p.Get("--replay") is string replay)
        {
            // Hidden test option: DIR/t0 and DIR/t1 are the two snapshots, taken -d seconds apart.
            if (seconds == 0)
            {
                throw p.Usage("--replay needs the window of its snapshots as -d");
            }

            Write(p, ctx, CheckAnalyzer.Compare(Snapshot.Read(Path.Combine(replay, "t0")), Snapshot.Read(Path.Combine(replay, "t1")), seconds, Snapshot.ReadKmsg(Path.Combine(replay, "t1"))));
            return 0;
        }

        string root = p.Get("--root") ?? "/";
        if (!Directory.Exists(Path.Combine(root, "proc")))
        {
            throw new OracException($"check: {Path.Combine(root, "proc")} not found: this verb reads a Linux /proc");
        }

        CheckReport report = seconds == 0 ? SinceBoot(root) : Window(root, seconds, ctx);
        Write(p, ctx, report);
        return 0;
    }

    private static void Write(ArgParser p, CliContext ctx, CheckReport report)
    {
        using (Stream output = ctx.OpenOutput(null))
        {
            byte[] bytes = p.Has("--json")
                ? JsonSerializer.SerializeToUtf8Bytes(report, CheckJsonContext.Default.CheckReport)
                : Encoding.UTF8.GetBytes(CheckText.Render(report));
            output.Write(bytes);
            if (p.Has("--json"))
            {
                output.Write("\n"u8);
            }
        }
    }

    private static CheckReport SinceBoot(string root)
    {
        Snapshot t1 = Snapshot.Read(root, pageSize: Environment.SystemPageSize);
        if (t1.Uptime is not double up || up <= 0)
        {
            throw new OracException($"check: since-boot figures need {Path.Combine(root, "proc", "uptime")}, which could not be read");
        }

        return CheckAnalyzer.Compare(null, t1, up, Snapshot.ReadKmsg(root));
    }

    private static CheckReport Window(string root, double seconds, CliContext ctx)
    {
        ctx.StopsGracefully = true;
        long start = Stopwatch.GetTimestamp();
        Snapshot t0 = Snapshot.Read(root, pageSize: Environment.SystemPageSize);
        ctx.Error.WriteLine($"orac: check: sampling for {seconds.ToString("0.##", CultureInfo.InvariantCulture)} s...");
        ctx.Interrupt.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(seconds));
        double measured = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Snapshot t1 = Snapshot.Read(root, pageSize: Environment.SystemPageSize);
        CheckReport report = CheckAnalyzer.Compare(t0, t1, measured, Snapshot.ReadKmsg(root));
        if (ctx.Interrupt.IsCancellationRequested)
        {
            report.Notes.Add($"interrupted: the window is {measured.ToString("0.0", CultureInfo.InvariantCulture)} s instead of {seconds.ToString("0.##", CultureInfo.InvariantCulture)} s");
        }

        return report;
    }

    /// <summary>Parses a window: <c>10</c>, <c>10s</c>, <c>1m</c>, <c>1.5m</c>; 0 means since boot.</summary>
    internal static double ParseDuration(ArgParser p, string? text)
    {
        if (text is null)
        {
            return DefaultSeconds;
        }

        double seconds = Durations.ParseSeconds(p, text, allowZero: true);
        if (seconds > MaxSeconds || (seconds > 0 && seconds < 0.1))
        {
            throw p.Usage($"-d must be 0 (since boot) or between 0.1 s and {MaxSeconds:0} s, got '{text}'");
        }

        return seconds;
    }
}
