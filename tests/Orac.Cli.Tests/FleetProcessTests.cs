using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orac.Agent;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary>
/// Issue #5, with real processes on loopback: a real <c>orac serve</c> and three real <c>orac agent</c> processes
/// (hosts node-a, node-b, node-c; service web; racks r1–r3) driven by the real CLI verbs of the published binary.
/// A delegated profile and check return every host; an agent killed mid-task gives a PARTIAL answer naming it; a
/// settings change reaches exactly the agents it selects; another org can neither see nor task them; and a server
/// stopped for a while loses no continuous-profiling sample and counts none twice (agent counts = stored totals).
/// Needs root and perf_event (the agents sample for real); skips, saying why, without them.
/// </summary>
public sealed class FleetProcessTests : IClassFixture<FleetProcessTests.SharedFleet>
{
    private static readonly TimeSpan VerbTimeout = TimeSpan.FromSeconds(60);
    private readonly SharedFleet _shared;

    public FleetProcessTests(SharedFleet shared) => _shared = shared;

    private static void SkipUnlessSampling()
    {
        Skip.If(!SelfOverhead.IsRoot, "SKIPPED: the agents sample every CPU with perf_event, which needs root here");
        Skip.If(!AgentInfoProbe.CanSample(out string? why), "SKIPPED: perf_event sampling is not available: " + why);
    }

    [SkippableFact]
    public void FleetLs_ListsTheThreeAgentsOnline_WithLabelsAndCapabilities()
    {
        SkipUnlessSampling();
        LoopbackFleet f = _shared.Fleet;
        var ls = f.Cli(f.ReadToken, "fleet", "ls");
        Assert.True(ls.Code == 0, $"exit {ls.Code}: {ls.Out}{ls.Err}");
        Assert.StartsWith("3 agents, 3 online", ls.Out, StringComparison.Ordinal);
        for (int i = 0; i < 3; i++)
        {
            string host = LoopbackFleet.Hosts[i];
            Match row = Regex.Match(ls.Out, $@"^{host}\s+online\s.*$", RegexOptions.Multiline);
            Assert.True(row.Success, $"no online row for {host}:\n{ls.Out}");
            Assert.Contains($"rack=r{i + 1}", row.Value, StringComparison.Ordinal);
            Assert.Contains("service_name=web", row.Value, StringComparison.Ordinal);
            Assert.Contains("sample", row.Value, StringComparison.Ordinal);
            if (host != "node-a")
            {
                Assert.Matches(@"\s99 Hz\s", row.Value); // the agents' own --hz: nobody set their rate (node-a's is set below)
            }
        }

        FleetDocument doc = f.FleetJson(f.ReadToken, "{}");
        Assert.Equal(LoopbackFleet.Hosts, doc.Agents.Select(a => a.Info.Hostname).Order(StringComparer.Ordinal));
        Assert.All(doc.Agents, a =>
        {
            Assert.Equal("online", a.Status);
            Assert.Contains(AgentInfoProbe.Capabilities.Sample, a.Info.Capabilities);
            Assert.StartsWith(a.Info.Hostname + "-", a.Info.Id, StringComparison.Ordinal);
        });
    }

    [SkippableFact]
    public void ResearchProfileAndCheck_ReturnEveryHost()
    {
        SkipUnlessSampling();
        LoopbackFleet f = _shared.Fleet;
        string svg = Path.Combine(f.Dir, "web.svg");
        var profile = f.Cli(f.ReadToken, "research", "profile", "{service_name=\"web\"}", "--duration", "2s", "--hz", "99", "-o", svg);
        Assert.True(profile.Code == 0, $"exit {profile.Code}: {profile.Out}{profile.Err}");
        Assert.DoesNotContain("PARTIAL", profile.Out, StringComparison.Ordinal);
        string hostsTable = Section(profile.Out, "hosts most different from the rest");
        foreach (string host in LoopbackFleet.Hosts)
        {
            Assert.Matches(new Regex($@"^{host}\s+[\d,]+\s", RegexOptions.Multiline), hostsTable);
        }

        Assert.Contains("flame graph (merged, 3 hosts)", profile.Out, StringComparison.Ordinal);
        Assert.True(new FileInfo(svg).Length > 1000, "the merged flame graph is missing or empty");
        Assert.StartsWith("<?xml", File.ReadAllText(svg), StringComparison.Ordinal);

        var check = f.Cli(f.ReadToken, "research", "check", "web", "--duration", "2s");
        Assert.True(check.Code == 0, $"exit {check.Code}: {check.Out}{check.Err}");
        Assert.Contains("hosts with problems (USE method", check.Out, StringComparison.Ordinal);
        foreach (string host in LoopbackFleet.Hosts)
        {
            Assert.Matches(new Regex($@"^{host}\s+\d+\s", RegexOptions.Multiline), check.Out);
        }
    }

