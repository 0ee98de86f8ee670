using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>
/// One series (org, profile type, label set) of the tiered store with its hot buckets. Guarded by locking the instance.
/// <see cref="Id"/> is the series id in the cold tier too.
/// </summary>
internal sealed class HotSeries(int id, string org, ProfileTypeId type, SeriesLabels labels, bool persisted)
{
    public int Id { get; } = id;

    public string Org { get; } = org;

    public ProfileTypeId Type { get; } = type;

    public SeriesLabels Labels { get; } = labels;

    /// <summary>Whether the series row is committed in the cold tier (touched only by the flusher and open).</summary>
    public bool Persisted { get; set; } = persisted;

    /// <summary>Hot buckets by start (Unix ns).</summary>
    public Dictionary<long, HotBucket> Buckets { get; } = [];
}

/// <summary>
/// One series' 10 s bucket in memory, in up to three parts. <see cref="SealedStacks"/>: committed in the cold tier, sorted
/// parallel arrays (12 bytes an entry). <see cref="Flushing"/>: taken by the running flush, not yet committed.
/// <see cref="Open"/>: ingested since the last flush started. Guarded by the owning <see cref="HotSeries"/>' lock.
/// </summary>
internal sealed class HotBucket
{
    /// <summary>Estimated bytes of a bucket without its entries (object, dictionary slot in the series).</summary>
    public const int OverheadBytes = 96;

    /// <summary>Estimated bytes per entry of an open map (Dictionary&lt;int,long&gt; entry plus bucket slot).</summary>
    public const int OpenEntryBytes = 28;

    public int[] SealedStacks { get; private set; } = [];

    public long[] SealedValues { get; private set; } = [];

    public Dictionary<int, long>? Flushing { get; set; }

    public Dictionary<int, long>? Open { get; set; }

    public long Entries => SealedStacks.Length + (Flushing?.Count ?? 0) + (Open?.Count ?? 0);

    /// <summary>
    /// Estimated bytes: the object, sealed arrays (12 bytes an entry plus two array headers) and the open and flushing
    /// maps by their allocated capacity (a map grows by doubling, so it may hold up to twice its count).
    /// </summary>
    public long EstimatedBytes => OverheadBytes + 48 + (SealedStacks.Length * 12L) + MapBytes(Flushing) + MapBytes(Open);

    // EnsureCapacity(0) only reads the current capacity.
    private static long MapBytes(Dictionary<int, long>? map) => map is null ? 0 : 80 + (map.EnsureCapacity(0) * (long)OpenEntryBytes);

    public bool IsEmpty => SealedStacks.Length == 0 && Flushing is null && Open is null;

    public void Add(int stack, long value)
    {
        var open = Open ??= [];
        open[stack] = open.GetValueOrDefault(stack) + value;
    }

    /// <summary>Replaces the sealed part (used when loading from the cold tier); the arrays must be sorted by stack.</summary>
    public void SetSealed(int[] stacks, long[] values)
    {
        SealedStacks = stacks;
        SealedValues = values;
    }

    public void DropSealed()
    {
        SealedStacks = [];
        SealedValues = [];
    }

    /// <summary>Merges the committed flushing part into the sealed arrays.</summary>
    public void SealFlushing()
    {
        var f = Flushing;
        Flushing = null;
        if (f is null || f.Count == 0)
        {
            return;
        }

        var fs = new int[f.Count];
        var fv = new long[f.Count];
        int n = 0;
        foreach (var (s, v) in f)
        {
            fs[n] = s;
            fv[n++] = v;
        }

        Array.Sort(fs, fv);
        var a = SealedStacks;
        var av = SealedValues;
        var rs = new int[a.Length + fs.Length];
        var rv = new long[rs.Length];
        int i = 0, j = 0, k = 0;
        while (i < a.Length || j < fs.Length)
        {
            if (j >= fs.Length || (i < a.Length && a[i] < fs[j]))
            {
                rs[k] = a[i];
                rv[k++] = av[i++];
            }
            else if (i >= a.Length || fs[j] < a[i])
            {
                rs[k] = fs[j];
                rv[k++] = fv[j++];
            }
            else
            {
                rs[k] = a[i];
                rv[k++] = av[i++] + fv[j++];
            }
        }

        if (k < rs.Length)
        {
            Array.Resize(ref rs, k);
            Array.Resize(ref rv, k);
        }

        SealedStacks = rs;
        SealedValues = rv;
    }
}
