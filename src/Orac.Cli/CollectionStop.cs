using System.Diagnostics;
using Orac.Collect.PerfEvents;

namespace Orac.Cli;

/// <summary>When a collecting verb (record, pmc) stops: Ctrl-C, the -d deadline, the command's exit, or every target pid gone.</summary>
internal static class CollectionStop
{
    /// <summary>True when collection should stop now; <paramref name="interrupted"/> and <paramref name="childExit"/> say why.</summary>
    public static bool Reached(CliContext ctx, Stopwatch watch, TimeSpan? duration, StoppedChild? child, IReadOnlyList<int>? pids, ref bool interrupted, ref int? childExit)
    {
        if (ctx.Interrupt.IsCancellationRequested)
        {
            interrupted = true;
            return true;
        }

        if (duration is TimeSpan limit && watch.Elapsed >= limit)
        {
            return true;
        }

        if (child is not null && child.HasExited)
        {
            childExit = child.ExitCode;
            return true;
        }

        return child is null && pids is { Count: > 0 } && !pids.Any(pid => Directory.Exists($"/proc/{pid}"));
    }
}
