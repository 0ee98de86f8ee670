using System.Collections.Concurrent;
using System.Data.Common;
using DuckDB.NET.Data;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>
/// The production <see cref="IProfileStore"/>: a hot tier of recent 10 s buckets aggregated in memory, a write-ahead
/// log that makes every acknowledged ingest survive a process kill, and a cold tier in one DuckDB file with 10 s,
/// 1 min and 1 h retention tiers. Queries give the same answers as <see cref="MemoryProfileStore"/> for the same
/// ingests (within the 10 s tier's retention). Design and invariants: docs/storage.md.
/// </summary>
public sealed partial class TieredProfileStore : IProfileStore
{
    private readonly string _dir;
    private readonly StorageOptions _options;
    private readonly DuckDBConnection _db;
    private readonly ConcurrentBag<DuckDBConnection> _readers = [];

    // The global dictionary: strings, frames (name, module) and stacks (frame, caller) with ids equal to the cold tier's.
    private readonly ProfileBuilder _dict = new();
    private readonly Lock _dictLock = new();
    private int _persistedStrings = 1; // id 0 is the empty string every table starts with
    private int _persistedFrames;
    private int _persistedStacks;

    private readonly Lock _seriesLock = new();
    private readonly Dictionary<(string Org, ProfileTypeId Type, string Labels), HotSeries> _seriesIndex = [];
    private volatile HotSeries[] _series = [];

    // Readers (queries) hold it while they read hot and cold parts; the flusher commits and moves data between the
    // parts, and eviction and retention move tier boundaries, under the write side, so no query counts a row twice or never.
    private readonly ReaderWriterLockSlim _epoch = new(LockRecursionPolicy.NoRecursion);
    private long _hotFloorNs = long.MinValue;
    private long _tier10sFromNs = long.MinValue;
    private long _tier1mFromNs = long.MinValue;

    private readonly SemaphoreSlim _maintenance = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private WriteAheadLog _wal = null!;
    private Task _loop = Task.CompletedTask;
    private volatile bool _dirty;
    private int _disposed;

    private readonly FileStream _lockFile;

    private TieredProfileStore(string dir, StorageOptions options, DuckDBConnection db, FileStream lockFile)
    {
        _dir = dir;
        _options = options;
        _db = db;
        _lockFile = lockFile;
    }

    /// <summary>
    /// Opens (or creates) the store in <paramref name="dataDirectory"/>: <c>orac.duckdb</c> and <c>wal/</c>. Loads the hot
    /// window back from the cold tier and replays the write-ahead log. Throws <see cref="OracException"/> when the
    /// database is locked by another process or unreadable, or the log is corrupt.
    /// </summary>
    public static TieredProfileStore Open(string dataDirectory, StorageOptions? options = null)
    {
        options ??= new StorageOptions();
        options.Validate();
        var dir = Path.GetFullPath(dataDirectory);
        var walDir = Path.Combine(dir, "wal");
        try
        {
            Directory.CreateDirectory(walDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"cannot create data directory {dir}: {e.Message}", e);
        }

        // An exclusive lock (flock on Unix) held while open: a second store on the same directory, in this process or
        // another, fails here before it touches the log.
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(dir, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new OracException($"data directory {dir} is in use by another Orac store (cannot lock {Path.Combine(dir, "lock")}: {e.Message})", e);
        }

        var dbPath = Path.Combine(dir, "orac.duckdb");
        DuckDBConnection db;
        try
        {
            db = new DuckDBConnection($"Data Source={dbPath}");
            db.Open();
        }
        catch (DbException e)
        {
            lockFile.Dispose();
            throw new OracException(
                $"cannot open {dbPath}: {e.Message} (is another Orac server using this data directory, or is the file damaged?)", e);
        }

        var store = new TieredProfileStore(dir, options, db, lockFile);
        try
        {
            store.CreateSchema();
            long checkpoint = store.LoadCold();
            var (last, bytes) = WriteAheadLog.Replay(walDir, checkpoint, options.SkipCorruptWalRecords, options.Log, store.Apply);
            store._wal = new WriteAheadLog(walDir, last + 1, bytes, store.Apply);
            store._loop = Task.Run(store.BackgroundLoopAsync);
            return store;
        }
        catch (Exception e)
        {
            db.Dispose();
            lockFile.Dispose();
            if (e is DbException)
            {
                throw new OracException($"cannot read {dbPath}: {e.Message}", e);
            }

            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var batch = WalBatch.Build(items);
        if (batch.Groups.Length == 0)
        {
            return;
        }

        await _wal.AppendAsync(batch.Encode(), batch).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one maintenance pass now: moves every hot entry not yet in the cold tier into DuckDB, checkpoints the
    /// write-ahead log, then rollups, retention deletes and hot eviction.
    /// </summary>
    public async Task FlushAsync()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await MaintainAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public StoreStats Stats()
    {
        long samples = 0;
        long bytes = DictionaryBytes();
        var all = _series;
        foreach (var s in all)
        {
            bytes += 160 + (s.Labels.Key.Length * 4);
            lock (s)
            {
                foreach (var b in s.Buckets.Values)
                {
                    samples += b.Entries;
                    bytes += b.EstimatedBytes;
                }
            }
        }

        long stacks;
        lock (_dictLock)
        {
            stacks = _dict.Stacks.Count;
        }

        var file = new FileInfo(Path.Combine(_dir, "orac.duckdb"));
        var duckWal = new FileInfo(Path.Combine(_dir, "orac.duckdb.wal"));
        return new StoreStats
        {
            HotSamples = samples,
            HotBytes = bytes,
            ColdRows = ColdRowCount(),
            ColdBytes = (file.Exists ? file.Length : 0) + (duckWal.Exists ? duckWal.Length : 0),
            WalBytes = _wal.Bytes,
            Series = all.Length,
            Stacks = stacks,
        };
    }

    /// <summary>Flushes everything to the cold tier and closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        try
        {
            await MaintainAsync().ConfigureAwait(false);
        }
        finally
        {
            await _wal.DisposeAsync().ConfigureAwait(false);
            while (_readers.TryTake(out var c))
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }

            await _db.DisposeAsync().ConfigureAwait(false);
            await _lockFile.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
            _maintenance.Dispose();
            _epoch.Dispose();
        }
    }

