using System.Text.Json.Serialization;

namespace Orac.Collect.Check;

/// <summary>
/// The result of <c>orac check</c>: every figure carries its unit in its name (…Percent, …PerSecond,
/// …MiB, …Ms). Rates and percentages are over the window (<see cref="Mode"/> "window") or averages
/// since boot (<see cref="Mode"/> "since-boot"); gauges (memory, load averages, CurrEstab, file
/// handles) are the values at the end. A null figure was not measurable and <see cref="Notes"/> says why.
/// </summary>
internal sealed class CheckReport
{
    /// <summary>"window" (two snapshots <see cref="WindowSeconds"/> apart) or "since-boot" (one snapshot, counters over uptime).</summary>
    public string Mode { get; set; } = "window";

    /// <summary>Seconds between the snapshots (measured), or the uptime in since-boot mode.</summary>
    public double WindowSeconds { get; set; }

    /// <summary>Online CPUs (per-CPU lines of /proc/stat).</summary>
    public int Cpus { get; set; }

    /// <summary>True when a file could not be read or parsed; <see cref="PartialReasons"/> says which and why.</summary>
    public bool Partial { get; set; }

    /// <summary>"FILE: why" for each file that is missing from the figures.</summary>
    public List<string> PartialReasons { get; set; } = [];

    /// <summary>Other caveats: counters that went backwards, records skipped.</summary>
    public List<string> Notes { get; set; } = [];

    /// <summary>The USE table: one row per resource.</summary>
    public List<UseRow> Use { get; set; } = [];

    /// <summary>Every flagged problem, with its one-line explanation.</summary>
    public List<Problem> Problems { get; set; } = [];

    /// <summary>Load and run queue.</summary>
    public LoadFigures? Load { get; set; }

    /// <summary>All CPUs together, then one per CPU.</summary>
    public CpuFigures? CpuAll { get; set; }

    /// <summary>One entry per online CPU.</summary>
    public List<CpuFigures> PerCpu { get; set; } = [];

    /// <summary>Busiest minus least busy CPU, in percentage points.</summary>
    public double? CpuImbalancePoints { get; set; }

    /// <summary>PSI per resource (cpu, memory, io).</summary>
    public List<PressureFigures> Pressure { get; set; } = [];

    /// <summary>Memory and paging.</summary>
    public MemoryFigures? Memory { get; set; }

    /// <summary>Whole disks.</summary>
    public List<DiskFigures> Disks { get; set; } = [];

    /// <summary>Network interfaces (loopback left out).</summary>
    public List<NetFigures> Networks { get; set; } = [];

    /// <summary>TCP counters.</summary>
    public TcpFigures? Tcp { get; set; }

    /// <summary>System-wide file handles.</summary>
    public FileFigures? Files { get; set; }

    /// <summary>Top processes by CPU over the window.</summary>
    public List<ProcessFigures> TopCpu { get; set; } = [];

    /// <summary>Top processes by resident memory at the end.</summary>
    public List<ProcessFigures> TopMemory { get; set; } = [];

    /// <summary>Kernel log errors.</summary>
    public KernelErrors KernelErrors { get; set; } = new();
}

/// <summary>One USE row.</summary>
internal sealed class UseRow
{
    /// <summary>Resource name ("CPU", "disk sda", …).</summary>
    public string Resource { get; set; } = "";

    /// <summary>Utilization with its unit, or "-".</summary>
    public string Utilization { get; set; } = "-";

    /// <summary>Saturation with its unit, or "-".</summary>
    public string Saturation { get; set; } = "-";

    /// <summary>Errors with their unit, or "-".</summary>
    public string Errors { get; set; } = "-";

    /// <summary>"ok", "PROBLEM" or "n/a" (not measurable).</summary>
    public string Flag { get; set; } = "ok";
}

/// <summary>A flagged problem.</summary>
internal sealed class Problem
{
    /// <summary>The USE row it belongs to.</summary>
    public string Resource { get; set; } = "";

    /// <summary>"utilization", "saturation" or "errors".</summary>
    public string Kind { get; set; } = "";

    /// <summary>Stable id of the rule that fired (e.g. "cpu-util").</summary>
    public string Rule { get; set; } = "";

    /// <summary>One line: the figure, the threshold and what it means.</summary>
    public string Message { get; set; } = "";
}

/// <summary>Load averages (runnable + uninterruptible tasks, exponentially averaged) and run queue.</summary>
internal sealed class LoadFigures
{
    /// <summary>1-minute load average (tasks).</summary>
    public double Load1 { get; set; }

    /// <summary>5-minute load average (tasks).</summary>
    public double Load5 { get; set; }

