using Orac.Model;
using Orac.Tests.Shared;
using static Orac.Storage.Tests.StoreTestData;

namespace Orac.Storage.Tests;

/// <summary>The "wal" fuzz target: log segments with mutated framing and records fail only with OracException.</summary>
public sealed class WalFuzzTests
{
    private static List<byte[]> Seeds()
    {
        var batches = RandomBatches(71, 3);
        return [WalFuzz.Segment(batches.Take(1)), WalFuzz.Segment(batches), WalFuzz.Segment([[RandomItem(new Random(72), T0)]])];
    }

    [Fact]
    public void Wal_SurvivesMutations() => FuzzAssert.SurvivesMutations("wal", WalFuzz.Run, Seeds(), seconds: 5);

    [Fact]
    public void Wal_ValidSegment_ReplaysEveryRecord()
    {
        var segment = WalFuzz.Segment(RandomBatches(73, 4));
        int records = 0;
        long good = WriteAheadLog.ReplaySegment("x.wal", segment, newest: true, skipCorrupt: false, log: null, apply: _ => records++);
        Assert.Equal(4, records);
        Assert.Equal(segment.Length, good);
    }

    [Fact]
    public void Wal_RecordWithValidChecksumButBadContent_IsAnErrorNamingTheOffset()
    {
        // A well-framed record whose payload claims a string longer than the record.
        byte[] payload = [1, 1, 100];
        var segment = new byte[8 + payload.Length];
        BitConverter.TryWriteBytes(segment.AsSpan(0), payload.Length);
        BitConverter.TryWriteBytes(segment.AsSpan(4), System.IO.Hashing.Crc32.HashToUInt32(payload));
        payload.CopyTo(segment, 8);
        var e = Assert.Throws<OracException>(() => WriteAheadLog.ReplaySegment("x.wal", segment, newest: true, skipCorrupt: false, log: null, apply: _ => { }));
        Assert.Contains("x.wal: record at byte 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("string of 100 bytes runs past the record end", e.Message, StringComparison.Ordinal);
    }
}
