using System.Text;
using Orac.Model.Query;
using Orac.Server.Auth;

namespace Orac.Server.Tests;

/// <summary>
/// Every route refuses what it must: no token, unknown token, wrong role, another org's data. The table below must
/// list every registered endpoint (checked against the app's endpoint data source), so a new route can't be forgotten.
/// </summary>
public sealed class AuthTests(TestServer s) : IClassFixture<TestServer>
{
    /// <summary>Every route: method, pattern as registered, who may call it, and a valid request path for it.</summary>
    public static readonly (string Method, string Pattern, Access Access, string Path)[] Routes =
    [
        ("POST", "/ingest", Access.Ingest, "/ingest?name=cross.cpu&sampleRate=100"),
        ("POST", "/api/v1/profiles", Access.Ingest, "/api/v1/profiles?service=cross"),
        ("GET", "/api/v1/query", Access.Read, "/api/v1/query?query=cross"),
        ("GET", "/api/v1/query/top", Access.Read, "/api/v1/query/top?query=cross"),
        ("GET", "/api/v1/query/diff", Access.Read, "/api/v1/query/diff?query=cross"),
        ("GET", "/api/v1/query/series", Access.Read, "/api/v1/query/series?query=cross"),
        ("GET", "/api/v1/query/labels", Access.Read, "/api/v1/query/labels"),
        ("GET", "/api/v1/query/types", Access.Read, "/api/v1/query/types"),
        ("GET", "/api/v1/query/export", Access.Read, "/api/v1/query/export?query=cross&format=folded"),
        ("GET", "/api/v1/status", Access.Read, "/api/v1/status"),
        ("POST", "/api/v1/orgs", Access.Admin, "/api/v1/orgs"),
        ("POST", "/api/v1/tokens", Access.Admin, "/api/v1/tokens"),
        ("POST", "/api/v1/agents/register", Access.Ingest, "/api/v1/agents/register"),
        ("POST", "/api/v1/agents/{id}/heartbeat", Access.Ingest, "/api/v1/agents/auth-agent/heartbeat?wait=0"),
        ("POST", "/api/v1/agents/{id}/tasks/{taskId}/result", Access.Ingest, "/api/v1/agents/auth-agent/tasks/{newtask}/result?state=failed&reason=test"),
        ("GET", "/api/v1/agents", Access.Read, "/api/v1/agents"),
        ("POST", "/api/v1/agents/settings", Access.Admin, "/api/v1/agents/settings"),
        ("POST", "/api/v1/tasks", Access.Read, "/api/v1/tasks"),
        ("GET", "/api/v1/tasks", Access.Read, "/api/v1/tasks"),
        ("GET", "/api/v1/tasks/{id}", Access.Read, "/api/v1/tasks/{task}"),
        ("GET", "/api/v1/tasks/{id}/top", Access.Read, "/api/v1/tasks/{task}/top"),
        ("GET", "/api/v1/tasks/{id}/flame", Access.Read, "/api/v1/tasks/{task}/flame"),
        ("GET", "/api/v1/tasks/{id}/hosts", Access.Read, "/api/v1/tasks/{task}/hosts"),
        ("GET", "/api/v1/tasks/{id}/export", Access.Read, "/api/v1/tasks/{task}/export?format=folded"),
        ("GET", "/api/v1/tasks/{id}/results", Access.Read, "/api/v1/tasks/{task}/results"),
        ("GET", "/api/v1/audit", Access.Admin, "/api/v1/audit"),
        ("GET", "/api/v1/cost", Access.Read, "/api/v1/cost"),
        ("GET", "/api/v1/opportunities", Access.Read, "/api/v1/opportunities"),
        ("GET", "/api/v1/report/orgs", Access.Admin, "/api/v1/report/orgs"),
        ("POST", "/api/v1/metrics", Access.Ingest, "/api/v1/metrics?host=auth-host"),
        ("GET", "/api/v1/metrics", Access.Read, "/api/v1/metrics?host=auth-host"),
        ("GET", "/api/v1/memory", Access.Read, "/api/v1/memory"),
        ("POST", "/api/v1/memory", Access.Read, "/api/v1/memory"),
        ("DELETE", "/api/v1/memory", Access.Read, "/api/v1/memory"),
        ("DELETE", "/api/v1/memory/{id}", Access.Read, "/api/v1/memory/{memory}"),
        ("PUT", "/api/v1/memory/settings", Access.Read, "/api/v1/memory/settings"),
        ("GET", "/api/v1/persona", Access.Read, "/api/v1/persona"),
        ("PUT", "/api/v1/persona", Access.Read, "/api/v1/persona"),
        ("DELETE", "/api/v1/persona", Access.Read, "/api/v1/persona"),
        ("POST", "/mcp/", Access.Read, "/mcp"),
        ("GET", "/healthz", Access.Public, "/healthz"),
        ("GET", "/", Access.Public, "/"),
        ("GET", "/ui/{**path}", Access.Public, "/ui/index.html"),
        ("GET", "/{file}", Access.Public, "/index.html"),
    ];