    /// <summary>15-minute load average (tasks).</summary>
    public double Load15 { get; set; }

    /// <summary>"rising", "falling" or "steady" (1-minute against 15-minute).</summary>
    public string Trend { get; set; } = "steady";

    /// <summary>Runnable tasks (procs_running, mean of the two snapshots; includes orac itself).</summary>
    public double? RunQueueTasks { get; set; }

    /// <summary>Tasks blocked on I/O (procs_blocked, mean of the two snapshots).</summary>
    public double? BlockedTasks { get; set; }

    /// <summary>Context switches per second.</summary>
    public double? ContextSwitchesPerSecond { get; set; }

    /// <summary>Processes created per second.</summary>
    public double? ForksPerSecond { get; set; }
}

/// <summary>Share of one CPU's (or all CPUs') time, in percent of the window.</summary>
internal sealed class CpuFigures
{
    /// <summary>"all" or "cpuN".</summary>
    public string Cpu { get; set; } = "";

    /// <summary>Busy = 100 − idle − iowait, in percent.</summary>
    public double UtilizationPercent { get; set; }

    /// <summary>User (including nice and guest), in percent.</summary>
    public double UserPercent { get; set; }

    /// <summary>Kernel, in percent.</summary>
    public double SystemPercent { get; set; }

    /// <summary>Idle waiting on I/O, in percent.</summary>
    public double IowaitPercent { get; set; }

    /// <summary>Hard and soft interrupts, in percent.</summary>
    public double IrqPercent { get; set; }

    /// <summary>Stolen by the hypervisor, in percent.</summary>
    public double StealPercent { get; set; }

    /// <summary>Idle, in percent.</summary>
    public double IdlePercent { get; set; }
}

/// <summary>Pressure stall information for one resource.</summary>
internal sealed class PressureFigures
{
    /// <summary>"cpu", "memory" or "io".</summary>
    public string Resource { get; set; } = "";

    /// <summary>Share of the window in which some task stalled, in percent (from the total= counters).</summary>
    public double? SomeWindowPercent { get; set; }

    /// <summary>Share of the window in which all non-idle tasks stalled, in percent.</summary>
    public double? FullWindowPercent { get; set; }

    /// <summary>The kernel's 10-second average of "some" at the end, in percent.</summary>
    public double SomeAvg10Percent { get; set; }

    /// <summary>The kernel's 60-second average of "some" at the end, in percent.</summary>
    public double SomeAvg60Percent { get; set; }

    /// <summary>The kernel's 300-second average of "some" at the end, in percent.</summary>
    public double SomeAvg300Percent { get; set; }
}

/// <summary>Memory at the end (null without a readable /proc/meminfo) and paging over the window (null without /proc/vmstat).</summary>
internal sealed class MemoryFigures
{
    /// <summary>MemTotal, MiB.</summary>
    public double? TotalMiB { get; set; }

    /// <summary>MemAvailable, MiB.</summary>
    public double? AvailableMiB { get; set; }

    /// <summary>MemAvailable / MemTotal, percent.</summary>
    public double? AvailablePercent { get; set; }

    /// <summary>SwapTotal, MiB.</summary>
    public double? SwapTotalMiB { get; set; }

    /// <summary>SwapTotal − SwapFree, MiB.</summary>
    public double? SwapUsedMiB { get; set; }

    /// <summary>Pages swapped in per second (pswpin).</summary>
    public double? SwapInPagesPerSecond { get; set; }

    /// <summary>Pages swapped out per second (pswpout).</summary>
    public double? SwapOutPagesPerSecond { get; set; }

    /// <summary>KiB paged in from disk per second (pgpgin).</summary>
    public double? PageInKiBPerSecond { get; set; }

    /// <summary>Major page faults per second (pgmajfault).</summary>
    public double? MajorFaultsPerSecond { get; set; }

    /// <summary>OOM kills in the window (or since boot), count.</summary>
    public long? OomKills { get; set; }
}

/// <summary>One whole disk over the window.</summary>
internal sealed class DiskFigures
{
    /// <summary>Device name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Reads completed per second.</summary>
    public double ReadIops { get; set; }

    /// <summary>Writes completed per second.</summary>
    public double WriteIops { get; set; }

    /// <summary>MiB read per second.</summary>
    public double ReadMiBPerSecond { get; set; }

    /// <summary>MiB written per second.</summary>
    public double WriteMiBPerSecond { get; set; }

    /// <summary>Mean time per completed I/O (queue + service), ms; null when no I/O completed.</summary>
    public double? AwaitMs { get; set; }

    /// <summary>Share of the window with I/O in flight, percent (capped at 100).</summary>
    public double UtilizationPercent { get; set; }

