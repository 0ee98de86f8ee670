using System.IO.Compression;
using System.Text;
using Orac.Formats.Perf;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Perf;

/// <summary>Hostile and broken inputs: valid output plus counted warnings, or one OracException naming the input; never a crash or a hang.</summary>
public class PerfBadInputTests
{
    private static byte[] Sample => File.ReadAllBytes(Path.Combine(TestPaths.Data, "perf", "kernel-annotation.txt"));

    [Fact]
    public void EmptyInput_GivesEmptyOutput() => PerfTestSupport.WithTimeout(30, () =>
    {
        var w = new ParseWarnings();
        Assert.Empty(PerfTestSupport.ViaCollapse([], new PerfCollapseOptions(), w));
        Assert.Empty(PerfTestSupport.ViaProfile([], new PerfCollapseOptions { Threads = 2 }, w));
        Assert.Equal(0, w.Total);
    });

    [Fact]
    public void BinaryGarbage_IsCountedNotFatal() => PerfTestSupport.WithTimeout(60, () =>
    {
        var rng = new Random(1234);
        var data = new byte[1 << 20];
        rng.NextBytes(data);
        foreach (int threads in (int[])[1, 2])
        {
            var w = new ParseWarnings();
            byte[] a = PerfTestSupport.ViaCollapse(data, new PerfCollapseOptions { Threads = threads, BlockSize = 64 << 10 }, w);
            Assert.True(w.Total > 0);
            Assert.Equal(PerfTestSupport.ViaCollapse(data, new PerfCollapseOptions { Threads = 1, BlockSize = 64 << 10 }), a);
        }
    });

    [Fact]
    public void TruncatedFile_KeepsCompleteSamples() => PerfTestSupport.WithTimeout(30, () =>
    {
        byte[] whole = Sample;
        byte[] cut = whole.AsSpan(0, whole.Length - 20).ToArray();
        var w = new ParseWarnings();
        string output = Encoding.UTF8.GetString(PerfTestSupport.ViaCollapse(cut, new PerfCollapseOptions(), w));
        Assert.Equal("swapper;do_idle;native_safe_halt 1001001\n", output);
        Assert.True(w.Total >= 1); // the incomplete last sample (and the cut line)
    });

    [Fact]
    public void TruncatedGzip_IsOneClearErrorNotASilentShortTotal() => PerfTestSupport.WithTimeout(30, () =>
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int i = 0; i < 2000; i++)
            {
                z.Write(Sample);
            }
        }

        byte[] cut = gz.ToArray().AsSpan(0, (int)gz.Length / 2).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"orac-truncated-{Environment.ProcessId}.txt.gz");
        File.WriteAllBytes(path, cut);
        try
        {
            using Stream s = InputFiles.Open(path, Stream.Null);
            var e = Assert.Throws<OracException>(() =>
                PerfScriptCollapser.Collapse([s], [path], new PerfCollapseOptions { Threads = 2 }, new ParseWarnings(), new MemoryStream()));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact]
    public void CorruptGzip_IsOracExceptionNamingFileAndByteOffset() => PerfTestSupport.WithTimeout(30, () =>
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(Sample);
        }

        byte[] bytes = gz.ToArray();
        for (int i = 12; i < bytes.Length - 8; i++)
        {
            bytes[i] ^= 0x5A;
        }

        Stream s = InputFiles.Unwrap(new MemoryStream(bytes), "broken.gz");
        var e = Assert.Throws<OracException>(() => PerfScriptCollapser.Collapse([s], ["broken.gz"], new PerfCollapseOptions(), new ParseWarnings(), new MemoryStream()));
        Assert.Matches(@"^broken\.gz: corrupt gzip data near compressed byte \d+: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    });

    [Fact]
    public void InvalidUtf8_PassesThroughAsBytes() => PerfTestSupport.WithTimeout(30, () =>
    {
        byte[] input = Encoding.Latin1.GetBytes("pr\u00ffg 1 [000] 1.0: 3 cycles: \n\t1 f\u00c3\u0028x) (/bin/\u00fe)\n\n");
        byte[] output = PerfTestSupport.ViaCollapse(input, new PerfCollapseOptions());
        Assert.Equal(Encoding.Latin1.GetBytes("pr\u00ffg;f\u00c3 3\n"), output);
    });

    [Fact]
    public void HundredMegabyteLine_IsSkippedAndCounted() => PerfTestSupport.WithTimeout(120, () =>
    {
        foreach (int threads in (int[])[1, 2])
        {
            var input = new ConcatStream(
                "prog 1 [000] 1.0: 2 cycles: \n\t1 before (/bin/prog)\n\n"u8.ToArray(),
                new RepeatStream((byte)'x', 100L << 20),
                "\nprog 1 [000] 2.0: 3 cycles: \n\t1 after (/bin/prog)\n\n"u8.ToArray());
            var w = new ParseWarnings();
            var o = new MemoryStream();
            PerfScriptCollapser.Collapse([input], ["big"], new PerfCollapseOptions { Threads = threads }, w, o);
            Assert.Equal("prog;after 3\nprog;before 2\n", Encoding.UTF8.GetString(o.ToArray()));
            Assert.Equal(1, w.Total);
            var text = new StringWriter();
            w.WriteTo(text);
            Assert.Contains("big:4", text.ToString(), StringComparison.Ordinal);
        }
    });

    [Fact]
    public void CrlfInput_IsLikePerlNoSamples() => PerfTestSupport.WithTimeout(30, () =>
    {
        // perl chomps only "\n": "\r" lines are not blank, so no sample ever ends.
        byte[] crlf = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(Sample).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.Empty(PerfTestSupport.ViaCollapse(crlf, new PerfCollapseOptions()));
    });

    [Fact]
    public void DeepStack_IsAccepted() => PerfTestSupport.WithTimeout(60, () =>
    {
        var sb = new StringBuilder("prog 1 [000] 1.0: 1 cycles: \n");
        for (int i = 0; i < 20000; i++)
        {
            sb.Append("\t1 f").Append(i % 7).Append(" (/bin/prog)\n");
        }

        sb.Append('\n');
        byte[] output = PerfTestSupport.ViaCollapse(Encoding.ASCII.GetBytes(sb.ToString()), new PerfCollapseOptions { Threads = 2 });
        Assert.Equal(20001, Encoding.ASCII.GetString(output).Split(';').Length);
    });

    /// <summary>Yields a byte <paramref name="total"/> times without holding them.</summary>
    private sealed class RepeatStream(byte value, long total) : Stream
    {
        private readonly long _total = total;
        private long _left = total;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _total;

        public override long Position { get => _total - _left; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int n) => Read(buffer.AsSpan(offset, n));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, _left);
            buffer[..n].Fill(value);
            _left -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int n) => throw new NotSupportedException();
    }

    private sealed class ConcatStream(byte[] head, Stream middle, byte[] tail) : Stream
    {
        private readonly Stream[] _parts = [new MemoryStream(head), middle, new MemoryStream(tail)];
        private int _at;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int n) => Read(buffer.AsSpan(offset, n));

        public override int Read(Span<byte> buffer)
        {
            while (_at < _parts.Length)
            {
                int r = _parts[_at].Read(buffer);
                if (r > 0)
                {
                    return r;
                }

                _at++;
            }

            return 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int n) => throw new NotSupportedException();
    }
}
