namespace Orac.Cost;

// The cost model (docs/cost.md "The model file"): machine classes, regions, and rules mapping hosts to classes.
// Owner: the cost-core work. Parse errors are CostModelException naming the field path.

/// <summary>GPUs of a machine class.</summary>
public sealed record GpuSpec(
    string Model,
    int Count,
    double WattsIdle,
    double WattsMax,
    double UsdPerGpuHour,
    string Source);

/// <summary>
/// A machine class: what one host of this kind costs and draws. CPU watts are per vCPU (Cloud Carbon Footprint's
/// coefficients). <see cref="UsdPerHour"/> is the whole machine; the GPUs' share is <c>Count × UsdPerGpuHour</c>.
/// </summary>
public sealed record MachineClass(
    string Name,
    double UsdPerHour,
    int Vcpus,
    double CpuWattsIdlePerVcpu,
    double CpuWattsMaxPerVcpu,
    double MemoryGb,
    double MemoryKwhPerGbHour,
    GpuSpec? Gpu,
    double Pue,
    string Region,
    double EmbodiedKgCo2e,
    double LifetimeYears,
    string Source)
{
    /// <summary>
    /// Price per vCPU-hour added to <see cref="UsdPerHour"/>, US dollars: how classes that leave <see cref="Vcpus"/> at 0
    /// (sized from the host's agent facts) are priced. The CPU pool of a host is
    /// <c>max(0, UsdPerHour − GPU pool) + UsdPerVcpuHour × vCPUs</c>.
    /// </summary>
    public double UsdPerVcpuHour { get; init; }
}

/// <summary>A grid region's carbon intensity: a constant, or 24 hourly values (UTC hours 0–23).</summary>
public sealed record RegionIntensity(string Name, double GramsPerKwh, IReadOnlyList<double>? Hourly, string Source);

/// <summary>Maps hosts to a class: every given matcher must hold (label values and host name support <c>*</c> globs).</summary>
public sealed record HostRule(string Class, string? HostGlob, IReadOnlyDictionary<string, string> Labels, string? GpuModelContains, int? Vcpus);

/// <summary>What an agent reported about a host, used by <see cref="HostRule"/>s and when a class leaves a size unset.</summary>
public sealed record HostFacts(int Cpus, long MemoryBytes, IReadOnlyList<string> Gpus);

/// <summary>Thrown for a bad model file: the message names the file, the field path and what is wrong.</summary>
public sealed class CostModelException(string message) : Exception(message);

/// <summary>
/// A parsed cost model. <see cref="Defaults"/> holds the built-in classes and regions, each with its source;
/// a model file adds to or replaces them (docs/cost.md).
/// </summary>
public sealed partial class CostModel
{
    /// <summary>The model, its classes, regions, host rules and default class.</summary>
    public CostModel(string source, IReadOnlyDictionary<string, MachineClass> classes, IReadOnlyDictionary<string, RegionIntensity> regions, IReadOnlyList<HostRule> rules, string defaultClass)
    {
        Source = source;
        Classes = classes;
        Regions = regions;
        Rules = rules;
        DefaultClass = defaultClass;
    }

    /// <summary>Where the model came from: a path or <c>built-in defaults</c>.</summary>
    public string Source { get; }

    /// <summary>Classes by name.</summary>
    public IReadOnlyDictionary<string, MachineClass> Classes { get; }

    /// <summary>Regions by name.</summary>
    public IReadOnlyDictionary<string, RegionIntensity> Regions { get; }

    /// <summary>Host rules, first match wins.</summary>
    public IReadOnlyList<HostRule> Rules { get; }

    /// <summary>Class of hosts no rule matches.</summary>
    public string DefaultClass { get; }

    /// <summary>The built-in model (docs/cost.md "Defaults and their sources").</summary>
    public static CostModel Defaults => s_defaults.Value;

    /// <summary>Reads a model file (JSON with comments); throws <see cref="CostModelException"/> naming the field.</summary>
    public static CostModel Load(string path) => CostModelParser.Load(path);

    /// <summary>Parses model text; <paramref name="name"/> names it in errors.</summary>
    public static CostModel Parse(string text, string name) => CostModelParser.Parse(text, name);

    /// <summary>
    /// The class of a host: <paramref name="className"/> if given (unknown → <see cref="CostModelException"/> listing the
    /// known ones), else the class named by the host's label <c>class</c> when the model has it, else the first matching
    /// rule, else <see cref="DefaultClass"/>. The class is returned as defined: a class with <c>Vcpus</c> 0 is sized
    /// from <paramref name="facts"/> by the calculator.
    /// </summary>
    public MachineClass ClassFor(string host, IReadOnlyDictionary<string, string> labels, HostFacts? facts, string? className = null) =>
        ClassFor(host, labels, facts, className, out _);
}
