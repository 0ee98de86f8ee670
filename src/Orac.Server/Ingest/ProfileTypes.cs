using Orac.Model;
using Orac.Model.Query;

namespace Orac.Server.Ingest;

/// <summary>
/// Which profile type id (<c>name:sample_type:sample_unit:period_type:period_unit</c>) a value column is stored under,
/// following Pyroscope's conventions (see docs/api.md, "Profile types"):
/// <list type="bullet">
/// <item><c>cpu</c>, <c>samples</c> (period cpu) → <c>process_cpu</c></item>
/// <item><c>alloc_objects</c>, <c>alloc_space</c>, <c>inuse_objects</c>, <c>inuse_space</c> → <c>memory</c> (period <c>space:bytes</c>)</item>
/// <item><c>wall</c>, or <c>samples</c> with period <c>wall</c> → <c>wall</c></item>
/// <item><c>contentions</c>, <c>delay</c> → <c>block</c> when the app name ends in <c>.block_*</c>, else <c>mutex</c> (period <c>contentions:count</c>)</item>
/// <item><c>goroutine</c>, <c>goroutines</c> → <c>goroutines</c></item>
/// <item>anything else keeps its own name: <c>gpu_time:gpu_time:nanoseconds:…</c></item>
/// </list>
/// </summary>
public static class ProfileTypes
{
    /// <summary>The type of a body without sample types (folded, lines) from the Pyroscope app-name suffix.</summary>
    /// <param name="suffix">What follows the last '.' of the app name (<c>cpu</c>, <c>alloc_objects</c>, …), or null.</param>
    /// <param name="units">Pyroscope's <c>units</c> parameter (<c>samples</c>, <c>objects</c>, <c>bytes</c>, …), or null.</param>
    /// <param name="hasSampleRate">True when counts will be converted to nanoseconds with the sample rate.</param>
    public static ProfileTypeId FromSuffix(string? suffix, string? units, bool hasSampleRate)
    {
        return suffix switch
        {
            "cpu" or "itimer" => hasSampleRate ? ProfileTypeId.ProcessCpu : ProfileTypeId.ProcessCpuSamples,
            "wall" => hasSampleRate
                ? new("wall", "wall", "nanoseconds", "wall", "nanoseconds")
                : new("wall", "samples", "count", "wall", "nanoseconds"),
            "alloc_objects" => new("memory", "alloc_objects", "count", "space", "bytes"),
            "alloc_space" => new("memory", "alloc_space", "bytes", "space", "bytes"),
            "inuse_objects" => new("memory", "inuse_objects", "count", "space", "bytes"),
            "inuse_space" => new("memory", "inuse_space", "bytes", "space", "bytes"),
            "goroutines" => new("goroutines", "goroutine", "count", "goroutine", "count"),
            "mutex_count" => new("mutex", "contentions", "count", "contentions", "count"),
            "mutex_duration" => new("mutex", "delay", "nanoseconds", "contentions", "count"),
            "block_count" => new("block", "contentions", "count", "contentions", "count"),
            "block_duration" => new("block", "delay", "nanoseconds", "contentions", "count"),
            _ => units switch
            {
                "objects" => new("memory", "alloc_objects", "count", "space", "bytes"),
                "bytes" => new("memory", "alloc_space", "bytes", "space", "bytes"),
                "goroutines" => new("goroutines", "goroutine", "count", "goroutine", "count"),
                "lock_samples" => new("mutex", "contentions", "count", "contentions", "count"),
                "lock_nanoseconds" => new("mutex", "delay", "nanoseconds", "contentions", "count"),
                _ => hasSampleRate ? ProfileTypeId.ProcessCpu : ProfileTypeId.ProcessCpuSamples,
            },
        };
    }

    /// <summary>Whether <paramref name="suffix"/> is one of the Pyroscope app-name suffixes that name a profile type.</summary>
    public static bool IsKnownSuffix(string suffix) => suffix is "cpu" or "itimer" or "wall" or "alloc_objects" or "alloc_space"
        or "inuse_objects" or "inuse_space" or "goroutines" or "mutex_count" or "mutex_duration" or "block_count" or "block_duration";

    /// <summary>
    /// The type id of one value column of a profile that names its sample types (pprof, Orac JSON, speedscope).
    /// Throws <see cref="OracException"/> (usage) when the names cannot form an id.
    /// </summary>
    public static ProfileTypeId FromSampleType(SampleType sample, SampleType period, string? suffix)
    {
        string type = Clean(sample.Type, "samples");
        string unit = Clean(sample.Unit, "count");
        string periodType = Clean(period.Type, "");
        string periodUnit = Clean(period.Unit, "");
        (string name, string pt, string pu) = type switch
        {
            "cpu" => ("process_cpu", "cpu", "nanoseconds"),
            "samples" when periodType == "wall" => ("wall", "wall", "nanoseconds"),
            "samples" => ("process_cpu", "cpu", "nanoseconds"),
            "wall" => ("wall", "wall", "nanoseconds"),
            "alloc_objects" or "alloc_space" or "inuse_objects" or "inuse_space" => ("memory", "space", "bytes"),
            "contentions" or "delay" => (suffix is not null && suffix.StartsWith("block", StringComparison.Ordinal) ? "block" : "mutex", "contentions", "count"),
            "goroutine" or "goroutines" => ("goroutines", "goroutine", "count"),
            _ => (type, type, unit),
        };
        if (periodType.Length > 0)
        {
            pt = periodType;
            pu = periodUnit.Length > 0 ? periodUnit : "count";
        }

        string text = $"{name}:{type}:{unit}:{pt}:{pu}";
        return ProfileTypeId.TryParse(text, out ProfileTypeId id)
            ? id
            : throw new OracException($"sample type '{Auth.AuthStore.Escape(sample.ToString())}' cannot name a profile type ({Auth.AuthStore.Escape(text)})", OracException.Usage);
    }

    // Type id parts may not hold ':', spaces, braces, quotes, '=' or ','; such characters become '_'.
    private static string Clean(string? s, string fallback)
    {
        if (string.IsNullOrEmpty(s))
        {
            return fallback;
        }

        if (s.Length > 64)
        {
            s = s[..64];
        }

        Span<char> buf = stackalloc char[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            buf[i] = c <= ' ' || c is ':' or '{' or '}' or '"' or '=' or ',' or (char)0x7f ? '_' : c;
        }

        return new string(buf);
    }
}
