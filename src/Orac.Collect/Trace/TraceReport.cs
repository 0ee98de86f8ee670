using System.Text.Json.Serialization;

namespace Orac.Collect.Trace;

/// <summary>The result of one <c>orac trace TOOL</c> run (also its <c>--json</c> document).</summary>
public sealed class TraceReport
{
    /// <summary>The catalogue tool's name.</summary>
    public required string Tool { get; init; }

    /// <summary>The tool's one-line description.</summary>
    public required string Description { get; init; }

    /// <summary>Seconds the tool was asked to run.</summary>
    public required int DurationSeconds { get; init; }

    /// <summary>Seconds actually traced (from all probes attached to bpftrace's exit), 0.1 s resolution.</summary>
    public double TracedSeconds { get; init; }

    /// <summary>The process id filter, or null for every process.</summary>
    public int? Pid { get; init; }

    /// <summary>Always "measured": every figure comes from bpftrace on this host.</summary>
    public string Provenance { get; init; } = "measured";

    /// <summary>True when the run was cut short, lost events or bpftrace warned: the figures are a lower bound.</summary>
    public bool Partial { get; set; }

    /// <summary>Why the result is partial, and other notes (skipped lines, bpftrace warnings).</summary>
    public List<string> Notes { get; init; } = [];

    /// <summary>runqlat, biolatency: the latency histogram.</summary>
    public TraceHistogram? Histogram { get; set; }

    /// <summary>syscount: syscalls by count, descending.</summary>
    public List<SyscallRow>? Syscalls { get; set; }

    /// <summary>execsnoop: one row per execve, in time order.</summary>
    public List<ExecRow>? Execs { get; set; }

    /// <summary>offcpu: the stacks with the most off-CPU time, descending.</summary>
    public List<OffCpuRow>? OffCpu { get; set; }

    /// <summary>offcpu: total off-CPU time over all stacks, microseconds.</summary>
    public long? OffCpuTotalMicroseconds { get; set; }

    /// <summary>offcpu: where the flame graph SVG was written.</summary>
    public string? FlameGraph { get; set; }
}

/// <summary>A log2 histogram with its unit; bucket bounds are inclusive.</summary>
public sealed class TraceHistogram
{
    /// <summary>The unit of the bucket bounds ("microseconds").</summary>
    public required string Unit { get; init; }

    /// <summary>Buckets, ascending; a null bound is open (below the first, above the last).</summary>
    public required List<TraceBucket> Buckets { get; init; }

    /// <summary>Sum of the bucket counts.</summary>
    public long Count { get; init; }
}

/// <summary>One histogram bucket: values v with <see cref="Low"/> ≤ v ≤ <see cref="High"/>.</summary>
public sealed class TraceBucket
{
    /// <summary>Inclusive lower bound, in the histogram's unit; null = open.</summary>
    public long? Low { get; init; }

    /// <summary>Inclusive upper bound, in the histogram's unit; null = open.</summary>
    public long? High { get; init; }

    /// <summary>Events in the bucket.</summary>
    public long Count { get; init; }
}

/// <summary>One syscall in syscount's table.</summary>
public sealed class SyscallRow
{
    /// <summary>x86-64 syscall name (syscall_N when unknown).</summary>
    public required string Name { get; init; }

    /// <summary>x86-64 syscall number.</summary>
    public long Number { get; init; }

    /// <summary>Completed calls.</summary>
    public long Count { get; init; }

    /// <summary>Total time inside the calls, microseconds (nanoseconds / 1000, rounded down).</summary>
    public long TotalMicroseconds { get; init; }
}

/// <summary>One execve seen by execsnoop.</summary>
public sealed class ExecRow
{
    /// <summary>Milliseconds since the first exec in this run.</summary>
    public double TimeMilliseconds { get; init; }

    /// <summary>Process id (the one calling execve).</summary>
    public int Pid { get; init; }

    /// <summary>Parent process id.</summary>
    public int ParentPid { get; init; }

    /// <summary>The process name before the exec (up to 15 bytes).</summary>
    public required string Comm { get; init; }

    /// <summary>argv[0..3] joined by spaces (each cut at 64 bytes by bpftrace).</summary>
    public required string Args { get; init; }
}

/// <summary>One stack in offcpu's top table.</summary>
public sealed class OffCpuRow
{
    /// <summary>The thread's comm.</summary>
    public required string Comm { get; init; }

    /// <summary>The innermost frames (leaf first), joined by " &lt;- ".</summary>
    public required string Stack { get; init; }

    /// <summary>Off-CPU time, microseconds.</summary>
    public long Microseconds { get; init; }
}

/// <summary>The source-generated JSON context for trace reports (no reflection; AOT/trim safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TraceReport))]
public sealed partial class TraceJsonContext : JsonSerializerContext
{
}
