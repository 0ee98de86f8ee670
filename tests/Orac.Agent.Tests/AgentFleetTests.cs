using System.Diagnostics;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Agent.Tests;

/// <summary>
/// The agent against a real in-process <c>OracServer</c>: registration, heartbeats with measured overhead, settings
/// applied within one heartbeat, a profile task end to end, a refused task, and a server outage with replay that
/// loses and doubles nothing.
/// </summary>
public sealed class AgentFleetTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-agent-fleet-").FullName;
    private readonly StringWriter _log = new();
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync(Path.Combine(_dir, "data"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _log.Dispose();

    private FleetAgent NewAgent(string name, bool profile = true, Dictionary<string, string>? labels = null) => FleetAgent.Create(new AgentOptions
    {
        Server = _server.Url,
        Token = _server.IngestToken,
        StateDirectory = Path.Combine(_dir, name),
        Labels = labels ?? new Dictionary<string, string> { ["service_name"] = "agenttest", ["rack"] = "r1" },
        UploadInterval = TimeSpan.FromSeconds(1),
        Profile = profile,
        MaxBackoff = TimeSpan.FromSeconds(1),
        Log = _log,
    });

    private static async Task Until(Func<Task<bool>> done, TimeSpan limit, Func<string> what)
    {
        var watch = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(watch.Elapsed < limit, $"timed out after {limit.TotalSeconds:0} s waiting for {what()}");
            await Task.Delay(100);
        }
    }

    private async Task<AgentDocument?> Fleet(string id)
    {
        (int status, string body) = await _server.GetAsync("/api/v1/agents");
        Assert.True(status == 200, body);
        FleetDocument fleet = JsonSerializer.Deserialize(body, OracJsonContext.Default.FleetDocument)!;
        return fleet.Agents.FirstOrDefault(a => a.Info.Id == id);
    }

    private static bool CanSample => AgentInfoProbe.CanSample(out _);

    [Fact]
    public async Task Agent_Registers_Heartbeats_AndShowsInTheFleetWithItsOverhead()
    {
        await using FleetAgent agent = NewAgent("a1");
        agent.Start();
        AgentRegistration reg = await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(agent.Id, reg.AgentId);
        Assert.Equal("local", reg.Org);
        Assert.True(File.Exists(Path.Combine(_dir, "a1", "agent-id")));

        AgentDocument? doc = null;
        await Until(async () => (doc = await Fleet(agent.Id)) is { Overhead.RssBytes: > 0 }, TimeSpan.FromSeconds(20), () => "a heartbeat with overhead");
        Assert.Equal("online", doc!.Status);
        Assert.Equal(Environment.MachineName, doc.Info.Hostname);
        Assert.Equal("agenttest", doc.Labels["service_name"]);
        Assert.Equal(Environment.MachineName, doc.Labels["host"]);
        Assert.Contains(AgentInfoProbe.Capabilities.Check, doc.Info.Capabilities);
        Assert.Equal(Environment.ProcessorCount, doc.Info.Cpus);
        Assert.True(doc.Info.MemoryBytes > 0);
        Assert.False(string.IsNullOrEmpty(doc.Info.Kernel));

        // RSS is measured from /proc/self/statm: this test process is at least a few MB.
        Assert.True(doc.Overhead.RssBytes > 4 << 20, $"rss {doc.Overhead.RssBytes}");
        Assert.True(doc.Overhead.CpuPercent >= 0);

        // The same id after a restart of the agent.
        await agent.StopAsync();
        await using FleetAgent again = NewAgent("a1");
        Assert.Equal(agent.Id, again.Id);
    }

    [Fact]
    public async Task Agent_SettingsChange_IsAppliedWithinOneHeartbeat()
    {
        await using FleetAgent agent = NewAgent("a2", profile: CanSample);
        agent.Start();
        await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        await Until(async () => await Fleet(agent.Id) is { Overhead.RssBytes: > 0 }, TimeSpan.FromSeconds(20), () => "the first heartbeat");

        var watch = Stopwatch.StartNew();
        (int status, string body) = await _server.PostJsonAsync("/api/v1/agents/settings", "{\"selector\":\"{rack=\\\"r1\\\"}\",\"hz\":29,\"labels\":{\"tier\":\"gold\"}}");
        Assert.True(status == 200, body);
        AgentDocument? doc = null;
        await Until(async () => (doc = await Fleet(agent.Id)) is { } d && d.Settings.Hz == 29 && d.AppliedVersion == d.Settings.Version, TimeSpan.FromSeconds(10), () => $"hz 29 applied (fleet: {JsonSerializer.Serialize(doc!, OracJsonContext.Default.AgentDocument)})");

        // Well within one long poll (20 s): the open heartbeat was answered at once.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(29, agent.Settings.Hz);
        Assert.Equal("gold", agent.Settings.Labels["tier"]);
        if (agent.Profiler is not null)
        {
            Assert.Equal(doc!.Settings.Version, agent.Profiler.AppliedVersion);
        }

        (status, body) = await _server.PostJsonAsync("/api/v1/agents/settings", "{\"selector\":\"\",\"paused\":true}");
        Assert.True(status == 200, body);
        await Until(async () => (doc = await Fleet(agent.Id)) is { Settings.Paused: true } d && d.AppliedVersion == d.Settings.Version, TimeSpan.FromSeconds(10), () => "pause applied");
        Assert.True(agent.Settings.Paused);
        if (agent.Profiler is not null)
        {
            // Paused: nothing more is recorded.
            await Task.Delay(300);
            long before = agent.RecordedSamples;
            await Task.Delay(1500);
            Assert.Equal(before, agent.RecordedSamples);
        }
    }

    [SkippableFact]
    public async Task Agent_ProfileTask_ReturnsAProfileWithSamples()
    {
        Skip.IfNot(CanSample, "perf_event sampling is not permitted here (needs root or CAP_PERFMON)");
        await using FleetAgent agent = NewAgent("a3", profile: false);
        agent.Start();
        await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        await Until(async () => await Fleet(agent.Id) is { Status: "online", Overhead.RssBytes: > 0 }, TimeSpan.FromSeconds(20), () => "online");

        (int status, string body) = await _server.PostJsonAsync("/api/v1/tasks", $"{{\"kind\":\"profile\",\"selector\":\"{{host=\\\"{Environment.MachineName}\\\", rack=\\\"r1\\\"}}\",\"durationMs\":1500,\"hz\":199}}");
        Assert.True(status == 201, body);
        TaskDocument created = JsonSerializer.Deserialize(body, OracJsonContext.Default.TaskDocument)!;

        (status, body) = await _server.GetAsync($"/api/v1/tasks/{created.Id}?wait=20000");
        Assert.True(status == 200, body);
        TaskDocument task = JsonSerializer.Deserialize(body, OracJsonContext.Default.TaskDocument)!;
        Assert.True(task.State == "done", body + "\n" + _log);
        TaskPart part = Assert.Single(task.Parts, p => p.AgentId == agent.Id);
        Assert.Equal(PartStates.Done, part.State);
        Assert.True(part.ResultBytes > 0);
        Assert.True(part.Total > 0, body);

        (status, body) = await _server.GetAsync($"/api/v1/tasks/{created.Id}/top?limit=5");
        Assert.True(status == 200, body);
        Assert.Contains("nanoseconds", body, StringComparison.Ordinal);
        Assert.Equal(1, agent.Tasks.Done);
    }

    [Fact]
    public async Task Agent_TaskNotInTheCatalogue_IsReportedFailed()
    {
        // A registered agent that is not running (so it never picks the task up itself) ...
        var info = new AgentInfo { Id = "refuser-1", Hostname = "refuser", Labels = new() { ["role"] = "refuser" }, Capabilities = ["check"] };
        (int status, string body) = await _server.PostJsonAsync("/api/v1/agents/register", JsonSerializer.Serialize(info, OracJsonContext.Default.AgentInfo));
        Assert.True(status == 200, body);
        (status, body) = await _server.PostJsonAsync("/api/v1/tasks", "{\"kind\":\"check\",\"selector\":\"{role=\\\"refuser\\\"}\",\"durationMs\":1000}");
        Assert.True(status == 201, body);
        TaskDocument created = JsonSerializer.Deserialize(body, OracJsonContext.Default.TaskDocument)!;

        // ... and its task runner handed a kind outside the catalogue under that task's id.
        using var http = new AgentHttp(_server.Url, _server.IngestToken, TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();
        var runner = new TaskRunner("refuser-1", http, new Orac.Collect.Symbols.Symbolizer(), ["check"], _log, stop.Token);
        Assert.Equal("not in the catalogue", runner.Refusal(new AgentTask { Id = "x", Kind = "shell", DurationMs = 1000, DeadlineMs = 0 }));
        runner.Start(new AgentTask { Id = created.Id, Kind = "shell", DurationMs = 1000, DeadlineMs = created.DeadlineMs });
        await runner.WaitAsync(TimeSpan.FromSeconds(20));

        (status, body) = await _server.GetAsync($"/api/v1/tasks/{created.Id}");
        TaskDocument task = JsonSerializer.Deserialize(body, OracJsonContext.Default.TaskDocument)!;
        TaskPart part = Assert.Single(task.Parts);
        Assert.Equal(PartStates.Failed, part.State);
        Assert.Equal("not in the catalogue", part.Reason);
        Assert.Equal(1, runner.Failed);

        // A kind the host cannot do is refused with the reason.
        var noSample = new TaskRunner("refuser-1", http, new Orac.Collect.Symbols.Symbolizer(), ["check"], _log, stop.Token);
        Assert.StartsWith("this host cannot sample CPUs", noSample.Refusal(new AgentTask { Id = "y", Kind = "profile", Hz = 99, DurationMs = 1000, DeadlineMs = 0 }), StringComparison.Ordinal);
        Assert.Contains("outside the catalogue", noSample.Refusal(new AgentTask { Id = "z", Kind = "check", DurationMs = 3_600_000, DeadlineMs = 0 }), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Agent_ServerAwayFifteenSeconds_ReplaysTheSpool_StoredSamplesEqualRecorded()
    {
        Skip.IfNot(CanSample, "perf_event sampling is not permitted here (needs root or CAP_PERFMON)");
        var labels = new Dictionary<string, string> { ["service_name"] = "outage", ["run"] = Guid.NewGuid().ToString("N")[..8] };
        await using FleetAgent agent = NewAgent("a5", labels: labels);
        agent.Start();
        await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        await Until(() => Task.FromResult(agent.UploadedSamples > 0), TimeSpan.FromSeconds(20), () => "the first upload");

        await _server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(15));
        Assert.True(agent.Sender.InOutage);
        Assert.True(agent.Spool.Stats.Files >= 10, $"{agent.Spool.Stats.Files} uploads spooled during the outage");
        await _server.RestartAsync();

        await Until(() => Task.FromResult(!agent.Sender.InOutage && agent.Spool.Stats.Files == 0), TimeSpan.FromSeconds(30), () => "the replay");
        await agent.StopAsync();

        long recorded = agent.RecordedSamples;
        Assert.True(recorded > 0);
        Assert.Equal(0, agent.Spool.Stats.Files);
        Assert.Equal(0, agent.Spool.DroppedSamples);
        Assert.Equal(0, agent.Sender.RejectedSamples);
        Assert.Equal(recorded, agent.UploadedSamples);

        long totalNs = await _server.CpuTotalNsAsync($"{{service_name=\"outage\", run=\"{labels["run"]}\"}}");
        Assert.Equal(recorded, totalNs / (1_000_000_000L / ContinuousProfiler.DefaultHz));
        Assert.Equal(0, totalNs % (1_000_000_000L / ContinuousProfiler.DefaultHz));
        string log = _log.ToString();
        Assert.Contains("uploads failing", log, StringComparison.Ordinal);
        Assert.Matches(@"replayed \d+ uploads from the spool", log);
    }
}
