using System.Text;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Agent.Tests;

/// <summary>The on-disk spool: order, bound, damaged files, restarts; and its file format's reader.</summary>
public sealed class SpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-spool-").FullName;
    private readonly StringWriter _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Spool Open(long max = Spool.DefaultMaxBytes) => Spool.Open(_dir, "agent-1", max, _log);

    private static byte[] Body(int n, byte fill) => Enumerable.Repeat(fill, n).ToArray();

    [Fact]
    public void Spool_TakeOldest_ReturnsUploadsInTheOrderTheyWereAdded()
    {
        using Spool spool = Open();
        long a = spool.Add("/api/v1/profiles?service=a", "application/json", 1, Body(10, 1));
        long b = spool.Add("/api/v1/profiles?service=b", "application/json", 2, Body(10, 2));
        long c = spool.Add("/api/v1/profiles?service=c", "application/json", 3, Body(10, 3));
        Assert.True(a < b && b < c);

        var seen = new List<(string Path, long Samples, string Id)>();
        while (spool.TakeOldest() is (long seq, SpoolEntry e))
        {
            seen.Add((e.PathAndQuery, e.Samples, e.UploadId));
            spool.Complete(seq);
        }

        Assert.Equal(["/api/v1/profiles?service=a", "/api/v1/profiles?service=b", "/api/v1/profiles?service=c"], seen.Select(s => s.Path));
        Assert.Equal([1L, 2L, 3L], seen.Select(s => s.Samples));
        Assert.Equal($"agent-1-{a}", seen[0].Id);
        Assert.Empty(Directory.GetFiles(_dir));
        Assert.Equal(0, spool.Stats.Files);
        Assert.Equal(0, spool.Stats.Bytes);
    }

    [Fact]
    public void Spool_OverItsBound_DropsTheOldestFirst_AndCountsUploadsAndSamples()
    {
        long fileBytes = SpoolFile.Encode(new SpoolEntry { UploadId = "agent-1-0000000000000", PathAndQuery = "/p", ContentType = "application/json", Samples = 0, Body = Body(1000, 0) }).Length;
        using Spool spool = Open(max: (fileBytes * 3) + 10);
        for (int i = 1; i <= 5; i++)
        {
            spool.Add("/p", "application/json", i * 10, Body(1000, (byte)i));
        }

        Assert.Equal(3, spool.Stats.Files);
        Assert.Equal(2, spool.Stats.DroppedUploads);
        Assert.Equal(10 + 20, spool.Stats.DroppedSamples);
        Assert.True(spool.Stats.Bytes <= spool.MaxBytes);
        Assert.Equal(3, Directory.GetFiles(_dir).Length);

        // What is left is the newest three, oldest of them first.
        var samples = new List<long>();
        while (spool.TakeOldest() is (long seq, SpoolEntry e))
        {
            samples.Add(e.Samples);
            Assert.Equal((byte)(e.Samples / 10), e.Body.Span[0]);
            spool.Complete(seq);
        }

        Assert.Equal([30L, 40L, 50L], samples);
    }

    [Fact]
    public void Spool_UploadLargerThanTheWholeSpool_IsDroppedAndCounted()
    {
        using Spool spool = Open(max: 500);
        Assert.Equal(-1, spool.Add("/p", "application/json", 7, Body(1000, 1)));
        Assert.Equal(1, spool.Stats.DroppedUploads);
        Assert.Equal(7, spool.Stats.DroppedSamples);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Spool_UploadBeingSent_IsNotDroppedByTheBound()
    {
        long fileBytes = SpoolFile.Encode(new SpoolEntry { UploadId = "agent-1-0000000000000", PathAndQuery = "/p", ContentType = "application/json", Samples = 0, Body = Body(1000, 0) }).Length;
        using Spool spool = Open(max: (fileBytes * 2) + 10);
        spool.Add("/p", "application/json", 1, Body(1000, 1));
        spool.Add("/p", "application/json", 2, Body(1000, 2));
        (long inFlight, SpoolEntry first) = spool.TakeOldest()!.Value;
        Assert.Equal(1, first.Samples);

        spool.Add("/p", "application/json", 3, Body(1000, 3));

        // The second (not the one in flight) made room; the first is still there to be completed.
        Assert.Equal(1, spool.Stats.DroppedUploads);
        Assert.Equal(2, spool.Stats.DroppedSamples);
        spool.Complete(inFlight);
        Assert.Equal(3, spool.TakeOldest()!.Value.Entry.Samples);
    }

    [Fact]
    public void Spool_DamagedAndCutShortFiles_AreSkippedCountedLoggedAndRemoved_ReplayGoesOn()
    {
        long damaged, cut;
        using (Spool spool = Open())
        {
            spool.Add("/p", "application/json", 1, Body(100, 1));
            damaged = spool.Add("/p", "application/json", 2, Body(100, 2));
            cut = spool.Add("/p", "application/json", 3, Body(100, 3));
            spool.Add("/p", "application/json", 4, Body(100, 4));
        }

        string damagedPath = Path.Combine(_dir, Spool.FileName(damaged));
        byte[] bytes = File.ReadAllBytes(damagedPath);
        bytes[^5] ^= 0xff;
        File.WriteAllBytes(damagedPath, bytes);
        string cutPath = Path.Combine(_dir, Spool.FileName(cut));
        File.WriteAllBytes(cutPath, File.ReadAllBytes(cutPath)[..^40]);

        using (Spool spool = Open())
        {
            var samples = new List<long>();
            while (spool.TakeOldest() is (long seq, SpoolEntry e))
            {
                samples.Add(e.Samples);
                spool.Complete(seq);
            }

            Assert.Equal([1L, 4L], samples);
            Assert.Equal(2, spool.Corrupt);
        }

        string log = _log.ToString();
        Assert.Contains($"skipped {Spool.FileName(damaged)}: byte ", log, StringComparison.Ordinal);
        Assert.Contains("CRC32 does not match", log, StringComparison.Ordinal);
        Assert.Contains($"skipped {Spool.FileName(cut)}: byte ", log, StringComparison.Ordinal);
        Assert.Contains("cut short", log, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Spool_Restart_KeepsWaitingUploads_AndContinuesTheSequenceAfterTheHighest()
    {
        long last;
        using (Spool spool = Open())
        {
            spool.Add("/p", "application/json", 5, Body(10, 1));
            last = spool.Add("/p", "application/json", 6, Body(10, 2));
        }

        // A half-written file from a crash is removed, not sent.
        File.WriteAllBytes(Path.Combine(_dir, Spool.FileName(last + 1) + ".tmp"), [1, 2, 3]);

        using (Spool spool = Open())
        {
            Assert.Equal(2, spool.Stats.Files);
            Assert.Equal(11, spool.WaitingSamples);
            Assert.True(spool.NextSequence > last);
            long next = spool.Add("/p", "application/json", 7, Body(10, 3));
            Assert.True(next > last);
            Assert.False(File.Exists(Path.Combine(_dir, Spool.FileName(last + 1) + ".tmp")));
            Assert.Contains("2 uploads", _log.ToString(), StringComparison.Ordinal);
            while (spool.TakeOldest() is (long seq, _))
            {
                spool.Complete(seq);
            }

            last = next;
        }

        // An empty spool after a restart still never reuses an upload id the server may have seen.
        using (Spool spool = Open())
        {
            Assert.True(spool.NextSequence > last);
        }
    }

    [Fact]
    public void SpoolFile_RoundTripsEveryField()
    {
        var entry = new SpoolEntry { UploadId = "web-1.a_b-123", PathAndQuery = "/api/v1/profiles?service=host&label=host%3Dw", ContentType = "application/json", Samples = 1234567890123, Body = Encoding.UTF8.GetBytes("{\"x\":1}") };
        SpoolEntry back = SpoolFile.Decode("x.upload", SpoolFile.Encode(entry));
        Assert.Equal(entry.UploadId, back.UploadId);
        Assert.Equal(entry.PathAndQuery, back.PathAndQuery);
        Assert.Equal(entry.ContentType, back.ContentType);
        Assert.Equal(entry.Samples, back.Samples);
        Assert.Equal(entry.Body.ToArray(), back.Body.ToArray());
    }

    [Theory]
    [InlineData(new byte[0], "x.upload: byte 0: cut short")]
    [InlineData(new byte[] { (byte)'N', (byte)'O', (byte)'P', (byte)'E', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "x.upload: byte 0: not an Orac spool file (magic \"NOPE\"")]
    [InlineData(new byte[] { (byte)'O', (byte)'S', (byte)'P', (byte)'L', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "x.upload: byte 4: spool format version 9")]
    [InlineData(new byte[] { (byte)'O', (byte)'S', (byte)'P', (byte)'L', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 }, "x.upload: byte 16: body length")]
    public void SpoolFile_BadBytes_AreOneErrorNamingFileAndOffset(byte[] data, string expected)
    {
        var e = Assert.Throws<OracException>(() => SpoolFile.Decode("x.upload", data));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SpoolFile_TrailingBytes_AreAnError()
    {
        byte[] file = SpoolFuzz.Seed("a-1", "/p", 1, [1, 2, 3]);
        byte[] longer = [.. file, 0];
        var e = Assert.Throws<OracException>(() => SpoolFile.Decode("x.upload", longer));
        Assert.Contains("1 bytes after the body's end", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AgentSpool_FuzzTarget_SurvivesMutations() =>
        FuzzAssert.SurvivesMutations("agent-spool", SpoolFuzz.Run,
        [
            SpoolFuzz.Seed("a-1", "/api/v1/profiles?service=host&format=json", 19, Encoding.UTF8.GetBytes("{\"format\":\"orac-profile\"}")),
            SpoolFuzz.Seed("web-7-1732860000000", "/p", 0, Array.Empty<byte>()),
            SpoolFuzz.Seed("x", "/api/v1/profiles?label=k%3Dv", long.MaxValue, [0x1f, 0x8b, 8, 0]),
        ]);
}
