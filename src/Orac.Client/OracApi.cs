using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Client;

/// <summary>
/// Orac's own operations, typed, over the HTTP API (docs/api.md): what <c>orac ask</c> plans run, what the MCP
/// tools expose and what <c>ask --llm</c> offers a model. Every call carries the client's token, so the org scoping
/// and roles are exactly the API's. Failures are one <see cref="OracException"/> line (the server's own error).
/// Times are Unix nanoseconds (<see cref="Orac.Model.Query.TimeSpec"/>); selectors are Orac selector text.
/// </summary>
public sealed class OracApi : IDisposable
{
    private readonly RemoteClient _client;
    private readonly bool _owns;

    /// <summary>An API over <paramref name="client"/>; <paramref name="owns"/>: dispose it with this.</summary>
    public OracApi(RemoteClient client, bool owns = true)
    {
        _client = client;
        _owns = owns;
    }

    /// <summary>An API for <paramref name="server"/> with <paramref name="token"/>.</summary>
    public OracApi(Uri server, string? token, TimeSpan? timeout = null)
        : this(new RemoteClient(server, token, timeout ?? TimeSpan.FromSeconds(120)))
    {
    }

    /// <summary>The server's base URL (flame-graph links are built on it).</summary>
    public Uri Server => _client.Server;

    /// <summary>The raw client, for routes this class does not wrap.</summary>
    public RemoteClient Raw => _client;

