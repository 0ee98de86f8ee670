namespace Orac.Storage;

/// <summary>
/// Time attribution shared by every store: an ingested profile counts at the 10-second bucket containing its start,
/// and a query range [start, end) selects the buckets whose start lies in it. Rollup tiers use coarser buckets
/// (1 min, 1 h); a rollup bucket is selected when its start lies in the range.
/// </summary>
public static class Buckets
{
    /// <summary>Width of a raw bucket: 10 s in nanoseconds.</summary>
    public const long RawNs = 10_000_000_000L;

    /// <summary>Start of the bucket of width <paramref name="widthNs"/> containing <paramref name="timeNs"/>.</summary>
    public static long Floor(long timeNs, long widthNs = RawNs)
    {
        var r = timeNs % widthNs;
        return r < 0 ? timeNs - r - widthNs : timeNs - r;
    }
}
