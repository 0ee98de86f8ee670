using Orac.Collect.Symbols;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// Fuzz target for the ring-buffer reader and record decoder: the input is laid out as a ring (padded
/// to a power of two), read from a tail chosen by its first byte all the way round, and every decoded
/// sample goes through <see cref="SampleProfileSink"/> into a profile.
/// </summary>
public static class PerfRingFuzz
{
    /// <summary>Decodes <paramref name="data"/> as ring contents; must never throw or hang.</summary>
    public static void Run(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int size = 64;
        while (size < data.Length && size < (1 << 20))
        {
            size <<= 1;
        }

        byte[] ring = new byte[size];
        data.AsSpan(0, Math.Min(data.Length, size)).CopyTo(ring);
        ulong tail = data.Length > 0 ? (ulong)data[0] * 8 : 0;
        ulong head = tail + (ulong)(Math.Min(data.Length, size) & ~7);
        var sink = new SampleProfileSink(new NullResolver());
        var stats = new PerfDecodeStats();
        PerfRingReader.Read(ring, tail, head, new byte[65536], sink, stats);
        _ = sink.Build(10_000_000);
    }

    private sealed class NullResolver : ISymbolResolver
    {
        public void NoteProcess(int pid)
        {
        }

        public void NoteMapping(int pid, ulong start, ulong length, ulong fileOffset, string path)
        {
        }

        public string ResolveKernel(ulong address) => "k";

        public string ResolveUser(int pid, ulong address) => "u";
    }
}
