using Orac.Model;

namespace Orac.Cost;

// What the calculator prices (docs/cost.md "Attribution"). Built by the server from its store, fleet registry and
// metrics store, and by the CLI from files.

/// <summary>One service's CPU profile on one host: values are CPU nanoseconds, or samples with a CPU-ns period.</summary>
public sealed record WorkloadProfile(string Service, Profile Profile);

/// <summary>Measured CPU energy of a host over its observed time (RAPL), with the idle power measured the Kepler way.</summary>
public sealed record MeasuredCpuEnergy(double Joules, double IdleWatts, double Seconds, string Source);

/// <summary>One GPU's usage over the period, reduced from readings (see <c>GpuUsage.FromReadings</c>).</summary>
public sealed class GpuUsage
{
    /// <summary>GPU index on the host.</summary>
    public int Index { get; init; }

    /// <summary>Model name.</summary>
    public string Model { get; init; } = "";

    /// <summary>Seconds covered by readings (billed time).</summary>
    public double ObservedSeconds { get; init; }

    /// <summary>Σ utilization × interval, seconds.</summary>
    public double BusySeconds { get; init; }

    /// <summary>Average SM activity over the observed time, percent; null when no reading had it.</summary>
    public double? SmActivePercent { get; init; }

    /// <summary>Measured energy (power × interval, or the energy counter's increase), joules; null when no reading had power.</summary>
    public double? MeasuredJoules { get; init; }

    /// <summary>Seconds with utilization below the idle threshold (default 10 %).</summary>
    public double LowUtilSeconds { get; init; }

    /// <summary>Seconds with utilization ≥ 50 % but SM activity &lt; 25 % (the utilization trap; needs DCGM's SM activity).</summary>
    public double TrapSeconds { get; init; }
}

/// <summary>One host in the selection.</summary>
public sealed class HostInput
{
    /// <summary>Org the host's data belongs to.</summary>
    public required string Org { get; init; }

    /// <summary>Host name (label <c>host</c>).</summary>
    public required string Host { get; init; }

    /// <summary>The host's labels (from its agent registration and its series).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>What its agent reported, or null (e.g. a file).</summary>
    public HostFacts? Facts { get; init; }

    /// <summary>Class to use regardless of rules (<c>--class</c>), or null.</summary>
    public string? ClassName { get; init; }

    /// <summary>Seconds the host was observed in the period (billed time; idle is computed over it). 0 = unknown: no idle line.</summary>
    public double ObservedSeconds { get; init; }

    /// <summary>CPU profiles per service.</summary>
    public List<WorkloadProfile> Workloads { get; init; } = [];

    /// <summary>CPU seconds per UTC hour of day (24 values) for hourly grid tables; null = spread evenly.</summary>
    public double[]? CpuSecondsByUtcHour { get; init; }

    /// <summary>Measured CPU energy, or null (estimated from the class).</summary>
    public MeasuredCpuEnergy? CpuEnergy { get; init; }

    /// <summary>GPUs with readings in the period.</summary>
    public List<GpuUsage> Gpus { get; init; } = [];
}

/// <summary>Everything the calculator prices.</summary>
public sealed class CostInput
{
    /// <summary>Start of the period, Unix ns.</summary>
    public long StartNs { get; init; }

    /// <summary>End of the period, Unix ns.</summary>
    public long EndNs { get; init; }

    /// <summary>What was selected (selector text or file names), for the answer's header.</summary>
    public string Selection { get; init; } = "";

    /// <summary>The hosts.</summary>
    public List<HostInput> Hosts { get; init; } = [];
}

/// <summary>Knobs of one computation.</summary>
public sealed class CostOptions
{
    /// <summary>Function rows kept in <c>CostDocument.Functions</c>.</summary>
    public int TopFunctions { get; init; } = 20;

    /// <summary>GPU utilization below which time counts as idle/stranded, percent.</summary>
    public double GpuIdleUtilPercent { get; init; } = 10;

    /// <summary>Seconds the annual projection scales from; 0 = the period (EndNs − StartNs).</summary>
    public double ProjectionBaseSeconds { get; init; }

    /// <summary>Sampling frequency, Hz, for profiles holding plain sample counts (folded files); null = such profiles are an error.</summary>
    public double? Hz { get; init; }
}
