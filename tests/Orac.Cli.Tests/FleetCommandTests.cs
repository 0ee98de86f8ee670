using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary><c>orac fleet</c> against a real in-process server and fake agents speaking the real protocol.</summary>
public sealed class FleetCommandTests
{
    private static AgentAnswer? Never(AgentTask _) => null;

    [Fact(Timeout = 60_000)]
    public async Task Ls_SortedByHost_WithMeasuredOverheadSpoolAndLabels()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-2", Never, new() { ["service_name"] = "api" },
            beat: new AgentHeartbeat { Overhead = new AgentOverhead { CpuPercent = 1.25, RssBytes = 31_400_000 }, Spool = new SpoolStats { Files = 3, Bytes = 1_500_000, DroppedUploads = 2 } });
        await env.AgentAsync("db-1", Never, new() { ["service_name"] = "db" }, capabilities: ["sample", "bpftrace"]);

        var (code, output, err) = env.Run(env.ReadToken, "fleet", "ls");

        Assert.True(code == 0, err);
        string[] lines = output.Split('\n');
        Assert.Equal("2 agents, 2 online; agent CPU and RSS are measured by each agent (/proc/self) and reported in its last heartbeat", lines[0]);
        Assert.Matches(@"^HOST\s+STATUS\s+LAST SEEN\s+LABELS\s+CAPABILITIES\s+HZ\s+AGENT CPU \(% of 1 core\)\s+AGENT RSS \(MB\)\s+SPOOL \(files, bytes, dropped uploads\)$", lines[1]);
        Assert.Matches(@"^db-1\s+online\s+(just now|\d s ago)\s+service_name=db\s+sample,bpftrace\s+19 Hz\s+0\.4\s+25\.0\s+0, 0 B, 0$", lines[2]);
        Assert.Matches(@"^web-2\s+online\s+(just now|\d s ago)\s+service_name=api\s+sample,check,pmc\s+19 Hz\s+1\.3\s+31\.4\s+3, 1\.5 MB, 2$", lines[3]);

        // A selector over agent labels; --json is the server's document.
        var (c2, json, _) = env.Run(env.ReadToken, "fleet", "ls", "api", "--json");
        Assert.Equal(0, c2);
        FleetDocument doc = JsonSerializer.Deserialize(json, OracJsonContext.Default.FleetDocument)!;
        Assert.Equal(["web-2"], doc.Agents.Select(a => a.Info.Hostname));
        Assert.Equal(31_400_000, doc.Agents[0].Overhead.RssBytes);
    }

    [Fact(Timeout = 60_000)]
    public async Task Set_ChangesMatchingAgents_WaitsUntilApplied_AndLsAndAuditShowIt()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        FakeAgent a = await env.AgentAsync("web-1", Never, new() { ["service_name"] = "api" });
        FakeAgent b = await env.AgentAsync("web-2", Never, new() { ["service_name"] = "api" });
        await env.AgentAsync("db-1", Never, new() { ["service_name"] = "db" });

        var (code, output, err) = env.Run(env.AdminToken, "fleet", "set", "api", "--hz", "49", "--label", "team=search");

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.Equal("changed 2 agents:", lines[0]);
        Assert.Matches(@"^HOST\s+HZ\s+PAUSED\s+SET LABELS\s+VERSION$", lines[1]);
        Assert.Matches(@"^web-1\s+49 Hz\s+no\s+team=search\s+\d+$", lines[2]);
        Assert.Matches(@"^web-2\s+49 Hz\s+no\s+team=search\s+\d+$", lines[3]);
        Assert.Matches(@"^applied by 2/2 agents \(\d+\.\d s\)$", lines[4]);
        Assert.Equal(49, a.Settings!.Hz);
        Assert.Equal(49, b.Settings!.Hz);

        // Pause one; ls shows it, and db-1 kept its rate.
        Assert.Equal(0, env.Run(env.AdminToken, "fleet", "set", "{host=\"web-2\"}", "--pause").Code);
        string ls = env.Run(env.ReadToken, "fleet", "ls").Out;
        Assert.Matches(@"\ndb-1\s+online\s+.*\s19 Hz\s", ls);
        Assert.Matches(@"\nweb-1\s+online\s+.*service_name=api,team=search\s+.*\s49 Hz\s", ls);
        Assert.Matches(@"\nweb-2\s+online\s+.*\spaused \(49 Hz\)\s", ls);

        var (ac, audit, aerr) = env.Run(env.AdminToken, "fleet", "audit");
        Assert.True(ac == 0, aerr);
        string[] rows = audit.Split('\n');
        Assert.Matches(@"^TIME \(UTC\)\s+WHO\s+ACTION\s+DETAIL\s+HOSTS$", rows[0]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+ops.*\s+fleet\.set\s+paused .*\s+web-2$", rows[1]);
        Assert.Matches(@"^\d{4}-.*\s+fleet\.set\s+hz=49, label team=search .*\s+web-1,web-2$", rows[2]);
        Assert.Contains("agent.register", audit, StringComparison.Ordinal);

        // Audit and set are for admins: a read token is refused by the server, one line.
        var refused = env.Run(env.ReadToken, "fleet", "set", "api", "--resume");
        Assert.Equal(1, refused.Code);
        Assert.Single(refused.Err.TrimEnd('\n').Split('\n'));
        Assert.Contains("403", refused.Err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Set_AgentThatDoesNotApply_IsPartial_Exit3()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("good", Never);
        await env.AgentAsync("stuck", Never, appliesSettings: false);

        var (code, output, err) = env.Run(env.AdminToken, "fleet", "set", "{}", "--hz", "7", "--wait-seconds", "1");

        Assert.True(code == 3, $"exit {code}: {err}");
        Assert.Matches(@"\nPARTIAL: applied by 1/2 agents after 1 s; not yet: stuck \(online, not at version \d+\)\n", output);
        string ls = env.Run(env.ReadToken, "fleet", "ls").Out;
        Assert.Matches(@"\nstuck\s+.*\s7 Hz, applying v\d+\s", ls);
        Assert.Contains("1 still applying new settings", ls, StringComparison.Ordinal);

        // With --json stdout is the server's document alone; the wait's outcome goes to stderr.
        var json = env.Run(env.AdminToken, "fleet", "set", "{}", "--hz", "9", "--wait-seconds", "0.5", "--json");
        Assert.Equal(3, json.Code);
        Assert.Equal(2, JsonSerializer.Deserialize(json.Out, OracJsonContext.Default.FleetSetResult)!.Agents.Count);
        Assert.Contains("PARTIAL: applied by 1/2 agents", json.Err, StringComparison.Ordinal);

        // --no-wait returns as soon as the server took the change.
        var quick = env.Run(env.AdminToken, "fleet", "set", "{}", "--hz", "8", "--no-wait");
        Assert.Equal(0, quick.Code);
        Assert.DoesNotContain("applied by", quick.Out, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Set_NothingMatches_IsServersOneLine_Exit1()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", Never);
        var (code, output, err) = env.Run(env.AdminToken, "fleet", "set", "nosuchservice", "--pause");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("no agent of org 'a' matches", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fleet")]
    [InlineData("fleet frob")]
    [InlineData("fleet ls a b")]
    [InlineData("fleet ls --hz 5")]
    [InlineData("fleet set")]
    [InlineData("fleet set {}")]
    [InlineData("fleet set {} --pause --resume")]
    [InlineData("fleet set {} --hz 0")]
    [InlineData("fleet set {} --hz 1001")]
    [InlineData("fleet set {} --label noequals")]
    [InlineData("fleet set {} --label 1x=y")]
    [InlineData("fleet set {} --label host=x")]
    [InlineData("fleet set {x=~\"(\"} --pause")]
    [InlineData("fleet audit extra")]
    [InlineData("fleet audit --limit 0")]
    public void UsageErrors_Exit2_WithOneLine(string line)
    {
        var (code, output, err) = FleetTestEnv.RunLocal([.. line.Split(' '), "--server", "http://127.0.0.1:9"]);
        Assert.Equal(OracException.Usage, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("orac: fleet: ", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "just now")]
    [InlineData(3_400, "3 s ago")]
    [InlineData(119_000, "119 s ago")]
    [InlineData(300_000, "5 min ago")]
    [InlineData(7_200_000, "2 h ago")]
    [InlineData(3 * 86_400_000L, "3 d ago")]
    [InlineData(-5_000, "just now")]
    public void Age_IsReadableWithUnit(long ms, string expected) => Assert.Equal(expected, FleetCommand.Age(ms));

    [Theory]
    [InlineData("{\"agents\":null}", "has no 'agents' list")]
    [InlineData("{\"agents\":[{\"info\":{\"id\":\"x\",\"hostname\":\"h\"},\"labels\":{},\"status\":\"online\",\"lastSeenMs\":1,\"registeredMs\":1,\"settings\":null}]}", "without info, labels, status, settings")]
    [InlineData("{\"agents\":[{\"info\":{\"id\":\"x\",\"hostname\":\"h\",\"labels\":{},\"gpus\":[],\"kernel\":\"\",\"cpuModel\":\"\",\"version\":\"\",\"capabilities\":[null]},\"labels\":{},\"status\":\"online\",\"lastSeenMs\":1,\"registeredMs\":1,\"settings\":{\"labels\":{}},\"overhead\":{},\"spool\":{},\"runningTasks\":[]}]}", "lacks id, hostname, labels or capabilities")]
    [InlineData("{\"agents\":[{\"info\":{}}]}", "is not the expected document")]
    [InlineData("\"agents\"", "is not the expected document")]
    public void BadAgentList_IsOneOracException(string json, string expected)
    {
        var e = Assert.Throws<OracException>(() => FleetAnswers.Fleet(Encoding.UTF8.GetBytes(json), new Uri("http://s:1")));
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), e.Message);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }
}
