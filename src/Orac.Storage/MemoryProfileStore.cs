using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>
/// Keeps every ingested item in memory, unaggregated, and answers queries by merging them: the plain,
/// obviously-correct reference that the tiered store is tested against. Not durable; not for production.
/// </summary>
public sealed class MemoryProfileStore : IProfileStore
{
    private readonly object _gate = new();
    private readonly List<Stored> _items = [];

    private sealed record Stored(string Org, ProfileTypeId Type, SeriesLabels Labels, long BucketNs, Profile Profile, int ValueIndex);

    /// <inheritdoc/>
    public ValueTask IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken = default)
    {
        var staged = new List<Stored>();
        foreach (var item in items)
        {
            StoreValidation.Check(item);
            staged.AddRange(SplitBySampleLabels(item));
        }

        lock (_gate)
        {
            _items.AddRange(staged);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public Profile Select(ProfileQuery query) => Merge(Matching(query), query);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Profile> SelectGrouped(ProfileQuery query, string groupBy) =>
        Matching(query).GroupBy(s => s.Labels[groupBy] ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Merge(g, query), StringComparer.Ordinal);

    /// <inheritdoc/>
    public IReadOnlyList<SeriesPoint> Series(ProfileQuery query, long stepNs, string? function = null)
    {
        if (stepNs <= 0)
        {
            throw new OracException("step must be positive", OracException.Usage);
        }

        var sums = new SortedDictionary<long, long>();
        foreach (var s in Matching(query))
        {
            long t = query.StartNs + (Buckets.Floor(s.BucketNs - query.StartNs, stepNs));
            long v = 0;
            var p = s.Profile;
            for (int r = 0; r < p.SampleCount; r++)
            {
                if (function is null || StackContains(p, p.SampleStacks[r], function))
                {
                    v += p.Value(r, s.ValueIndex);
                }
            }

            sums[t] = sums.GetValueOrDefault(t) + v;
        }

        return sums.Select(kv => new SeriesPoint(kv.Key, kv.Value)).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<ProfileTypeId> Types(IReadOnlyList<string> orgs, long startNs, long endNs)
    {
        lock (_gate)
        {
            return _items.Where(s => orgs.Contains(s.Org) && s.BucketNs >= startNs && s.BucketNs < endNs)
                .Select(s => s.Type).Distinct().OrderBy(t => t.ToString(), StringComparer.Ordinal).ToList();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Labels(ProfileQuery query, string? name = null)
    {
        var matching = Matching(query);
        IEnumerable<string> values = name is null
            ? matching.SelectMany(s => s.Labels.Pairs.Select(kv => kv.Key))
            : matching.Select(s => s.Labels[name]).OfType<string>();
        return values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc/>
    public StoreStats Stats()
    {
        lock (_gate)
        {
            return new StoreStats
            {
                HotSamples = _items.Sum(s => (long)s.Profile.SampleCount),
                Series = _items.Select(s => (s.Org, s.Type, s.Labels.Key)).Distinct().Count(),
            };
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private List<Stored> Matching(ProfileQuery q)
    {
        lock (_gate)
        {
            return _items.Where(s => q.Orgs.Contains(s.Org) && s.Type == q.Type && s.BucketNs >= q.StartNs && s.BucketNs < q.EndNs
                && q.Selector.Matches(s.Labels.Pairs)).ToList();
        }
    }

    private static Profile Merge(IEnumerable<Stored> items, ProfileQuery q)
    {
        var b = new ProfileBuilder(q.Type.Value)
        {
            Metadata = new ProfileMetadata { StartNs = q.StartNs, EndNs = q.EndNs, Org = q.Orgs.Count == 1 ? q.Orgs[0] : "" },
        };
        foreach (var s in items)
        {
            var map = new ProfileRemapper(s.Profile, b);
            var p = s.Profile;
            for (int r = 0; r < p.SampleCount; r++)
            {
                long v = p.Value(r, s.ValueIndex);
                if (v != 0)
                {
                    b.Add(map.Stack(p.SampleStacks[r]), v);
                }
            }
        }

        return b.Build();
    }

    private static bool StackContains(Profile p, StackId stack, string function)
    {
        for (var s = stack; s != StackId.Root; s = p.Stacks.Caller(s))
        {
            if (p.FrameName(p.Stacks.Frame(s)) == function)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<Stored> SplitBySampleLabels(IngestItem item)
    {
        var bucket = Buckets.Floor(item.StartNs);
        var p = item.Profile;
        var labelSets = p.SampleLabels.ToArray().Distinct().ToList();
        if (labelSets.Count == 1 && labelSets[0] == LabelSetId.None)
        {
            yield return new Stored(item.Org, item.Type, item.Labels, bucket, p, item.ValueIndex);
            yield break;
        }

        foreach (var ls in labelSets)
        {
            var b = new ProfileBuilder(item.Type.Value);
            var map = new ProfileRemapper(p, b);
            for (int r = 0; r < p.SampleCount; r++)
            {
                if (p.SampleLabels[r] == ls)
                {
                    b.Add(map.Stack(p.SampleStacks[r]), p.Value(r, item.ValueIndex));
                }
            }

            var extra = ls == LabelSetId.None ? [] : p.LabelSets.Get(ls).ToArray()
                .Select(l => new KeyValuePair<string, string>(p.Strings.GetString(l.Key), p.Strings.GetString(l.Value)));
            yield return new Stored(item.Org, item.Type, item.Labels.With(extra), bucket, b.Build(), 0);
        }
    }
}

/// <summary>Checks every store applies to an <see cref="IngestItem"/> before keeping anything.</summary>
public static class StoreValidation
{
    /// <summary>Throws <see cref="OracException"/> (usage) when the item cannot be stored.</summary>
    public static void Check(IngestItem item)
    {
        if (string.IsNullOrEmpty(item.Org))
        {
            throw new OracException("ingest without an org", OracException.Usage);
        }

        if (item.Labels["service_name"] is null)
        {
            throw new OracException("a profile needs a service_name label", OracException.Usage);
        }

        if (item.EndNs < item.StartNs)
        {
            throw new OracException($"time range ends before it starts ({item.StartNs} > {item.EndNs})", OracException.Usage);
        }

        if (item.ValueIndex < 0 || item.ValueIndex >= item.Profile.SampleTypes.Count)
        {
            throw new OracException($"value column {item.ValueIndex} does not exist (the profile has {item.Profile.SampleTypes.Count})", OracException.Usage);
        }
    }
}