    /// <summary>Mean number of I/Os in flight (Δ weighted ms / window ms).</summary>
    public double QueueDepth { get; set; }
}

/// <summary>One interface over the window.</summary>
internal sealed class NetFigures
{
    /// <summary>Interface name.</summary>
    public string Name { get; set; } = "";

    /// <summary>MiB received per second.</summary>
    public double RxMiBPerSecond { get; set; }

    /// <summary>MiB sent per second.</summary>
    public double TxMiBPerSecond { get; set; }

    /// <summary>Packets received per second.</summary>
    public double RxPacketsPerSecond { get; set; }

    /// <summary>Packets sent per second.</summary>
    public double TxPacketsPerSecond { get; set; }

    /// <summary>Receive + transmit errors in the window, count.</summary>
    public ulong Errors { get; set; }

    /// <summary>Receive + transmit drops in the window, count.</summary>
    public ulong Drops { get; set; }

    /// <summary>Link speed, Mb/s, when the driver reports one.</summary>
    public long? SpeedMbps { get; set; }

    /// <summary>The busier direction's bits per second over the link speed, percent.</summary>
    public double? UtilizationPercent { get; set; }
}

/// <summary>TCP over the window.</summary>
internal sealed class TcpFigures
{
    /// <summary>Outgoing connections opened per second (ActiveOpens).</summary>
    public double? ActiveOpensPerSecond { get; set; }

    /// <summary>Incoming connections accepted per second (PassiveOpens).</summary>
    public double? PassiveOpensPerSecond { get; set; }

    /// <summary>Segments sent per second (OutSegs).</summary>
    public double? OutSegmentsPerSecond { get; set; }

    /// <summary>Segments retransmitted per second (RetransSegs).</summary>
    public double? RetransmitsPerSecond { get; set; }

    /// <summary>RetransSegs / OutSegs over the window, percent.</summary>
    public double? RetransmitPercent { get; set; }

    /// <summary>Resets sent per second (OutRsts).</summary>
    public double? ResetsSentPerSecond { get; set; }

    /// <summary>Established connections reset in the window (EstabResets), count.</summary>
    public long? EstablishedResets { get; set; }

    /// <summary>Failed connection attempts in the window (AttemptFails), count.</summary>
    public long? AttemptFails { get; set; }

    /// <summary>Connections established now (CurrEstab), count.</summary>
    public long? Established { get; set; }
}

/// <summary>System-wide file handles at the end.</summary>
internal sealed class FileFigures
{
    /// <summary>Allocated handles (file-nr first field minus free ones), count.</summary>
    public ulong InUse { get; set; }

    /// <summary>fs.file-max, count.</summary>
    public ulong Max { get; set; }

    /// <summary>InUse / Max, percent.</summary>
    public double UsedPercent { get; set; }
}

/// <summary>One process.</summary>
internal sealed class ProcessFigures
{
    /// <summary>Process id.</summary>
    public int Pid { get; set; }

    /// <summary>Command name (/proc/PID/stat comm, escaped).</summary>
    public string Command { get; set; } = "";

    /// <summary>CPU time over the window as a share of one CPU, percent (200 = two CPUs busy).</summary>
    public double CpuPercent { get; set; }

    /// <summary>Resident set at the end, MiB.</summary>
    public double RssMiB { get; set; }
}

/// <summary>Kernel log messages of priority err or worse.</summary>
internal sealed class KernelErrors
{
    /// <summary>False when /dev/kmsg could not be read; <see cref="Reason"/> says why.</summary>
    public bool Readable { get; set; }

    /// <summary>Why the log was not read.</summary>
    public string? Reason { get; set; }

    /// <summary>How far back the messages are counted, seconds.</summary>
    public double LookbackSeconds { get; set; }

    /// <summary>Messages of priority 0-3 (emerg, alert, crit, err) in the lookback, count.</summary>
    public int Count { get; set; }

    /// <summary>The most recent few.</summary>
    public List<KernelMessage> Recent { get; set; } = [];
}

/// <summary>One kernel log message.</summary>
internal sealed class KernelMessage
{
    /// <summary>Seconds before the end of the window.</summary>
    public double AgeSeconds { get; set; }

    /// <summary>"emerg", "alert", "crit" or "err".</summary>
    public string Priority { get; set; } = "";

    /// <summary>The text (non-printable bytes escaped as \xNN, cut at 200 bytes).</summary>
    public string Message { get; set; } = "";
}

/// <summary>Source-generated JSON for <see cref="CheckReport"/> (Native AOT: no reflection).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CheckReport))]
internal sealed partial class CheckJsonContext : JsonSerializerContext
{
}
