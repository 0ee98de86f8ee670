using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Fleet;
using Orac.Storage;

namespace Orac.Server;

/// <summary>
/// The HTTP server of <c>orac serve</c>: Pyroscope-compatible and native ingest, queries, admin routes and the embedded
/// web UI, on Kestrel with minimal APIs (plain <see cref="RequestDelegate"/>s and source-generated JSON: no reflection,
/// Native AOT safe). Every route but <c>GET /</c>, the UI files and <c>/healthz</c> needs a bearer token; see docs/api.md.
/// The store is injected and owned by the caller (the server never disposes it).
/// </summary>
public sealed partial class OracServer : IAsyncDisposable
{
    /// <summary>Compact (unindented) JSON for answers, from the one wire context.</summary>
    internal static readonly OracJsonContext Json = new(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

    private readonly WebApplication _app;
    private readonly ServerOptions _options;
    private readonly IProfileStore _store;
    private readonly TextWriter _log;
    private readonly Lock _logGate = new();
    private readonly FleetRegistry _fleet;
    private readonly TaskBoard _tasks;
    private readonly AuditLog _audit;
    private readonly UploadLedger _uploads;
    private readonly Orac.Cost.CostModel? _costModel;

    private OracServer(WebApplication app, ServerOptions options, IProfileStore store, AuthStore auth, TextWriter log, Orac.Cost.CostModel? costModel)
    {
        _app = app;
        _costModel = costModel;
        _options = options;
        _store = store;
        Auth = auth;
        _log = log;
        string? data = options.InMemory ? null : options.DataDirectory;
        if (data is not null)
        {
            AtomicFile.CreateDirectory(data);
        }

        _fleet = FleetRegistry.Open(data, options.HeartbeatWaitMs, Log);
        _audit = AuditLog.Open(data, Log);
        _uploads = UploadLedger.Open(data, Log);
        _tasks = TaskBoard.Open(data, _fleet, Log);
        Metrics = Cost.MetricsStore.Open(data, Log);
    }

    /// <summary>The fleet's agents (tests).</summary>
    internal FleetRegistry AgentRegistry => _fleet;

    /// <summary>Orgs and tokens (for <c>orac serve</c>'s first-run bootstrap and for tests).</summary>
    public AuthStore Auth { get; }

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:4040</c> (the real port when asked for port 0); null before start.</summary>
    public Uri? Address { get; private set; }

    /// <summary>
    /// Builds a server. <paramref name="auth"/> defaults to <c>DATA/auth.json</c> (or memory with
    /// <see cref="ServerOptions.InMemory"/>); <paramref name="log"/> (default standard error) gets one line per start and
    /// one per unexpected error. Throws <see cref="OracException"/> (usage) for a bad listen address.
    /// </summary>
    public static OracServer Create(ServerOptions options, IProfileStore store, AuthStore? auth = null, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        IPEndPoint endpoint = ParseListen(options.Listen);
        Orac.Cost.CostModel? costModel = LoadCostModel(options);
        auth ??= options.InMemory ? AuthStore.InMemory() : AuthStore.Open(options.DataDirectory);
        log ??= Console.Error;
        if (options.HeartbeatWaitMs is < 1 or > 600_000)
        {
            throw new OracException($"bad heartbeat wait {options.HeartbeatWaitMs} ms: expected 1 to 600000", OracException.Usage);
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();

        // The embedding process owns signals (orac serve stops on SIGINT/SIGTERM itself); the default console lifetime
        // would register process-wide handlers for every server instance.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        AddMcp(builder.Services);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Listen(endpoint);
        });
        WebApplication app = builder.Build();
        OracServer server;
        try
        {
            server = new OracServer(app, options, store, auth, log, costModel);
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        server.Configure(app);
        app.Lifetime.ApplicationStopping.Register(server._fleet.WakeAll);
        app.Lifetime.ApplicationStopped.Register(server._fleet.Flush);
        return server;
    }

    /// <summary>Starts listening; <see cref="Address"/> is set when this returns.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        string? bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = bound is null ? null : new Uri(bound);
        Log($"orac: serving on {Address?.ToString().TrimEnd('/')}");
    }

