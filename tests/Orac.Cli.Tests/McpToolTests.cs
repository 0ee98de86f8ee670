using System.Text.Json;
using Orac.Client;
using Orac.Mcp;

namespace Orac.Cli.Tests;

/// <summary>
/// The fleet-changing tools (start_research, research_result, health_check) through <see cref="OracTools"/> against a
/// real in-process server and fake agents speaking the real protocol; plus the table's own invariants.
/// </summary>
public sealed class McpToolTests
{
    private static async Task<ToolOutcome> Call(OracApi api, string tool, string args)
    {
        using JsonDocument doc = JsonDocument.Parse(args);
        return await OracTools.Find(tool)!.Invoke(api, doc.RootElement.Clone(), CancellationToken.None);
    }

    [Fact]
    public void Table_FleetChangingToolsAreMarked_SchemasAreObjects()
    {
        Assert.Equal(["health_check", "start_research"], OracTools.All.Where(t => t.FleetChanging).Select(t => t.Name).Order());
        foreach (OracTool t in OracTools.All)
        {
            Assert.Equal("object", t.InputSchema.GetProperty("type").GetString());
            Assert.Equal("object", t.OutputSchema!.Value.GetProperty("type").GetString());
            var tool = OracMcpServer.ToProtocol(t);
            Assert.Equal(!t.FleetChanging, tool.Annotations!.ReadOnlyHint);
        }

        Assert.Equal(OracTools.All.Count, OracTools.All.Select(t => t.Name).Distinct().Count());
    }

    [Fact(Timeout = 60_000)]
    public async Task StartResearchThenResult_Profile_MergedTopAndTaskLink()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", _ => FleetTestEnv.Profile(("main;work", 600_000_000), ("main;idle", 300_000_000)));
        await env.AgentAsync("web-2", _ => FleetTestEnv.Profile(("main;spin_lock", 800_000_000)));
        using var api = new OracApi(env.Base, env.ReadToken);

        ToolOutcome started = await Call(api, "start_research", """{"kind": "profile", "seconds": 1}""");
        Assert.False(started.IsError, started.Text);
        string id = started.Structured!.Value.GetProperty("taskId").GetString()!;
        Assert.Equal(["web-1", "web-2"], started.Structured.Value.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!).Order());
        Assert.Contains($"research_result task_id={id}", started.Text, StringComparison.Ordinal);

        ToolOutcome result = await Call(api, "research_result", $$"""{"task_id": "{{id}}", "wait_seconds": 30}""");
        Assert.False(result.IsError, result.Text);
        JsonElement s = result.Structured!.Value;
        Assert.Equal("done", s.GetProperty("state").GetString());
        Assert.Equal(1_700_000_000, s.GetProperty("profileTotal").GetInt64());
        Assert.Equal("spin_lock", s.GetProperty("functions")[0].GetProperty("name").GetString());
        Assert.Equal(800_000_000, s.GetProperty("functions")[0].GetProperty("self").GetInt64());
        Assert.Equal(api.TaskLink(id), s.GetProperty("link").GetString());
    }

    [Fact(Timeout = 90_000)]
    public async Task HealthCheck_OneHost_WaitsAndReturnsProblems()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("db-1", _ => FleetTestEnv.JsonResult(ResearchCommandTests.CheckTwoProblems));
        await env.AgentAsync("web-1", _ => FleetTestEnv.JsonResult(ResearchCommandTests.CheckClean));
        using var api = new OracApi(env.Base, env.ReadToken);

        ToolOutcome o = await Call(api, "health_check", """{"host": "db-1", "seconds": 1}""");

        Assert.False(o.IsError, o.Text);
        JsonElement s = o.Structured!.Value;
        Assert.Equal("check", s.GetProperty("kind").GetString());
        Assert.Equal(["db-1"], s.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!));
        JsonElement f = s.GetProperty("findings")[0];
        Assert.Equal("db-1", f.GetProperty("host").GetString());
        Assert.Equal(["cpu-util", "disk-util"], f.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("rule").GetString()!));
        Assert.Contains("db-1: 2 problems: CPU utilization 97.0% > 90%", o.Text, StringComparison.Ordinal);

        // A host that is neither stored nor in the fleet: a tool error with the near names, and nothing started.
        ToolOutcome bad = await Call(api, "health_check", """{"host": "db-2"}""");
        Assert.True(bad.IsError);
        Assert.Equal("unknown host 'db-2'; did you mean 'db-1'?", bad.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task BadArguments_AreToolErrorsNamingTheArgument()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        using var api = new OracApi(env.Base, env.ReadToken);

        Assert.Equal("argument 'kind': expected one of profile, check, got 'trace'", (await Call(api, "start_research", """{"kind": "trace"}""")).Text);
        Assert.Equal("argument 'wait_seconds': expected an integer from 0 to 120, got 121", (await Call(api, "research_result", """{"task_id": "x", "wait_seconds": 121}""")).Text);
        Assert.StartsWith("argument 'from': bad time 'yesterdayish'", (await Call(api, "top_functions", """{"from": "yesterdayish"}""")).Text, StringComparison.Ordinal);
        Assert.StartsWith("argument 'query': bad selector", (await Call(api, "top_functions", """{"query": "{service_name=}"}""")).Text, StringComparison.Ordinal);

        // The server's own refusal keeps its message.
        ToolOutcome missing = await Call(api, "research_result", """{"task_id": "no-such-task"}""");
        Assert.True(missing.IsError);
        Assert.Contains("404", missing.Text, StringComparison.Ordinal);
    }
}
