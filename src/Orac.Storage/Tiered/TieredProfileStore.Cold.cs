using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>The cold tier: schema, loading on open, the flusher, rollups, retention and hot eviction.</summary>
public sealed partial class TieredProfileStore
{
    private const string Samples10s = "samples_10s";
    private const string Samples1m = "samples_1m";
    private const string Samples1h = "samples_1h";

    private long _rollup1mNs = long.MinValue;
    private long _rollup1hNs = long.MinValue;

    private void CreateSchema()
    {
        Exec("""
            CREATE TABLE IF NOT EXISTS strings(id INTEGER NOT NULL, s VARCHAR NOT NULL);
            CREATE TABLE IF NOT EXISTS frames(id INTEGER NOT NULL, name INTEGER NOT NULL, module INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS stacks(id INTEGER NOT NULL, frame INTEGER NOT NULL, caller INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS series(id INTEGER NOT NULL, org VARCHAR NOT NULL, type VARCHAR NOT NULL, labels VARCHAR NOT NULL, labels_bin BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS samples_10s(series_id INTEGER NOT NULL, bucket_ns BIGINT NOT NULL, stack_id INTEGER NOT NULL, value BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS samples_1m(series_id INTEGER NOT NULL, bucket_ns BIGINT NOT NULL, stack_id INTEGER NOT NULL, value BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS samples_1h(series_id INTEGER NOT NULL, bucket_ns BIGINT NOT NULL, stack_id INTEGER NOT NULL, value BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta(k VARCHAR PRIMARY KEY, v BIGINT NOT NULL);
            """);
    }