    [SkippableFact]
    public async Task AgentKilledMidTask_GivesAPartialAnswerNamingIt()
    {
        SkipUnlessSampling();
        LoopbackFleet f = _shared.Fleet;
        using HttpClient http = f.Server.Client(f.ReadToken);
        string svg = Path.Combine(f.Dir, "partial.svg");
        using OracProcess research = OracProcess.Start(
            ["research", "profile", "web", "--duration", "2s", "--deadline", "8s", "-o", svg, "--server", f.Url, "--token", f.ReadToken], f.Env);
        Assert.True(research.WaitForErr(e => TaskId().IsMatch(e), TimeSpan.FromSeconds(20)), $"research printed no task id:\n{research.Err}");
        string id = TaskId().Match(research.Err).Groups[1].Value;

        // Kill node-c once the server has handed it its part.
        var until = DateTime.UtcNow.AddSeconds(20);
        TaskPart? partC = null;
        while (DateTime.UtcNow < until)
        {
            TaskDocument task = JsonSerializer.Deserialize(await http.GetStringAsync($"/api/v1/tasks/{id}"), OracJsonContext.Default.TaskDocument)!;
            partC = task.Parts.Single(p => p.Host == "node-c");
            if (partC.State != PartStates.Queued)
            {
                break;
            }

            await Task.Delay(20);
        }

        Assert.True(partC?.State == PartStates.Running, $"node-c's part never started (state {partC?.State})");
        f.Agents["node-c"].KillHard();
        try
        {
            int code = research.WaitForExit(VerbTimeout);
            Assert.True(code == 3, $"exit {code}, expected 3 (PARTIAL):\n{research.Out}{research.Err}");
            string first = research.Out.Split('\n')[0];
            Assert.StartsWith("PARTIAL: 2/3 hosts answered", first, StringComparison.Ordinal);
            Assert.Contains("node-c", first, StringComparison.Ordinal);
            Assert.DoesNotContain("node-a", first, StringComparison.Ordinal);
            Assert.Contains("flame graph (merged, 2 hosts)", research.Out, StringComparison.Ordinal);
        }
        finally
        {
            f.RestartAgent("node-c"); // same state folder: same agent id, back online for the other tests
        }
    }

