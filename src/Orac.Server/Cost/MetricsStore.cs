using System.Globalization;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Fleet;

namespace Orac.Server.Cost;

/// <summary>
/// GPU and RAPL readings per org and host (docs/cost.md "GPUs"), kept for the cost views. Thread-safe.
/// <para>
/// Bounds: readings are kept for <see cref="RetentionMs"/> (35 days); readings older than the host's newest by more than
/// <see cref="RawWindowMs"/> (one hour) are downsampled to one point per GPU (or RAPL domain) per minute. A host keeps at
/// most <see cref="MaxGpuReadingsPerHost"/> GPU and <see cref="MaxPowerReadingsPerHost"/> RAPL readings (oldest dropped,
/// counted in <see cref="Dropped"/>), an org at most <see cref="MaxHostsPerOrg"/> hosts.
/// </para>
/// <para>
/// Durability: each accepted batch is appended as one JSON line to <c>DATA/metrics/ORG.jsonl</c> (flushed to the OS,
/// not fsynced: a power cut may lose the last seconds of readings). At start every file is replayed; a line that does
/// not parse is skipped, counted and logged with its line number, never refusing to start. When a file has grown by
/// more than <see cref="RewriteBytes"/> since it was last written whole, it is rewritten from memory (retention and
/// downsampling applied). Memory mode (<c>--memory</c>) keeps nothing on disk.
/// </para>
/// </summary>
internal sealed class MetricsStore : IDisposable
{
    /// <summary>How long readings are kept, ms (35 days: a 30-day report plus slack).</summary>
    public const long RetentionMs = 35L * 24 * 3600 * 1000;

    /// <summary>Readings newer than the host's newest minus this stay as sent; older ones become one point per minute.</summary>
    public const long RawWindowMs = 3600 * 1000;

    /// <summary>Downsampled point width, ms.</summary>
    public const long PointMs = 60_000;

    /// <summary>GPU readings kept per host (35 days of minute points for 8 GPUs, plus the raw hour).</summary>
    public const int MaxGpuReadingsPerHost = 500_000;

    /// <summary>RAPL readings kept per host.</summary>
    public const int MaxPowerReadingsPerHost = 250_000;

    /// <summary>Hosts kept per org.</summary>
    public const int MaxHostsPerOrg = 10_000;

    /// <summary>Appended bytes after which an org's file is rewritten from memory.</summary>
    public const long RewriteBytes = 64L << 20;

    /// <summary>Readings added to a host between two downsampling passes.</summary>
    private const int CompactEvery = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, HostSeries>> _orgs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrgFile> _files = new(StringComparer.Ordinal);
    private readonly string? _dir;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;

    /// <summary>A store in memory only (nothing on disk).</summary>
    public MetricsStore()
        : this(null, TimeProvider.System, _ => { })
    {
    }

    private MetricsStore(string? dir, TimeProvider time, Action<string> log)
    {
        _dir = dir;
        _time = time;
        _log = log;
    }

    /// <summary>Readings dropped by the per-host caps or retention since start.</summary>
    public long Dropped { get; private set; }

    /// <summary>Lines of the metrics files skipped at start because they did not parse.</summary>
    public long SkippedLines { get; private set; }

