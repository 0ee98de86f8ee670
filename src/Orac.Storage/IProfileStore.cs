using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>
/// One profile to keep: whose (org), what (profile type: exactly one value column of <see cref="Profile"/>),
/// which series (labels, e.g. service_name, host), and when. Per-sample labels of <see cref="Profile"/>
/// are added to <see cref="Labels"/> (each distinct sample label set is its own series).
/// </summary>
/// <param name="Org">Owning org id; never empty.</param>
/// <param name="Type">Profile type id the value column is stored under.</param>
/// <param name="Labels">Series labels; must contain <c>service_name</c>.</param>
/// <param name="StartNs">Start of the covered time, Unix ns; stored in the bucket containing it.</param>
/// <param name="EndNs">End of the covered time, Unix ns (≥ start).</param>
/// <param name="Profile">Stacks and values; only column <paramref name="ValueIndex"/> is kept.</param>
/// <param name="ValueIndex">Which value column of <paramref name="Profile"/> this item stores.</param>
public sealed record IngestItem(
    string Org,
    ProfileTypeId Type,
    SeriesLabels Labels,
    long StartNs,
    long EndNs,
    Profile Profile,
    int ValueIndex = 0);

/// <summary>What a query reads: which orgs (one, or several for an admin roll-up), one profile type, a selector and a time range [start, end).</summary>
public sealed record ProfileQuery(IReadOnlyList<string> Orgs, ProfileTypeId Type, Selector Selector, long StartNs, long EndNs);

/// <summary>One point of a time series: bucket start (Unix ns) and the summed value in the query's unit.</summary>
public readonly record struct SeriesPoint(long TimeNs, long Value);

/// <summary>Counts that say how big the store is (for benchmarks, <c>/api/v1/status</c> and logs).</summary>
public sealed record StoreStats
{
    /// <summary>(stack, value) entries held in memory in the hot tier.</summary>
    public long HotSamples { get; init; }

    /// <summary>Estimated bytes of managed memory the hot tier holds (entries, dictionaries, series).</summary>
    public long HotBytes { get; init; }

    /// <summary>Rows in the cold tier, all retention tiers together.</summary>
    public long ColdRows { get; init; }

    /// <summary>Size of the cold database file(s) on disk, bytes.</summary>
    public long ColdBytes { get; init; }

    /// <summary>Bytes of write-ahead log not yet checkpointed into the cold tier.</summary>
    public long WalBytes { get; init; }

    /// <summary>Distinct series (org, type, label set).</summary>
    public long Series { get; init; }

    /// <summary>Distinct stacks in the dictionary.</summary>
    public long Stacks { get; init; }
}

/// <summary>
/// Where profiles are kept. Implementations: <see cref="MemoryProfileStore"/> (everything in memory, no durability;
/// the reference the tiered store is tested against) and the tiered store (hot in memory, write-ahead log, cold in DuckDB).
/// Every query the API offers is expressed once on top of these primitives (top, diff and export are computed from
/// <see cref="Select"/>'s merged profile by the server), so a clustered
/// backend only has to implement this interface. All methods are thread-safe.
/// </summary>
public interface IProfileStore : IAsyncDisposable
{
    /// <summary>
    /// Keeps all <paramref name="items"/> or none. When the returned task completes the data is durable (survives
    /// <c>kill -9</c> of the process) and visible to queries. Throws <see cref="OracException"/> for bad items.
    /// </summary>
    ValueTask IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// The merged profile of every selected series in the range: one value column (the query's type), stacks merged,
    /// no per-sample labels. Metadata carries the range. An empty selection gives an empty profile, not an error.
    /// </summary>
    Profile Select(ProfileQuery query);

    /// <summary>
    /// Merged profiles grouped by the values of label <paramref name="groupBy"/> (e.g. <c>host</c>); series without
    /// the label are grouped under "".
    /// </summary>
    IReadOnlyDictionary<string, Profile> SelectGrouped(ProfileQuery query, string groupBy);

    /// <summary>
    /// The selection's total per time step: points at <c>start + k·step</c> for every step that has data.
    /// With <paramref name="function"/>, only samples whose stack contains a frame of that exact name count (once per sample).
    /// </summary>
    IReadOnlyList<SeriesPoint> Series(ProfileQuery query, long stepNs, string? function = null);

    /// <summary>Profile types with data for these orgs in the range, sorted.</summary>
    IReadOnlyList<ProfileTypeId> Types(IReadOnlyList<string> orgs, long startNs, long endNs);

    /// <summary>Label names (without a name) or one label's values of the selected series in the range, sorted, distinct.</summary>
    IReadOnlyList<string> Labels(ProfileQuery query, string? name = null);

    /// <summary>Sizes, for status pages and benchmarks.</summary>
    StoreStats Stats();
}
