namespace Orac.Storage;

/// <summary>
/// Settings of <see cref="TieredProfileStore"/>. Every default is the documented production value (docs/storage.md).
/// Durations are nanoseconds unless the name says otherwise.
/// </summary>
public sealed record StorageOptions
{
    /// <summary>One hour in nanoseconds.</summary>
    public const long HourNs = 3_600_000_000_000L;

    /// <summary>One minute in nanoseconds.</summary>
    public const long MinuteNs = 60_000_000_000L;

    /// <summary>One day in nanoseconds.</summary>
    public const long DayNs = 24 * HourNs;

    /// <summary>How much recent time the hot tier keeps in memory (default 1 h).</summary>
    public long HotWindowNs { get; init; } = HourNs;

    /// <summary>Cap on the estimated bytes the hot tier holds (default 1 GiB); over it the oldest flushed buckets leave memory first.</summary>
    public long HotMaxBytes { get; init; } = 1L << 30;

    /// <summary>How long raw 10 s buckets are kept in the cold tier (default 7 days).</summary>
    public long Raw10sRetentionNs { get; init; } = 7 * DayNs;

    /// <summary>How long 1 min rollups are kept (default 30 days).</summary>
    public long Rollup1mRetentionNs { get; init; } = 30 * DayNs;

    /// <summary>How long 1 h rollups are kept (default 365 days).</summary>
    public long Rollup1hRetentionNs { get; init; } = 365 * DayNs;

    /// <summary>How often the background flusher moves hot data to DuckDB and runs rollups and retention (default 10 s).</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What to do with a write-ahead-log record that fails its checksum in the middle of the log (not a torn tail):
    /// false (default) refuses to open with an error naming the file and byte offset; true logs the skip and goes on.
    /// </summary>
    public bool SkipCorruptWalRecords { get; init; }

    /// <summary>Current time, Unix ns (injectable for tests); default the system clock.</summary>
    public Func<long> NowNs { get; init; } = static () => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>Where warnings go (skipped WAL records, failed flushes); default nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Throws <see cref="Orac.Model.OracException"/> when a setting cannot work.</summary>
    internal void Validate()
    {
        if (HotWindowNs < Buckets.RawNs || HotMaxBytes <= 0 || Raw10sRetentionNs < HourNs
            || Rollup1mRetentionNs < Raw10sRetentionNs || Rollup1hRetentionNs < Rollup1mRetentionNs || FlushInterval <= TimeSpan.Zero)
        {
            throw new Orac.Model.OracException(
                "bad storage options: need hot window ≥ 10 s, hot cap > 0, 10 s retention ≥ 1 h ≤ 1 min retention ≤ 1 h retention, flush interval > 0",
                Orac.Model.OracException.Usage);
        }
    }
}
