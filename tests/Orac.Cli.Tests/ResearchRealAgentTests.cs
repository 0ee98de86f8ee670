using System.Text.Json;
using Orac.Agent;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary>
/// The whole path with the real agent (Orac.Agent's FleetAgent, in process, continuous profiling off): a check task
/// runs the real USE check on this host and comes back through the server to <c>orac research check</c>, and
/// <c>orac fleet set</c> waits until the agent really applied the new rate.
/// </summary>
public sealed class ResearchRealAgentTests
{
    [Fact(Timeout = 90_000)]
    public async Task RealAgent_ResearchCheckAndFleetSet_EndToEnd()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await using FleetAgent agent = FleetAgent.Create(new AgentOptions
        {
            Server = env.Base,
            Token = env.IngestToken,
            StateDirectory = Path.Combine(env.Dir, "agent"),
            Labels = new Dictionary<string, string> { ["service_name"] = "real" },
            Profile = false,
            MaxBackoff = TimeSpan.FromSeconds(1),
        });
        agent.Start();
        await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        string host = agent.Info.Hostname;

        // Online and with its measured overhead reported, as fleet ls shows it.
        AgentDocument? doc = null;
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            var ls = env.Run(env.ReadToken, "fleet", "ls", "real", "--json");
            Assert.True(ls.Code == 0, ls.Err);
            doc = JsonSerializer.Deserialize(ls.Out, OracJsonContext.Default.FleetDocument)!.Agents.SingleOrDefault();
            if (doc is { Status: "online", Overhead.RssBytes: > 0 })
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(doc is { Status: "online", Overhead.RssBytes: > 0 }, "the real agent never showed online with its RSS");

        var check = env.Run(env.ReadToken, "research", "check", "real", "-d", "1s", "--deadline", "30s");
        Assert.True(check.Code == 0, $"exit {check.Code}: {check.Out}{check.Err}");
        Assert.Contains("hosts with problems (USE method; figures measured by each agent over its window)", check.Out, StringComparison.Ordinal);
        Assert.Matches($@"\n{System.Text.RegularExpressions.Regex.Escape(host)}\s+\d+\s", check.Out);
        Assert.DoesNotContain("unreadable", check.Out, StringComparison.Ordinal);

        var set = env.Run(env.AdminToken, "fleet", "set", "real", "--hz", "29");
        Assert.True(set.Code == 0, $"exit {set.Code}: {set.Out}{set.Err}");
        Assert.Contains("applied by 1/1 agents", set.Out, StringComparison.Ordinal);
        Assert.Equal(29, agent.Settings.Hz);
        Assert.Matches(@"\s29 Hz\s", env.Run(env.ReadToken, "fleet", "ls").Out);
    }
}