    [SkippableFact]
    public void FleetSet_ReachesOnlyTheSelectedAgent()
    {
        SkipUnlessSampling();
        LoopbackFleet f = _shared.Fleet;
        var set = f.Cli(f.AdminToken, "fleet", "set", "{rack=\"r1\"}", "--hz", "49");
        Assert.True(set.Code == 0, $"exit {set.Code}: {set.Out}{set.Err}");
        Assert.Contains("applied by 1/1 agents", set.Out, StringComparison.Ordinal);
        Assert.Contains("node-a", set.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("node-b", set.Out, StringComparison.Ordinal);

        Dictionary<string, AgentDocument> agents = f.FleetJson(f.ReadToken, "web").Agents.ToDictionary(a => a.Info.Hostname, StringComparer.Ordinal);
        Assert.Equal(49, agents["node-a"].Settings.Hz);
        Assert.True(agents["node-a"].Settings.Version > FleetAgent.InitialSettingsVersion);
        Assert.Equal(agents["node-a"].Settings.Version, agents["node-a"].AppliedVersion);
        Assert.Equal(FleetAgent.InitialSettingsVersion, agents["node-b"].Settings.Version);
        Assert.Equal(FleetAgent.InitialSettingsVersion, agents["node-c"].Settings.Version);
        Assert.Matches($"orac agent: settings version {agents["node-a"].Settings.Version}: 49 Hz", f.Agents["node-a"].Err);
        Assert.DoesNotMatch(@"orac agent: settings version \d+: ", f.Agents["node-b"].Err);
        Assert.DoesNotMatch(@"orac agent: settings version \d+: ", f.Agents["node-c"].Err);
    }

    [SkippableFact]
    public async Task AnotherOrg_CannotSeeOrTaskTheAgents()
    {
        SkipUnlessSampling();
        LoopbackFleet f = _shared.Fleet;
        var org = f.Cli(f.AdminToken, "admin", "org", "create", "orgb");
        Assert.True(org.Code == 0, org.Err);
        var created = f.Cli(f.AdminToken, "admin", "token", "create", "--org", "orgb", "--role", "read", "--name", "b-reader");
        Assert.True(created.Code == 0, created.Err);
        string tokenB = created.Out.Trim();
        int tasksBefore = await f.TaskCountAsync(f.ReadToken);
        int[] taskLinesBefore = [.. LoopbackFleet.Hosts.Select(h => TaskLines(f.Agents[h].Err))];

        var profile = f.Cli(tokenB, "research", "profile", "web", "--duration", "1s");
        Assert.True(profile.Code == 1, $"exit {profile.Code}, expected 1:\n{profile.Out}{profile.Err}");
        Assert.Contains("no online agent of org 'orgb' matches {service_name=\"web\"}", profile.Err, StringComparison.Ordinal);
        var everything = f.Cli(tokenB, "research", "check", "{}", "--duration", "1s");
        Assert.Equal(1, everything.Code);

        Assert.Empty(f.FleetJson(tokenB, "{}").Agents);
        Assert.Equal(0, await f.TaskCountAsync(tokenB));
        Assert.Equal(tasksBefore, await f.TaskCountAsync(f.ReadToken));

        // Nothing reached the agents: one more heartbeat round, and they logged no new task.
        await Task.Delay(1500);
        FleetDocument a = f.FleetJson(f.ReadToken, "web");
        Assert.All(a.Agents, d => Assert.Empty(d.RunningTasks));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(taskLinesBefore[i], TaskLines(f.Agents[LoopbackFleet.Hosts[i]].Err));
        }
    }

