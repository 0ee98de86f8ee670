using System.Text.Json;
using Orac.Formats.Pprof;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Server.Tests.Fleet;

/// <summary>
/// The fleet protocol end to end: real Kestrel, real HttpClients acting as agents. Each test uses its own host names
/// and selects them by a label of its own, so tests sharing the server never see each other's agents.
/// </summary>
public sealed class FleetTests(TestServer s) : IClassFixture<TestServer>
{
    private string IngestA => s.Tokens[("a", Role.Ingest)];

    private string ReadA => s.Tokens[("a", Role.Read)];

    private string AdminA => s.Tokens[("a", Role.Admin)];

    private FleetAgent Agent(string id, string host, string org = "a") => new(s.Http, s.Base, s.Tokens[(org, Role.Ingest)], id, host);

    private static string Unique() => Guid.NewGuid().ToString("N")[..8];

    private async Task<JsonElement> CreateTask(string json, string? token = null, int expect = 201)
    {
        var r = await s.Send(HttpMethod.Post, "/api/v1/tasks", token ?? ReadA, FleetAgent.Json(json));
        Assert.True(r.Status == expect, $"{r.Status} {r.Body}");
        return TestServer.Json(r.Body);
    }

    private async Task<JsonElement> GetTask(string id, int waitMs = 0)
    {
        var r = await s.Get($"/api/v1/tasks/{id}?wait={waitMs}", ReadA);
        Assert.True(r.Status == 200, r.Body);
        return TestServer.Json(r.Body);
    }