    public static TheoryData<string> Guarded()
    {
        var d = new TheoryData<string>();
        foreach (var r in Routes.Where(r => r.Access != Access.Public))
        {
            d.Add(r.Method + " " + r.Pattern);
        }

        return d;
    }

    [Fact]
    public void RouteTable_ListsEveryRegisteredEndpoint()
    {
        var registered = s.Server.Routes().Select(r => (r.Method, r.Pattern, r.Access)).OrderBy(r => r.ToString()).ToList();
        var table = Routes.Select(r => (r.Method, r.Pattern, r.Access)).OrderBy(r => r.ToString()).ToList();
        Assert.Equal(table, registered);
    }

    [Theory]
    [MemberData(nameof(Guarded))]
    public async Task GuardedRoute_RefusesMissingWrongRoleAndOtherOrg(string route)
    {
        var template = Routes.Single(x => x.Method + " " + x.Pattern == route);
        var method = new HttpMethod(template.Method);
        var r = template with { Path = await PathFor(template.Path) };

        TestServer.AssertError(await s.Send(method, r.Path, null, Body(r)), 401);
        TestServer.AssertError(await s.Send(method, r.Path, "orac_notatoken", Body(r)), 401);
        TestServer.AssertError(await s.Send(method, r.Path, "", Body(r)), 401);
        using (var req = s.Request(method, r.Path, null, Body(r)))
        {
            req.Headers.TryAddWithoutValidation("Authorization", "Basic " + s.Tokens[("a", Role.Admin)]);
            using var resp = await s.Http.SendAsync(req);
            Assert.Equal(401, (int)resp.StatusCode);
        }

        // Wrong role in its own org.
        foreach (Role role in Enum.GetValues<Role>())
        {
            bool allowed = new AccessMetadata(r.Access).Allows(role);
            var res = await s.Send(method, await PathFor(template.Path), s.Tokens[("a", role)], Body(r));
            if (allowed)
            {
                Assert.True(res.Status is >= 200 and < 300, $"{route} with a {role} token of its own org: {res.Status} {res.Body}");
            }
            else
            {
                TestServer.AssertError(res, 403);
            }
        }

        // Another org, by header and by parameter, with every non-admin role that the route otherwise allows.
        foreach (Role role in new[] { Role.Ingest, Role.Read }.Where(x => new AccessMetadata(r.Access).Allows(x)))
        {
            string token = s.Tokens[("a", role)];
            TestServer.AssertError(await s.Send(method, r.Path, token, Body(r), scopeOrg: "b"), 403);
            TestServer.AssertError(await s.Send(method, WithParam(r.Path, "org=b"), token, Body(r)), 403);
            TestServer.AssertError(await s.Send(method, WithParam(r.Path, "org=a,b"), token, Body(r)), 403);
            TestServer.AssertError(await s.Send(method, WithParam(r.Path, "org=*"), token, Body(r)), 403);
            TestServer.AssertError(await s.Send(method, r.Path, token, Body(r), scopeOrg: "local"), 403);
            TestServer.AssertError(await s.Send(method, r.Path, token, Body(r), scopeOrg: "no-such-org"), 403);
        }

        // Nothing reached org b through the refused writes.
        long now = TimeSpec.NowNs();
        foreach (ProfileTypeId type in new[] { ProfileTypeId.ProcessCpu, ProfileTypeId.ProcessCpuSamples })
        {
            var inB = s.Store.Select(new Orac.Storage.ProfileQuery(["b", "local"], type, Selector.Parse("cross"), now - (3600 * TimeSpec.NsPerSecond), now + TimeSpec.NsPerSecond));
            Assert.Equal(0, inB.SampleCount);
        }
    }

