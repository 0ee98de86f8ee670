using System.Text.Json.Serialization;

namespace Orac.Model.Wire;

/// <summary>Every non-2xx answer of the HTTP API: what was wrong and the status code.</summary>
public sealed class ApiError
{
    /// <summary>One line saying what was wrong (and where, for parse errors: line or byte offset).</summary>
    public required string Error { get; init; }

    /// <summary>The HTTP status code, repeated for clients that only keep the body.</summary>
    public required int Status { get; init; }
}

/// <summary>Answer of the ingest routes once the data is durable and queryable.</summary>
public sealed class IngestResult
{
    /// <summary>Profiles kept: one per (profile, value column), so a pprof with 4 sample types counts 4.</summary>
    public required int Ingested { get; init; }

    /// <summary>Distinct (profile type, label set) series written to.</summary>
    public required int Series { get; init; }

    /// <summary>Sample rows kept, all profiles together.</summary>
    public required long Samples { get; init; }

    /// <summary>
    /// True when the request's <c>X-Orac-Upload-Id</c> was already stored for this org: nothing was stored again and
    /// the counts are zero (an agent replaying its spool after a lost answer).
    /// </summary>
    public bool Duplicate { get; init; }
}

/// <summary>
/// A flame graph as columns (see docs/api.md): nodes in depth-first pre-order, node 0 the root, children sorted by
/// name. Values are in <see cref="Unit"/>; times are Unix milliseconds.
/// </summary>
public sealed class FlameTree
{
    /// <summary>Profile type id of the values.</summary>
    public required string Type { get; init; }

    /// <summary>Unit of every value, e.g. <c>nanoseconds</c>, <c>bytes</c>, <c>count</c>.</summary>
    public required string Unit { get; init; }

    /// <summary><c>measured</c>: values as the profilers reported them.</summary>
    public required string Provenance { get; init; }

    /// <summary>True when the answer does not cover all the data asked for.</summary>
    public required bool Partial { get; init; }

    /// <summary>Start of the range, Unix ms (inclusive).</summary>
    public required long From { get; init; }

    /// <summary>End of the range, Unix ms (exclusive).</summary>
    public required long Until { get; init; }

    /// <summary>The root's total: the whole selection.</summary>
    public required long Total { get; init; }

    /// <summary>Distinct frame names; node names index into it. Index 0 is <c>total</c> (the root).</summary>
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>The node columns.</summary>
    public required FlameNodes Nodes { get; init; }

    /// <summary>Nodes left out by <c>maxNodes</c> (their values are in their kept ancestor's self).</summary>
    public required int Truncated { get; init; }

    /// <summary>Diff only: the base selection's total.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? BaseTotalValue { get; init; }
}

/// <summary>Columns of a <see cref="FlameTree"/>, all the same length (one entry per node).</summary>
public sealed class FlameNodes
{
    /// <summary>Parent node index; -1 for the root.</summary>
    public required int[] Parent { get; init; }

    /// <summary>Index into <see cref="FlameTree.Names"/>.</summary>
    public required int[] Name { get; init; }

    /// <summary>Value of the node and everything below it.</summary>
    public required long[] Total { get; init; }

    /// <summary>Value of samples ending at this node (plus folded-in truncated children).</summary>
    public required long[] Self { get; init; }

    /// <summary>Diff only: total in the base selection.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long[]? BaseTotal { get; init; }

    /// <summary>Diff only: self in the base selection.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long[]? BaseSelf { get; init; }
}

/// <summary>A selection's total over time.</summary>
public sealed class SeriesDocument
{
    /// <summary>Profile type id.</summary>
    public required string Type { get; init; }

    /// <summary>Unit of the values.</summary>
    public required string Unit { get; init; }

    /// <summary>Step between points, milliseconds.</summary>
    public required long Step { get; init; }

    /// <summary>Points <c>[unixMs, value]</c>, oldest first; steps without data are absent.</summary>
    public required IReadOnlyList<long[]> Points { get; init; }
}

/// <summary>Label names of the selected series.</summary>
public sealed class LabelNamesDocument
{
    /// <summary>Names, sorted.</summary>
    public required IReadOnlyList<string> Names { get; init; }
}

/// <summary>Values of one label of the selected series.</summary>
public sealed class LabelValuesDocument
{
    /// <summary>The label.</summary>
    public required string Name { get; init; }

    /// <summary>Values, sorted.</summary>
    public required IReadOnlyList<string> Values { get; init; }
}

/// <summary>Profile types with data.</summary>
public sealed class TypesDocument
{
    /// <summary>Profile type ids, sorted.</summary>
    public required IReadOnlyList<string> Types { get; init; }
}

/// <summary>The server's version and its store's sizes.</summary>
public sealed class StatusDocument
{
    /// <summary>Orac version.</summary>
    public required string Version { get; init; }

    /// <summary>Store sizes.</summary>
    public required StoreSizes Store { get; init; }
}

/// <summary>Store sizes as <c>/api/v1/status</c> reports them (a copy of the store's own counters).</summary>
public sealed class StoreSizes
{
    /// <summary>(stack, value) entries in memory.</summary>
    public long HotSamples { get; init; }

    /// <summary>Estimated bytes of memory the hot tier holds.</summary>
    public long HotBytes { get; init; }

    /// <summary>Rows in the cold tier.</summary>
    public long ColdRows { get; init; }

    /// <summary>Bytes of the cold database on disk.</summary>
    public long ColdBytes { get; init; }

    /// <summary>Bytes of write-ahead log not yet checkpointed.</summary>
    public long WalBytes { get; init; }

    /// <summary>Distinct series.</summary>
    public long Series { get; init; }

    /// <summary>Distinct stacks.</summary>
    public long Stacks { get; init; }
}

/// <summary><c>GET /healthz</c>.</summary>
public sealed class HealthDocument
{
    /// <summary>Always <c>ok</c> when the server answers.</summary>
    public required string Status { get; init; }
}

/// <summary><c>POST /api/v1/orgs</c> body and answer.</summary>
public sealed class OrgDocument
{
    /// <summary>Org name: lower-case letters, digits, '-', '_' and '.', starting with a letter or digit, at most 63 characters.</summary>
    public string? Org { get; init; }

    /// <summary>Accepted as an alias of <see cref="Org"/> in requests.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }
}

/// <summary><c>POST /api/v1/tokens</c> body.</summary>
public sealed class TokenRequest
{
    /// <summary>Org the token belongs to.</summary>
    public string? Org { get; init; }

    /// <summary><c>ingest</c>, <c>read</c> or <c>admin</c>.</summary>
    public string? Role { get; init; }

    /// <summary>Free-form name (who or what uses it), for the operator.</summary>
    public string? Name { get; init; }
}

/// <summary><c>POST /api/v1/tokens</c> answer: the token, shown once (only its SHA-256 is kept).</summary>
public sealed class TokenDocument
{
    /// <summary>The secret, <c>orac_</c> + 43 base64url characters.</summary>
    public required string Token { get; init; }

    /// <summary>Org it belongs to.</summary>
    public required string Org { get; init; }

    /// <summary>Its role.</summary>
    public required string Role { get; init; }

    /// <summary>Its name.</summary>
    public required string Name { get; init; }
}
