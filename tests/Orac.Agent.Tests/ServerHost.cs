using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Server;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Agent.Tests;

/// <summary>
/// A real <see cref="OracServer"/> (Kestrel on 127.0.0.1) over an in-memory store that outlives the server, so a test
/// can stop it and start it again on the same data folder and port (the store plays the part of the durable tier).
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    private readonly string _dataDir;
    private OracServer? _server;
    private int _port;

    private ServerHost(string dataDir) => _dataDir = dataDir;

    public MemoryProfileStore Store { get; } = new();

    public string AdminToken { get; private set; } = "";

    public string IngestToken { get; private set; } = "";

    public Uri Url => new($"http://127.0.0.1:{_port}/");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<ServerHost> StartAsync(string dataDir)
    {
        var h = new ServerHost(dataDir);
        await h.StartServerAsync("127.0.0.1:0").ConfigureAwait(false);
        h.AdminToken = h._server!.Auth.Bootstrap() ?? throw new InvalidOperationException("no bootstrap token");
        h.IngestToken = h._server.Auth.CreateToken(AuthStore.DefaultOrg, Role.Ingest, "agent-test");
        h.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", h.AdminToken);
        return h;
    }

    private async Task StartServerAsync(string listen)
    {
        var options = new ServerOptions { Listen = listen, DataDirectory = _dataDir };
        _server = OracServer.Create(options, Store, log: TextWriter.Null);
        await _server.StartAsync().ConfigureAwait(false);
        _port = _server.Address!.Port;
    }

    /// <summary>Stops the server (the port closes; agents see connection refused).</summary>
    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
            _server = null;
        }
    }

    /// <summary>Starts a new server on the same data folder and port.</summary>
    public Task RestartAsync() => StartServerAsync($"127.0.0.1:{_port}");

    public async Task<(int Status, string Body)> GetAsync(string pathAndQuery)
    {
        using HttpResponseMessage r = await Http.GetAsync(new Uri(Url, pathAndQuery)).ConfigureAwait(false);
        return ((int)r.StatusCode, await r.Content.ReadAsStringAsync().ConfigureAwait(false));
    }

    public async Task<(int Status, string Body)> PostJsonAsync(string pathAndQuery, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage r = await Http.PostAsync(new Uri(Url, pathAndQuery), content).ConfigureAwait(false);
        return ((int)r.StatusCode, await r.Content.ReadAsStringAsync().ConfigureAwait(false));
    }

    /// <summary>The stored CPU-time total (ns) of a selection over the last hour, from the query API.</summary>
    public async Task<long> CpuTotalNsAsync(string selector)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string q = $"/api/v1/query?query={Uri.EscapeDataString(selector)}&type={Uri.EscapeDataString("process_cpu:cpu:nanoseconds:cpu:nanoseconds")}&from={now - 3_600_000}&until={now + 60_000}&maxNodes=1";
        (int status, string body) = await GetAsync(q).ConfigureAwait(false);
        if (status != 200)
        {
            throw new InvalidOperationException($"query answered {status}: {body}");
        }

        FlameTree tree = JsonSerializer.Deserialize(body, OracJsonContext.Default.FlameTree)!;
        return tree.Total;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Http.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