    [Fact]
    public async Task AdminToken_MayNameOtherOrgs_AndRollUp()
    {
        string ingestB = s.Tokens[("b", Role.Ingest)];
        Assert.Equal(200, (await s.Post("/ingest?name=rollup.cpu&sampleRate=100&from=now-1m", ingestB, "m;f 2\n")).Status);
        Assert.Equal(200, (await s.Post("/ingest?name=rollup.cpu&sampleRate=100&from=now-1m", s.Tokens[("a", Role.Admin)], "m;f 1\n", scopeOrg: "local")).Status);

        string admin = s.Tokens[("a", Role.Admin)];
        var onlyB = await s.Get("/api/v1/query?query=rollup&from=now-10m", admin, scopeOrg: "b");
        Assert.Equal(20_000_000, TestServer.Json(onlyB.Body).GetProperty("total").GetInt64());
        var both = await s.Get("/api/v1/query?query=rollup&from=now-10m&org=b,local", admin);
        Assert.Equal(30_000_000, TestServer.Json(both.Body).GetProperty("total").GetInt64());
        var all = await s.Get("/api/v1/query?query=rollup&from=now-10m&org=*", admin);
        Assert.Equal(30_000_000, TestServer.Json(all.Body).GetProperty("total").GetInt64());

        // The read token of b sees only b; the read token of a sees nothing of it.
        var bRead = await s.Get("/api/v1/query?query=rollup&from=now-10m", s.Tokens[("b", Role.Read)]);
        Assert.Equal(20_000_000, TestServer.Json(bRead.Body).GetProperty("total").GetInt64());
        var aRead = await s.Get("/api/v1/query?query=rollup&from=now-10m&type=process_cpu:cpu:nanoseconds:cpu:nanoseconds", s.Tokens[("a", Role.Read)]);
        Assert.Equal(0, TestServer.Json(aRead.Body).GetProperty("total").GetInt64());

        TestServer.AssertError(await s.Get("/api/v1/query?query=rollup", admin, scopeOrg: "no-such-org"), 404);
        TestServer.AssertError(await s.Post("/ingest?name=x.cpu&org=a,b", admin, "m 1\n"), 400);
    }

