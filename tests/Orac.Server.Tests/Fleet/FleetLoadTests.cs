using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Sim;
using Xunit.Abstractions;

namespace Orac.Server.Tests.Fleet;

/// <summary>Timing-sensitive tests run alone, after the parallel ones, so other classes do not compete for the 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetLoadCollection
{
    public const string Name = "fleet-load";
}

/// <summary>
/// Issue #5's load test: 200 simulated agents (tests/Shared/Fleet: the real protocol over HTTP, no sampling) against a
/// real in-process server on 127.0.0.1:0. One scenario, one fleet: a fleet-wide profile task, a settings change to
/// everyone, then a quiet window longer than one long poll in which every agent must keep heartbeating. Figures are
/// printed to the test output (measured, wall clock on this machine).
/// </summary>
[Collection(FleetLoadCollection.Name)]
public sealed class FleetLoadTests(TestServer server, ITestOutputHelper output) : IClassFixture<TestServer>
{
    private const int Agents = 200;
    private const int HeartbeatWaitMs = 20_000;
    private static readonly OracJsonContext s_json = OracJsonContext.Default;

    [Fact]
    public async Task TwoHundredAgents_KeepHeartbeatsTaskAndSettingsWithinDeadlines()
    {
        string agentToken = server.Tokens[("a", Role.Ingest)];
        string readToken = server.Tokens[("a", Role.Read)];
        string adminToken = server.Tokens[("a", Role.Admin)];
        using HttpClient http = SimFleet.CreateHttpClient(server.Base, Agents);
        await using var fleet = new SimFleet(http, agentToken, Agents, new SimAgentOptions { HeartbeatWaitMs = HeartbeatWaitMs });
        var clock = Stopwatch.StartNew();
        await fleet.StartAsync();
        Say($"registered {Agents} agents in {clock.Elapsed.TotalMilliseconds:0} ms");

        // 1. Everyone is there and online.
        FleetDocument agents = await Fleet(readToken);
        Assert.Equal(Agents, agents.Agents.Count(a => a.Info.Id.StartsWith("sim-", StringComparison.Ordinal)));
        Assert.All(agents.Agents, a => Assert.Equal("online", a.Status));

        // 2. A fleet-wide profile task: 2 s of "profiling", deadline 15 s.
        var request = new TaskRequest { Kind = TaskKinds.Profile, Selector = "{service_name=\"sim\"}", DurationMs = 2000, DeadlineMs = 15_000 };
        (int status, string body) = await server.Send(HttpMethod.Post, "/api/v1/tasks", readToken, Json(JsonSerializer.Serialize(request, s_json.TaskRequest)));
        Assert.True(status == 201, $"POST /api/v1/tasks answered {status}: {body}");
        TaskDocument created = JsonSerializer.Deserialize(body, s_json.TaskDocument)!;
        Assert.Equal(Agents, created.Parts.Count);
        (status, body) = await server.Get($"/api/v1/tasks/{created.Id}?wait=20000", readToken);
        Assert.True(status == 200, body);
        TaskDocument task = JsonSerializer.Deserialize(body, s_json.TaskDocument)!;
        Assert.True(task.State == "done", $"task {task.State}, missing: {string.Join(", ", task.Missing)}; agent errors: {string.Join(" | ", fleet.Stats.Errors)}");
        Assert.False(task.Partial);
        Assert.Empty(task.Missing);
        Assert.Equal(Agents, task.Parts.Count(p => p.State == PartStates.Done && !p.Late));
        long lastFinished = task.Parts.Max(p => p.FinishedMs ?? long.MaxValue);
        long completeMs = lastFinished - task.CreatedMs;
        Say($"task {task.Id}: {Agents} parts done, last result {completeMs} ms after creation (duration 2000 ms, deadline 15000 ms)");
        Assert.True(completeMs < 10_000, $"the last result came {completeMs} ms after creation: not well before the 15 s deadline");

        // Every agent got it within 2 s (p99) of its creation.
        double[] delivery = fleet.Stats.DeliveryMs(task.Id, task.CreatedMs);
        Say($"task delivery (created → agent has it): {SimStats.Summary(delivery)}");
        Assert.Equal(Agents, delivery.Length);
        Assert.True(SimStats.Percentile(delivery, 0.99) < 2000, $"task delivery p99 {SimStats.Percentile(delivery, 0.99):0} ms ≥ 2000 ms");

        // The merged profile is exactly what the agents sent.
        // The server may release the wait before the last agents have read its answer to their result.
        TaskSent sent = fleet.Stats.Sent(task.Id);
        for (var grace = Stopwatch.StartNew(); sent.Results < Agents && grace.ElapsedMilliseconds < 2000; sent = fleet.Stats.Sent(task.Id))
        {
            await Task.Delay(20);
        }

        long expected = Enumerable.Range(0, Agents).Sum(i => SimAgent.ProfileTotal(i));
        Assert.Equal(Agents, sent.Results);
        Assert.Equal(expected, sent.Total);
        (status, body) = await server.Get($"/api/v1/tasks/{task.Id}/top?limit=300", readToken);
        Assert.True(status == 200, body);
        TopReport top = JsonSerializer.Deserialize(body, s_json.TopReport)!;
        Assert.Equal(expected, top.ProfileTotal);
        Assert.Equal(SimAgent.OwnFrameTotal(7), top.Functions.Single(f => f.Name == "sim_agent_sim-0007").Total);
        (status, body) = await server.Get($"/api/v1/tasks/{task.Id}/top?host=sim-0007", readToken);
        Assert.True(status == 200, body);
        Assert.Equal(SimAgent.ProfileTotal(7), JsonSerializer.Deserialize(body, s_json.TopReport)!.ProfileTotal);
        Say($"merged profile total {top.ProfileTotal} ns = sum of the {Agents} results sent");

        // 3. A settings change reaches every agent within one heartbeat (the open long polls are answered).
        long before = fleet.Agents.Min(a => a.SettingsVersion);
        double setAt = SimStats.NowUnixMs();
        var setClock = Stopwatch.StartNew();
        (status, body) = await server.Send(HttpMethod.Post, "/api/v1/agents/settings", adminToken,
            Json(JsonSerializer.Serialize(new FleetSetRequest { Selector = "sim", Hz = 29 }, s_json.FleetSetRequest)));
        Assert.True(status == 200, $"POST /api/v1/agents/settings answered {status}: {body}");
        FleetSetResult set = JsonSerializer.Deserialize(body, s_json.FleetSetResult)!;
        Assert.Equal(Agents, set.Agents.Count);
        Dictionary<string, long> wanted = set.Agents.ToDictionary(a => a.Info.Id, a => a.Settings.Version);
        Assert.All(wanted.Values, v => Assert.True(v > before));
        int applied = 0;
        while (setClock.ElapsedMilliseconds < 5000)
        {
            agents = await Fleet(readToken);
            applied = agents.Agents.Count(a => wanted.TryGetValue(a.Info.Id, out long v) && a.AppliedVersion >= v && a.Settings.Hz == 29);
            if (applied == Agents)
            {
                break;
            }

            await Task.Delay(50);
        }

        double applyMs = setClock.Elapsed.TotalMilliseconds;
        double[] reached = [.. fleet.Stats.SettingsReceivedMs(wanted.Values.Min()).Select(t => t - setAt).Order()];
        Say($"settings change: agents had it {SimStats.Summary(reached)} after the POST; server shows all {applied} applied after {applyMs:0} ms");
        Assert.Equal(Agents, applied);
        Assert.True(applyMs < 5000);

        // 4. A quiet window longer than one long poll: every agent keeps heartbeating, none is ever older than 25 s.
        Dictionary<string, int> heldBefore = fleet.Stats.HeldPerAgent();
        var window = Stopwatch.StartNew();
        double maxAge = 0;
        int samples = 0;
        while (window.ElapsedMilliseconds < 25_000)
        {
            await Task.Delay(2500);
            agents = await Fleet(readToken);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.Equal(Agents, agents.Agents.Count);
            foreach (AgentDocument a in agents.Agents)
            {
                Assert.True(a.Status == "online", $"{a.Info.Id} is {a.Status} at {window.ElapsedMilliseconds} ms into the window");
                maxAge = Math.Max(maxAge, now - a.LastSeenMs);
            }

            samples++;
        }

        Dictionary<string, int> held = fleet.Stats.HeldPerAgent();
        double[] late = fleet.Stats.HeartbeatLateMs();
        Say($"heartbeat window {window.Elapsed.TotalSeconds:0.0} s, {samples} looks at the fleet: oldest lastSeen {maxAge:0} ms; " +
            $"held heartbeats answered {held.Values.Sum() - heldBefore.Values.Sum()} in the window, {fleet.Stats.Heartbeats} in all, {fleet.Stats.HeartbeatErrors} errors, {fleet.Stats.EarlyAnswers} early");
        Say($"heartbeat lateness (answer − {HeartbeatWaitMs} ms hold): {SimStats.Summary(late)}");
        Assert.True(maxAge < 25_000, $"an agent's lastSeen was {maxAge:0} ms old");
        // At least one full long poll per agent ended inside the window.
        Assert.Equal(Agents, held.Count(kv => kv.Value > heldBefore.GetValueOrDefault(kv.Key)));
        Assert.Equal(0, fleet.Stats.HeartbeatErrors);
        Assert.Equal(0, fleet.Stats.ResultErrors);
        Assert.True(SimStats.Percentile(late, 0.99) < 2000, $"heartbeat lateness p99 {SimStats.Percentile(late, 0.99):0} ms ≥ 2000 ms");

        await fleet.StopAsync();
        Say($"whole scenario {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private async Task<FleetDocument> Fleet(string token)
    {
        (int status, string body) = await server.Get("/api/v1/agents", token);
        Assert.True(status == 200, $"GET /api/v1/agents answered {status}: {body}");
        return JsonSerializer.Deserialize(body, s_json.FleetDocument)!;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private void Say(string line) => output.WriteLine(line);
}
