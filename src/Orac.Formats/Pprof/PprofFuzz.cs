using Orac.Model;

namespace Orac.Formats.Pprof;

/// <summary>
/// Fuzz target: reads arbitrary bytes as pprof; whatever loads must write back and read again
/// with the same sample types and totals. <see cref="OracException"/> from the first read is an
/// accepted outcome; any other exception (or a round-trip mismatch) is a bug.
/// </summary>
public static class PprofFuzz
{
    /// <summary>Runs one input through the reader, the writer and the reader again.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        Profile p;
        try
        {
            p = PprofReader.Read(data, "fuzz", null, maxBytes: 1 << 22);
        }
        catch (OracException)
        {
            return;
        }

        var ms = new MemoryStream();
        PprofWriter.Write(p, ms, gzip: (data.Length & 1) == 0);
        Profile back = PprofReader.Read(ms.ToArray(), "fuzz-roundtrip");
        if (back.SampleTypes.Count != p.SampleTypes.Count)
        {
            throw new InvalidOperationException($"round trip changed the sample type count {p.SampleTypes.Count} -> {back.SampleTypes.Count}");
        }

        for (int t = 0; t < p.SampleTypes.Count; t++)
        {
            if (back.SampleTypes[t] != p.SampleTypes[t] || back.Total(t) != p.Total(t))
            {
                throw new InvalidOperationException($"round trip changed column {t}: {p.SampleTypes[t]} {p.Total(t)} -> {back.SampleTypes[t]} {back.Total(t)}");
            }
        }
    }
}