    /// <summary>Loads dictionary, series, tier boundaries and the hot window; returns the WAL checkpoint.</summary>
    private long LoadCold()
    {
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT id, s FROM strings ORDER BY id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0);
                if ((int)_dict.Intern(r.GetString(1)) != id)
                {
                    throw Damaged($"string {id}");
                }
            }
        }

        _persistedStrings = _dict.Strings.Count;
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT id, name, module FROM frames ORDER BY id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0), name = r.GetInt32(1), module = r.GetInt32(2);
                if (name >= _dict.Strings.Count || module >= _dict.Strings.Count || (int)_dict.Frame((StringId)name, (StringId)module) != id)
                {
                    throw Damaged($"frame {id}");
                }
            }
        }

        _persistedFrames = _dict.Frames.Count;
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT id, frame, caller FROM stacks ORDER BY id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0), frame = r.GetInt32(1), caller = r.GetInt32(2);
                if (frame >= _dict.Frames.Count || caller >= id || caller < -1 || (int)_dict.Push((StackId)caller, (FrameId)frame) != id)
                {
                    throw Damaged($"stack {id}");
                }
            }
        }

        _persistedStacks = _dict.Stacks.Count;
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT id, org, type, labels_bin FROM series ORDER BY id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0);
                using var blob = new MemoryStream();
                using (var st = r.GetStream(3))
                {
                    st.CopyTo(blob);
                }

                var labels = WalBatch.DecodeLabels(blob.ToArray());
                var s = GetOrAddSeries(r.GetString(1), ProfileTypeId.Parse(r.GetString(2)), labels, id);
                if (s.Id != id)
                {
                    throw Damaged($"series {id}");
                }
            }
        }

        long checkpoint = Meta("wal_checkpoint") ?? 0;
        _rollup1mNs = Meta("rollup_1m") ?? long.MinValue;
        _rollup1hNs = Meta("rollup_1h") ?? long.MinValue;
        _tier10sFromNs = Meta("tier_10s_from") ?? long.MinValue;
        _tier1mFromNs = Meta("tier_1m_from") ?? long.MinValue;
        LoadHotWindow();
        return checkpoint;
    }

    private OracException Damaged(string what) =>
        new($"the cold tier {Path.Combine(_dir, "orac.duckdb")} is damaged: {what} does not match the dictionary");

    private void LoadHotWindow()
    {
        long floor = Buckets.Floor(_options.NowNs() - _options.HotWindowNs);
        long budget = _options.HotMaxBytes / 2;
        long used = 0;
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = $"SELECT bucket_ns, count(*) FROM samples_10s WHERE bucket_ns >= {floor} GROUP BY bucket_ns ORDER BY bucket_ns DESC";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                used += r.GetInt64(1) * 16;
                if (used > budget)
                {
                    // Keep only the newer buckets: this one and older stay cold.
                    floor = r.GetInt64(0) + Buckets.RawNs;
                    break;
                }
            }
        }

        var all = _series;
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = $"""
                SELECT series_id, bucket_ns, stack_id, CAST(SUM(value) AS BIGINT) FROM samples_10s WHERE bucket_ns >= {floor}
                GROUP BY series_id, bucket_ns, stack_id ORDER BY series_id, bucket_ns, stack_id
                """;
            using var r = cmd.ExecuteReader();
            var stacks = new List<int>();
            var values = new List<long>();
            int curSeries = -1;
            long curBucket = 0;

            void Emit()
            {
                if (curSeries >= 0 && stacks.Count > 0)
                {
                    var b = new HotBucket();
                    b.SetSealed([.. stacks], [.. values]);
                    all[curSeries].Buckets[curBucket] = b;
                }

                stacks.Clear();
                values.Clear();
            }

            while (r.Read())
            {
                int sid = r.GetInt32(0);
                long bucket = r.GetInt64(1);
                if ((uint)sid >= (uint)all.Length)
                {
                    throw Damaged($"samples of series {sid}");
                }

                if (sid != curSeries || bucket != curBucket)
                {
                    Emit();
                    curSeries = sid;
                    curBucket = bucket;
                }

                stacks.Add(r.GetInt32(2));
                values.Add(r.GetInt64(3));
            }

            Emit();
        }

        _hotFloorNs = floor;
    }

    private long? Meta(string key)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT v FROM meta WHERE k = $k";
        cmd.Parameters.Add(new DuckDBParameter("k", key));
        var v = cmd.ExecuteScalar();
        return v is null or DBNull ? null : Convert.ToInt64(v, CultureInfo.InvariantCulture);
    }

    private void SetMeta(string key, long value)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO meta VALUES ($k, $v)";
        cmd.Parameters.Add(new DuckDBParameter("k", key));
        cmd.Parameters.Add(new DuckDBParameter("v", value));
        cmd.ExecuteNonQuery();
    }

    private void Exec(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private sealed record FlushSnapshot(List<(HotSeries Series, long BucketNs, HotBucket Bucket)> Taken, List<HotSeries> NewSeries, int Strings, int Frames, int Stacks);

    /// <summary>
    /// Moves every open hot entry into the cold tier in one DuckDB transaction that also records the write-ahead-log
    /// checkpoint, then deletes the log segments that transaction covers.
    /// </summary>
    private async Task FlushHotAsync()
    {
        bool pendingSeries = false;
        foreach (var s in _series)
        {
            pendingSeries |= !s.Persisted;
        }

        if (!_dirty && !pendingSeries)
        {
            return;
        }

        FlushSnapshot? snap = null;
        long closed = await _wal.RotateAsync(() => snap = TakeSnapshot()).ConfigureAwait(false);
        try
        {
            WriteSnapshot(snap!, closed);
        }
        catch
        {
            // The flushing parts stay in memory and the segments on disk; the next flush writes them again.
            _dirty = true;
            throw;
        }

        _wal.DeleteThrough(closed);
    }

    private void WriteSnapshot(FlushSnapshot s0, long closed)
    {

        // Dictionary rows the cold tier lacks (ids only grow, so the range is enough).
        var newStrings = new List<string>();
        var frameRows = new List<(int Name, int Module)>();
        var stackRows = new List<(int Frame, int Caller)>();
        lock (_dictLock)
        {
            for (int i = _persistedStrings; i < s0.Strings; i++)
            {
                newStrings.Add(_dict.Strings.GetString((StringId)i));
            }

            for (int i = _persistedFrames; i < s0.Frames; i++)
            {
                frameRows.Add(((int)_dict.Frames.Name((FrameId)i), (int)_dict.Frames.Module((FrameId)i)));
            }

            for (int i = _persistedStacks; i < s0.Stacks; i++)
            {
                stackRows.Add(((int)_dict.Stacks.Frame((StackId)i), (int)_dict.Stacks.Caller((StackId)i)));
            }
        }

        using (var tx = _db.BeginTransaction())
        {
            using (var a = _db.CreateAppender("strings"))
            {
                for (int i = 0; i < newStrings.Count; i++)
                {
                    a.CreateRow().AppendValue(_persistedStrings + i).AppendValue(newStrings[i]).EndRow();
                }
            }

            using (var a = _db.CreateAppender("frames"))
            {
                for (int i = 0; i < frameRows.Count; i++)
                {
                    a.CreateRow().AppendValue(_persistedFrames + i).AppendValue(frameRows[i].Name).AppendValue(frameRows[i].Module).EndRow();
                }
            }

            using (var a = _db.CreateAppender("stacks"))
            {
                for (int i = 0; i < stackRows.Count; i++)
                {
                    a.CreateRow().AppendValue(_persistedStacks + i).AppendValue(stackRows[i].Frame).AppendValue(stackRows[i].Caller).EndRow();
                }
            }

            foreach (var s in s0.NewSeries)
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = "INSERT INTO series VALUES ($id, $org, $type, $labels, $bin)";
                cmd.Parameters.Add(new DuckDBParameter("id", s.Id));
                cmd.Parameters.Add(new DuckDBParameter("org", s.Org));
                cmd.Parameters.Add(new DuckDBParameter("type", s.Type.ToString()));
                cmd.Parameters.Add(new DuckDBParameter("labels", s.Labels.Key));
                cmd.Parameters.Add(new DuckDBParameter("bin", WalBatch.EncodeLabels(s.Labels)));
                cmd.ExecuteNonQuery();
            }

            // Late data for buckets already rolled up goes into the rollups too, so they stay equal to the raw tier.
            var late1m = new Dictionary<(int, long, int), long>();
            var late1h = new Dictionary<(int, long, int), long>();
            using (var a = _db.CreateAppender(Samples10s))
            {
                foreach (var (series, bucketNs, bucket) in s0.Taken)
                {
                    Dictionary<int, long> f;
                    lock (series)
                    {
                        f = bucket.Flushing!;
                    }

                    foreach (var (stack, value) in f)
                    {
                        a.CreateRow().AppendValue(series.Id).AppendValue(bucketNs).AppendValue(stack).AppendValue(value).EndRow();
                        if (bucketNs < _rollup1mNs)
                        {
                            var k = (series.Id, Buckets.Floor(bucketNs, StorageOptions.MinuteNs), stack);
                            late1m[k] = late1m.GetValueOrDefault(k) + value;
                        }

                        if (bucketNs < _rollup1hNs)
                        {
                            var k = (series.Id, Buckets.Floor(bucketNs, StorageOptions.HourNs), stack);
                            late1h[k] = late1h.GetValueOrDefault(k) + value;
                        }
                    }
                }
            }

            AppendRollup(Samples1m, late1m);
            AppendRollup(Samples1h, late1h);
            SetMeta("wal_checkpoint", closed);

            _epoch.EnterWriteLock();
            try
            {
                tx.Commit();
                foreach (var (series, bucketNs, bucket) in s0.Taken)
                {
                    lock (series)
                    {
                        bucket.SealFlushing();
                        if (bucketNs < _hotFloorNs)
                        {
                            bucket.DropSealed();
                        }

                        if (bucket.IsEmpty)
                        {
                            series.Buckets.Remove(bucketNs);
                        }
                    }
                }
            }
            finally
            {
                _epoch.ExitWriteLock();
            }
        }

        _persistedStrings = s0.Strings;
        _persistedFrames = s0.Frames;
        _persistedStacks = s0.Stacks;
        foreach (var s in s0.NewSeries)
        {
            s.Persisted = true;
        }
    }

    private void AppendRollup(string table, Dictionary<(int, long, int), long> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        using var a = _db.CreateAppender(table);
        foreach (var ((series, bucket, stack), value) in rows)
        {
            a.CreateRow().AppendValue(series).AppendValue(bucket).AppendValue(stack).AppendValue(value).EndRow();
        }
    }

    /// <summary>Runs on the log writer between segments: open parts become flushing parts.</summary>
    private FlushSnapshot TakeSnapshot()
    {
        _dirty = false;
        var taken = new List<(HotSeries, long, HotBucket)>();
        var newSeries = new List<HotSeries>();
        foreach (var s in _series)
        {
            if (!s.Persisted)
            {
                newSeries.Add(s);
            }

            lock (s)
            {
                foreach (var (bucketNs, b) in s.Buckets)
                {
                    if (b.Open is { } open)
                    {
                        if (b.Flushing is { } f)
                        {
                            foreach (var (stack, v) in open)
                            {
                                f[stack] = f.GetValueOrDefault(stack) + v;
                            }
                        }
                        else
                        {
                            b.Flushing = open;
                        }

                        b.Open = null;
                    }

                    if (b.Flushing is not null)
                    {
                        taken.Add((s, bucketNs, b));
                    }
                }
            }
        }

        lock (_dictLock)
        {
            return new FlushSnapshot(taken, newSeries, _dict.Strings.Count, _dict.Frames.Count, _dict.Stacks.Count);
        }
    }

    /// <summary>Rolls raw buckets up into 1 min buckets, and those into 1 h buckets, up to a minute ago.</summary>
    private void Rollup()
    {
        long now = _options.NowNs();
        long target1m = Buckets.Floor(now, StorageOptions.MinuteNs) - StorageOptions.MinuteNs;
        if (target1m > _rollup1mNs)
        {
            using var tx = _db.BeginTransaction();
            Exec(RollupSql(Samples1m, Samples10s, StorageOptions.MinuteNs, _rollup1mNs, target1m));
            SetMeta("rollup_1m", target1m);
            CommitUnderEpoch(tx, () => _rollup1mNs = target1m);
        }

        long target1h = Buckets.Floor(_rollup1mNs, StorageOptions.HourNs);
        if (target1h > _rollup1hNs)
        {
            using var tx = _db.BeginTransaction();
            Exec(RollupSql(Samples1h, Samples1m, StorageOptions.HourNs, _rollup1hNs, target1h));
            SetMeta("rollup_1h", target1h);
            CommitUnderEpoch(tx, () => _rollup1hNs = target1h);
        }
    }

    /// <summary>Commits and updates what queries read about the tiers in one step no query can see half of.</summary>
    private void CommitUnderEpoch(System.Data.Common.DbTransaction tx, Action update)
    {
        _epoch.EnterWriteLock();
        try
        {
            tx.Commit();
            update();
        }
        finally
        {
            _epoch.ExitWriteLock();
        }
    }

    private static string RollupSql(string to, string from, long width, long fromNs, long toNs) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO {to}
            SELECT series_id, bucket_ns - (((bucket_ns % {width}) + {width}) % {width}) AS b, stack_id, CAST(SUM(value) AS BIGINT)
            FROM {from} WHERE bucket_ns >= {fromNs} AND bucket_ns < {toNs}
            GROUP BY series_id, b, stack_id
            """);

    /// <summary>Deletes what each tier no longer keeps, once the next tier holds it.</summary>
    private void ApplyRetention()
    {
        long now = _options.NowNs();
        if (_rollup1mNs != long.MinValue)
        {
            long cut = Math.Min(Buckets.Floor(now - _options.Raw10sRetentionNs, StorageOptions.HourNs), Buckets.Floor(_rollup1mNs, StorageOptions.HourNs));
            if (cut > _tier10sFromNs)
            {
                DeleteBelow(Samples10s, cut, "tier_10s_from", ref _tier10sFromNs);
            }
        }

        if (_rollup1hNs != long.MinValue)
        {
            long cut = Math.Min(Buckets.Floor(now - _options.Rollup1mRetentionNs, StorageOptions.HourNs), _rollup1hNs);
            if (cut > _tier1mFromNs)
            {
                DeleteBelow(Samples1m, cut, "tier_1m_from", ref _tier1mFromNs);
            }
        }

        long cut1h = Buckets.Floor(now - _options.Rollup1hRetentionNs, StorageOptions.HourNs);
        Exec(string.Create(CultureInfo.InvariantCulture, $"DELETE FROM samples_1h WHERE bucket_ns < {cut1h}"));
    }

    private void DeleteBelow(string table, long cut, string metaKey, ref long boundary)
    {
        using var tx = _db.BeginTransaction();
        Exec(string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {table} WHERE bucket_ns < {cut}"));
        SetMeta(metaKey, cut);
        _epoch.EnterWriteLock();
        try
        {
            tx.Commit();
            boundary = cut;
        }
        finally
        {
            _epoch.ExitWriteLock();
        }
    }

    /// <summary>
    /// Raises the hot floor past the hot window and, while over the memory cap, past the oldest buckets; sealed parts
    /// below the floor leave memory (they are in the cold tier by construction).
    /// </summary>
    private void EvictHot()
    {
        long floor = Math.Max(_hotFloorNs, Buckets.Floor(_options.NowNs() - _options.HotWindowNs));
        long total = DictionaryBytes();
        var sealedByBucket = new SortedDictionary<long, long>();
        foreach (var s in _series)
        {
            total += 160 + (s.Labels.Key.Length * 4);
            lock (s)
            {
                foreach (var (bucketNs, b) in s.Buckets)
                {
                    total += b.EstimatedBytes;
                    if (bucketNs >= floor && b.SealedStacks.Length > 0)
                    {
                        sealedByBucket[bucketNs] = sealedByBucket.GetValueOrDefault(bucketNs) + (b.SealedStacks.Length * 12L);
                    }
                }
            }
        }

        foreach (var (bucketNs, bytes) in sealedByBucket)
        {
            if (total <= _options.HotMaxBytes)
            {
                break;
            }

            floor = bucketNs + Buckets.RawNs;
            total -= bytes;
        }

        if (floor <= _hotFloorNs)
        {
            return;
        }

        _epoch.EnterWriteLock();
        try
        {
            _hotFloorNs = floor;
            foreach (var s in _series)
            {
                lock (s)
                {
                    List<long>? empty = null;
                    foreach (var (bucketNs, b) in s.Buckets)
                    {
                        if (bucketNs < floor)
                        {
                            b.DropSealed();
                            if (b.IsEmpty)
                            {
                                (empty ??= []).Add(bucketNs);
                            }
                        }
                    }

                    foreach (var e in empty ?? [])
                    {
                        s.Buckets.Remove(e);
                    }
                }
            }
        }
        finally
        {
            _epoch.ExitWriteLock();
        }

        if (total > _options.HotMaxBytes)
        {
            _options.Log?.Invoke($"hot tier still holds about {total} bytes (estimated) after eviction, over the cap of {_options.HotMaxBytes}: unflushed data and the stack dictionary cannot be evicted");
        }
    }

    /// <summary>Rows per tier (10 s, 1 min, 1 h), for tests.</summary>
    internal (long Raw, long Minute, long Hour) ColdRowsByTier()
    {
        var c = RentReader();
        try
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT (SELECT count(*) FROM samples_10s), (SELECT count(*) FROM samples_1m), (SELECT count(*) FROM samples_1h)";
            using var r = cmd.ExecuteReader();
            r.Read();
            return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
        }
        finally
        {
            _readers.Add(c);
        }
    }

    private long ColdRowCount()
    {
        var c = RentReader();
        try
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT (SELECT count(*) FROM samples_10s) + (SELECT count(*) FROM samples_1m) + (SELECT count(*) FROM samples_1h)";
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        finally
        {
            _readers.Add(c);
        }
    }

    private DuckDBConnection RentReader()
    {
        if (_readers.TryTake(out var c))
        {
            return c;
        }

        // DuckDB.NET shares one database instance between connections to the same file in a process; each connection
        // reads its own snapshot while the flusher writes on _db.
        var d = new DuckDBConnection(_db.ConnectionString);
        d.Open();
        return d;
    }

    /// <summary>
    /// SQL reading cold rows of <paramref name="seriesIds"/> with bucket starts in [start, end); columns series_id,
    /// bucket_ns, stack_id, value. Each span comes from the finest retention tier that still holds it; inside that, whole
    /// hours and minutes already rolled up are read from the rollup tables (same sums, far fewer rows), up to
    /// <paramref name="coarsest"/> (0 = 10 s only, 1 = up to 1 min, 2 = up to 1 h). Caller holds the epoch read lock.
    /// </summary>
    private string ColdRowsSql(List<int> seriesIds, long start, long end, int coarsest)
    {
        var ids = new StringBuilder();
        foreach (var id in seriesIds)
        {
            ids.Append(ids.Length == 0 ? "" : ",").Append(id.ToString(CultureInfo.InvariantCulture));
        }

        var parts = new List<string>();
        string[] tables = [Samples10s, Samples1m, Samples1h];
        long[] widths = [Buckets.RawNs, StorageOptions.MinuteNs, StorageOptions.HourNs];
        long[] complete = [long.MaxValue, _rollup1mNs, _rollup1hNs];

        void Part(int level, long lo, long hi)
        {
            if (lo < hi)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture,
                    $"SELECT series_id, bucket_ns, stack_id, value FROM {tables[level]} WHERE series_id IN ({ids}) AND bucket_ns >= {lo} AND bucket_ns < {hi}"));
            }
        }

        // [lo, hi) from table `finest`, using aligned whole buckets of coarser complete rollups (≤ top) where there are some.
        void Cover(int finest, int top, long lo, long hi)
        {
            if (lo >= hi)
            {
                return;
            }

            for (int level = top; level > finest; level--)
            {
                long w = widths[level];
                long s = Buckets.Floor(Math.Max(lo, long.MinValue / 2), w);
                s = s < lo ? s + w : s;
                long e = Math.Min(Buckets.Floor(Math.Min(hi, long.MaxValue / 2), w), complete[level]);
                if (s < e)
                {
                    Cover(finest, level - 1, lo, s);
                    Part(level, s, e);
                    Cover(finest, level - 1, e, hi);
                    return;
                }
            }

            Part(finest, lo, hi);
        }

        Cover(0, coarsest, Math.Max(start, _tier10sFromNs), end);
        Cover(1, Math.Max(coarsest, 1), Math.Max(start, _tier1mFromNs), Math.Min(end, _tier10sFromNs));
        Part(2, start, Math.Min(end, _tier1mFromNs));
        return parts.Count == 0 ? "" : string.Join(" UNION ALL ", parts);
    }

    /// <summary>Runs <paramref name="selectFromR"/> over the cold rows (as table <c>r</c>) and hands each result row to <paramref name="row"/>.</summary>
    private void ReadCold(List<int> seriesIds, long start, long end, string selectFromR, Action<System.Data.Common.DbDataReader> row, int coarsest = 2)
    {
        if (seriesIds.Count == 0 || start >= end)
        {
            return;
        }

        var rows = ColdRowsSql(seriesIds, start, end, coarsest);
        if (rows.Length == 0)
        {
            return;
        }

        var c = RentReader();
        try
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"WITH r AS ({rows}) {selectFromR}";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                row(reader);
            }
        }
        finally
        {
            _readers.Add(c);
        }
    }
}