    /// <summary>
    /// Opens the store of a data folder (null: memory only), replaying <c>DATA/metrics/*.jsonl</c>; <paramref name="log"/>
    /// gets one line per file with damaged lines. Throws <see cref="OracException"/> when the folder cannot be used.
    /// </summary>
    public static MetricsStore Open(string? dataDirectory, Action<string> log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (dataDirectory is null)
        {
            return new MetricsStore(null, time ?? TimeProvider.System, log);
        }

        string dir = Path.Combine(dataDirectory, "metrics");
        var store = new MetricsStore(dir, time ?? TimeProvider.System, log);
        try
        {
            AtomicFile.CreateDirectory(dir);
            foreach (string path in Directory.GetFiles(dir, "*.jsonl"))
            {
                string org = Path.GetFileNameWithoutExtension(path);
                if (AuthStore.IsValidOrgName(org))
                {
                    store.Load(org, path);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{dir}: cannot read the metrics store: {e.Message}");
        }

        return store;
    }

    private void Load(string org, string path)
    {
        long lineNo = 0, skipped = 0, firstBad = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            MetricsBatch? batch = null;
            try
            {
                batch = JsonSerializer.Deserialize(line, OracServer.Json.MetricsBatch);
            }
            catch (JsonException)
            {
            }

            if (batch is null || !IsValidHost(batch.Host) || batch.Gpus is null || batch.Power is null || batch.Gpus.Contains(null!) || batch.Power.Contains(null!))
            {
                skipped++;
                firstBad = firstBad == 0 ? lineNo : firstBad;
                continue;
            }

            // Checked again: the file may have been edited, and retention applies from today.
            AddToMemory(org, Validate(batch.Host, batch.Gpus, batch.Power, _time.GetUtcNow().ToUnixTimeMilliseconds(), out _, out _));
        }

        if (skipped > 0)
        {
            SkippedLines += skipped;
            _log($"orac: {path}: skipped {skipped} damaged line(s) of GPU/RAPL readings, the first at line {firstBad}");
        }

        var file = new OrgFile(path);
        _files[org] = file;
        if (file.Length > RewriteBytes)
        {
            Rewrite(org, file);
        }
    }

    /// <summary>Keeps a batch for <paramref name="org"/> (validate it first with <see cref="Validate"/>).</summary>
    public void Add(string org, MetricsBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!IsValidHost(batch.Host))
        {
            throw new OracException($"bad host '{AuthStore.Escape(batch.Host ?? "")}': 1 to 253 of letters, digits, '.', '_' and '-'");
        }

        lock (_gate)
        {
            if (!_orgs.TryGetValue(org, out Dictionary<string, HostSeries>? hosts) || !hosts.ContainsKey(batch.Host))
            {
                if (hosts is not null && hosts.Count >= MaxHostsPerOrg)
                {
                    throw new ApiException(429, $"org '{org}' already has GPU/RAPL readings from {MaxHostsPerOrg} hosts");
                }
            }

            AddToMemory(org, batch);
            if (_dir is not null)
            {
                if (!_files.TryGetValue(org, out OrgFile? file))
                {
                    _files[org] = file = new OrgFile(Path.Combine(_dir, org + ".jsonl"));
                }

                file.Append(JsonSerializer.SerializeToUtf8Bytes(batch, OracServer.Json.MetricsBatch));
                if (file.Appended > Math.Max(RewriteBytes, file.Length - file.Appended))
                {
                    Rewrite(org, file);
                }
            }
        }
    }

    private void AddToMemory(string org, MetricsBatch batch)
    {
        if (!_orgs.TryGetValue(org, out Dictionary<string, HostSeries>? hosts))
        {
            _orgs[org] = hosts = new Dictionary<string, HostSeries>(StringComparer.Ordinal);
        }

        if (!hosts.TryGetValue(batch.Host, out HostSeries? series))
        {
            hosts[batch.Host] = series = new HostSeries();
        }

        foreach (GpuReading g in batch.Gpus)
        {
            Insert(series.Gpus, g, static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Index.CompareTo(b.Index));
        }

        foreach (PowerReading p in batch.Power)
        {
            Insert(series.Power, p, static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : string.CompareOrdinal(a.Domain, b.Domain));
        }

        series.SinceCompaction += batch.Gpus.Count + batch.Power.Count;
        if (series.SinceCompaction >= CompactEvery)
        {
            Compact(series);
        }
    }