    [Fact]
    public async Task AdminRoutes_CreateOrgAndToken_TokenWorksAndIsScoped()
    {
        string admin = s.Admin;
        string org = "t" + Guid.NewGuid().ToString("N")[..8];
        var created = await s.Send(HttpMethod.Post, "/api/v1/orgs", admin, Json($$"""{"org":"{{org}}"}"""));
        Assert.Equal(200, created.Status);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/orgs", admin, Json($$"""{"org":"{{org}}"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/orgs", admin, Json("""{"org":"Bad Name"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/orgs", admin, Json("{not json")), 400);

        var tok = await s.Send(HttpMethod.Post, "/api/v1/tokens", admin, Json($$"""{"org":"{{org}}","role":"ingest","name":"ci"}"""));
        Assert.Equal(200, tok.Status);
        string token = TestServer.Json(tok.Body).GetProperty("token").GetString()!;
        Assert.StartsWith("orac_", token, StringComparison.Ordinal);
        Assert.Equal(48, token.Length);
        Assert.Equal(200, (await s.Post("/ingest?name=new.cpu", token, "m 1\n")).Status);
        TestServer.AssertError(await s.Get("/api/v1/query", token), 403);
        TestServer.AssertError(await s.Post("/ingest?name=new.cpu", token, "m 1\n", scopeOrg: "a"), 403);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/tokens", admin, Json("""{"org":"a","role":"root"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/tokens", admin, Json("""{"org":"nope","role":"read"}""")), 404);
    }

    [Fact]
    public async Task PublicRoutes_AnswerWithoutToken()
    {
        foreach (var r in Routes.Where(r => r.Access == Access.Public))
        {
            var res = await s.Get(r.Path, null);
            Assert.True(res.Status == 200, $"{r.Path}: {res.Status} {res.Body}");
        }
    }

    /// <summary>
    /// Fills a fleet path: registers agent <c>auth-agent</c> (host <c>auth-host</c>) in org a; <c>{task}</c> is one
    /// profile task of it, <c>{newtask}</c> a fresh one per call (a part finishes only once).
    /// </summary>
    private async Task<string> PathFor(string path)
    {
        if (!path.Contains('{', StringComparison.Ordinal) && !path.StartsWith("/api/v1/agents/auth-agent", StringComparison.Ordinal))
        {
            return path;
        }

        if (path.Contains("{memory}", StringComparison.Ordinal))
        {
            // Memory is per user: the read and the admin token of org a each get one, and every case adds to both,
            // so their next ids stay equal.
            string? id = null;
            foreach (Role role in new[] { Role.Read, Role.Admin })
            {
                var m = await s.Send(HttpMethod.Post, "/api/v1/memory", s.Tokens[("a", role)], Json("""{"text":"auth test memory"}"""));
                Assert.True(m.Status == 201, m.Body);
                string got = TestServer.Json(m.Body).GetProperty("id").GetString()!;
                Assert.True(id is null || id == got, $"memory ids of the two users differ: {id} and {got}");
                id = got;
            }

            return path.Replace("{memory}", id, StringComparison.Ordinal);
        }

        var reg = await s.Send(HttpMethod.Post, "/api/v1/agents/register", s.Tokens[("a", Role.Ingest)], Json("""{"id":"auth-agent","hostname":"auth-host"}"""));
        Assert.Equal(200, reg.Status);
        if (path.Contains("{task}", StringComparison.Ordinal))
        {
            _task ??= await NewTask();
            return path.Replace("{task}", _task, StringComparison.Ordinal);
        }

        return path.Contains("{newtask}", StringComparison.Ordinal) ? path.Replace("{newtask}", await NewTask(), StringComparison.Ordinal) : path;
    }

    private string? _task;

    private async Task<string> NewTask()
    {
        var t = await s.Send(HttpMethod.Post, "/api/v1/tasks", s.Tokens[("a", Role.Admin)], Json("""{"kind":"profile","selector":"{host=\"auth-host\"}","durationMs":1000}"""));
        Assert.True(t.Status == 201, t.Body);
        return TestServer.Json(t.Body).GetProperty("id").GetString()!;
    }

    private static string WithParam(string path, string param) => path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + param;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent? Body((string Method, string Pattern, Access Access, string Path) r) => r.Pattern switch
    {
        "/ingest" or "/api/v1/profiles" => new StringContent("main;cross 1\n", Encoding.UTF8, "text/plain"),
        "/api/v1/orgs" => Json($$"""{"org":"o{{Guid.NewGuid().ToString("N")[..12]}}"}"""),
        "/api/v1/tokens" => Json("""{"org":"a","role":"read","name":"t"}"""),
        "/api/v1/agents/register" => Json("""{"id":"auth-agent","hostname":"auth-host"}"""),
        "/api/v1/agents/{id}/heartbeat" => Json("""{"settingsVersion":1}"""),
        "/api/v1/agents/settings" => Json("""{"selector":"{host=\"auth-host\"}","hz":50}"""),
        "/api/v1/memory" when r.Method == "POST" => Json("""{"text":"auth test memory"}"""),
        "/api/v1/memory/settings" => Json("""{"enabled":true}"""),
        "/api/v1/persona" when r.Method == "PUT" => Json("""{"about":"auth test"}"""),
        "/mcp/" => Json("""{"jsonrpc":"2.0","id":1,"method":"ping"}"""),
        "/api/v1/tasks" => Json("""{"kind":"profile","selector":"{host=\"auth-host\"}","durationMs":1000}"""),
        "/api/v1/metrics" when r.Method == "POST" => Json($$"""{"host":"auth-host","gpus":[{"time":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}},"index":0,"utilPercent":5}]}"""),
        _ => null,
    };
}
