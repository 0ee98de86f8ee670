namespace Orac.Formats.Perf;

/// <summary>
/// Options of <see cref="PerfScriptCollapser"/>, named after stackcollapse-perf.pl's flags.
/// The defaults reproduce the script run without options.
/// </summary>
public sealed record PerfCollapseOptions
{
    /// <summary>The default options.</summary>
    public static PerfCollapseOptions Default { get; } = new();

    /// <summary><c>--pid</c>: the root frame is <c>comm-PID</c>.</summary>
    public bool IncludePid { get; init; }

    /// <summary><c>--tid</c>: the root frame is <c>comm-PID/TID</c> (wins over <see cref="IncludePid"/>).</summary>
    public bool IncludeTid { get; init; }

    /// <summary><c>--kernel</c> (or <c>--all</c>): kernel frames get <c>_[k]</c>.</summary>
    public bool AnnotateKernel { get; init; }

    /// <summary><c>--jit</c> (or <c>--all</c>): frames from <c>/tmp/perf-N.map</c> get <c>_[j]</c>.</summary>
    public bool AnnotateJit { get; init; }

    /// <summary><c>--addrs</c>: unsymbolized frames become <c>[module &lt;address&gt;]</c>.</summary>
    public bool IncludeAddrs { get; init; }

    /// <summary>
    /// <c>--event-filter</c>: keep only samples of this event (e.g. <c>cycles</c>, <c>cpu-clock:ppp</c>).
    /// Null or empty keeps the first event type found in the input, as the script does.
    /// </summary>
    public string? EventFilter { get; init; }

    /// <summary>Parser threads, the reading thread included; 0 picks min(2, processor count). 1 parses on the calling thread only.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Bytes read per block (default 2 MiB); at most threads + 1 blocks are in memory. Lines longer
    /// than half a block are skipped and counted. Tests make it tiny to exercise block boundaries.
    /// </summary>
    public int BlockSize { get; init; } = 2 << 20;
}
