using Orac.Tests.Shared;
using Orac.Collect.PerfEvents;
using Orac.Collect.Symbols;
using Orac.Fuzz;

namespace Orac.Collect.Tests.PerfEvents;

public class PerfRecordDecoderTests
{
    private const ulong ContextKernel = unchecked((ulong)-128);
    private const ulong ContextUser = unchecked((ulong)-512);

    private sealed class Recorder : IPerfRecordSink
    {
        public List<(PerfSample Sample, ulong[] Chain)> Samples { get; } = [];

        public List<string> Events { get; } = [];

        public void OnSample(in PerfSample sample, ReadOnlySpan<ulong> callchain) => Samples.Add((sample, callchain.ToArray()));

        public void OnMmap(int pid, ulong start, ulong length, ulong fileOffset, string path) => Events.Add($"mmap {pid} {start:x} {length:x} {fileOffset:x} {path}");

        public void OnComm(int pid, int tid, string comm) => Events.Add($"comm {pid} {tid} {comm}");

        public void OnFork(int pid, int ppid, int tid) => Events.Add($"fork {pid} {ppid} {tid}");

        public void OnExit(int pid, int tid) => Events.Add($"exit {pid} {tid}");
    }

    /// <summary>Names addresses by their value so tests can see which resolver each frame went to.</summary>
    private sealed class NamingResolver : ISymbolResolver
    {
        public List<int> Noted { get; } = [];

        public void NoteProcess(int pid) => Noted.Add(pid);

        public void NoteMapping(int pid, ulong start, ulong length, ulong fileOffset, string path)
        {
        }

        public string ResolveKernel(ulong address) => $"k{address:x}";

        public string ResolveUser(int pid, ulong address) => $"u{address:x}";
    }

    [Fact]
    public void Decode_SampleCommMmapLost_AllFieldsRead()
    {
        byte[] ring = PerfRecordBytes.Ring(
            4096,
            0,
            out ulong head,
            PerfRecordBytes.Comm(42, 43, "worker"),
            PerfRecordBytes.Mmap2(42, 0x400000, 0x1000, 0x2000, "/usr/bin/hot"),
            PerfRecordBytes.Sample(42, 43, 0x401000, ContextUser, 0x401000, 0x402000),
            PerfRecordBytes.Lost(7));
        var sink = new Recorder();
        var stats = new PerfDecodeStats();

        ulong tail = PerfRingReader.Read(ring, 0, head, new byte[65536], sink, stats);

        Assert.Equal(head, tail);
        Assert.Equal(["comm 42 43 worker", "mmap 42 400000 1000 2000 /usr/bin/hot"], sink.Events);
        (PerfSample s, ulong[] chain) = Assert.Single(sink.Samples);
        Assert.Equal(new PerfSample(0x401000, 42, 43, 123_456_789, 1, 10_000_000), s);
        Assert.Equal([ContextUser, 0x401000UL, 0x402000UL], chain);
        Assert.Equal(7, stats.Lost);
        Assert.Equal(0, stats.Malformed);
    }

    [Fact]
    public void Read_RecordWrappingTheRingEnd_DecodedWhole()
    {
        byte[] first = PerfRecordBytes.Comm(1, 1, "a");
        byte[] sample = PerfRecordBytes.Sample(5, 6, 0x10, ContextUser, 0x10, 0x20, 0x30, 0x40);

        // Start so that the sample begins 16 bytes before the end of a 256-byte ring and wraps.
        ulong tail = (ulong)(256 - 16 - first.Length) + 256 * 3;
        byte[] ring = PerfRecordBytes.Ring(256, tail, out ulong head, first, sample);
        var sink = new Recorder();
        var stats = new PerfDecodeStats();

        PerfRingReader.Read(ring, tail, head, new byte[65536], sink, stats);

        Assert.Equal(0, stats.Malformed);
        (PerfSample s, ulong[] chain) = Assert.Single(sink.Samples);
        Assert.Equal(5, s.Pid);
        Assert.Equal([ContextUser, 0x10UL, 0x20UL, 0x30UL, 0x40UL], chain);
    }

