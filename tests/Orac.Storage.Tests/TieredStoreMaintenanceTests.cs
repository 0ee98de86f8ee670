using Orac.Model;
using Orac.Model.Query;
using Orac.Storage;
using static Orac.Storage.Tests.StoreTestData;

namespace Orac.Storage.Tests;

/// <summary>Rollups, retention by tier with an injected clock, concurrency and size figures.</summary>
public sealed class TieredStoreMaintenanceTests
{
    private static IReadOnlyList<SeriesPoint> Series(IProfileStore s, ProfileTypeId type, long step, string? function = null) =>
        s.Series(new ProfileQuery(Orgs, type, Selector.All, T0, T0 + StorageOptions.HourNs), step, function);

    [Fact]
    public async Task Retention_MovesOldSpansToCoarserTiersWithEqualTotals_ThenDeletes()
    {
        using var dir = new TempDir();
        long now = T0 + StorageOptions.HourNs;
        var options = new StorageOptions { NowNs = () => now, FlushInterval = TimeSpan.FromHours(1) };
        var batches = RandomBatches(51, 60, T0, StorageOptions.HourNs);
        var memory = new MemoryProfileStore();
        await using var store = TieredProfileStore.Open(dir.Path, options);
        foreach (var b in batches)
        {
            await memory.IngestAsync(b);
            await store.IngestAsync(b);
        }

        await store.FlushAsync(); // flush + 1 min and 1 h rollups of everything before now - 1 min
        var type = ProfileTypeId.ProcessCpuSamples;
        var perMinute = Series(memory, type, StorageOptions.MinuteNs);
        var perMinuteParse = Series(memory, type, StorageOptions.MinuteNs, "parse");
        var hourTotal = Total(memory, type, T0, T0 + StorageOptions.HourNs);
        var folded = Folded(memory.Select(new ProfileQuery(Orgs, type, Selector.All, T0, T0 + StorageOptions.HourNs)));
        Assert.True(store.ColdRowsByTier().Raw > 0 && store.ColdRowsByTier().Minute > 0);
        Assert.True(hourTotal > 0 && perMinute.Count > 30);
        Assert.Equal(perMinute, Series(store, type, StorageOptions.MinuteNs));

        // 8 days later the 10 s buckets are gone: the same hour now comes from the 1 min rollups, per minute equal.
        now = T0 + (8 * StorageOptions.DayNs);
        await store.FlushAsync();
        Assert.Equal(0, store.Stats().HotSamples);
        Assert.Equal(0, store.ColdRowsByTier().Raw);
        Assert.True(store.ColdRowsByTier().Hour > 0);
        Assert.Equal(perMinute, Series(store, type, StorageOptions.MinuteNs));
        Assert.Equal(perMinuteParse, Series(store, type, StorageOptions.MinuteNs, "parse"));
        Assert.Equal(folded, Folded(store.Select(new ProfileQuery(Orgs, type, Selector.All, T0, T0 + StorageOptions.HourNs))));

        // 10 s steps over rolled-up time give one point per minute, each the minute's total.
        Assert.Equal(perMinute, Series(store, type, Buckets.RawNs));

        // 31 days: only the 1 h rollup is left; the hour's flame graph is unchanged.
        now = T0 + (31 * StorageOptions.DayNs);
        await store.FlushAsync();
        Assert.Equal(folded, Folded(store.Select(new ProfileQuery(Orgs, type, Selector.All, T0, T0 + StorageOptions.HourNs))));
        Assert.Equal(0, store.ColdRowsByTier().Minute);
        var hourly = Series(store, type, StorageOptions.MinuteNs);
        Assert.Equal([new SeriesPoint(T0, hourTotal)], hourly);

        // 366 days: gone.
        now = T0 + (366 * StorageOptions.DayNs);
        await store.FlushAsync();
        Assert.Equal(0, Total(store, type, T0, T0 + StorageOptions.HourNs));
        Assert.Equal(0, store.Stats().ColdRows);
    }