    private static void Insert<T>(List<T> list, T item, Comparison<T> compare)
    {
        // Readings arrive in time order almost always: append; otherwise insert in place.
        if (list.Count == 0 || compare(list[^1], item) <= 0)
        {
            list.Add(item);
            return;
        }

        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (compare(list[mid], item) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        list.Insert(lo, item);
    }

    /// <summary>Retention, downsampling beyond the raw hour, then the hard caps.</summary>
    private void Compact(HostSeries s)
    {
        s.SinceCompaction = 0;
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long oldest = now - RetentionMs;
        if (s.Gpus.Count > 0)
        {
            long cutoff = (s.Gpus[^1].Time - RawWindowMs) / PointMs * PointMs;
            Dropped += LowerBound(s.Gpus, static g => g.Time, oldest);
            s.Gpus = DownsampleGpus(s.Gpus, oldest, cutoff);
            int over = s.Gpus.Count - MaxGpuReadingsPerHost;
            if (over > 0)
            {
                s.Gpus.RemoveRange(0, over);
                Dropped += over;
            }
        }

        if (s.Power.Count > 0)
        {
            long cutoff = (s.Power[^1].Time - RawWindowMs) / PointMs * PointMs;
            Dropped += LowerBound(s.Power, static p => p.Time, oldest);
            s.Power = DownsamplePower(s.Power, oldest, cutoff);
            int over = s.Power.Count - MaxPowerReadingsPerHost;
            if (over > 0)
            {
                s.Power.RemoveRange(0, over);
                Dropped += over;
            }
        }
    }

    /// <summary>
    /// GPU readings before <paramref name="cutoff"/> become one point per GPU per minute: the means of utilization, SM
    /// activity, power and memory, the last energy counter value (counter differences survive exactly), at the time
    /// of the minute's last reading (a reading stands for the interval before it). Readings before
    /// <paramref name="oldest"/> are dropped. The result is in (time, index) order.
    /// </summary>
    internal static List<GpuReading> DownsampleGpus(List<GpuReading> list, long oldest, long cutoff)
    {
        var result = new List<GpuReading>(list.Count);
        var groups = new Dictionary<(int, long), List<GpuReading>>();
        var order = new List<(int, long)>();
        foreach (GpuReading g in list)
        {
            if (g.Time < oldest)
            {
                continue;
            }

            if (g.Time >= cutoff)
            {
                break;
            }

            (int, long) key = (g.Index, Math.DivRem(g.Time, PointMs).Quotient);
            if (!groups.TryGetValue(key, out List<GpuReading>? l))
            {
                groups[key] = l = [];
                order.Add(key);
            }

            l.Add(g);
        }

        foreach ((int, long) key in order)
        {
            List<GpuReading> l = groups[key];
            result.Add(l.Count == 1 ? l[0] : Merge(l));
        }

        result.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Index.CompareTo(b.Index));
        foreach (GpuReading g in list)
        {
            if (g.Time >= cutoff && g.Time >= oldest)
            {
                result.Add(g);
            }
        }

        return result;
    }

    private static GpuReading Merge(List<GpuReading> l)
    {
        GpuReading last = l[^1];
        double? energy = null;
        foreach (GpuReading g in l)
        {
            energy = g.EnergyMillijoules ?? energy;
        }

        return new GpuReading
        {
            Time = last.Time,
            Index = last.Index,
            Uuid = last.Uuid,
            Model = last.Model,
            UtilPercent = Mean(l, static g => g.UtilPercent),
            SmActivePercent = Mean(l, static g => g.SmActivePercent),
            PowerWatts = Mean(l, static g => g.PowerWatts),
            EnergyMillijoules = energy,
            MemoryUsedMib = Mean(l, static g => g.MemoryUsedMib),
        };
    }

    private static double? Mean(List<GpuReading> l, Func<GpuReading, double?> value)
    {
        double sum = 0;
        int n = 0;
        foreach (GpuReading g in l)
        {
            if (value(g) is double v)
            {
                sum += v;
                n++;
            }
        }

        return n == 0 ? null : sum / n;
    }

    /// <summary>RAPL readings before <paramref name="cutoff"/>: the last reading per domain per minute (counters survive).</summary>
    internal static List<PowerReading> DownsamplePower(List<PowerReading> list, long oldest, long cutoff)
    {
        var last = new Dictionary<(string, long), int>();
        for (int i = 0; i < list.Count; i++)
        {
            PowerReading p = list[i];
            if (p.Time >= oldest && p.Time < cutoff)
            {
                last[(p.Domain, Math.DivRem(p.Time, PointMs).Quotient)] = i;
            }
        }

        var result = new List<PowerReading>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            PowerReading p = list[i];
            if (p.Time >= oldest && (p.Time >= cutoff || last[(p.Domain, Math.DivRem(p.Time, PointMs).Quotient)] == i))
            {
                result.Add(p);
            }
        }

