namespace Orac.Model;

/// <summary>What one column of sample values measures, e.g. <c>cpu</c>/<c>nanoseconds</c> or <c>samples</c>/<c>count</c>.</summary>
public readonly record struct SampleType(string Type, string Unit)
{
    /// <summary>Plain sample counts, the unit of folded stacks without other information.</summary>
    public static SampleType Samples => new("samples", "count");

    /// <inheritdoc/>
    public override string ToString() => $"{Type}/{Unit}";
}

/// <summary>Facts about where and when a profile was taken. Times are UTC nanoseconds since the Unix epoch; 0 means unknown.</summary>
public sealed record ProfileMetadata
{
    /// <summary>Host name, or empty.</summary>
    public string Host { get; init; } = "";

    /// <summary>Service name, or empty.</summary>
    public string Service { get; init; } = "";

    /// <summary>Owning organisation, or empty.</summary>
    public string Org { get; init; } = "";

    /// <summary>Sampling period in units of the period type, 0 if unknown.</summary>
    public long Period { get; init; }

    /// <summary>What the period counts, e.g. cpu/nanoseconds.</summary>
    public SampleType PeriodType { get; init; }

    /// <summary>Start of the covered time range, Unix ns.</summary>
    public long StartNs { get; init; }

    /// <summary>End of the covered time range, Unix ns.</summary>
    public long EndNs { get; init; }
}