    [SkippableFact]
    public void ServerStoppedForAWhile_NoContinuousSampleIsLostOrCountedTwice()
    {
        SkipUnlessSampling();
        const int Hz = 100; // period exactly 10,000,000 ns: stored CPU ns / period = samples
        const long PeriodNs = 1_000_000_000L / Hz;
        using LoopbackFleet f = LoopbackFleet.Start("noloss", Hz);

        // Some uploads before the outage.
        f.WaitUntil(() => f.FleetJson(f.ReadToken, "{}").Agents.All(a => a.UploadedSamples > 0), TimeSpan.FromSeconds(30), "every agent uploaded something");
        int port = new Uri(f.Url).Port;
        int serverExit = f.Server.Terminate(TimeSpan.FromSeconds(30));
        Assert.Equal(0, serverExit);
        Thread.Sleep(TimeSpan.FromSeconds(6));
        foreach (string host in LoopbackFleet.Hosts)
        {
            Assert.True(f.Agents[host].Err.Contains("orac agent: uploads failing", StringComparison.Ordinal), $"{host} never noticed the outage:\n{f.Agents[host].Err}");
        }

        f.RestartServer(port);
        foreach (string host in LoopbackFleet.Hosts)
        {
            Assert.True(f.Agents[host].WaitForErr(e => e.Contains("orac agent: uploads flowing again", StringComparison.Ordinal), TimeSpan.FromSeconds(60)),
                $"{host} did not get its spool through after the server came back:\n{f.Agents[host].Err}");
        }

        foreach (string host in LoopbackFleet.Hosts)
        {
            OracProcess agent = f.Agents[host];
            Assert.Equal(0, agent.Terminate(TimeSpan.FromSeconds(30)));
            Match replayed = Regex.Match(agent.Err, @"replayed (\d+) uploads from the spool");
            Assert.True(replayed.Success && int.Parse(replayed.Groups[1].Value, CultureInfo.InvariantCulture) > 0, $"{host} replayed nothing:\n{agent.Err}");
            Match last = Regex.Match(agent.Err,
                @"orac agent: stopped; samples: (\d+) recorded, (\d+) uploaded and acknowledged \((\d+) of them already on the server\), (\d+) dropped \(spool full\), (\d+) refused by the server, (\d+) still spooled \((\d+) uploads\)");
            Assert.True(last.Success, $"{host} printed no final counts:\n{agent.Err}");
            long[] n = [.. Enumerable.Range(1, 7).Select(g => long.Parse(last.Groups[g].Value, CultureInfo.InvariantCulture))];
            (long recorded, long uploaded, long duplicates, long dropped, long refused, long spooled) = (n[0], n[1], n[2], n[3], n[4], n[5]);
            Assert.True(recorded > 0, $"{host} recorded nothing");
            // Every spool file was acknowledged exactly once: as new, or (a replay of one whose answer was lost) as a
            // duplicate the server already held. So the server must hold exactly what was recorded.
            Assert.True(dropped == 0 && refused == 0 && spooled == 0 && uploaded == recorded, $"{host}: {last.Value}");

            var q = f.Cli(f.ReadToken, "query", $"{{host=\"{host}\"}}", "--json", "--from", "now-30m");
            Assert.True(q.Code == 0, $"exit {q.Code}: {q.Err}");
            long stored = JsonDocument.Parse(q.Out).RootElement.GetProperty("total").GetInt64();
            Assert.True(stored % PeriodNs == 0, $"{host}: stored {stored} ns is not a whole number of {PeriodNs} ns samples");
            Assert.True(stored / PeriodNs == recorded,
                $"{host}: the agent recorded {recorded} samples and the server acknowledged {uploaded} ({duplicates} as replays it already had), but {stored / PeriodNs} are stored ({(stored / PeriodNs) - recorded:+#;-#;0})");
        }
    }

    /// <summary>Lines the agent logs for tasks it was given (<c>orac agent: task ID: …</c>).</summary>
    private static int TaskLines(string log) => Regex.Count(log, "^orac agent: task ", RegexOptions.Multiline);

    private static string Section(string text, string heading)
    {
        int at = text.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no '{heading}' in:\n{text}");
        int end = text.IndexOf("\n\n", at, StringComparison.Ordinal);
        return end < 0 ? text[at..] : text[at..end];
    }

    private static Regex TaskId() => new(@"research: task ([0-9a-f]+):", RegexOptions.None, TimeSpan.FromSeconds(1));

    /// <summary>One loopback fleet for the tests that leave it as they found it (or restore it).</summary>
    public sealed class SharedFleet : IDisposable
    {
        private readonly Lazy<LoopbackFleet> _fleet = new(() => LoopbackFleet.Start("shared", 99), LazyThreadSafetyMode.ExecutionAndPublication);

        internal LoopbackFleet Fleet => _fleet.Value;

        public void Dispose()
        {
            if (_fleet.IsValueCreated)
            {
                _fleet.Value.Dispose();
            }
        }
    }
}

/// <summary>A real server and three real agents (node-a/b/c, service web, rack r1/r2/r3) on 127.0.0.1.</summary>
internal sealed class LoopbackFleet : IDisposable
{
    /// <summary>The agents' host names.</summary>
    public static readonly string[] Hosts = ["node-a", "node-b", "node-c"];

    private readonly int _hz;
    private readonly string _data;

    private LoopbackFleet(string name, int hz)
    {
        _hz = hz;
        Dir = Directory.CreateTempSubdirectory($"orac-fleet-{name}-").FullName;
        _data = Path.Combine(Dir, "data");
        Env = new Dictionary<string, string>
        {
            ["HOME"] = Dir,
            ["XDG_CONFIG_HOME"] = Path.Combine(Dir, "config"),
            ["XDG_STATE_HOME"] = Path.Combine(Dir, "state"),
            ["ORAC_SERVER"] = "",
            ["ORAC_TOKEN"] = "",
        };
    }

    public string Dir { get; }

    internal Dictionary<string, string> Env { get; }

    internal ServerProcess Server { get; private set; } = null!;