    [Fact]
    public async Task Settings_ReachParkedHeartbeat_WithinOneSecond()
    {
        string t = Unique();
        var agent = Agent("set-" + t, "set-host-" + t);
        AgentRegistration reg = await agent.Register(new() { ["test"] = t });
        Assert.Equal("a", reg.Org);
        Assert.Equal(20_000, reg.HeartbeatWaitMs);
        Assert.Equal(19, reg.Settings.Hz);

        // Nothing to say: a short poll answers empty after its wait.
        HeartbeatReply idle = await agent.Heartbeat(50);
        Assert.Null(idle.Settings);
        Assert.Empty(idle.Tasks);

        Task<HeartbeatReply> parked = agent.Heartbeat(20_000);
        await Task.Delay(300);
        Assert.False(parked.IsCompleted, "the heartbeat answered before anything changed");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var set = await s.Send(HttpMethod.Post, "/api/v1/agents/settings", AdminA, FleetAgent.Json($$$"""{"selector":"{test=\"{{{t}}}\"}","hz":97,"paused":true,"labels":{"team":"perf"}}"""));
        Assert.True(set.Status == 200, set.Body);
        HeartbeatReply reply = await parked.WaitAsync(TimeSpan.FromSeconds(5));
        double ms = sw.Elapsed.TotalMilliseconds;
        Assert.True(ms < 1000, $"settings reached the parked heartbeat after {ms:0} ms");
        Assert.NotNull(reply.Settings);
        Assert.Equal(97, reply.Settings!.Hz);
        Assert.True(reply.Settings.Paused);
        Assert.Equal("perf", reply.Settings.Labels["team"]);

        // The agent echoes the version; fleet ls shows it applied, the new label, host and online.
        await agent.Heartbeat(0);
        var ls = await s.Get($"/api/v1/agents?query={Uri.EscapeDataString($"{{test=\"{t}\"}}")}", ReadA);
        JsonElement a = Assert.Single(TestServer.Json(ls.Body).GetProperty("agents").EnumerateArray());
        Assert.Equal("online", a.GetProperty("status").GetString());
        Assert.Equal(a.GetProperty("settings").GetProperty("version").GetInt64(), a.GetProperty("appliedVersion").GetInt64());
        Assert.Equal("perf", a.GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal("set-host-" + t, a.GetProperty("labels").GetProperty("host").GetString());
        Assert.Equal(7, a.GetProperty("uploadedSamples").GetInt64());

        // Re-registering (agent restart) keeps the server's settings.
        AgentRegistration again = await agent.Register(new() { ["test"] = t });
        Assert.Equal(97, again.Settings.Hz);

        // Selector matching nothing: 400; bad hz: 400; read token: 403.
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/agents/settings", AdminA, FleetAgent.Json("""{"selector":"{test=\"nobody\"}","hz":5}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/agents/settings", AdminA, FleetAgent.Json($$"""{"selector":"{test=\"{{t}}\"}","hz":5000}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/agents/settings", ReadA, FleetAgent.Json($$"""{"selector":"{test=\"{{t}}\"}","hz":5}""")), 403);
    }

    [Fact]
    public async Task Task_IsDeliveredToMatchingAgentsOnly_AndMergedWithHostTotals()
    {
        string t = Unique();
        var web1 = Agent("w1-" + t, "web-1-" + t);
        var web2 = Agent("w2-" + t, "web-2-" + t);
        var db = Agent("db-" + t, "db-1-" + t);
        await web1.Register(new() { ["test"] = t, ["service_name"] = "api" });
        await web2.Register(new() { ["test"] = t, ["service_name"] = "api" });
        await db.Register(new() { ["test"] = t, ["service_name"] = "db" });

        // A parked heartbeat gets the task at once.
        Task<HeartbeatReply> parked = web1.Heartbeat(20_000);
        await Task.Delay(200);
        JsonElement task = await CreateTask($$"""{"kind":"profile","selector":"{test=\"{{t}}\", service_name=\"api\"}","durationMs":2000,"hz":49}""");
        string id = task.GetProperty("id").GetString()!;
        Assert.Matches("^[0-9a-f]{16}$", id);
        Assert.Equal("running", task.GetProperty("state").GetString());
        Assert.Equal(["web-1-" + t, "web-2-" + t], task.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("host").GetString()!).ToArray());
        HeartbeatReply got1 = await parked.WaitAsync(TimeSpan.FromSeconds(2));
        AgentTask at = Assert.Single(got1.Tasks);
        Assert.Equal(id, at.Id);
        Assert.Equal(TaskKinds.Profile, at.Kind);
        Assert.Equal(49, at.Hz);
        Assert.Equal(2000, at.DurationMs);
        Assert.Single((await web2.Heartbeat(0)).Tasks);
        Assert.Empty((await db.Heartbeat(0)).Tasks);
        Assert.Empty((await web1.Heartbeat(0)).Tasks); // handed over once

        JsonElement running = await GetTask(id);
        Assert.All(running.GetProperty("parts").EnumerateArray(), p => Assert.Equal("running", p.GetProperty("state").GetString()));

        var r1 = await web1.Result(id, FleetAgent.Profile("main;work;hash 300", "main;idle 100"));
        Assert.True(r1.Status == 200, r1.Body);
        Assert.False(TestServer.Json(r1.Body).GetProperty("late").GetBoolean());
        Assert.Equal(200, (await web2.Result(id, FleetAgent.Profile("main;work;hash 50", "main;work 150"), gzip: true)).Status);
        TestServer.AssertError(await web2.Result(id, FleetAgent.Profile("main 1")), 409);
        TestServer.AssertError(await db.Result(id, FleetAgent.Profile("main 1")), 404);

        JsonElement done = await GetTask(id, 5000);
        Assert.Equal("done", done.GetProperty("state").GetString());
        Assert.False(done.GetProperty("partial").GetBoolean());
        Assert.Empty(done.GetProperty("missing").EnumerateArray());
        Assert.Equal([400L, 200L], done.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("total").GetInt64()).ToArray());

        JsonElement top = TestServer.Json((await s.Get($"/api/v1/tasks/{id}/top", ReadA)).Body);
        Assert.Equal(600, top.GetProperty("profileTotal").GetInt64());
        JsonElement hash = top.GetProperty("functions").EnumerateArray().First();
        Assert.Equal("hash", hash.GetProperty("name").GetString());
        Assert.Equal(350, hash.GetProperty("self").GetInt64());
        JsonElement top1 = TestServer.Json((await s.Get($"/api/v1/tasks/{id}/top?host=web-2-{t}", ReadA)).Body);
        Assert.Equal(200, top1.GetProperty("profileTotal").GetInt64());
        JsonElement flame = TestServer.Json((await s.Get($"/api/v1/tasks/{id}/flame", ReadA)).Body);
        Assert.Equal(600, flame.GetProperty("total").GetInt64());

        var folded = await s.Get($"/api/v1/tasks/{id}/export?format=folded", ReadA);
        Assert.Contains("main;work;hash 350", folded.Body, StringComparison.Ordinal);
        var svg = await s.Get($"/api/v1/tasks/{id}/export?format=svg", ReadA);
        Assert.StartsWith("<?xml", svg.Body, StringComparison.Ordinal);

        using var req = s.Request(HttpMethod.Get, $"/api/v1/tasks/{id}/export?format=pprof", ReadA);
        using var resp = await s.Http.SendAsync(req);
        Profile pprof = PprofReader.Read(await resp.Content.ReadAsByteArrayAsync(), "task.pb.gz");
        Assert.Equal(600, pprof.Total());
        var perHost = new Dictionary<string, long>();
        for (int row = 0; row < pprof.SampleCount; row++)
        {
            foreach (Label l in pprof.LabelSets.Get(pprof.SampleLabels[row]))
            {
                if (pprof.Strings.GetString(l.Key) == "host")
                {
                    string h = pprof.Strings.GetString(l.Value);
                    perHost[h] = perHost.GetValueOrDefault(h) + pprof.Value(row);
                }
            }
        }

        Assert.Equal(400, perHost["web-1-" + t]);
        Assert.Equal(200, perHost["web-2-" + t]);
        TestServer.AssertError(await s.Get($"/api/v1/tasks/{id}/export?format=png", ReadA), 400);

        var list = TestServer.Json((await s.Get("/api/v1/tasks?limit=200", ReadA)).Body);
        Assert.Contains(list.GetProperty("tasks").EnumerateArray(), x => x.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Hosts_RankTheDifferentHostFirst()
    {
        string t = Unique();
        FleetAgent[] agents = [Agent("h1-" + t, "h-1-" + t), Agent("h2-" + t, "h-2-" + t), Agent("h3-" + t, "h-3-" + t)];
        foreach (FleetAgent a in agents)
        {
            await a.Register(new() { ["test"] = t });
        }

        string id = (await CreateTask($$"""{"kind":"profile","selector":"{test=\"{{t}}\"}","durationMs":1000}""")).GetProperty("id").GetString()!;
        foreach (FleetAgent a in agents)
        {
            Assert.Single((await a.Heartbeat(0)).Tasks);
        }

        Assert.Equal(200, (await agents[0].Result(id, FleetAgent.Profile("main;a 100"))).Status);
        Assert.Equal(200, (await agents[1].Result(id, FleetAgent.Profile("main;a 300"))).Status);
        Assert.Equal(200, (await agents[2].Result(id, FleetAgent.Profile("main;b 100"))).Status);

        JsonElement doc = TestServer.Json((await s.Get($"/api/v1/tasks/{id}/hosts", ReadA)).Body);
        Assert.Equal("nanoseconds", doc.GetProperty("unit").GetString());
        JsonElement[] hosts = [.. doc.GetProperty("hosts").EnumerateArray()];
        Assert.Equal("h-3-" + t, hosts[0].GetProperty("host").GetString());
        Assert.Equal(100.0, hosts[0].GetProperty("distancePercent").GetDouble());
        JsonElement differs = hosts[0].GetProperty("differs")[0];
        Assert.Equal(100.0, Math.Abs(differs.GetProperty("hostPercent").GetDouble() - differs.GetProperty("restPercent").GetDouble()));

        // h-1 (all a) against h-2 + h-3 (a 300, b 100 → a 75 %, b 25 %): ½ (25 + 25) = 25.
        JsonElement h1 = hosts.Single(h => h.GetProperty("host").GetString() == "h-1-" + t);
        Assert.Equal(25.0, h1.GetProperty("distancePercent").GetDouble());
        Assert.Equal(100, h1.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Deadline_MakesTaskPartial_NamingMissingHost_AndLateResultIsKept()
    {
        string t = Unique();
        var ok = Agent("ok-" + t, "ok-" + t);
        var slow = Agent("slow-" + t, "slow-" + t);
        await ok.Register(new() { ["test"] = t });
        await slow.Register(new() { ["test"] = t });
        string id = (await CreateTask($$"""{"kind":"profile","selector":"{test=\"{{t}}\"}","durationMs":1000,"deadlineMs":1000}""")).GetProperty("id").GetString()!;
        Assert.Single((await ok.Heartbeat(0)).Tasks);
        Assert.Single((await slow.Heartbeat(0)).Tasks);
        Assert.Equal(200, (await ok.Result(id, FleetAgent.Profile("main;a 10"))).Status);

        JsonElement partial = await GetTask(id, 10_000);
        Assert.Equal("partial", partial.GetProperty("state").GetString());
        Assert.True(partial.GetProperty("partial").GetBoolean());
        Assert.Equal(["slow-" + t + " (timed out)"], partial.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).ToArray());
        Assert.Equal("timed_out", partial.GetProperty("parts")[1].GetProperty("state").GetString());

        var late = await slow.Result(id, FleetAgent.Profile("main;b 30"));
        Assert.True(late.Status == 200, late.Body);
        Assert.True(TestServer.Json(late.Body).GetProperty("late").GetBoolean());
        JsonElement after = await GetTask(id);
        Assert.Equal("partial", after.GetProperty("state").GetString());
        JsonElement part = after.GetProperty("parts")[1];
        Assert.True(part.GetProperty("late").GetBoolean());
        Assert.Equal("done", part.GetProperty("state").GetString());
        Assert.Equal(["slow-" + t + " (late)"], after.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).ToArray());

        // The merged profile includes the late host; hosts says partial.
        Assert.Equal(40, TestServer.Json((await s.Get($"/api/v1/tasks/{id}/top", ReadA)).Body).GetProperty("profileTotal").GetInt64());
        Assert.True(TestServer.Json((await s.Get($"/api/v1/tasks/{id}/hosts", ReadA)).Body).GetProperty("partial").GetBoolean());

        // An undelivered part is not handed out after the deadline.
        var never = Agent("never-" + t, "never-" + t);
        await never.Register(new() { ["test2"] = t });
        string id2 = (await CreateTask($$"""{"kind":"check","selector":"{test2=\"{{t}}\"}","durationMs":1000,"deadlineMs":1000}""")).GetProperty("id").GetString()!;
        Assert.Equal("partial", (await GetTask(id2, 10_000)).GetProperty("state").GetString());
        Assert.Empty((await never.Heartbeat(0)).Tasks);
    }

    [Fact]
    public async Task FailedPart_CarriesReason_AndCheckResultsAreKeptAsSent()
    {
        string t = Unique();
        var good = Agent("g-" + t, "g-" + t);
        var bad = Agent("b-" + t, "b-" + t);
        var junk = Agent("j-" + t, "j-" + t);
        foreach (FleetAgent a in new[] { good, bad, junk })
        {
            await a.Register(new() { ["test"] = t });
        }

        string id = (await CreateTask($$"""{"kind":"check","selector":"{test=\"{{t}}\"}"}""")).GetProperty("id").GetString()!;
        Assert.Equal(200, (await good.Result(id, """{"verdict":"ok","cpus":4}"""u8.ToArray())).Status);
        Assert.Equal(200, (await bad.Fail(id, "bpftrace not installed")).Status);
        string why = TestServer.AssertError(await junk.Result(id, "[1,2]"u8.ToArray()), 400);
        Assert.Contains("JSON object", why, StringComparison.Ordinal);

        JsonElement doc = await GetTask(id, 5000);
        Assert.Equal("partial", doc.GetProperty("state").GetString());
        string[] missing = [.. doc.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!)];
        Assert.Contains("b-" + t + " (failed: bpftrace not installed)", missing);
        Assert.Contains(missing, m => m.StartsWith("j-" + t + " (failed: result refused by the server", StringComparison.Ordinal));

        JsonElement results = TestServer.Json((await s.Get($"/api/v1/tasks/{id}/results", ReadA)).Body);
        JsonElement g = results.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("agentId").GetString() == "g-" + t);
        Assert.Equal(4, g.GetProperty("result").GetProperty("cpus").GetInt32());
        TestServer.AssertError(await s.Get($"/api/v1/tasks/{id}/top", ReadA), 400);
    }

    [Fact]
    public async Task Catalogue_RefusesWhatIsNotInIt()
    {
        string t = Unique();
        await Agent("cat-" + t, "cat-" + t).Register(new() { ["test"] = t });
        string sel = $$"""{test=\"{{t}}\"}""";
        foreach (string bad in new[]
        {
            $$"""{"kind":"shell","selector":"{{sel}}"}""",
            $$"""{"kind":"profile","selector":"{{sel}}","durationMs":600001}""",
            $$"""{"kind":"profile","selector":"{{sel}}","durationMs":500}""",
            $$"""{"kind":"profile","selector":"{{sel}}","hz":5000}""",
            $$"""{"kind":"trace","selector":"{{sel}}","tool":"rm -rf /"}""",
            $$"""{"kind":"trace","selector":"{{sel}}"}""",
            $$"""{"kind":"check","selector":"{{sel}}","tool":"x"}""",
            $$"""{"kind":"pmc","selector":"{{sel}}","events":["cycles;ls"]}""",
            $$"""{"kind":"profile","selector":"{{sel}}","durationMs":1000,"deadlineMs":700000}""",
            $$"""{"kind":"profile","selector":"{bad"}""",
            """{"kind":"profile","selector":"{test=\"nobody-at-all\"}"}""",
        })
        {
            TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/tasks", ReadA, FleetAgent.Json(bad)), 400);
        }

        JsonElement trace = await CreateTask($$"""{"kind":"trace","selector":"{{sel}}","tool":"offcpu"}""");
        Assert.Equal("offcpu", trace.GetProperty("tool").GetString());
        Assert.Equal(10_000, trace.GetProperty("durationMs").GetInt64());
        Assert.Equal(trace.GetProperty("createdMs").GetInt64() + 40_000, trace.GetProperty("deadlineMs").GetInt64());
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/tasks", IngestA, FleetAgent.Json($$"""{"kind":"check","selector":"{{sel}}"}""")), 403);
    }

    [Fact]
    public async Task OrgB_CannotSeeOrTaskOrgAAgents()
    {
        string t = Unique();
        var inA = Agent("same-" + t, "a-host-" + t);
        var inB = Agent("same-" + t, "b-host-" + t, org: "b");
        await inA.Register(new() { ["test"] = t });
        await inB.Register(new() { ["test"] = t });
        string readB = s.Tokens[("b", Role.Read)];

        // Same id in two orgs: two agents, each sees its own.
        JsonElement lsB = TestServer.Json((await s.Get($"/api/v1/agents?query={Uri.EscapeDataString($"{{test=\"{t}\"}}")}", readB)).Body);
        Assert.Equal(["b-host-" + t], lsB.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("info").GetProperty("hostname").GetString()!).ToArray());
        Assert.DoesNotContain("a-host-" + t, (await s.Get("/api/v1/agents", readB)).Body, StringComparison.Ordinal);

        // Org b tasking org a's host by name: nothing matches in b.
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/tasks", readB, FleetAgent.Json($$"""{"kind":"check","selector":"{host=\"a-host-{{t}}\"}"}""")), 400);
        // Org b's task on its own agent never reaches org a's agent of the same id, nor do b's settings.
        string idB = (await CreateTask($$"""{"kind":"check","selector":"{test=\"{{t}}\"}"}""", readB)).GetProperty("id").GetString()!;
        Assert.Equal(200, (await s.Send(HttpMethod.Post, "/api/v1/agents/settings", s.Tokens[("b", Role.Admin)], FleetAgent.Json($$"""{"selector":"{test=\"{{t}}\"}","hz":3}"""))).Status);
        HeartbeatReply a = await inA.Heartbeat(0);
        Assert.Empty(a.Tasks);
        Assert.Null(a.Settings);
        HeartbeatReply b = await inB.Heartbeat(0);
        Assert.Equal(idB, Assert.Single(b.Tasks).Id);
        Assert.Equal(3, b.Settings!.Hz);

        // Org a cannot read b's task, nor post a result to it.
        TestServer.AssertError(await s.Get($"/api/v1/tasks/{idB}", ReadA), 404);
        TestServer.AssertError(await inA.Result(idB, """{"x":1}"""u8.ToArray()), 404);
        TestServer.AssertError(await s.Get($"/api/v1/tasks/{idB}/results", ReadA), 404);

        // An admin acts on one org at a time here.
        Assert.Contains("exactly one org", TestServer.AssertError(await s.Get("/api/v1/agents?org=a,b", AdminA), 400), StringComparison.Ordinal);
        Assert.DoesNotContain("a-host-" + t, (await s.Get("/api/v1/agents", AdminA, scopeOrg: "b")).Body, StringComparison.Ordinal);

        // A heartbeat for an agent that org a never registered is 404 (register again).
        var stranger = Agent("never-registered-" + t, "x");
        using var content = FleetAgent.Json("{}");
        TestServer.AssertError(await s.Send(HttpMethod.Post, $"/api/v1/agents/never-registered-{t}/heartbeat?wait=0", IngestA, content), 404);
        Assert.Equal("x", stranger.Host);

        // The audit log of org a does not show org b's actions.
        string audit = (await s.Get("/api/v1/audit?limit=10000", AdminA)).Body;
        Assert.DoesNotContain(idB, audit, StringComparison.Ordinal);
        Assert.Contains(idB, (await s.Get("/api/v1/audit?limit=10000", s.Tokens[("b", Role.Admin)])).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_AbortedByAgent_IsNoLongerOpen()
    {
        string t = Unique();
        var agent = Agent("abort-" + t, "abort-" + t);
        await agent.Register(new() { ["test"] = t });
        using var cts = new CancellationTokenSource();
        Task<HeartbeatReply> parked = agent.Heartbeat(20_000, cts.Token);
        Orac.Server.Fleet.AgentState state = s.Server.AgentRegistry.Find("a", "abort-" + t)!;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (state.OpenHeartbeats == 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, state.OpenHeartbeats);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => parked);
        while (state.OpenHeartbeats != 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, state.OpenHeartbeats);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), "the server kept the aborted heartbeat open");
    }

    [Fact]
    public async Task InitialSettings_CarryTheAgentsOwnRate_UntilAnOperatorSetsOne()
    {
        string t = Unique();
        var agent = Agent("rate-" + t, "rate-host-" + t);
        AgentRegistration reg = await agent.Register(new() { ["test"] = t }, hz: 99);
        Assert.Equal(1, reg.Settings.Version);
        Assert.Equal(99, reg.Settings.Hz);

        // Restarted with another --hz while nobody set a rate: the server follows (fleet ls shows what runs).
        AgentRegistration restarted = await agent.Register(new() { ["test"] = t }, hz: 49);
        Assert.Equal(1, restarted.Settings.Version);
        Assert.Equal(49, restarted.Settings.Hz);

        // An operator's change that does not name a rate keeps the agent's own.
        var set = await s.Send(HttpMethod.Post, "/api/v1/agents/settings", AdminA, FleetAgent.Json($$"""{"selector":"{test=\"{{t}}\"}","paused":true}"""));
        Assert.True(set.Status == 200, set.Body);
        AgentRegistration paused = await agent.Register(new() { ["test"] = t }, hz: 7);
        Assert.Equal(2, paused.Settings.Version);
        Assert.Equal(49, paused.Settings.Hz);
        Assert.True(paused.Settings.Paused);

        // An agent that says nothing gets the default; an impossible rate is refused.
        Assert.Equal(19, (await Agent("rate0-" + t, "rate0-host-" + t).Register(new() { ["test"] = t })).Settings.Hz);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/agents/register", IngestA, FleetAgent.Json("""{"id":"rate-bad","hostname":"h","hz":5000}""")), 400);
    }

    [Fact]
    public async Task Register_RefusesBadIds()
    {
        foreach (string body in new[]
        {
            """{"id":"..","hostname":"h"}""",
            """{"id":"a/b","hostname":"h"}""",
            """{"id":"","hostname":"h"}""",
            """{"id":"ok","hostname":""}""",
            """{"id":"ok","hostname":"h","labels":{"host":"other"}}""",
            """{"id":"ok","hostname":"h","labels":{"9bad":"x"}}""",
            """{"hostname":"h"}""",
        })
        {
            TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/agents/register", IngestA, FleetAgent.Json(body)), 400);
        }
    }

    [Fact]
    public async Task ReplayedUploadId_IsDuplicate_AndCountedOnce()
    {
        string svc = "dedup-" + Unique();
        async Task<(int Status, string Body)> Upload(string id, string body = "main;work 5\n")
        {
            using var req = s.Request(HttpMethod.Post, $"/api/v1/profiles?service={svc}&format=folded&from=now-1m", IngestA, new StringContent(body));
            req.Headers.Add("X-Orac-Upload-Id", id);
            using var resp = await s.Http.SendAsync(req);
            return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
        }

        var first = await Upload("agent-1:42");
        Assert.True(first.Status == 200, first.Body);
        Assert.False(TestServer.Json(first.Body).GetProperty("duplicate").GetBoolean());
        var again = await Upload("agent-1:42");
        Assert.Equal(200, again.Status);
        JsonElement dup = TestServer.Json(again.Body);
        Assert.True(dup.GetProperty("duplicate").GetBoolean());
        Assert.Equal(0, dup.GetProperty("samples").GetInt64());

        // The same id in another org is another upload.
        using (var req = s.Request(HttpMethod.Post, $"/api/v1/profiles?service={svc}&format=folded&from=now-1m", s.Tokens[("b", Role.Ingest)], new StringContent("main;work 5\n")))
        {
            req.Headers.Add("X-Orac-Upload-Id", "agent-1:42");
            using var resp = await s.Http.SendAsync(req);
            Assert.False(TestServer.Json(await resp.Content.ReadAsStringAsync()).GetProperty("duplicate").GetBoolean());
        }

        // Many at once with one id: stored once.
        var burst = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Upload("agent-1:43", "main;burst 7\n")));
        Assert.All(burst, b => Assert.Equal(200, b.Status));
        Assert.Equal(1, burst.Count(b => !TestServer.Json(b.Body).GetProperty("duplicate").GetBoolean()));

        long now = TimeSpec.NowNs();
        Profile stored = s.Store.Select(new ProfileQuery(["a"], ProfileTypeId.ProcessCpuSamples, Selector.Parse(svc), now - (600 * TimeSpec.NsPerSecond), now + TimeSpec.NsPerSecond));
        Assert.Equal(12, stored.Total());

        TestServer.AssertError(await Upload("bad id with spaces"), 400);
        TestServer.AssertError(await Upload(new string('x', 129)), 400);
    }

    [Fact]
    public void TaskResult_FuzzTarget_SurvivesMutations()
    {
        List<byte[]> seeds = Orac.Fuzz.MutationFuzzer.LoadSeeds(Path.Combine(Orac.Tests.Shared.TestPaths.Data, "fleet"));
        Assert.NotEmpty(seeds);
        Orac.Tests.Shared.FuzzAssert.SurvivesMutations("task-result", Orac.Server.Fleet.TaskResultFuzz.Run, seeds, 5);
    }
}
