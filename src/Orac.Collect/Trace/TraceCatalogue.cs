using System.Reflection;
using Orac.Model;

namespace Orac.Collect.Trace;

/// <summary>What a catalogue tool's bpftrace program prints, and so how Orac reads it.</summary>
public enum TraceOutputKind
{
    /// <summary>One log2 histogram <c>@usecs</c> of latencies in microseconds.</summary>
    LatencyHistogram,

    /// <summary>Two maps keyed by syscall number: <c>@calls</c> (count) and <c>@nsecs</c> (time in the call).</summary>
    SyscallTable,

    /// <summary>printf events, one exec per header line + argument line.</summary>
    ExecEvents,

    /// <summary>One map <c>@usecs</c> keyed by (kernel stack, comm), summed microseconds off-CPU.</summary>
    OffCpuStacks,
}

/// <summary>One vetted tool: its name, what it shows and its program, which ships inside Orac.</summary>
/// <param name="Name">The name on the command line (<c>orac trace NAME</c>).</param>
/// <param name="Description">One line saying what it measures, with the unit.</param>
/// <param name="Output">How its output is read.</param>
/// <param name="TakesPid">Whether <c>-p PID</c> narrows it (the program's second positional parameter).</param>
public sealed record TraceTool(string Name, string Description, TraceOutputKind Output, bool TakesPid)
{
    /// <summary>The bpftrace program text, from the embedded resource <c>Tools/NAME.bt</c>.</summary>
    public string Program => TraceCatalogue.ReadProgram(Name);
}

/// <summary>
/// The fixed catalogue of bpftrace tools Orac runs. There is no way to run any other program: agents and
/// people pick a name from this list. Every program takes <c>$1</c> = seconds to run and <c>$2</c> = a
/// process id filter (0 = all; ignored by tools where <see cref="TraceTool.TakesPid"/> is false).
/// </summary>
public static class TraceCatalogue
{
    /// <summary>The tools, in the order they are listed.</summary>
    public static IReadOnlyList<TraceTool> All { get; } =
    [
        new("runqlat", "scheduler run-queue latency (wakeup to running), microseconds, log2 histogram", TraceOutputKind.LatencyHistogram, TakesPid: true),
        new("biolatency", "block I/O latency (issue to completion), microseconds, log2 histogram", TraceOutputKind.LatencyHistogram, TakesPid: false),
        new("syscount", "top syscalls by count and total time in the call (microseconds)", TraceOutputKind.SyscallTable, TakesPid: true),
        new("execsnoop", "new processes (execve): time, pid, parent pid, comm, arguments", TraceOutputKind.ExecEvents, TakesPid: true),
        new("offcpu", "off-CPU time by kernel stack and comm, microseconds, as a flame graph and a top table", TraceOutputKind.OffCpuStacks, TakesPid: true),
    ];

    /// <summary>The tool called <paramref name="name"/>, or null.</summary>
    public static TraceTool? Find(string name)
    {
        foreach (TraceTool t in All)
        {
            if (string.Equals(t.Name, name, StringComparison.Ordinal))
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>The names, comma-separated, for usage messages.</summary>
    public static string Names => string.Join(", ", All.Select(t => t.Name));

    internal static string ReadProgram(string name)
    {
        Assembly asm = typeof(TraceCatalogue).Assembly;
        string resource = $"Orac.Collect.Trace.Tools.{name}.bt";
        using Stream? s = asm.GetManifestResourceStream(resource)
            ?? throw new OracException($"trace: program '{resource}' is missing from this build of orac");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }
}
