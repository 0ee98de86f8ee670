using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Orac.Collect.PerfEvents;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli.Tests;

/// <summary><c>orac research</c> against a real in-process server and fake agents speaking the real protocol.</summary>
public sealed partial class ResearchCommandTests
{
    private static AgentAnswer Common(AgentTask _) => FleetTestEnv.Profile(("main;work", 600_000_000), ("main;idle", 300_000_000));

    private static AgentAnswer Odd(AgentTask _) => FleetTestEnv.Profile(("main;spin_lock", 800_000_000), ("main;work", 100_000_000));

    [Fact(Timeout = 60_000)]
    public async Task Profile_ThreeHosts_MergedTopHostsOddFirstAndSvgWritten()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", Common);
        await env.AgentAsync("web-2", Common);
        await env.AgentAsync("web-3", Odd);
        string svg = Path.Combine(env.Dir, "flame.svg");

        var (code, output, err) = env.Run(env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "20s", "-o", svg);

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.StartsWith("task ", lines[0], StringComparison.Ordinal);
        Assert.Contains("profile of {} (every agent) for 1 s at 99 Hz; 3/3 hosts done", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("PARTIAL", output, StringComparison.Ordinal);

        // The merged top table (orac top's rendering): every host's functions, in nanoseconds, measured.
        Assert.Contains("values are measured", output, StringComparison.Ordinal);
        Assert.Contains("self (nanoseconds)", output, StringComparison.Ordinal);
        Assert.Matches(@"\nwork\s+1,300,000,000\s", output);
        Assert.Matches(@"\nspin_lock\s+800,000,000\s", output);
        Assert.Matches(@"\nidle\s+600,000,000\s", output);

        // The hosts table names the odd host first.
        int hostsAt = output.IndexOf("hosts most different from the rest", StringComparison.Ordinal);
        Assert.True(hostsAt > 0, output);
        string[] hostRows = output[hostsAt..].Split('\n');
        Assert.StartsWith("HOST", hostRows[1], StringComparison.Ordinal);
        Assert.Contains("TOTAL (nanoseconds)", hostRows[1], StringComparison.Ordinal);
        Assert.StartsWith("web-3 ", hostRows[2], StringComparison.Ordinal);
        Assert.Contains("900,000,000", hostRows[2], StringComparison.Ordinal);
        Assert.Contains("spin_lock 88.9% vs 0.0%", hostRows[2], StringComparison.Ordinal);

        // The merged flame graph, valid XML, path printed.
        Assert.Contains($"flame graph (merged, 3 hosts): {svg}", output, StringComparison.Ordinal);
        XDocument doc = XDocument.Load(svg);
        Assert.Equal("svg", doc.Root!.Name.LocalName);
        Assert.Contains("spin_lock", File.ReadAllText(svg), StringComparison.Ordinal);

        // Progress went to stderr: the task id and the hosts done.
        string id = TaskId(err);
        Assert.Contains($"task {id}:", output, StringComparison.Ordinal);
        Assert.Contains("3/3 hosts done", err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Profile_OneHostNeverAnswers_PartialFirstLineNamesIt_Exit3()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", Common);
        await env.AgentAsync("web-2", Odd);
        await env.AgentAsync("web-3", _ => null);
        string svg = Path.Combine(env.Dir, "partial.svg");

        var (code, output, err) = env.Run(env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "2s", "-o", svg);

        Assert.True(code == ResearchCommand.PartialExit, $"exit {code}: {err}");
        Assert.Equal(3, ResearchCommand.PartialExit);
        string first = output.Split('\n')[0];
        Assert.StartsWith("PARTIAL: 2/3 hosts answered by the deadline; missing: web-3 (", first, StringComparison.Ordinal);
        Assert.Contains("2/3 hosts done", output, StringComparison.Ordinal);

        // The answer still holds what the two hosts sent.
        Assert.Matches(@"\nspin_lock\s+800,000,000\s", output);
        Assert.Contains("PARTIAL: compared without web-3", output, StringComparison.Ordinal);
        Assert.True(File.Exists(svg));
        Assert.Contains("waiting for web-3", err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Profile_FailedHost_IsPartialWithTheAgentsReason()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("gpu-1", Common);
        await env.AgentAsync("gpu-2", _ => FleetTestEnv.Failed("perf_event_open: permission denied"));

        var (code, output, _) = env.Run(env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "20s", "-o", Path.Combine(env.Dir, "f.svg"));

        Assert.Equal(3, code);
        Assert.StartsWith("PARTIAL: 1/2 hosts answered by the deadline; missing: gpu-2 (failed: perf_event_open: permission denied)", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task LsAndShow_FinishedProfileTask_ShowsPartsAndTheSameAnswer()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", Common);
        await env.AgentAsync("web-3", Odd);
        var run = env.Run(env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "20s", "-o", Path.Combine(env.Dir, "a.svg"));
        Assert.Equal(0, run.Code);
        string id = TaskId(run.Err);

        var ls = env.Run(env.ReadToken, "research", "ls");
        Assert.Equal(0, ls.Code);
        string[] rows = ls.Out.Split('\n');
        Assert.Matches(@"^ID\s+KIND\s+CREATED \(UTC\)\s+STATE\s+HOSTS \(done/total\)\s+CREATED BY$", rows[0]);
        Assert.Matches($@"^{Regex.Escape(id)}\s+profile\s+\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+done\s+2/2\s+alice$", rows[1]);

        string svg = Path.Combine(env.Dir, "again.svg");
        var show = env.Run(env.ReadToken, "research", "show", id, "-o", svg);
        Assert.Equal(0, show.Code);
        Assert.StartsWith($"task {id}: profile of {{}} (every agent) for 1 s at 99 Hz; 2/2 hosts done", show.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nweb-1\s+done\s+-\s+\d{4}-", show.Out);
        Assert.Matches(@"\nspin_lock\s+800,000,000\s", show.Out);
        Assert.Contains("hosts most different from the rest", show.Out, StringComparison.Ordinal);
        Assert.Equal("svg", XDocument.Load(svg).Root!.Name.LocalName);

        var json = env.Run(env.ReadToken, "research", "show", id, "--json");
        Assert.Equal(0, json.Code);
        using var parsed = System.Text.Json.JsonDocument.Parse(json.Out);
        Assert.Equal(id, parsed.RootElement.GetProperty("task").GetProperty("id").GetString());
        Assert.Equal("spin_lock", parsed.RootElement.GetProperty("top").GetProperty("functions")[0].GetProperty("name").GetString());
        Assert.Equal(2, parsed.RootElement.GetProperty("hosts").GetProperty("hosts").GetArrayLength());

        Assert.Equal(1, env.Run(env.ReadToken, "research", "show", "no-such-task").Code);
    }

    internal const string CheckTwoProblems = """
        {"mode":"window","windowSeconds":1,"cpus":4,"partial":false,"partialReasons":[],"notes":[],
         "use":[{"resource":"CPU","utilization":"97.0%","saturation":"3.10 runnable/CPU","errors":"-","flag":"PROBLEM"},
                {"resource":"memory","utilization":"40%","saturation":"0 pages/s","errors":"0 OOM kills","flag":"ok"},
                {"resource":"disk sda","utilization":"99.0%","saturation":"queue 12.0","errors":"-","flag":"PROBLEM"}],
         "problems":[{"resource":"CPU","kind":"utilization","rule":"cpu-util","message":"CPU utilization 97.0% > 90%"},
                     {"resource":"disk sda","kind":"utilization","rule":"disk-util","message":"disk sda busy 99.0% > 90%"}]}
        """;

    internal const string CheckOneProblem = """
        {"mode":"window","windowSeconds":1,"cpus":4,"partial":false,
         "use":[{"resource":"CPU","utilization":"95.0%","saturation":"-","errors":"-","flag":"PROBLEM"}],
         "problems":[{"resource":"CPU","kind":"utilization","rule":"cpu-util","message":"CPU utilization 95.0% > 90%"}]}
        """;

    internal const string CheckClean = """
        {"mode":"window","windowSeconds":1,"cpus":4,"partial":false,
         "use":[{"resource":"CPU","utilization":"5.0%","saturation":"-","errors":"-","flag":"ok"}],"problems":[]}
        """;

    [Fact(Timeout = 60_000)]
    public async Task Check_HostsWithProblemsFirst_ThenProblemsWithHostCounts()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("a-clean", _ => FleetTestEnv.JsonResult(CheckClean));
        await env.AgentAsync("b-one", _ => FleetTestEnv.JsonResult(CheckOneProblem));
        await env.AgentAsync("c-two", _ => FleetTestEnv.JsonResult(CheckTwoProblems));
        await env.AgentAsync("d-broken", _ => FleetTestEnv.JsonResult("""{"something":"else"}"""));

        var (code, output, err) = env.Run(env.ReadToken, "research", "check", "{}", "-d", "1s", "--deadline", "20s");

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.StartsWith("task ", lines[0], StringComparison.Ordinal);
        Assert.Contains("check of {} (every agent) over 1 s; 4/4 hosts done", lines[0], StringComparison.Ordinal);
        Assert.Equal("2/3 hosts with problems (USE method; figures measured by each agent over its window)", lines[2]);
        Assert.Matches(@"^HOST\s+PROBLEMS\s+WORST USE FLAGS$", lines[3]);
        Assert.Matches(@"^c-two\s+2\s+CPU utilization 97\.0%; disk sda utilization 99\.0%$", lines[4]);
        Assert.Matches(@"^b-one\s+1\s+CPU utilization 95\.0%$", lines[5]);
        Assert.Matches(@"^a-clean\s+0\s+-$", lines[6]);
        Assert.Matches(@"^d-broken\s+-\s+unreadable result", lines[7]);
        Assert.Contains("problems across the fleet", output, StringComparison.Ordinal);
        Assert.Matches(@"\ncpu-util\s+CPU utilization\s+2/3 \(b-one,c-two\)\s+CPU utilization 95\.0% > 90%\n", output);
        Assert.Matches(@"\ndisk-util\s+disk sda utilization\s+1/3 \(c-two\)", output);
        int cpu = output.IndexOf("\ncpu-util", StringComparison.Ordinal);
        int disk = output.IndexOf("\ndisk-util", StringComparison.Ordinal);
        Assert.True(cpu < disk, "the problem on more hosts comes first");

        // show gives the same summary for the finished task, after its parts.
        var show = env.Run(env.ReadToken, "research", "show", TaskId(err));
        Assert.Equal(0, show.Code);
        Assert.Matches(@"\nd-broken\s+done\s+-\s+\d{4}-", show.Out);
        Assert.Matches(@"\nc-two\s+2\s+CPU utilization 97\.0%; disk sda utilization 99\.0%\n", show.Out);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_TwoProblemsOfOneResourceAndKind_ShowTheirFigureOnce()
    {
        // As the real check reports a busy guest: run queue and steal are both CPU saturation (one USE figure).
        const string twoSaturation = """
            {"mode":"window","windowSeconds":1,"cpus":2,"partial":false,
             "use":[{"resource":"CPU","utilization":"60%","saturation":"run queue 7.0 tasks on 2 CPUs","errors":"-","flag":"PROBLEM"}],
             "problems":[{"resource":"CPU","kind":"saturation","rule":"cpu-runqueue","message":"run queue 7.0 tasks > 2 x 2 CPUs"},
                         {"resource":"CPU","kind":"saturation","rule":"cpu-steal","message":"steal 38.7% (> 10%)"}]}
            """;
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("guest", _ => FleetTestEnv.JsonResult(twoSaturation));

        var (code, output, err) = env.Run(env.ReadToken, "research", "check", "{}", "-d", "1s", "--deadline", "20s");

        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.Matches(@"\nguest\s+2\s+CPU saturation run queue 7\.0 tasks on 2 CPUs\n", output);
        Assert.Matches(@"\ncpu-runqueue\s+CPU saturation\s+1/1 \(guest\)", output);
        Assert.Matches(@"\ncpu-steal\s+CPU saturation\s+1/1 \(guest\)", output);
    }

    private static AgentAnswer Pmc(double taskClockMs, double switches, bool scaled = false)
    {
        var report = new PmcReport
        {
            Target = "all CPUs",
            Seconds = 1,
            HasHardware = false,
            Counters =
            [
                new PmcCounter { Name = "task-clock", Unit = "ms", Value = taskClockMs, Provenance = "measured" },
                new PmcCounter { Name = "context-switches", Unit = "count", Value = switches, Provenance = scaled ? "measured, scaled" : "measured" },
                new PmcCounter { Name = "cycles", Unit = "count", Value = null, Provenance = "not counted: the counter never ran" },
            ],
        };
        return new AgentAnswer(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(report, PmcJsonContext.Default.PmcReport), null);
    }

    [Fact(Timeout = 60_000)]
    public async Task Pmc_PerHostTable_WithFleetMinMedianMax()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("h1", _ => Pmc(1000, 10));
        await env.AgentAsync("h2", _ => Pmc(3000, 30, scaled: true));
        await env.AgentAsync("h3", _ => Pmc(2000, 500));

        var (code, output, err) = env.Run(env.ReadToken, "research", "pmc", "{}", "-d", "1s", "--deadline", "20s", "--event", "context-switches", "--event", "task-clock");

        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.Contains("pmc of {} (every agent) for 1 s (context-switches, task-clock)", output, StringComparison.Ordinal);
        Assert.Contains("counters measured by each agent over 1 s, system-wide", output, StringComparison.Ordinal);
        Assert.Matches(@"\nHOST\s+task-clock \(ms\)\s+context-switches \(count\)\s+NOTE\n", output);
        Assert.Matches(@"\nh1\s+1,000\s+10\s+no hardware PMU\n", output);
        Assert.Matches(@"\nh2\s+3,000\s+30\s+no hardware PMU; scaled \(multiplexed\)\n", output);
        Assert.Matches(@"\nfleet min\s+1,000\s+10\s+over 3 hosts\n", output);
        Assert.Matches(@"\nfleet median\s+2,000\s+30\s+over 3 hosts\n", output);
        Assert.Matches(@"\nfleet max\s+3,000\s+500\s+over 3 hosts\n", output);
        Assert.DoesNotContain("cycles", output, StringComparison.Ordinal);

        var bad = env.Run(env.ReadToken, "research", "pmc", "{}", "--event", "rm");
        Assert.Equal(2, bad.Code);
        Assert.Contains("unknown counter 'rm' for --event (one of task-clock", bad.Err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Trace_HistogramPerHost_AndToolValidatedLocally()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        const string Hist = """
            {"tool":"runqlat","description":"x","durationSeconds":1,"tracedSeconds":1.0,"provenance":"measured","partial":false,"notes":[],
             "histogram":{"unit":"microseconds","count":100,"buckets":[{"low":0,"high":1,"count":50},{"low":2,"high":3,"count":45},{"low":4,"high":7,"count":5}]}}
            """;
        await env.AgentAsync("n1", task => task.Tool == "runqlat" ? FleetTestEnv.JsonResult(Hist) : FleetTestEnv.Failed("wrong tool"));
        await env.AgentAsync("n2", _ => FleetTestEnv.Failed("bpftrace not installed"));

        var (code, output, err) = env.Run(env.ReadToken, "research", "trace", "runqlat", "{}", "-d", "1s", "--deadline", "20s");

        Assert.True(code == 3, $"exit {code}: {err}");
        Assert.StartsWith("PARTIAL: 1/2 hosts answered by the deadline; missing: n2 (failed: bpftrace not installed)", output, StringComparison.Ordinal);
        Assert.Matches(@"\nn1\s+done\s+100 events; p50 in 0-1 us; p99 in 4-7 us\n", output);
        Assert.Matches(@"\nn2\s+failed\s+no result \(failed: bpftrace not installed\)\n", output);

        var bad = env.Run(env.ReadToken, "research", "trace", "rm-rf", "{}");
        Assert.Equal(2, bad.Code);
        Assert.Contains("unknown trace tool 'rm-rf' (one of runqlat", bad.Err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Profile_NoHostAnswers_PartialHeaderNothingToMerge_Exit1()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("mute", _ => null);
        string svg = Path.Combine(env.Dir, "none.svg");
        var (code, output, err) = env.Run(env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "1s", "-o", svg);
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.StartsWith("PARTIAL: 0/1 hosts answered by the deadline; missing: mute (", output, StringComparison.Ordinal);
        Assert.EndsWith("no host sent a profile: there is nothing to merge\n", output, StringComparison.Ordinal);
        Assert.False(File.Exists(svg));
    }

    [Fact(Timeout = 60_000)]
    public async Task NoAgentMatches_IsTheServersOneLine_Exit1()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", Common, new() { ["service_name"] = "api" });
        var (code, output, err) = env.Run(env.ReadToken, "research", "profile", "db", "-d", "1s");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains("400", err, StringComparison.Ordinal);
        Assert.Contains("no online agent of org 'a' matches {service_name=\"db\"}", err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Interrupt_WhileWaiting_PrintsIdAndHowToResume_Exit1()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("slow", _ => null);
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = TextWriter.Synchronized(err) };
        Task<(int Code, string Out)> running = Task.Run(() => env.RunCtx(ctx, env.ReadToken, "research", "profile", "{}", "-d", "1s", "--deadline", "30s"));
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!err.ToString().Contains("Ctrl-C stops waiting", StringComparison.Ordinal) && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        Assert.True(ctx.StopsGracefully, "the verb handles Ctrl-C itself while it waits");
        await ctx.Interrupt.CancelAsync();
        var (code, output) = await running.WaitAsync(TimeSpan.FromSeconds(10));
        string text = err.ToString();
        Assert.Equal(1, code);
        string id = TaskId(text);
        Assert.Contains($"stopped waiting for task {id}; it goes on on the server: see its answer with `orac research show {id}`", text, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData("research")]
    [InlineData("research frobnicate")]
    [InlineData("research profile")]
    [InlineData("research profile {} {}")]
    [InlineData("research profile {} --hz 0")]
    [InlineData("research profile {} -d 0.5s")]
    [InlineData("research profile {} -d 11m")]
    [InlineData("research profile {} -o -")]
    [InlineData("research profile {service_name=")]
    [InlineData("research profile {} --event cycles")]
    [InlineData("research check {} --hz 99")]
    [InlineData("research pmc {} --event a;b")]
    [InlineData("research trace {}")]
    [InlineData("research trace nosuch {}")]
    [InlineData("research ls --limit 0")]
    [InlineData("research show")]
    [InlineData("research show ../etc")]
    [InlineData("research profile {} --deadline 20m")]
    public void UsageErrors_Exit2_WithOneLine(string line)
    {
        // No server runs: a usage error is found before any request.
        var (code, output, err) = FleetTestEnv.RunLocal([.. line.Split(' '), "--server", "http://127.0.0.1:9"]);
        Assert.Equal(OracException.Usage, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("orac: research: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void NoServer_IsOneLine_Exit1()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("research", "ls", "--server", "http://127.0.0.1:9", "--token", "t");
        Assert.Equal(1, code);
        Assert.Equal("orac: no Orac server at http://127.0.0.1:9/ (start one with `orac up`)\n", err);
    }

    [Theory]
    [InlineData("{\"tasks\":null}", "has no 'tasks' list")]
    [InlineData("{\"tasks\":[null]}", "without id")]
    [InlineData("{\"tasks\":[{\"id\":\"x\"}]}", "is not the expected document")]
    [InlineData("[1,2]", "is not the expected document")]
    [InlineData("<html>", "is not the expected document")]
    public void BadTaskList_IsOneOracException(string json, string expected)
    {
        var e = Assert.Throws<OracException>(() => FleetAnswers.TaskList(Encoding.UTF8.GetBytes(json), new Uri("http://s:1")));
        Assert.Contains("the server at http://s:1/ answered the task list with a document that", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static string TaskId(string err)
    {
        Match m = TaskIdPattern().Match(err);
        Assert.True(m.Success, "no task id on stderr: " + err);
        return m.Groups[1].Value;
    }

    [GeneratedRegex(@"research: task (\S+):")]
    private static partial Regex TaskIdPattern();
}