    /// <summary>Stops accepting connections and lets requests in flight finish (up to the host's shutdown timeout).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Starts, runs until <paramref name="stop"/> is cancelled, then stops gracefully.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        await StartAsync(stop).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        _fleet.Flush();
        _tasks.Dispose();
        _audit.Dispose();
        _uploads.Dispose();
        Metrics.Dispose();
    }

    /// <summary>Every registered route as (method, pattern, access), for tests that check each one is guarded.</summary>
    internal IReadOnlyList<(string Method, string Pattern, Access Access)> Routes()
    {
        var list = new List<(string, string, Access)>();
        foreach (EndpointDataSource source in ((IEndpointRouteBuilder)_app).DataSources)
        {
            foreach (Endpoint e in source.Endpoints)
            {
                if (e is RouteEndpoint re)
                {
                    Access access = e.Metadata.GetMetadata<AccessMetadata>()?.Access ?? Access.Public;
                    foreach (string m in e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                    {
                        list.Add((m, "/" + (re.RoutePattern.RawText ?? "").TrimStart('/'), access));
                    }
                }
            }
        }

        return [.. list.Distinct()];
    }

    /// <summary>Parses <c>host:port</c>: an IP literal (<c>127.0.0.1:4040</c>, <c>[::1]:4040</c>, <c>0.0.0.0:4040</c>) or <c>localhost:PORT</c>.</summary>
    public static IPEndPoint ParseListen(string? listen)
    {
        string text = (listen ?? "").Trim();
        int colon = text.LastIndexOf(':');
        if (colon > 0 && text[..colon] == "localhost"
            && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int lp) && lp <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, lp);
        }

        bool hasPort = colon > 0 && (text[0] != '[' || text[colon - 1] == ']') && (text[0] == '[' || text.IndexOf(':', StringComparison.Ordinal) == colon);
        if (!hasPort || !IPEndPoint.TryParse(text, out IPEndPoint? ep))
        {
            throw new OracException($"bad listen address '{AuthStore.Escape(text)}': expected IP:PORT such as 127.0.0.1:4040, [::1]:4040 or 0.0.0.0:4040", OracException.Usage);
        }

        return ep;
    }

    private void Log(string line)
    {
        lock (_logGate)
        {
            _log.WriteLine(line);
            _log.Flush();
        }
    }

    private void Configure(WebApplication app)
    {
        app.Use(async (ctx, next) =>
        {
            IHeaderDictionary h = ctx.Response.Headers;
            h.ContentSecurityPolicy = ContentSecurityPolicy;
            h.XContentTypeOptions = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h.XFrameOptions = "DENY";
            await next(ctx).ConfigureAwait(false);
            if (!ctx.Response.HasStarted && ctx.Response.StatusCode is 404 or 405)
            {
                string what = ctx.Response.StatusCode == 404
                    ? $"no route {ctx.Request.Method} {ctx.Request.Path} (see docs/api.md)"
                    : $"method {ctx.Request.Method} not allowed on {ctx.Request.Path}";
                await WriteError(ctx, ctx.Response.StatusCode, what).ConfigureAwait(false);
            }
        });
        MapIngest(app);
        MapQueries(app);
        MapAdmin(app);
        MapFleet(app);
        MapMetrics(app);
        MapCost(app);
        MapUi(app);
        MapMcp(app);
    }

    /// <summary>Registers a route: authentication, role check and error handling wrap <paramref name="handler"/>.</summary>
    private void Route(IEndpointRouteBuilder app, string method, string pattern, Access access, Func<HttpContext, Principal?, Task> handler)
    {
        var rule = new AccessMetadata(access);
        app.MapMethods(pattern, [method], Guard(rule, handler)).WithMetadata(rule);
    }

    private RequestDelegate Guard(AccessMetadata rule, Func<HttpContext, Principal?, Task> handler) => async ctx =>
    {
        try
        {
            Principal? who = null;
            if (rule.Access != Access.Public)
            {
                who = Authenticate(ctx);
                if (!rule.Allows(who.Role))
                {
                    throw new ApiException(403, $"a {Roles.Name(who.Role)} token may not call {ctx.Request.Method} {ctx.Request.Path} (needs {RoleWords(rule.Access)})");
                }
            }

            await handler(ctx, who).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            await WriteError(ctx, e.Status, e.Message).ConfigureAwait(false);
        }
        catch (OracException e)
        {
            await WriteError(ctx, 400, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            string msg = e.StatusCode == 413 ? $"request body is larger than {_options.MaxBodyBytes} bytes" : e.Message;
            await WriteError(ctx, e.StatusCode, msg).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
#pragma warning disable CA1031 // The server keeps serving: a bug in one request is logged and answered with 500.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log($"orac: error: {ctx.Request.Method} {ctx.Request.Path}: {e}");
            await WriteError(ctx, 500, "internal error (logged on the server)").ConfigureAwait(false);
        }
    };

    private static string RoleWords(Access a) => a switch
    {
        Access.Ingest => "role ingest or admin",
        Access.Read => "role read or admin",
        _ => "role admin",
    };

    private Principal Authenticate(HttpContext ctx)
    {
        string? header = ctx.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiException(401, "missing Authorization: Bearer TOKEN");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiException(401, "Authorization must be 'Bearer TOKEN'");
        }

        Principal? p = Auth.Authenticate(header["Bearer ".Length..].Trim());
        if (p is null)
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            throw new ApiException(401, "unknown token");
        }

        return p;
    }

    /// <summary>
    /// The orgs a request acts on: the token's own, unless <c>X-Scope-OrgID</c> or <c>org=</c> names others
    /// (comma- or '|'-separated, or <c>*</c> for all), which only admin tokens may do.
    /// </summary>
    private IReadOnlyList<string> Orgs(HttpContext ctx, Principal who, bool single)
    {
        string? header = ctx.Request.Headers["X-Scope-OrgID"];
        var param = ctx.Request.Query["org"];
        if (param.Count > 1)
        {
            throw new ApiException(400, "parameter 'org' given more than once (use org=a,b)");
        }

        string? asked = string.IsNullOrEmpty(header) ? param.ToString() : header;
        if (!string.IsNullOrEmpty(header) && param.Count == 1 && param.ToString() != header)
        {
            throw new ApiException(400, "X-Scope-OrgID and org= name different orgs");
        }

        if (string.IsNullOrEmpty(asked))
        {
            return [who.Org];
        }

        string[] names = asked.Split([',', '|'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 1 && names[0] == who.Org)
        {
            return [who.Org];
        }

        if (who.Role != Role.Admin)
        {
            throw new ApiException(403, $"a token of org '{who.Org}' may only use its own org (asked for '{AuthStore.Escape(asked)}')");
        }

        if (names.Length == 1 && names[0] == "*")
        {
            if (single)
            {
                throw new ApiException(400, $"{ctx.Request.Method} {ctx.Request.Path} acts on exactly one org, not '*'");
            }

            return Auth.Orgs();
        }

        if (names.Length == 0 || (single && names.Length > 1))
        {
            throw new ApiException(400, single ? $"{ctx.Request.Method} {ctx.Request.Path} acts on exactly one org" : "no org named");
        }

        foreach (string n in names)
        {
            if (!Auth.OrgExists(n))
            {
                throw new ApiException(404, $"unknown org '{AuthStore.Escape(n)}'");
            }
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Reads the whole body, refusing (413) beyond the limit even when the client sent no Content-Length. A body over
    /// the limit is still read and discarded up to twice the limit before answering, so the client, still sending,
    /// sees the 413 instead of a reset connection; beyond that Kestrel cuts the connection.
    /// </summary>
    private async Task<ReadOnlyMemory<byte>> ReadBody(HttpContext ctx, long? maxBytes = null)
    {
        long max = maxBytes ?? _options.MaxBodyBytes;
        long drain = max > long.MaxValue / 2 ? long.MaxValue : max * 2;
        if (ctx.Request.ContentLength > drain)
        {
            ctx.Response.Headers.Connection = "close";
            throw new ApiException(413, $"request body is larger than {max} bytes");
        }

        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = drain;
        }

        using var ms = new MemoryStream();
        byte[] buf = new byte[81920];
        bool tooLarge = false;
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buf, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            tooLarge |= ms.Length + n > max;
            if (!tooLarge)
            {
                ms.Write(buf, 0, n);
            }
        }

        if (tooLarge)
        {
            throw new ApiException(413, $"request body is larger than {max} bytes");
        }

        return ms.GetBuffer().AsMemory(0, (int)ms.Length);
    }

    private static Task WriteJson<T>(HttpContext ctx, T value, JsonTypeInfo<T> info, int status = 200)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(ctx.Response.Body, value, info, ctx.RequestAborted);
    }

    private static async Task WriteError(HttpContext ctx, int status, string message)
    {
        if (ctx.Response.HasStarted)
        {
            return;
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new ApiError { Error = message, Status = status }, Json.ApiError, CancellationToken.None).ConfigureAwait(false);
    }
}

/// <summary>A host lifetime that leaves signals alone: start and stop are driven by <see cref="OracServer"/>'s caller.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