    public string Url => Server.Url.ToString().TrimEnd('/');

    public string AdminToken { get; private set; } = "";

    public string ReadToken { get; private set; } = "";

    public string IngestToken { get; private set; } = "";

    internal Dictionary<string, OracProcess> Agents { get; } = new(StringComparer.Ordinal);

    /// <summary>Starts the server, makes an ingest and a read token of org <c>local</c>, starts the agents and waits until all registered.</summary>
    public static LoopbackFleet Start(string name, int hz)
    {
        var f = new LoopbackFleet(name, hz);
        try
        {
            f.Server = ServerProcess.Start(["serve", "--listen", "127.0.0.1:0", "--data", f._data], expectToken: true, f.Env);
            f.AdminToken = f.Server.Token!;
            f.IngestToken = f.NewToken("ingest");
            f.ReadToken = f.NewToken("read");
            foreach (string host in Hosts)
            {
                f.Agents[host] = f.StartAgent(host);
            }

            foreach (string host in Hosts)
            {
                f.WaitRegistered(host);
            }

            return f;
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    private string NewToken(string role)
    {
        var t = Cli(AdminToken, "admin", "token", "create", "--org", "local", "--role", role, "--name", role + "-e2e");
        Assert.True(t.Code == 0, $"token create: {t.Err}");
        return t.Out.Trim();
    }

    private OracProcess StartAgent(string host)
    {
        int rack = Array.IndexOf(Hosts, host) + 1;
        return OracProcess.Start(
            ["agent", "--server", Url, "--token", IngestToken, "--hostname", host, "--label", "service_name=web", "--label", $"rack=r{rack}",
             "--state", Path.Combine(Dir, "agent-" + host), "--upload-interval", "1s", "--hz", _hz.ToString(CultureInfo.InvariantCulture)], Env);
    }

    private void WaitRegistered(string host)
    {
        OracProcess a = Agents[host];
        if (!a.WaitForErr(e => e.Contains($"orac agent: registered host {host} ", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"agent {host} did not register within 30 s:\n{a.Err}\nserver:\n{Server.Output}");
        }
    }

    /// <summary>Starts the agent of <paramref name="host"/> again (same state folder) after a kill.</summary>
    public void RestartAgent(string host)
    {
        Agents[host].Dispose();
        Agents[host] = StartAgent(host);
        WaitRegistered(host);
    }

    /// <summary><c>orac serve</c> again on the same port and data folder (after <see cref="ServerProcess.Terminate"/>).</summary>
    public void RestartServer(int port)
    {
        Server.Dispose();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                Server = ServerProcess.Start(["serve", "--listen", $"127.0.0.1:{port}", "--data", _data], expectToken: false, Env);
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(250); // the port may still be held for a moment
            }
        }
    }

    /// <summary>Runs a CLI verb of the published binary against this server with <paramref name="token"/>.</summary>
    public (int Code, string Out, string Err) Cli(string token, params string[] args) =>
        OracProcess.Run(Env, TimeSpan.FromSeconds(90), [.. args, "--server", Url, "--token", token]);

    /// <summary><c>orac fleet ls SELECTOR --json</c>.</summary>
    public FleetDocument FleetJson(string token, string selector)
    {
        var ls = Cli(token, "fleet", "ls", selector, "--json");
        Assert.True(ls.Code == 0, $"fleet ls: exit {ls.Code}: {ls.Err}");
        return JsonSerializer.Deserialize(ls.Out, OracJsonContext.Default.FleetDocument)!;
    }

    /// <summary>Tasks the token's org has (GET /api/v1/tasks).</summary>
    public async Task<int> TaskCountAsync(string token)
    {
        using HttpClient http = Server.Client(token);
        return JsonSerializer.Deserialize(await http.GetStringAsync("/api/v1/tasks?limit=200"), OracJsonContext.Default.TaskListDocument)!.Tasks.Count;
    }

    public void WaitUntil(Func<bool> done, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!done())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what}\nserver:\n{Server.Output}");
            }

            Thread.Sleep(250);
        }
    }

    public void Dispose()
    {
        foreach (OracProcess a in Agents.Values)
        {
            a.Dispose();
        }

        Server?.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
