using Orac.Model;

namespace Orac.Formats.Speedscope;

/// <summary>
/// Fuzz target: reads arbitrary bytes as a speedscope file. <see cref="OracException"/> is an
/// accepted outcome; any other exception is a bug. Loaded profiles must have non-negative totals
/// (weights and self times are never negative).
/// </summary>
public static class SpeedscopeFuzz
{
    /// <summary>Runs one input through the reader.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        Profile p;
        try
        {
            p = SpeedscopeReader.Read(new MemoryStream(data.ToArray(), writable: false), "fuzz");
        }
        catch (OracException)
        {
            return;
        }

        for (int t = 0; t < p.SampleTypes.Count; t++)
        {
            if (p.Total(t) < 0)
            {
                throw new InvalidOperationException($"negative total {p.Total(t)} in column {t}");
            }
        }
    }
}
