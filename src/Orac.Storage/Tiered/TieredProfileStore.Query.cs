using System.Text;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>Queries: merge by global stack id in int-keyed maps over hot buckets and cold rows, resolve names at the end.</summary>
public sealed partial class TieredProfileStore
{
    /// <inheritdoc/>
    public Profile Select(ProfileQuery query) => Build(query, Sums(Match(query), query.StartNs, query.EndNs));

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Profile> SelectGrouped(ProfileQuery query, string groupBy)
    {
        var groups = new Dictionary<string, List<HotSeries>>(StringComparer.Ordinal);
        foreach (var s in WithData(Match(query), query.StartNs, query.EndNs))
        {
            var key = s.Labels[groupBy] ?? "";
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
            }

            list.Add(s);
        }

        var result = new Dictionary<string, Profile>(StringComparer.Ordinal);
        foreach (var (key, list) in groups)
        {
            result[key] = Build(query, Sums(list, query.StartNs, query.EndNs));
        }

        return result;
    }

    /// <inheritdoc/>
    public IReadOnlyList<SeriesPoint> Series(ProfileQuery query, long stepNs, string? function = null)
    {
        if (stepNs <= 0)
        {
            throw new OracException("step must be positive", OracException.Usage);
        }

        var matched = Match(query);
        long start = query.StartNs, end = query.EndNs;
        var sums = new SortedDictionary<long, long>();
        var filter = function is null ? null : new FunctionFilter(this, function);
        if (matched.Count == 0 || start >= end)
        {
            return [];
        }

        long Step(long bucketNs) => start + Buckets.Floor(bucketNs - start, stepNs);

        void AddEntries(long t, int[] stacks, long[] values, int n)
        {
            long v = 0;
            for (int i = 0; i < n; i++)
            {
                if (filter is null || filter.Matches(stacks[i]))
                {
                    v += values[i];
                }
            }

            sums[t] = sums.GetValueOrDefault(t) + v;
        }

        void AddMap(long t, Dictionary<int, long> map)
        {
            long v = 0;
            foreach (var (s, x) in map)
            {
                if (filter is null || filter.Matches(s))
                {
                    v += x;
                }
            }

            sums[t] = sums.GetValueOrDefault(t) + v;
        }

        _epoch.EnterReadLock();
        try
        {
            long floor = _hotFloorNs;
            foreach (var s in matched)
            {
                lock (s)
                {
                    foreach (var (b, bucket) in s.Buckets)
                    {
                        if (b < start || b >= end)
                        {
                            continue;
                        }

                        long t = Step(b);
                        if (b >= floor && bucket.SealedStacks.Length > 0)
                        {
                            AddEntries(t, bucket.SealedStacks, bucket.SealedValues, bucket.SealedStacks.Length);
                        }

                        if (bucket.Flushing is { } f)
                        {
                            AddMap(t, f);
                        }

                        if (bucket.Open is { } o)
                        {
                            AddMap(t, o);
                        }
                    }
                }
            }

            var ids = Ids(matched);

            // Rollup buckets may stand in for their 10 s buckets only where the step grid never splits them.
            int coarsest = Aligned(start, stepNs, StorageOptions.HourNs) ? 2 : Aligned(start, stepNs, StorageOptions.MinuteNs) ? 1 : 0;
            if (filter is null)
            {
                ReadCold(ids, start, Math.Min(end, floor), "SELECT bucket_ns, CAST(SUM(value) AS BIGINT) FROM r GROUP BY bucket_ns", r =>
                {
                    long t = Step(r.GetInt64(0));
                    sums[t] = sums.GetValueOrDefault(t) + r.GetInt64(1);
                }, coarsest);
            }
            else
            {
                ReadCold(ids, start, Math.Min(end, floor), "SELECT bucket_ns, stack_id, CAST(SUM(value) AS BIGINT) FROM r GROUP BY bucket_ns, stack_id", r =>
                {
                    long t = Step(r.GetInt64(0));
                    long v = filter.Matches(r.GetInt32(1)) ? r.GetInt64(2) : 0;
                    sums[t] = sums.GetValueOrDefault(t) + v;
                }, coarsest);
            }
        }
        finally
        {
            _epoch.ExitReadLock();
        }

        var points = new List<SeriesPoint>(sums.Count);
        foreach (var (t, v) in sums)
        {
            points.Add(new SeriesPoint(t, v));
        }

        return points;
    }

    private static bool Aligned(long start, long step, long width) => step % width == 0 && Buckets.Floor(start, width) == start;

    /// <inheritdoc/>
    public IReadOnlyList<ProfileTypeId> Types(IReadOnlyList<string> orgs, long startNs, long endNs)
    {
        var candidates = new List<HotSeries>();
        foreach (var s in _series)
        {
            if (orgs.Contains(s.Org))
            {
                candidates.Add(s);
            }
        }

        var types = new SortedDictionary<string, ProfileTypeId>(StringComparer.Ordinal);
        foreach (var s in WithData(candidates, startNs, endNs))
        {
            types[s.Type.ToString()] = s.Type;
        }

        return [.. types.Values];
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Labels(ProfileQuery query, string? name = null)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var s in WithData(Match(query), query.StartNs, query.EndNs))
        {
            if (name is null)
            {
                foreach (var kv in s.Labels.Pairs)
                {
                    values.Add(kv.Key);
                }
            }
            else if (s.Labels[name] is { } v)
            {
                values.Add(v);
            }
        }

        return [.. values];
    }

    private List<HotSeries> Match(ProfileQuery q)
    {
        var result = new List<HotSeries>();
        foreach (var s in _series)
        {
            if (s.Type == q.Type && q.Orgs.Contains(s.Org) && q.Selector.Matches(s.Labels.Pairs))
            {
                result.Add(s);
            }
        }

        return result;
    }

    private static List<int> Ids(List<HotSeries> series)
    {
        var ids = new List<int>(series.Count);
        foreach (var s in series)
        {
            ids.Add(s.Id);
        }

        return ids;
    }

    /// <summary>The series that have at least one entry with a bucket start in [start, end).</summary>
    private List<HotSeries> WithData(List<HotSeries> candidates, long start, long end)
    {
        if (candidates.Count == 0 || start >= end)
        {
            return [];
        }

        var found = new HashSet<int>();
        _epoch.EnterReadLock();
        try
        {
            long floor = _hotFloorNs;
            foreach (var s in candidates)
            {
                lock (s)
                {
                    foreach (var (b, bucket) in s.Buckets)
                    {
                        if (b >= start && b < end && ((b >= floor && bucket.SealedStacks.Length > 0) || bucket.Flushing is not null || bucket.Open is not null))
                        {
                            found.Add(s.Id);
                            break;
                        }
                    }
                }
            }

            var rest = new List<int>();
            foreach (var s in candidates)
            {
                if (!found.Contains(s.Id))
                {
                    rest.Add(s.Id);
                }
            }

            ReadCold(rest, start, Math.Min(end, floor), "SELECT DISTINCT series_id FROM r", r => found.Add(r.GetInt32(0)));
        }
        finally
        {
            _epoch.ExitReadLock();
        }

        return candidates.FindAll(s => found.Contains(s.Id));
    }

    /// <summary>Value per global stack id over the series' buckets in [start, end): hot parts and cold rows.</summary>
    private Dictionary<int, long> Sums(List<HotSeries> series, long start, long end)
    {
        var sums = new Dictionary<int, long>();
        if (series.Count == 0 || start >= end)
        {
            return sums;
        }

        _epoch.EnterReadLock();
        try
        {
            long floor = _hotFloorNs;
            foreach (var s in series)
            {
                lock (s)
                {
                    foreach (var (b, bucket) in s.Buckets)
                    {
                        if (b < start || b >= end)
                        {
                            continue;
                        }

                        if (b >= floor)
                        {
                            var st = bucket.SealedStacks;
                            var sv = bucket.SealedValues;
                            for (int i = 0; i < st.Length; i++)
                            {
                                ref long slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, st[i], out _);
                                slot += sv[i];
                            }
                        }

                        AddMap(sums, bucket.Flushing);
                        AddMap(sums, bucket.Open);
                    }
                }
            }

            ReadCold(Ids(series), start, Math.Min(end, floor), "SELECT stack_id, CAST(SUM(value) AS BIGINT) FROM r GROUP BY stack_id", r =>
            {
                ref long slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, r.GetInt32(0), out _);
                slot += r.GetInt64(1);
            });
        }
        finally
        {
            _epoch.ExitReadLock();
        }

        return sums;
    }

    private static void AddMap(Dictionary<int, long> sums, Dictionary<int, long>? map)
    {
        if (map is null)
        {
            return;
        }

        foreach (var (s, v) in map)
        {
            ref long slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, s, out _);
            slot += v;
        }
    }

    /// <summary>Resolves global stack ids to a profile; stacks whose total is zero are left out (as the reference store does for non-negative values).</summary>
    private Profile Build(ProfileQuery q, Dictionary<int, long> sums)
    {
        var b = new ProfileBuilder(q.Type.Value)
        {
            Metadata = new ProfileMetadata { StartNs = q.StartNs, EndNs = q.EndNs, Org = q.Orgs.Count == 1 ? q.Orgs[0] : "" },
        };
        var strings = new Dictionary<int, StringId>();
        var frames = new Dictionary<int, FrameId>();
        var stacks = new Dictionary<int, StackId>();
        var chain = new List<int>();
        lock (_dictLock)
        {
            StringId Str(StringId id)
            {
                if (!strings.TryGetValue((int)id, out var m))
                {
                    m = b.Intern(_dict.Strings.GetBytes(id));
                    strings[(int)id] = m;
                }

                return m;
            }

            foreach (var (stack, value) in sums)
            {
                if (value == 0)
                {
                    continue;
                }

                chain.Clear();
                int cur = stack;
                while (cur >= 0 && !stacks.ContainsKey(cur))
                {
                    chain.Add(cur);
                    cur = (int)_dict.Stacks.Caller((StackId)cur);
                }

                var mapped = cur < 0 ? StackId.Root : stacks[cur];
                for (int i = chain.Count - 1; i >= 0; i--)
                {
                    var f = _dict.Stacks.Frame((StackId)chain[i]);
                    if (!frames.TryGetValue((int)f, out var mf))
                    {
                        mf = b.Frame(Str(_dict.Frames.Name(f)), Str(_dict.Frames.Module(f)));
                        frames[(int)f] = mf;
                    }

                    mapped = b.Push(mapped, mf);
                    stacks[chain[i]] = mapped;
                }

                b.Add(mapped, value);
            }
        }

        return b.Build();
    }

    /// <summary>Whether a global stack contains a frame named exactly <c>function</c>; memoised per stack.</summary>
    private sealed class FunctionFilter
    {
        private readonly TieredProfileStore _store;
        private readonly int _name;
        private readonly Dictionary<int, bool> _memo = [];

        public FunctionFilter(TieredProfileStore store, string function)
        {
            _store = store;
            lock (store._dictLock)
            {
                _name = store._dict.Strings.TryGet(Encoding.UTF8.GetBytes(function), out var id) ? (int)id : -1;
            }
        }

        public bool Matches(int stack)
        {
            if (_name < 0)
            {
                return false;
            }

            if (_memo.TryGetValue(stack, out bool hit))
            {
                return hit;
            }

            bool found = false;
            lock (_store._dictLock)
            {
                var d = _store._dict;
                for (var s = (StackId)stack; s != StackId.Root; s = d.Stacks.Caller(s))
                {
                    if ((int)d.Frames.Name(d.Stacks.Frame(s)) == _name)
                    {
                        found = true;
                        break;
                    }
                }
            }

            _memo[stack] = found;
            return found;
        }
    }
}
