using Orac.Model;
using Orac.Model.Query;
using Orac.Storage;
using static Orac.Storage.Tests.StoreTestData;

namespace Orac.Storage.Tests;

public sealed class TieredProfileStoreTests
{
    private static StorageOptions Options(long? now = null, Func<long>? clock = null) => new()
    {
        NowNs = clock ?? (() => now ?? T0 + (30 * StorageOptions.MinuteNs)),
        FlushInterval = TimeSpan.FromHours(1), // tests flush explicitly
    };

    private static async Task<MemoryProfileStore> IngestBoth(TieredProfileStore tiered, List<IngestItem[]> batches)
    {
        var memory = new MemoryProfileStore();
        foreach (var b in batches)
        {
            await memory.IngestAsync(b);
            await tiered.IngestAsync(b);
        }

        return memory;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Queries_MatchMemoryStore_HotAfterFlushAndAfterRestart(int seed)
    {
        using var dir = new TempDir();
        var batches = RandomBatches(seed, 60);
        MemoryProfileStore memory;
        await using (var store = TieredProfileStore.Open(dir.Path, Options()))
        {
            memory = await IngestBoth(store, batches);
            AssertSameAnswers(memory, store, seed);
            await store.FlushAsync();
            AssertSameAnswers(memory, store, seed + 100);

            // Late data for flushed buckets: sealed and open parts together.
            var more = RandomBatches(seed + 1000, 10);
            foreach (var b in more)
            {
                await memory.IngestAsync(b);
                await store.IngestAsync(b);
            }

            AssertSameAnswers(memory, store, seed + 200);
        }

        await using (var reopened = TieredProfileStore.Open(dir.Path, Options()))
        {
            AssertSameAnswers(memory, reopened, seed + 300);
        }
    }

    [Fact]
    public async Task Queries_MatchMemoryStore_WhenHotWindowIsTinyAndReadsComeFromCold()
    {
        using var dir = new TempDir();
        var batches = RandomBatches(7, 50);
        MemoryProfileStore memory;
        await using (var store = TieredProfileStore.Open(dir.Path, Options()))
        {
            memory = await IngestBoth(store, batches);
        }

        // Reopened with a 10 s hot window: nearly every bucket is read from DuckDB; new ingests mix hot and cold.
        var tiny = Options() with { HotWindowNs = Buckets.RawNs };
        await using (var store = TieredProfileStore.Open(dir.Path, tiny))
        {
            AssertSameAnswers(memory, store, 8);
            foreach (var b in RandomBatches(9, 20))
            {
                await memory.IngestAsync(b);
                await store.IngestAsync(b);
            }

            AssertSameAnswers(memory, store, 10);
            await store.FlushAsync();
            AssertSameAnswers(memory, store, 11);
        }
    }

    [Fact]
    public async Task Queries_MatchMemoryStore_WhenMemoryCapEvictsEverythingFlushed()
    {
        using var dir = new TempDir();
        await using var store = TieredProfileStore.Open(dir.Path, Options() with { HotMaxBytes = 1 });
        var memory = await IngestBoth(store, RandomBatches(12, 40));
        await store.FlushAsync();
        Assert.Equal(0, store.Stats().HotSamples);
        AssertSameAnswers(memory, store, 13);
        foreach (var b in RandomBatches(14, 10))
        {
            await memory.IngestAsync(b);
            await store.IngestAsync(b);
        }

        Assert.True(store.Stats().HotSamples > 0);
        AssertSameAnswers(memory, store, 15);
    }

    [Fact]
    public async Task Replay_CopyTakenBeforeFlush_HasEverythingAcknowledged()
    {
        using var dir = new TempDir();
        using var copy = new TempDir();
        var batches = RandomBatches(21, 40);
        await using (var store = TieredProfileStore.Open(dir.Path, Options()))
        {
            var half = batches.Take(20).ToList();
            foreach (var b in half)
            {
                await store.IngestAsync(b);
            }

            await store.FlushAsync(); // half in DuckDB, the rest only in the log
            foreach (var b in batches.Skip(20))
            {
                await store.IngestAsync(b);
            }

            // What a kill -9 leaves behind: the files as they are now, never closed.
            CopyDirectory(dir.Path, copy.Path);
            Assert.True(store.Stats().WalBytes > 0);
        }

        var memory = new MemoryProfileStore();
        foreach (var b in batches)
        {
            await memory.IngestAsync(b);
        }

        await using (var replayed = TieredProfileStore.Open(copy.Path, Options()))
        {
            AssertSameAnswers(memory, replayed, 22);
            await replayed.FlushAsync();
            Assert.Equal(0, replayed.Stats().WalBytes);
        }

        // Replayed once, checkpointed, not again.
        await using (var again = TieredProfileStore.Open(copy.Path, Options()))
        {
            AssertSameAnswers(memory, again, 23);
        }
    }

    private static void AssertSameTotals(IProfileStore expected, IProfileStore actual)
    {
        long all = 0;
        foreach (var type in Types)
        {
            long e = Total(expected, type, long.MinValue, long.MaxValue);
            all += e;
            Assert.Equal(e, Total(actual, type, long.MinValue, long.MaxValue));
        }

        Assert.True(all > 0);
    }

    private static async Task<(string Segment, MemoryProfileStore First, MemoryProfileStore Both)> TwoRecordsInLog(string dir, string copyTo)
    {
        var batches = RandomBatches(31, 2);
        var first = new MemoryProfileStore();
        var both = new MemoryProfileStore();
        await first.IngestAsync(batches[0]);
        await both.IngestAsync(batches[0]);
        await both.IngestAsync(batches[1]);
        await using (var store = TieredProfileStore.Open(dir, Options()))
        {
            await store.IngestAsync(batches[0]);
            await store.IngestAsync(batches[1]);
            CopyDirectory(dir, copyTo);
        }

        var segments = Directory.GetFiles(Path.Combine(copyTo, "wal"), "*.wal").Where(f => new FileInfo(f).Length > 0).ToList();
        Assert.Single(segments);
        return (segments[0], first, both);
    }

    [Fact]
    public async Task Replay_TornTail_IsDroppedAndTheRestKept()
    {
        using var dir = new TempDir();
        using var copy = new TempDir();
        var (segment, first, both) = await TwoRecordsInLog(dir.Path, copy.Path);
        var bytes = await File.ReadAllBytesAsync(segment);
        using var copy2 = new TempDir();
        CopyDirectory(copy.Path, copy2.Path);

        // A half-written third record (header promising more than is there) is a torn tail: dropped.
        await File.AppendAllBytesAsync(segment, [0x40, 0, 0, 0, 1, 2, 3, 4, 9, 9]);
        var logs = new List<string>();
        await using (var store = TieredProfileStore.Open(copy.Path, Options() with { Log = logs.Add }))
        {
            AssertSameAnswers(both, store, 32, queries: 10, requireData: false);
            AssertSameTotals(both, store);
        }

        Assert.Contains(logs, l => l.Contains("torn", StringComparison.Ordinal));

        // Cutting the second record short leaves only the first.
        var seg2 = Path.Combine(copy2.Path, "wal", Path.GetFileName(segment));
        int firstLength = BitConverter.ToInt32(bytes, 0) + 8;
        await File.WriteAllBytesAsync(seg2, bytes.AsSpan(0, firstLength + ((bytes.Length - firstLength) / 2)).ToArray());
        foreach (var f in Directory.GetFiles(Path.Combine(copy2.Path, "wal")).Where(f => f != seg2))
        {
            File.Delete(f);
        }

        await using (var store = TieredProfileStore.Open(copy2.Path, Options()))
        {
            AssertSameAnswers(first, store, 33, queries: 10, requireData: false);
            AssertSameTotals(first, store);
        }
    }

    [Fact]
    public async Task Replay_CorruptMiddleRecord_IsAClearErrorOrALoggedSkip()
    {
        using var dir = new TempDir();
        using var copy = new TempDir();
        var (segment, _, _) = await TwoRecordsInLog(dir.Path, copy.Path);
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[20] ^= 0xFF; // inside the first record's payload
        await File.WriteAllBytesAsync(segment, bytes);

        var e = Assert.Throws<OracException>(() => TieredProfileStore.Open(copy.Path, Options()));
        Assert.Contains("corrupt at byte 0", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(segment), e.Message, StringComparison.Ordinal);

        var logs = new List<string>();
        await using var store = TieredProfileStore.Open(copy.Path, Options() with { SkipCorruptWalRecords = true, Log = logs.Add });
        Assert.Contains(logs, l => l.Contains("skipped a corrupt record at byte 0", StringComparison.Ordinal));
        var only2 = new MemoryProfileStore();
        await only2.IngestAsync(RandomBatches(31, 2)[1]);
        AssertSameAnswers(only2, store, 34, queries: 10, requireData: false);
        AssertSameTotals(only2, store);
    }

    [Fact]
    public async Task Open_SecondStoreOnSameDirectory_FailsClearly()
    {
        using var dir = new TempDir();
        await using var store = TieredProfileStore.Open(dir.Path, Options());
        var e = Assert.Throws<OracException>(() => TieredProfileStore.Open(dir.Path, Options()));
        Assert.Contains("in use", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_DamagedDatabaseFile_FailsClearly()
    {
        using var dir = new TempDir();
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "orac.duckdb"), Enumerable.Range(0, 10000).Select(i => (byte)(i * 7)).ToArray());
        var e = Assert.Throws<OracException>(() => TieredProfileStore.Open(dir.Path, Options()));
        Assert.Contains("orac.duckdb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_BadItem_ThrowsAndKeepsNothingOfTheCall()
    {
        using var dir = new TempDir();
        await using var store = TieredProfileStore.Open(dir.Path, Options());
        var good = RandomBatches(41, 1)[0][0];
        var bad = good with { Labels = SeriesLabels.Create([new("host", "x")]) };
        await Assert.ThrowsAsync<OracException>(async () => await store.IngestAsync([good, bad]));
        Assert.Equal(0, store.Stats().HotSamples);
        Assert.Equal(0, store.Stats().WalBytes);
        Assert.Empty(store.Types(Orgs, long.MinValue, long.MaxValue));
    }
}
