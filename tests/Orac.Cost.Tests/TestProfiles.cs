using Orac.Model;

namespace Orac.Cost.Tests;

/// <summary>Small profiles built in code: <c>"a;b;c" → value</c>, root first.</summary>
internal static class TestProfiles
{
    /// <summary>A cpu/nanoseconds profile.</summary>
    public static Profile CpuNanos(params (string Stack, long Nanos)[] rows) =>
        Build(new SampleType("cpu", "nanoseconds"), new ProfileMetadata(), rows);

    /// <summary>Sample counts with a CPU period of <paramref name="periodNs"/>.</summary>
    public static Profile Samples(long periodNs, params (string Stack, long Count)[] rows) =>
        Build(new SampleType("cpu", "samples"), new ProfileMetadata { Period = periodNs, PeriodType = new SampleType("cpu", "nanoseconds") }, rows);

    /// <summary>Plain sample counts (a folded file).</summary>
    public static Profile Counts(params (string Stack, long Count)[] rows) =>
        Build(SampleType.Samples, new ProfileMetadata(), rows);

    public static Profile Build(SampleType type, ProfileMetadata metadata, (string Stack, long Value)[] rows)
    {
        var b = new ProfileBuilder(type) { Metadata = metadata };
        foreach ((string stack, long value) in rows)
        {
            var frames = new List<FrameId>();
            if (stack.Length > 0)
            {
                foreach (string name in stack.Split(';'))
                {
                    frames.Add(b.Frame(name));
                }
            }

            b.Add(b.Stack(frames.ToArray()), value);
        }

        return b.Build();
    }
}