        return result;
    }

    private void Rewrite(string org, OrgFile file)
    {
        var batches = new List<MetricsBatch>();
        if (_orgs.TryGetValue(org, out Dictionary<string, HostSeries>? hosts))
        {
            foreach ((string host, HostSeries s) in hosts)
            {
                Compact(s);
                const int Chunk = 10_000;
                for (int i = 0; i < Math.Max(s.Gpus.Count, s.Power.Count); i += Chunk)
                {
                    batches.Add(new MetricsBatch
                    {
                        Host = host,
                        Gpus = s.Gpus.GetRange(Math.Min(i, s.Gpus.Count), Math.Clamp(s.Gpus.Count - i, 0, Chunk)),
                        Power = s.Power.GetRange(Math.Min(i, s.Power.Count), Math.Clamp(s.Power.Count - i, 0, Chunk)),
                    });
                }
            }
        }

        file.Replace(stream =>
        {
            foreach (MetricsBatch b in batches)
            {
                JsonSerializer.Serialize(stream, b, OracServer.Json.MetricsBatch);
                stream.WriteByte((byte)'\n');
            }
        });
    }

    /// <summary>Hosts of <paramref name="org"/> with readings in [fromMs, untilMs).</summary>
    public IReadOnlyList<string> Hosts(string org, long fromMs, long untilMs)
    {
        lock (_gate)
        {
            var list = new List<string>();
            if (_orgs.TryGetValue(org, out Dictionary<string, HostSeries>? hosts))
            {
                foreach ((string host, HostSeries s) in hosts)
                {
                    if (Range(s.Gpus, static g => g.Time, fromMs, untilMs).Count > 0 || Range(s.Power, static p => p.Time, fromMs, untilMs).Count > 0)
                    {
                        list.Add(host);
                    }
                }
            }

            list.Sort(StringComparer.Ordinal);
            return list;
        }
    }

    /// <summary>GPU readings of one host in [fromMs, untilMs), in time order.</summary>
    public IReadOnlyList<GpuReading> Gpus(string org, string host, long fromMs, long untilMs)
    {
        lock (_gate)
        {
            return _orgs.TryGetValue(org, out var hosts) && hosts.TryGetValue(host, out HostSeries? s)
                ? Copy(s.Gpus, Range(s.Gpus, static g => g.Time, fromMs, untilMs))
                : [];
        }
    }

    /// <summary>RAPL readings of one host in [fromMs, untilMs), in time order.</summary>
    public IReadOnlyList<PowerReading> Power(string org, string host, long fromMs, long untilMs)
    {
        lock (_gate)
        {
            return _orgs.TryGetValue(org, out var hosts) && hosts.TryGetValue(host, out HostSeries? s)
                ? Copy(s.Power, Range(s.Power, static p => p.Time, fromMs, untilMs))
                : [];
        }
    }

    private static List<T> Copy<T>(List<T> list, (int Start, int Count) r) => list.GetRange(r.Start, r.Count);

    private static (int Start, int Count) Range<T>(List<T> list, Func<T, long> time, long from, long until)
    {
        int lo = LowerBound(list, time, from);
        int hi = LowerBound(list, time, until);
        return (lo, Math.Max(0, hi - lo));
    }

    private static int LowerBound<T>(List<T> list, Func<T, long> time, long t)
    {
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (time(list[mid]) < t)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>A host name: 1–253 of letters, digits, '.', '_' and '-', starting with a letter or digit.</summary>
    public static bool IsValidHost(string? name) =>
        name is { Length: >= 1 and <= 253 } && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>
    /// Checks readings at the boundary: times within [now − retention, now + 1 day], GPU index 0–1023, utilization and
    /// SM activity 0–100 %, power 0–100 kW, energy and memory non-negative, names clipped, RAPL domains of 1–64
    /// characters with non-negative counters. Bad readings are dropped and counted with the first reason
    /// (<c>gpus[3]: …</c>); the batch keeps the good ones.
    /// </summary>
    public static MetricsBatch Validate(string host, IReadOnlyList<GpuReading> gpus, IReadOnlyList<PowerReading> power, long nowMs, out long skipped, out string? firstSkip)
    {
        long s = 0;
        string? first = null;
        void Skip(string why)
        {
            s++;
            first ??= why;
        }

        long oldest = nowMs - RetentionMs, newest = nowMs + (24 * 3600 * 1000);
        var keptGpus = new List<GpuReading>(gpus.Count);
        for (int i = 0; i < gpus.Count; i++)
        {
            GpuReading? g = gpus[i];
            string? why = g is null ? "null"
                : g.Time < oldest || g.Time > newest ? $"time {g.Time.ToString(CultureInfo.InvariantCulture)} ms is outside the last 35 days"
                : g.Index is < 0 or > Orac.Cost.Gpu.GpuFormats.MaxGpuIndex ? "index out of range"
                : !InRange(g.UtilPercent, 100) ? "utilPercent out of 0–100"
                : !InRange(g.SmActivePercent, 100) ? "smActivePercent out of 0–100"
                : !InRange(g.PowerWatts, Orac.Cost.Gpu.GpuFormats.MaxWatts) ? "powerWatts out of range"
                : !InRange(g.EnergyMillijoules, double.MaxValue) ? "energyMillijoules negative"
                : !InRange(g.MemoryUsedMib, double.MaxValue) ? "memoryUsedMib negative"
                : null;
            if (why is not null)
            {
                Skip($"gpus[{i}]: {why}");
                continue;
            }

            // Source-generated JSON sets init-only properties it did not see to null: model may be null here.
            string model = g!.Model ?? "";
            keptGpus.Add(g.Model is not null && model.Length <= 256 && (g.Uuid?.Length ?? 0) <= 256 ? g : new GpuReading
            {
                Time = g.Time,
                Index = g.Index,
                Uuid = g.Uuid?[..Math.Min(g.Uuid.Length, 256)],
                Model = model[..Math.Min(model.Length, 256)],
                UtilPercent = g.UtilPercent,
                SmActivePercent = g.SmActivePercent,
                PowerWatts = g.PowerWatts,
                EnergyMillijoules = g.EnergyMillijoules,
                MemoryUsedMib = g.MemoryUsedMib,
            });
        }

        var keptPower = new List<PowerReading>(power.Count);
        for (int i = 0; i < power.Count; i++)
        {
            PowerReading? p = power[i];
            string? why = p is null ? "null"
                : p.Time < oldest || p.Time > newest ? $"time {p.Time.ToString(CultureInfo.InvariantCulture)} ms is outside the last 35 days"
                : p.Domain is not { Length: >= 1 and <= 64 } || !p.Domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':' or '.') ? "bad domain"
                : p.EnergyMicrojoules < 0 || p.MaxEnergyMicrojoules < 0 ? "negative counter"
                : null;
            if (why is not null)
            {
                Skip($"power[{i}]: {why}");
                continue;
            }

            keptPower.Add(p!);
        }

        skipped = s;
        firstSkip = first;
        return new MetricsBatch { Host = host, Gpus = keptGpus, Power = keptPower };
    }

    private static bool InRange(double? v, double max) => v is not double d || (double.IsFinite(d) && d >= 0 && d <= max);

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (OrgFile f in _files.Values)
            {
                f.Dispose();
            }

            _files.Clear();
        }
    }

    private sealed class HostSeries
    {
        public List<GpuReading> Gpus { get; set; } = [];

        public List<PowerReading> Power { get; set; } = [];

        public int SinceCompaction { get; set; }
    }

    /// <summary>One org's append-only file.</summary>
    private sealed class OrgFile(string path) : IDisposable
    {
        private FileStream? _stream;

        public long Length { get; private set; } = File.Exists(path) ? new FileInfo(path).Length : 0;

        /// <summary>Bytes appended since the file was last written whole (or opened).</summary>
        public long Appended { get; private set; }

        public void Append(byte[] json)
        {
            try
            {
                if (_stream is null)
                {
                    var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
                    if (!OperatingSystem.IsWindows())
                    {
                        options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                    }

                    _stream = new FileStream(path, options);

                    // A line torn by a crash must not swallow the next one.
                    if (_stream.Length > 0 && LastByte() != '\n')
                    {
                        _stream.WriteByte((byte)'\n');
                        Length++;
                    }
                }

                _stream.Write(json);
                _stream.WriteByte((byte)'\n');
                _stream.Flush();
                Length += json.Length + 1;
                Appended += json.Length + 1;
            }
            catch (IOException e)
            {
                throw new OracException($"{path}: cannot append GPU/RAPL readings: {e.Message}");
            }
        }

        private int LastByte()
        {
            using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            read.Seek(-1, SeekOrigin.End);
            return read.ReadByte();
        }

        public void Replace(Action<Stream> write)
        {
            _stream?.Dispose();
            _stream = null;
            AtomicFile.Write(path, write);
            Length = new FileInfo(path).Length;
            Appended = 0;
        }

        public void Dispose() => _stream?.Dispose();
    }
}