    [Fact]
    public async Task Rollup_LateDataForRolledUpBuckets_ReachesEveryTier()
    {
        using var dir = new TempDir();
        long now = T0 + (2 * StorageOptions.HourNs);
        var options = new StorageOptions { NowNs = () => now, FlushInterval = TimeSpan.FromHours(1) };
        var memory = new MemoryProfileStore();
        await using var store = TieredProfileStore.Open(dir.Path, options);
        foreach (var b in RandomBatches(61, 20, T0, StorageOptions.HourNs))
        {
            await memory.IngestAsync(b);
            await store.IngestAsync(b);
        }

        await store.FlushAsync(); // rolled up through T0 + 1 h
        foreach (var b in RandomBatches(62, 20, T0, StorageOptions.HourNs))
        {
            await memory.IngestAsync(b);
            await store.IngestAsync(b);
        }

        await store.FlushAsync(); // late rows go to 10 s, 1 min and 1 h tables together
        var type = ProfileTypeId.ProcessCpu;
        var perMinute = Series(memory, type, StorageOptions.MinuteNs);
        long hourTotal = Total(memory, type, T0, T0 + StorageOptions.HourNs);
        now = T0 + (8 * StorageOptions.DayNs);
        await store.FlushAsync();
        Assert.Equal(perMinute, Series(store, type, StorageOptions.MinuteNs));
        now = T0 + (31 * StorageOptions.DayNs);
        await store.FlushAsync();
        Assert.Equal(hourTotal, Total(store, type, T0, T0 + StorageOptions.HourNs));
    }

    [Fact]
    public async Task Concurrency_ParallelIngestsQueriesAndFlushes_TotalsExact()
    {
        using var dir = new TempDir();
        var options = new StorageOptions { NowNs = () => T0 + (30 * StorageOptions.MinuteNs), FlushInterval = TimeSpan.FromMilliseconds(50) };
        await using var store = TieredProfileStore.Open(dir.Path, options);
        var memory = new MemoryProfileStore();
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            foreach (var b in RandomBatches(100 + w, 40))
            {
                await store.IngestAsync(b);
                await memory.IngestAsync(b);
            }
        })).ToList();
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            long last = 0;
            while (!done.IsCancellationRequested)
            {
                long t = Total(store, ProfileTypeId.ProcessCpuSamples, long.MinValue, long.MaxValue);
                Assert.True(t >= last, $"a total went down while only ingests ran: {last} then {t}");
                last = t;
            }
        })).ToList();
        var flusher = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await store.FlushAsync();
            }
        });
        await Task.WhenAll(writers);
        await done.CancelAsync();
        await Task.WhenAll(readers);
        await flusher;
        foreach (var type in Types)
        {
            Assert.Equal(Total(memory, type, long.MinValue, long.MaxValue), Total(store, type, long.MinValue, long.MaxValue));
        }

        AssertSameAnswers(memory, store, 101, queries: 20);
    }

    [Fact]
    public async Task Stats_CountEntriesSeriesAndLog_AndStayUnder30BytesPerSampleWhenSealed()
    {
        using var dir = new TempDir();
        var options = new StorageOptions { NowNs = () => T0 + StorageOptions.HourNs, FlushInterval = TimeSpan.FromHours(1) };
        await using var store = TieredProfileStore.Open(dir.Path, options);

        // One host sending the same 2,000-stack profile every 10 s for 30 minutes: 180 buckets × 2,000 entries.
        var profile = RandomProfile(new Random(5), 4000, sampleLabels: false);
        var labels = SeriesLabels.Create([new("service_name", "api"), new("host", "h1")]);
        for (int i = 0; i < 180; i++)
        {
            long t = T0 + (i * Buckets.RawNs);
            await store.IngestAsync([new IngestItem("o1", ProfileTypeId.ProcessCpuSamples, labels, t, t + Buckets.RawNs, profile)]);
        }

        var before = store.Stats();
        Assert.Equal(180L * profile.SampleCount, before.HotSamples);
        Assert.Equal(1, before.Series);
        Assert.True(before.WalBytes > 0);
        Assert.True(before.Stacks >= profile.SampleCount);
        Assert.Equal(0, before.ColdRows);

        await store.FlushAsync();
        var after = store.Stats();
        Assert.Equal(before.HotSamples, after.HotSamples);
        Assert.Equal(after.HotSamples, store.ColdRowsByTier().Raw);
        Assert.True(after.ColdRows >= after.HotSamples, "all tiers together hold at least the raw rows");
        Assert.Equal(0, after.WalBytes);
        Assert.True(after.ColdBytes > 0);
        double perSample = (double)after.HotBytes / after.HotSamples;
        Assert.True(perSample <= 30, $"{perSample:F1} estimated bytes per hot sample (goal ≤ 30)");
        Assert.True(after.HotBytes > after.HotSamples * 12, "the estimate counts at least the 12-byte entries");
    }
}