    /// <summary>Applies one batch to the hot tier (the log writer, in log order, and replay on open).</summary>
    private void Apply(WalBatch batch)
    {
        var stacks = new int[batch.StackFrames.Length];
        lock (_dictLock)
        {
            var strings = new StringId[batch.Strings.Length];
            for (int i = 0; i < strings.Length; i++)
            {
                strings[i] = _dict.Intern(batch.Strings[i]);
            }

            var frames = new FrameId[batch.FrameNames.Length];
            for (int i = 0; i < frames.Length; i++)
            {
                frames[i] = _dict.Frame(strings[batch.FrameNames[i]], strings[batch.FrameModules[i]]);
            }

            for (int i = 0; i < stacks.Length; i++)
            {
                int caller = batch.StackCallers[i];
                stacks[i] = (int)_dict.Push(caller < 0 ? StackId.Root : (StackId)stacks[caller], frames[batch.StackFrames[i]]);
            }
        }

        foreach (var g in batch.Groups)
        {
            var series = GetOrAddSeries(g.Org, g.Type, g.Labels);
            lock (series)
            {
                if (!series.Buckets.TryGetValue(g.BucketNs, out var bucket))
                {
                    bucket = new HotBucket();
                    series.Buckets.Add(g.BucketNs, bucket);
                }

                for (int i = 0; i < g.Stacks.Length; i++)
                {
                    bucket.Add(stacks[g.Stacks[i]], g.Values[i]);
                }
            }
        }

        _dirty = true;
    }

    private HotSeries GetOrAddSeries(string org, ProfileTypeId type, SeriesLabels labels, int id = -1)
    {
        var key = (org, type, labels.Key);
        lock (_seriesLock)
        {
            if (_seriesIndex.TryGetValue(key, out var s))
            {
                return s;
            }

            var all = _series;
            if (id >= 0 && id != all.Length)
            {
                throw new OracException($"cold tier series ids are not dense (expected {all.Length}, found {id}); the database is damaged");
            }

            s = new HotSeries(all.Length, org, type, labels, persisted: id >= 0);
            _seriesIndex.Add(key, s);
            var next = new HotSeries[all.Length + 1];
            all.CopyTo(next, 0);
            next[^1] = s;
            _series = next;
            return s;
        }
    }

    private long DictionaryBytes()
    {
        lock (_dictLock)
        {
            // Strings: bytes + offset + two hash slots; frames: two ids + map slots; stacks: frame, caller, depth + map slots.
            return _dict.Strings.ByteCount + (_dict.Strings.Count * 12L) + (_dict.Frames.Count * 32L) + (_dict.Stacks.Count * 36L);
        }
    }

    private async Task BackgroundLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await MaintainAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is DbException or IOException or OracException or InvalidOperationException)
                {
                    _options.Log?.Invoke($"storage maintenance failed (will retry; the write-ahead log still holds the data): {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async Task MaintainAsync()
    {
        await _maintenance.WaitAsync().ConfigureAwait(false);
        try
        {
            await FlushHotAsync().ConfigureAwait(false);
            Rollup();
            ApplyRetention();
            EvictHot();
        }
        finally
        {
            _maintenance.Release();
        }
    }
}
