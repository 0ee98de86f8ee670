namespace Orac.Model.Query;

/// <summary>
/// A Pyroscope-style profile type id, <c>name:sample_type:sample_unit:period_type:period_unit</c>,
/// e.g. <c>process_cpu:cpu:nanoseconds:cpu:nanoseconds</c>. One stored series holds one value column,
/// so the id names exactly one (sample type, unit) of a profile.
/// </summary>
public readonly record struct ProfileTypeId(string Name, string SampleType, string SampleUnit, string PeriodType, string PeriodUnit)
{
    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create(" \t{}\"=,");

    /// <summary>CPU time sampled by Orac's own sampler and by perf: <c>process_cpu:cpu:nanoseconds:cpu:nanoseconds</c>.</summary>
    public static ProfileTypeId ProcessCpu => new("process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds");

    /// <summary>Plain sample counts of CPU stacks (folded input without a period): <c>process_cpu:samples:count:cpu:nanoseconds</c>.</summary>
    public static ProfileTypeId ProcessCpuSamples => new("process_cpu", "samples", "count", "cpu", "nanoseconds");

    /// <summary>The value column this id selects.</summary>
    public SampleType Value => new(SampleType, SampleUnit);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}:{SampleType}:{SampleUnit}:{PeriodType}:{PeriodUnit}";

    /// <summary>Parses <c>name:sample_type:sample_unit:period_type:period_unit</c>; every part non-empty, no spaces or braces.</summary>
    public static bool TryParse(string? text, out ProfileTypeId id)
    {
        id = default;
        if (string.IsNullOrEmpty(text) || text.Length > 256)
        {
            return false;
        }

        var parts = text.Split(':');
        if (parts.Length != 5)
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (part.Length == 0 || part.AsSpan().IndexOfAny(Forbidden) >= 0)
            {
                return false;
            }
        }

        id = new ProfileTypeId(parts[0], parts[1], parts[2], parts[3], parts[4]);
        return true;
    }

    /// <summary>Parses or throws an <see cref="OracException"/> (usage) naming the text and the expected shape.</summary>
    public static ProfileTypeId Parse(string? text) =>
        TryParse(text, out var id)
            ? id
            : throw new OracException(
                $"bad profile type '{text}': expected name:sample_type:sample_unit:period_type:period_unit, e.g. {ProcessCpu}",
                OracException.Usage);
}
