using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Server.Tests.Fleet;

/// <summary>Fleet state survives a restart of the server on the same data folder; a damaged fleet.json stops it with a clear error.</summary>
public sealed class FleetPersistenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-fleet-tests-" + Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private async Task<(OracServer Server, string Admin)> Start(string? admin = null)
    {
        var server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dir }, new MemoryProfileStore(), log: TextWriter.Null);
        admin ??= server.Auth.Bootstrap()!;
        await server.StartAsync();
        return (server, admin);
    }

    private static async Task Stop(OracServer server)
    {
        await server.StopAsync();
        await server.DisposeAsync();
    }

    private async Task<(int Status, string Body)> Send(OracServer server, HttpMethod method, string path, string token, HttpContent? content = null, string? uploadId = null)
    {
        using var req = new HttpRequestMessage(method, new Uri(server.Address!, path)) { Content = content };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (uploadId is not null)
        {
            req.Headers.Add("X-Orac-Upload-Id", uploadId);
        }

        using HttpResponseMessage resp = await _http.SendAsync(req);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FleetTasksAuditAndUploadIds_SurviveRestart()
    {
        (OracServer server, string admin) = await Start();
        string done;
        string running;
        try
        {
            var web1 = new FleetAgent(_http, server.Address!, admin, "agent-1", "web-1");
            var web2 = new FleetAgent(_http, server.Address!, admin, "agent-2", "web-2");
            await web1.Register(new() { ["service_name"] = "api" });
            await web2.Register(new() { ["service_name"] = "db" });
            Assert.Equal(200, (await Send(server, HttpMethod.Post, "/api/v1/agents/settings", admin, FleetAgent.Json("""{"selector":"api","hz":11,"labels":{"zone":"z1"}}"""))).Status);

            var t = await Send(server, HttpMethod.Post, "/api/v1/tasks", admin, FleetAgent.Json("""{"kind":"profile","selector":"api","durationMs":1000}"""));
            done = TestServer.Json(t.Body).GetProperty("id").GetString()!;
            Assert.Single((await web1.Heartbeat(0)).Tasks);
            Assert.Equal(200, (await web1.Result(done, FleetAgent.Profile("main;x 123"))).Status);
            Assert.Equal("done", TestServer.Json((await Send(server, HttpMethod.Get, $"/api/v1/tasks/{done}?wait=5000", admin)).Body).GetProperty("state").GetString());

            var c = await Send(server, HttpMethod.Post, "/api/v1/tasks", admin, FleetAgent.Json("""{"kind":"check","selector":"db"}"""));
            running = TestServer.Json(c.Body).GetProperty("id").GetString()!;
            Assert.Single((await web2.Heartbeat(0)).Tasks);

            var up = await Send(server, HttpMethod.Post, "/api/v1/profiles?service=p&format=folded", admin, new StringContent("main 1\n"), uploadId: "agent-1-1");
            Assert.False(TestServer.Json(up.Body).GetProperty("duplicate").GetBoolean());
        }
        finally
        {
            await Stop(server);
        }

        Assert.True(File.Exists(Path.Combine(_dir, "fleet.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "tasks", done, "task.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "tasks", done, "result-agent-1.json")));

        (server, _) = await Start(admin);
        try
        {
            JsonElement agents = TestServer.Json((await Send(server, HttpMethod.Get, "/api/v1/agents", admin)).Body).GetProperty("agents");
            Assert.Equal(2, agents.GetArrayLength());
            JsonElement a1 = agents.EnumerateArray().Single(a => a.GetProperty("info").GetProperty("id").GetString() == "agent-1");
            Assert.Equal(11, a1.GetProperty("settings").GetProperty("hz").GetInt32());
            Assert.Equal("z1", a1.GetProperty("labels").GetProperty("zone").GetString());

            JsonElement t1 = TestServer.Json((await Send(server, HttpMethod.Get, $"/api/v1/tasks/{done}", admin)).Body);
            Assert.Equal("done", t1.GetProperty("state").GetString());
            Assert.Equal(123, TestServer.Json((await Send(server, HttpMethod.Get, $"/api/v1/tasks/{done}/top", admin)).Body).GetProperty("profileTotal").GetInt64());

            JsonElement t2 = TestServer.Json((await Send(server, HttpMethod.Get, $"/api/v1/tasks/{running}", admin)).Body);
            Assert.Equal("partial", t2.GetProperty("state").GetString());
            Assert.Equal(["web-2 (server restarted)"], t2.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).ToArray());

            string audit = (await Send(server, HttpMethod.Get, "/api/v1/audit", admin)).Body;
            JsonElement[] entries = [.. TestServer.Json(audit).GetProperty("entries").EnumerateArray()];
            Assert.Equal(["task.create", "task.create", "fleet.set", "agent.register", "agent.register"], entries.Select(e => e.GetProperty("action").GetString()!).ToArray());
            Assert.Equal("bootstrap (admin)", entries[0].GetProperty("who").GetString());
            Assert.Equal(["web-1"], entries[2].GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!).ToArray());

            var replay = await Send(server, HttpMethod.Post, "/api/v1/profiles?service=p&format=folded", admin, new StringContent("main 1\n"), uploadId: "agent-1-1");
            Assert.True(TestServer.Json(replay.Body).GetProperty("duplicate").GetBoolean());

            // A re-registration with nothing new is not audited again.
            var web1 = new FleetAgent(_http, server.Address!, admin, "agent-1", "web-1");
            await web1.Register(new() { ["service_name"] = "api" });
            Assert.Equal(5, TestServer.Json((await Send(server, HttpMethod.Get, "/api/v1/audit", admin)).Body).GetProperty("entries").GetArrayLength());
        }
        finally
        {
            await Stop(server);
        }
    }

    [Fact]
    public async Task OnlyTheNewest200Tasks_AreKept()
    {
        (OracServer server, string admin) = await Start();
        try
        {
            await new FleetAgent(_http, server.Address!, admin, "keeper", "keeper-host").Register();
            var ids = new List<string>();
            for (int i = 0; i < 203; i++)
            {
                var t = await Send(server, HttpMethod.Post, "/api/v1/tasks", admin, FleetAgent.Json("""{"kind":"check","selector":"{host=\"keeper-host\"}"}"""));
                Assert.True(t.Status == 201, t.Body);
                ids.Add(TestServer.Json(t.Body).GetProperty("id").GetString()!);
            }

            Assert.Equal(200, Directory.GetDirectories(Path.Combine(_dir, "tasks")).Length);
            foreach (string gone in ids.Take(3))
            {
                Assert.Equal(404, (await Send(server, HttpMethod.Get, $"/api/v1/tasks/{gone}", admin)).Status);
                Assert.False(Directory.Exists(Path.Combine(_dir, "tasks", gone)));
            }

            Assert.Equal(200, (await Send(server, HttpMethod.Get, $"/api/v1/tasks/{ids[3]}", admin)).Status);
            JsonElement list = TestServer.Json((await Send(server, HttpMethod.Get, "/api/v1/tasks?limit=200", admin)).Body).GetProperty("tasks");
            Assert.Equal(200, list.GetArrayLength());
            Assert.Equal(ids[^1], list[0].GetProperty("id").GetString());
        }
        finally
        {
            await Stop(server);
        }
    }

    [Fact]
    public void CorruptFleetJson_StopsStart_NamingFileAndOffset()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "fleet.json");
        File.WriteAllText(path, "{\n  \"version\": 1,\n  \"agents\": [ {\"org\": \"a\", \"info\": {\"id\": \"x\", \"hostname\": \"h\"}, \"settings\": {} } ,, ]\n}\n");
        var e = Assert.Throws<OracException>(() => OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dir }, new MemoryProfileStore(), log: TextWriter.Null));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains("byte offset 101", StringComparison.Ordinal), e.Message);

        File.WriteAllText(path, "[]");
        Assert.Contains(path, Assert.Throws<OracException>(() => OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dir }, new MemoryProfileStore(), log: TextWriter.Null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DamagedUploadIdLines_AreSkippedAndCounted()
    {
        Directory.CreateDirectory(_dir);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long old = now - (8L * 24 * 3600 * 1000);
        File.WriteAllText(Path.Combine(_dir, "uploads.ids"), $"local\tkeep-1\t{now}\nlocal\told-1\t{old}\ngarbage line\nlocal\tbad id\t{now}\n");
        var log = new StringWriter();
        var server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dir }, new MemoryProfileStore(), log: log);
        string admin = server.Auth.Bootstrap()!;
        await server.StartAsync();
        try
        {
            Assert.Contains("skipped 2 damaged line(s), the first at line 3", log.ToString(), StringComparison.Ordinal);
            var kept = await Send(server, HttpMethod.Post, "/api/v1/profiles?service=p&format=folded", admin, new StringContent("main 1\n"), uploadId: "keep-1");
            Assert.True(TestServer.Json(kept.Body).GetProperty("duplicate").GetBoolean());
            var expired = await Send(server, HttpMethod.Post, "/api/v1/profiles?service=p&format=folded", admin, new StringContent("main 1\n"), uploadId: "old-1");
            Assert.False(TestServer.Json(expired.Body).GetProperty("duplicate").GetBoolean());
        }
        finally
        {
            await Stop(server);
        }

        string[] lines = File.ReadAllLines(Path.Combine(_dir, "uploads.ids"));
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("local\tkeep-1\t", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("local\told-1\t", lines[1], StringComparison.Ordinal);
    }
}