    /// <summary>Label names (<c>name</c> null) of the org's stored profiles in the range.</summary>
    public Task<LabelNamesDocument> LabelNamesAsync(long? fromNs = null, long? untilNs = null, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/query/labels", ("from", Ns(fromNs)), ("until", Ns(untilNs))), OracJsonContext.Default.LabelNamesDocument, ct);

    /// <summary>Values of one label (e.g. <c>service_name</c>, <c>host</c>) in the range.</summary>
    public Task<LabelValuesDocument> LabelValuesAsync(string name, long? fromNs = null, long? untilNs = null, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/query/labels", ("name", name), ("from", Ns(fromNs)), ("until", Ns(untilNs))), OracJsonContext.Default.LabelValuesDocument, ct);

    /// <summary>Profile types stored for the org.</summary>
    public Task<TypesDocument> TypesAsync(CancellationToken ct = default) =>
        GetAsync("/api/v1/query/types", OracJsonContext.Default.TypesDocument, ct);

    /// <summary>Top functions (<c>order</c> self|total) of the selection.</summary>
    public Task<TopReport> TopAsync(string selector, long fromNs, long untilNs, int limit = 10, string order = "self", string? type = null, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/query/top", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)), ("limit", limit.ToString(CultureInfo.InvariantCulture)), ("order", order), ("type", type)), OracJsonContext.Default.TopReport, ct);

    /// <summary>The selection's flame tree compared against the base selection (diff columns).</summary>
    public Task<FlameTree> DiffAsync(string selector, long fromNs, long untilNs, string baseSelector, long baseFromNs, long baseUntilNs, string? type = null, int maxNodes = 20000, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/query/diff", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)), ("baseQuery", baseSelector), ("baseFrom", Ns(baseFromNs)), ("baseUntil", Ns(baseUntilNs)), ("type", type), ("maxNodes", maxNodes.ToString(CultureInfo.InvariantCulture))), OracJsonContext.Default.FlameTree, ct);

    /// <summary>The selection's flame tree.</summary>
    public Task<FlameTree> FlameAsync(string selector, long fromNs, long untilNs, string? type = null, int maxNodes = 20000, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/query", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)), ("type", type), ("maxNodes", maxNodes.ToString(CultureInfo.InvariantCulture))), OracJsonContext.Default.FlameTree, ct);

    /// <summary>Cost, energy and carbon of the selection (cost.md). <paramref name="memory"/> false: the server ignores the caller's remembered prices.</summary>
    public Task<CostDocument> CostAsync(string selector, long fromNs, long untilNs, int top = 10, bool memory = true, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/cost", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)), ("top", top.ToString(CultureInfo.InvariantCulture)), ("memory", memory ? null : "off")), OracJsonContext.Default.CostDocument, ct);

    /// <summary>Ranked savings opportunities of the selection.</summary>
    public Task<OpportunitiesDocument> OpportunitiesAsync(string selector, long fromNs, long untilNs, int top = 10, double improvePercent = 10, bool memory = true, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/opportunities", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)), ("top", top.ToString(CultureInfo.InvariantCulture)), ("improve", improvePercent.ToString(CultureInfo.InvariantCulture)), ("memory", memory ? null : "off")), OracJsonContext.Default.OpportunitiesDocument, ct);

    /// <summary>The org's agents matching <paramref name="selector"/> (empty: all).</summary>
    public Task<FleetDocument> FleetAsync(string selector = "", CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/agents", ("query", selector.Length == 0 ? null : selector)), OracJsonContext.Default.FleetDocument, ct);

    /// <summary>Starts delegated research (a catalogue task) on the matching agents. Fleet-changing.</summary>
    public Task<TaskDocument> StartTaskAsync(TaskRequest request, CancellationToken ct = default) =>
        PostAsync("/api/v1/tasks", request, OracJsonContext.Default.TaskRequest, OracJsonContext.Default.TaskDocument, ct);

    /// <summary>A task's state; <paramref name="waitMs"/> &gt; 0 holds the answer until it is no longer running (at most 60 s).</summary>
    public Task<TaskDocument> TaskAsync(string id, int waitMs = 0, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/tasks/" + Uri.EscapeDataString(id), ("wait", waitMs > 0 ? waitMs.ToString(CultureInfo.InvariantCulture) : null)), OracJsonContext.Default.TaskDocument, ct);

    /// <summary>Waits until the task is no longer running or <paramref name="timeout"/> passes; the last state seen.</summary>
    public async Task<TaskDocument> WaitTaskAsync(string id, TimeSpan timeout, CancellationToken ct = default)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (true)
        {
            int wait = (int)Math.Clamp((end - DateTime.UtcNow).TotalMilliseconds, 1, 60_000);
            TaskDocument doc = await TaskAsync(id, wait, ct).ConfigureAwait(false);
            if (!string.Equals(doc.State, "running", StringComparison.Ordinal) || DateTime.UtcNow >= end)
            {
                return doc;
            }
        }
    }

    /// <summary>Top functions of a finished profile task's merged profile.</summary>
    public Task<TopReport> TaskTopAsync(string id, int limit = 10, string? host = null, CancellationToken ct = default) =>
        GetAsync(Path("/api/v1/tasks/" + Uri.EscapeDataString(id) + "/top", ("limit", limit.ToString(CultureInfo.InvariantCulture)), ("host", host)), OracJsonContext.Default.TopReport, ct);

    /// <summary>Raw results (check, pmc, trace reports) of a task, one per host.</summary>
    public Task<ResultsDocument> TaskResultsAsync(string id, CancellationToken ct = default) =>
        GetAsync("/api/v1/tasks/" + Uri.EscapeDataString(id) + "/results", OracJsonContext.Default.ResultsDocument, ct);

    /// <summary>Per-host totals of a finished profile task.</summary>
    public Task<HostsDocument> TaskHostsAsync(string id, CancellationToken ct = default) =>
        GetAsync("/api/v1/tasks/" + Uri.EscapeDataString(id) + "/hosts", OracJsonContext.Default.HostsDocument, ct);

    /// <summary>The caller's memories (docs/ask.md "Memory").</summary>
    public Task<MemoryDocument> MemoryAsync(CancellationToken ct = default) =>
        GetAsync("/api/v1/memory", OracJsonContext.Default.MemoryDocument, ct);

    /// <summary>Saves one memory; the answer is the stored item (with its parsed fact).</summary>
    public Task<MemoryItem> RememberAsync(string text, string source, CancellationToken ct = default) =>
        PostAsync("/api/v1/memory", new MemoryAddRequest { Text = text, Source = source }, OracJsonContext.Default.MemoryAddRequest, OracJsonContext.Default.MemoryItem, ct);

    /// <summary>The caller's persona.</summary>
    public Task<PersonaDocument> PersonaAsync(CancellationToken ct = default) =>
        GetAsync("/api/v1/persona", OracJsonContext.Default.PersonaDocument, ct);

    /// <summary>The caller's memories, or null when the server has no memory routes (answers 404: an older server).</summary>
    public Task<MemoryDocument?> TryMemoryAsync(CancellationToken ct = default) => NullOn404(MemoryAsync(ct));

    /// <summary>The caller's persona, or null when the server has no persona route (answers 404: an older server).</summary>
    public Task<PersonaDocument?> TryPersonaAsync(CancellationToken ct = default) => NullOn404(PersonaAsync(ct));

    /// <summary>A flame-graph link for the selection (the web UI's URL form).</summary>
    public string FlameLink(string selector, long fromNs, long untilNs) =>
        new Uri(Server, Path("/#/", ("query", selector), ("from", Ns(fromNs)), ("until", Ns(untilNs)))).AbsoluteUri;

    /// <summary>A link to a task's merged flame graph in the web UI.</summary>
    public string TaskLink(string id) => new Uri(Server, "/#view=task&id=" + Uri.EscapeDataString(id)).AbsoluteUri;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_owns)
        {
            _client.Dispose();
        }
    }

    /// <summary>GET and parse; a body that is not the expected document is one <see cref="OracException"/>.</summary>
    public async Task<T> GetAsync<T>(string pathAndQuery, JsonTypeInfo<T> info, CancellationToken ct = default)
    {
        byte[] bytes = await _client.SendAsync(HttpMethod.Get, pathAndQuery, null, ct).ConfigureAwait(false);
        return Parse(bytes, info, pathAndQuery);
    }

    /// <summary>POST <paramref name="body"/> as JSON and parse the answer.</summary>
    public async Task<TAnswer> PostAsync<TBody, TAnswer>(string path, TBody body, JsonTypeInfo<TBody> bodyInfo, JsonTypeInfo<TAnswer> answerInfo, CancellationToken ct = default)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, bodyInfo));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        byte[] bytes = await _client.SendAsync(HttpMethod.Post, path, content, ct).ConfigureAwait(false);
        return Parse(bytes, answerInfo, path);
    }

    private T Parse<T>(byte[] bytes, JsonTypeInfo<T> info, string pathAndQuery)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, info) ?? throw new JsonException("null document");
        }
        catch (JsonException e)
        {
            int q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
            string path = q < 0 ? pathAndQuery : pathAndQuery[..q];
            throw new OracException($"the Orac server at {Server} answered GET {path} with something that is not the expected document: {e.Message}");
        }
    }

    private static async Task<T?> NullOn404<T>(Task<T> call)
        where T : class
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (OracException e) when (e.Message.Contains(" answered 404 ", StringComparison.Ordinal))
        {
            // RemoteClient.ErrorLine's wording for a 404: the route is not there (the server predates it).
            return null;
        }
    }

    private static string? Ns(long? ns) => ns?.ToString(CultureInfo.InvariantCulture);

    private static string Path(string path, params (string Name, string? Value)[] query) => RemoteClient.PathWithQuery(path, query);
}
