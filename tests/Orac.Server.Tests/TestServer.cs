using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Server.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 over the in-memory store, with orgs <c>a</c> and <c>b</c> and one token per
/// role in each (plus the bootstrap admin of org <c>local</c>). Shared per test class. Subclasses may set a cost model.
/// </summary>
public class TestServer : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-server-tests-" + Guid.NewGuid().ToString("N"));

    public OracServer Server { get; private set; } = null!;

    /// <summary>The server's data folder.</summary>
    public string DataDirectory => _dir;

    public MemoryProfileStore Store { get; } = new();

    public HttpClient Http { get; } = new();

    public Uri Base => Server.Address!;

    public string Admin { get; private set; } = "";

    /// <summary>Tokens by (org, role).</summary>
    public Dictionary<(string Org, Role Role), string> Tokens { get; } = [];

    /// <summary>The server's <see cref="ServerOptions.CostModelPath"/> (null: built-in defaults).</summary>
    protected virtual string? CostModelPath => null;

    /// <summary>Largest body the server accepts (kept small so the 413 test is cheap).</summary>
    public const long MaxBody = 1 << 20;

    public virtual async Task InitializeAsync()
    {
        var options = new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dir, MaxBodyBytes = MaxBody, CostModelPath = CostModelPath };
        Server = OracServer.Create(options, Store, log: TextWriter.Null);
        Admin = Server.Auth.Bootstrap() ?? throw new InvalidOperationException("no bootstrap token on first run");
        foreach (string org in new[] { "a", "b" })
        {
            Server.Auth.CreateOrg(org);
            foreach (Role role in new[] { Role.Ingest, Role.Read, Role.Admin })
            {
                Tokens[(org, role)] = Server.Auth.CreateToken(org, role, $"{org}-{role}");
            }
        }

        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.StopAsync();
        await Server.DisposeAsync();
        Http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    public HttpRequestMessage Request(HttpMethod method, string pathAndQuery, string? token, HttpContent? content = null, string? scopeOrg = null)
    {
        var req = new HttpRequestMessage(method, new Uri(Base, pathAndQuery)) { Content = content };
        if (token is not null)
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (scopeOrg is not null)
        {
            req.Headers.Add("X-Scope-OrgID", scopeOrg);
        }

        if (pathAndQuery.StartsWith("/mcp", StringComparison.Ordinal))
        {
            // Streamable HTTP: a client must accept both answers (JSON and an event stream), else 406.
            req.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        }

        return req;
    }

    public async Task<(int Status, string Body)> Send(HttpMethod method, string pathAndQuery, string? token, HttpContent? content = null, string? scopeOrg = null)
    {
        using HttpRequestMessage req = Request(method, pathAndQuery, token, content, scopeOrg);
        using HttpResponseMessage resp = await Http.SendAsync(req);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    public Task<(int Status, string Body)> Get(string pathAndQuery, string? token, string? scopeOrg = null) =>
        Send(HttpMethod.Get, pathAndQuery, token, null, scopeOrg);

    public Task<(int Status, string Body)> Post(string pathAndQuery, string? token, string body, string? scopeOrg = null) =>
        Send(HttpMethod.Post, pathAndQuery, token, new StringContent(body, Encoding.UTF8, "text/plain"), scopeOrg);

    public static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    /// <summary>Asserts the status and that the body is the JSON error shape; returns the error text.</summary>
    public static string AssertError((int Status, string Body) r, int status)
    {
        Assert.True(r.Status == status, $"expected {status}, got {r.Status}: {r.Body}");
        JsonElement e = Json(r.Body);
        Assert.Equal(status, e.GetProperty("status").GetInt32());
        string msg = e.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(msg));
        return msg;
    }
}