    [Fact]
    public void Read_HeaderWrappingTheRingEnd_DecodedWhole()
    {
        byte[] sample = PerfRecordBytes.Sample(9, 9, 0x10, ContextUser, 0x10);
        ulong tail = 256 - 4;
        byte[] ring = PerfRecordBytes.Ring(256, tail, out ulong head, sample);
        var sink = new Recorder();
        var stats = new PerfDecodeStats();

        PerfRingReader.Read(ring, tail, head, new byte[65536], sink, stats);

        Assert.Single(sink.Samples);
        Assert.Equal(0, stats.Malformed);
    }

    [Fact]
    public void Read_TruncatedRecord_CountedNotDecoded()
    {
        byte[] sample = PerfRecordBytes.Sample(9, 9, 0x10, ContextUser, 0x10, 0x20);
        byte[] ring = PerfRecordBytes.Ring(256, 0, out ulong head, sample);

        // The head stops 16 bytes into the record: the record claims more than there is.
        var sink = new Recorder();
        var stats = new PerfDecodeStats();
        ulong tail = PerfRingReader.Read(ring, 0, head - 16, new byte[65536], sink, stats);

        Assert.Empty(sink.Samples);
        Assert.Equal(1, stats.Malformed);
        Assert.Equal(head - 16, tail);
        Assert.Contains("record size", stats.FirstMalformed, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_CallchainLongerThanRecord_CountedNotDecoded()
    {
        byte[] sample = PerfRecordBytes.Sample(9, 9, 0x10, ContextUser, 0x10, 0x20);

        // nr says 1000 entries; the record holds 2.
        BitConverter.TryWriteBytes(sample.AsSpan(8 + 40), 1000UL);
        var sink = new Recorder();
        var stats = new PerfDecodeStats();

        PerfRecordDecoder.Decode(sample, sink, stats, 0);

        Assert.Empty(sink.Samples);
        Assert.Equal(1, stats.Malformed);
        Assert.Contains("callchain of 1000 entries", stats.FirstMalformed, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ZeroSizeHeader_StopsWithoutLooping()
    {
        byte[] ring = new byte[256];
        var sink = new Recorder();
        var stats = new PerfDecodeStats();

        ulong tail = PerfRingReader.Read(ring, 0, 256, new byte[65536], sink, stats);

        Assert.Equal(256UL, tail);
        Assert.Equal(1, stats.Malformed);
    }

    [Fact]
    public void Sink_KernelThenUserChain_RootFirstWithCommAndResolverPerContext()
    {
        var resolver = new NamingResolver();
        var sink = new SampleProfileSink(resolver);
        sink.OnComm(42, 42, "hot");
        var sample = new PerfSample(0xffffffff81000010, 42, 42, 1, 0, 1);
        sink.OnSample(sample, [ContextKernel, 0xffffffff81000010, 0xffffffff81000020, ContextUser, 0x401000, 0x402000]);
        sink.OnSample(sample, [ContextKernel, 0xffffffff81000010, 0xffffffff81000020, ContextUser, 0x401000, 0x402000]);

        Model.Profile profile = sink.Build(1);

        Assert.Equal(2, profile.Total());
        Assert.Equal("hot;u402000;u401000;kffffffff81000020;kffffffff81000010", profile.StackToString(profile.SampleStacks[0]));
        Assert.Equal([42], resolver.Noted);
    }

    internal static List<byte[]> Seeds =>
    [
        [.. PerfRecordBytes.Comm(1, 1, "a"), .. PerfRecordBytes.Sample(1, 1, 0x10, ContextKernel, 0xffffffff81000000, ContextUser, 0x10, 0x20)],
        [0, .. new byte[7], .. PerfRecordBytes.Mmap2(3, 0x400000, 0x1000, 0, "/bin/x"), .. PerfRecordBytes.Lost(3)],
        PerfRecordBytes.Sample(7, 8, 0x10),
    ];

    [Fact]
    public void FuzzTarget_SurvivesMutations()
    {
        FuzzAssert.SurvivesMutations("perf-ring", d => PerfRingFuzz.Run(d), Seeds);
    }
}
