using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Agent;
using Orac.Ask;
using Orac.Cli.Ask;
using Orac.Client;
using Orac.Cost;
using Orac.Model.Wire;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// A real in-process server (tests/data/cost/cli-model.jsonc: $0.00025 per CPU-second) holding profiles pushed with
/// the real <c>orac push</c>, relative to <see cref="Now"/> (this minute): service api on web-1, web-2 (serve 4 s,
/// json_encode 2 s each) and web-3 (five times that) ten minutes ago; web-1 again 90 minutes ago with json_encode 1 s
/// (the diff's base hour); service inference on gpu-node-7 (infer 3 s) ten minutes ago.
/// </summary>
public sealed class AskServerEnv : IAsyncLifetime
{
    public FleetTestEnv Env { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    public long NowNs => Now.ToUnixTimeMilliseconds() * 1_000_000;

    public static long Ns(TimeSpan t) => (long)t.TotalMilliseconds * 1_000_000;

    public async Task InitializeAsync()
    {
        Env = await FleetTestEnv.StartAsync(Path.Combine(TestPaths.Data, "cost", "cli-model.jsonc"));
        Now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60);
        long recent = Now.ToUnixTimeSeconds() - 600;
        Push("api", "web-1", recent, ("main;serve", 4_000_000_000), ("main;serve;json_encode", 2_000_000_000));
        Push("api", "web-2", recent, ("main;serve", 4_000_000_000), ("main;serve;json_encode", 2_000_000_000));
        Push("api", "web-3", recent, ("main;serve", 20_000_000_000), ("main;serve;json_encode", 10_000_000_000));
        Push("api", "web-1", Now.ToUnixTimeSeconds() - 5400, ("main;serve", 4_000_000_000), ("main;serve;json_encode", 1_000_000_000));
        Push("inference", "gpu-node-7", recent, ("main;infer", 3_000_000_000));
    }

    public async Task DisposeAsync() => await Env.DisposeAsync();

    /// <summary>An API for the read token.</summary>
    public OracApi Api() => new(Env.Base, Env.ReadToken);

    /// <summary>Runs <paramref name="plan"/> through the runner, as <c>orac ask</c> would after planning.</summary>
    public Answer Run(Plan plan, bool memory = true)
    {
        using OracApi api = Api();
        return new PlanRunner(api, new RunOptions { Memory = memory, MemoryOffReason = memory ? null : "--temporary" }).RunAsync(plan).GetAwaiter().GetResult();
    }

    /// <summary><c>orac VERB ARGS</c> in-process with ORAC_NOW set, <paramref name="stdin"/> as input and a terminal or not.</summary>
    public (int Code, string Out, string Err) Cli(string stdin, bool terminal, params string[] args)
    {
        var err = new StringWriter();
        var ctx = new CliContext
        {
            StdIn = new MemoryStream(Encoding.UTF8.GetBytes(stdin)),
            StdOut = new MemoryStream(),
            Error = err,
            StdInIsTerminal = terminal,
            GetEnv = n => n == "ORAC_NOW" ? Now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : null,
        };
        int code = Program.Run([.. args, "--server", Env.Base.ToString(), "--token", Env.ReadToken], ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }

    private void Push(string service, string host, long fromSeconds, params (string Stack, long Ns)[] stacks)
    {
        AgentAnswer a = FleetTestEnv.Profile(stacks);
        string file = Path.Combine(Env.Dir, $"{service}-{host}-{fromSeconds}.json");
        File.WriteAllBytes(file, a.Body!);
        var (code, _, err) = Env.Run(Env.IngestToken, "push", file, "--service", service, "--label", $"host={host}",
            "--from", fromSeconds.ToString(CultureInfo.InvariantCulture), "--until", (fromSeconds + 10).ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"push exit {code}: {err}");
    }
}

public sealed class AskServerTests(AskServerEnv s) : IClassFixture<AskServerEnv>
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private Plan LastHour(PlanKind kind, string selector) =>
        new() { Kind = kind, Selector = selector, FromNs = s.NowNs - AskServerEnv.Ns(Hour), UntilNs = s.NowNs };

    [Fact(Timeout = 60_000)]
    public async Task Top_Service_NumbersAreWhatWasPushed()
    {
        await Task.Yield();
        Answer a = s.Run(LastHour(PlanKind.Top, "{service_name=\"api\"}") with { Top = 5 });
        string text = AnswerRenderer.Text(a, Voice.Plain);

        Assert.Equal(0, a.ExitCode);
        // serve: 4 + 4 + 20 s self; json_encode: 2 + 2 + 10 s; total 42 s.
        Assert.StartsWith("The function with the most self time in {service_name=\"api\"}", text, StringComparison.Ordinal);
        Assert.Contains("serve: 66.7 % of nanoseconds (measured)", text, StringComparison.Ordinal);
        Assert.Contains("total 42,000,000,000 nanoseconds (measured)", text, StringComparison.Ordinal);
        Assert.Matches(@"\nserve\s+28,000,000,000\s+42,000,000,000\s+66\.7\s+100\.0\n", text);
        Assert.Matches(@"\njson_encode\s+14,000,000,000\s+14,000,000,000\s+33\.3\s+33\.3\n", text);
        Assert.Contains("flame graph: " + s.Env.Base, text, StringComparison.Ordinal);
        AskRenderTests.AssertVoicesAgree(a);
    }

    [Fact(Timeout = 60_000)]
    public async Task Top_NothingStored_SaysSo_Exit0()
    {
        await Task.Yield();
        Answer a = s.Run(LastHour(PlanKind.Top, "{service_name=\"checkout\"}"));

        Assert.Equal(0, a.ExitCode);
        Assert.Empty(a.Tables);
        Assert.Contains("There are no profiles for {service_name=\"checkout\"}", a.Verdict.Plain, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Diff_TwoRanges_BiggestSelfChangeWithUnitAndPercent()
    {
        await Task.Yield();
        var plan = new Plan
        {
            Kind = PlanKind.Diff,
            Selector = "{host=\"web-1\"}",
            FromNs = s.NowNs - AskServerEnv.Ns(Hour),
            UntilNs = s.NowNs,
            BaseSelector = "{host=\"web-1\"}",
            BaseFromNs = s.NowNs - AskServerEnv.Ns(2 * Hour),
            BaseUntilNs = s.NowNs - AskServerEnv.Ns(Hour),
        };
        Answer a = s.Run(plan);
        string text = AnswerRenderer.Text(a, Voice.Orac);

        Assert.Equal(0, a.ExitCode);
        // Base hour 5 s (json_encode 1 s), this hour 6 s (json_encode 2 s): +20 %, json_encode +100 %.
        Assert.Contains("total 5,000,000,000 → 6,000,000,000 nanoseconds (+20.0 %, measured)", text, StringComparison.Ordinal);
        Assert.Contains("Biggest mover: json_encode, +1,000,000,000 nanoseconds (+100.0 %)", text, StringComparison.Ordinal);
        Assert.Matches(@"function\s+base self \(nanoseconds\)\s+new self \(nanoseconds\)\s+change \(nanoseconds\)\s+change \(%\)\n", text);
        Assert.Matches(@"\njson_encode\s+1,000,000,000\s+2,000,000,000\s+\+1,000,000,000\s+\+100\.0 %\n", text);
        Assert.Matches(@"\nserve\s+4,000,000,000\s+4,000,000,000\s+0\s+0\.0 %\n", text);
        AskRenderTests.AssertVoicesAgree(a);
    }

    [Fact(Timeout = 60_000)]
    public async Task FunctionCost_CostModel_AnnualProjectionKwhCo2()
    {
        await Task.Yield();
        var plan = new Plan { Kind = PlanKind.FunctionCost, Selector = "{service_name=\"api\"}", FromNs = s.NowNs - AskServerEnv.Ns(TimeSpan.FromDays(7)), UntilNs = s.NowNs, Function = "json_encode" };
        Answer a = s.Run(plan);
        string text = AnswerRenderer.Text(a, Voice.Plain);

        Assert.Equal(0, a.ExitCode);
        // 15 CPU-seconds in the week (2 + 2 + 10 s ten minutes ago, 1 s ninety minutes ago) at $0.00025 each
        // (cli-model.jsonc), a week scaled to 365.25 days.
        double year = CostCalculator.SecondsPerYear / (7 * 86400.0);
        string usdYear = CostRender.Num(15 * 0.00025 * year);
        Assert.Contains($"json_encode costs ${usdYear} per year (projection of ", text, StringComparison.Ordinal);
        Assert.Matches($@"\nCPU \(s\)\s+{CostRender.Num(15)}\s+{System.Text.RegularExpressions.Regex.Escape(CostRender.Num(15 * year))}\n", text);
        Assert.Matches($@"\ncost \(\$\)\s+{System.Text.RegularExpressions.Regex.Escape(CostRender.Num(15 * 0.00025))}\s+{System.Text.RegularExpressions.Regex.Escape(usdYear)}\n", text);
        Assert.Contains("energy (kWh)", text, StringComparison.Ordinal);
        Assert.Contains("emissions (kgCO2e)", text, StringComparison.Ordinal);
        Assert.Contains("per year is a projection", text, StringComparison.Ordinal);
        AskRenderTests.AssertVoicesAgree(a);

        Answer missing = s.Run(plan with { Function = "no_such_function" });
        Assert.Equal(0, missing.ExitCode);
        Assert.Equal("no_such_function was not found in this range ({service_name=\"api\"}, " + Plan.Range(plan.FromNs, plan.UntilNs) + ").", missing.Verdict.Plain);
    }

    [Fact(Timeout = 60_000)]
    public async Task Outliers_ThreeHosts_TheFiveTimesHostIsHigh()
    {
        await Task.Yield();
        Answer a = s.Run(LastHour(PlanKind.Outliers, "{service_name=\"api\"}"));
        string text = AnswerRenderer.Text(a, Voice.Orac);

        Assert.Equal(0, a.ExitCode);
        // 6, 6, 30 CPU-seconds: median 6, MAD 0; 30 > 2 × 6.
        Assert.Contains("web-3 (high, 30.00 s, 5.0× the median)", text, StringComparison.Ordinal);
        Assert.Contains("median 6.00 CPU s per host, MAD 0 s, 3 hosts", text, StringComparison.Ordinal);
        Assert.Matches(@"\nweb-3\s+30\.00\s+5\.0\s+-\s+high\n", text);
        Assert.Matches(@"\nweb-1\s+6\.00\s+1\.0\s+-\s+-\n", text);
        Assert.Contains("flame graph of web-3: ", text, StringComparison.Ordinal);
        AskRenderTests.AssertVoicesAgree(a);
    }

    [Fact(Timeout = 60_000)]
    public async Task Opportunities_GpuIdle_Memory_AnsweredWithLabels()
    {
        await Task.Yield();
        long week = AskServerEnv.Ns(TimeSpan.FromDays(7));
        Answer o = s.Run(new Plan { Kind = PlanKind.Opportunities, Selector = "{service_name=\"api\"}", FromNs = s.NowNs - week, UntilNs = s.NowNs, Top = 3 });
        Assert.Equal(0, o.ExitCode);
        AnswerTable t = Assert.Single(o.Tables);
        Assert.Equal("projection of the period; $, kWh and CO2e estimated", t.Basis);
        Assert.Equal("cost ($/year)", t.Columns[3]);
        Assert.Equal("1", t.Rows[0][0]);
        Assert.Contains($"{t.Rows[0][2]} at ${t.Rows[0][3]} per year (projection, estimated)", o.Verdict.Plain, StringComparison.Ordinal);
        AskRenderTests.AssertVoicesAgree(o);

        Answer g = s.Run(new Plan { Kind = PlanKind.GpuIdle, Selector = "{}", FromNs = s.NowNs - week, UntilNs = s.NowNs });
        Assert.Equal(0, g.ExitCode);
        Assert.StartsWith("There are no GPU readings for the whole org in ", g.Verdict.Plain, StringComparison.Ordinal);

        Answer m = s.Run(new Plan { Kind = PlanKind.Memory }, memory: false);
        Assert.Equal("Memory is not read here (--temporary).", m.Verdict.Plain);
    }

    [Fact(Timeout = 60_000)]
    public async Task Clarify_DidYouMean_Exit2()
    {
        await Task.Yield();
        Answer a = s.Run(new Plan { Kind = PlanKind.Clarify, Field = "service", Got = "infer", Suggestions = ["inference"] });

        Assert.Equal(2, a.ExitCode);
        Assert.Equal("I don't know the service \"infer\". Did you mean inference?", a.Verdict.Plain);
        AskRenderTests.AssertVoicesAgree(a);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_OutOfDomain_HelpListsWhatOracDoes_Exit0()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "what's the weather like in Paris?", "--plain");

        Assert.True(code == 0, err);
        Assert.StartsWith("Orac answers questions about performance, cost and the fleet. For example:\n", output, StringComparison.Ordinal);
        Assert.Contains("  why is web-1 slow?\n", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_Json_PlanAndData()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "tell me a joke", "--json");

        Assert.True(code == 0, err);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal("help", doc.RootElement.GetProperty("plan").GetProperty("canonical").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("exitCode").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_Usage_NoQuestion_Llm_BadNow_Exit2()
    {
        await Task.Yield();
        Assert.Equal(2, s.Cli("", false, "ask").Code);
        var llm = s.Cli("", false, "ask", "why is api slow?", "--llm");
        Assert.Equal(2, llm.Code);
        // No model endpoint configured (no --llm-url, ORAC_LLM_URL or config entry): one line, usage.
        Assert.Contains("ask --llm: no model endpoint", llm.Err, StringComparison.Ordinal);
        var (code, _, err) = FleetTestEnv.RunLocal("ask", "x", "--server", s.Env.Base.ToString());
        Assert.NotEqual(0, code);
        Assert.StartsWith("orac: ", err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Chat_NoTerminal_NoPrompt_AnswersEachLine_QuitEnds()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("tell me a joke\n\nwhat is the capital of France?\nquit\nnever read\n", false, "chat", "--plain");

        Assert.True(code == 0, err);
        Assert.DoesNotContain("orac> ", output, StringComparison.Ordinal);
        Assert.Equal(2, output.Split("Orac answers questions about performance").Length - 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Chat_Terminal_Prompts()
    {
        await Task.Yield();
        var (code, output, _) = s.Cli("help\n", true, "chat");

        Assert.Equal(0, code);
        Assert.StartsWith("orac> ", output, StringComparison.Ordinal);
        Assert.EndsWith("orac> ", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Remember_ServerWithoutMemory_NotSaved_SaysWhy()
    {
        await Task.Yield();
        Answer alone = s.Run(new Plan { Kind = PlanKind.Remember, Text = "our H100s cost $2.10 an hour" });
        Answer temporary = s.Run(LastHour(PlanKind.Top, "{service_name=\"api\"}") with { Text = "our H100s cost $2.10 an hour" }, memory: false);

        // This branch's server has no memory routes yet: the runner says so instead of failing the question.
        Assert.True(alone.ExitCode == 1 || alone.MemoryLines.Exists(l => l.StartsWith("Memory updated: \"our H100s cost $2.10 an hour\" (forget it: orac memory forget m", StringComparison.Ordinal)),
            AnswerRenderer.Text(alone, Voice.Plain));
        Assert.Equal(0, temporary.ExitCode);
        Assert.Contains("Not saved (--temporary): \"our H100s cost $2.10 an hour\"", temporary.MemoryLines);
        Assert.NotEmpty(temporary.Tables);
    }

    [Fact(Timeout = 60_000)]
    public async Task Session_InventoryFromLabelsAndFleet_NowFromOracNow()
    {
        using OracApi api = s.Api();
        await s.Env.AgentAsync("db-1", _ => null); // disposed with the environment
        AskSession session = await AskSession.LoadAsync(api, s.Now, temporary: true, plain: false);

        Assert.Equal(["api", "inference"], session.Inventory.Services);
        Assert.Equal(["db-1", "gpu-node-7", "web-1", "web-2", "web-3"], session.Inventory.Hosts);
        Assert.False(session.MemoryOn);
        Assert.Equal(Voice.Orac, session.Voice);
        Assert.Equal(s.Now, session.Context().Now);
    }
}

/// <summary>The whole verb: question → the real planner (live inventory, ORAC_NOW) → runner → answer, in-process.</summary>
public sealed class AskQuestionTests(AskServerEnv s) : IClassFixture<AskServerEnv>
{
    [Fact(Timeout = 60_000)]
    public async Task Ask_Top5InApiLastHour_PlannedAndAnswered()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "top 5 functions in api over the last hour", "--json");

        Assert.True(code == 0, err + output);
        using JsonDocument doc = JsonDocument.Parse(output);
        string from = Plan.Instant(s.NowNs - AskServerEnv.Ns(TimeSpan.FromHours(1)));
        Assert.Equal($"top {{service_name=\"api\"}} {from}..{Plan.Instant(s.NowNs)} n=5", doc.RootElement.GetProperty("plan").GetProperty("canonical").GetString());
        JsonElement row = doc.RootElement.GetProperty("tables")[0].GetProperty("rows")[0];
        Assert.Equal("serve", row[0].GetString());
        Assert.Equal("28,000,000,000", row[1].GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_WhatChangedOnWeb1_DiffOfTheLastHourAgainstTheOneBefore()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "what changed on web-1 in the last hour?", "--plain");

        Assert.True(code == 0, err + output);
        Assert.Contains("the total went from 5,000,000,000 to 6,000,000,000 nanoseconds (+20.0 %, measured). The largest change is json_encode: +1,000,000,000 nanoseconds (+100.0 %).", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_FunctionCost_PlannedFromTheQuestion()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "what does json_encode cost per year in api?", "--plain");

        Assert.True(code == 0, err + output);
        double year = CostCalculator.SecondsPerYear / (7 * 86400.0);
        Assert.StartsWith($"json_encode costs ${CostRender.Num(15 * 0.00025 * year)} per year (projection of ", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_Outliers_PlannedFromTheQuestion()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "which hosts stand out in api", "--plain");

        Assert.True(code == 0, err + output);
        Assert.StartsWith("1 outlier in {service_name=\"api\"}", output, StringComparison.Ordinal);
        Assert.Contains("web-3 (high, 30.00 s, 5.0× the median)", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ask_UnknownServiceNearAKnownOne_DidYouMean_Exit2()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("", false, "ask", "top functions in service infer", "--plain");

        Assert.True(code == 2, $"exit {code}: {output}{err}");
        Assert.StartsWith("I don't know the service \"infer\". Did you mean inference?", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Chat_FollowUp_AndForTheInferenceService()
    {
        await Task.Yield();
        var (code, output, err) = s.Cli("top 5 functions in api over the last hour\nand for the inference service?\nexit\n", false, "chat", "--plain");

        Assert.True(code == 0, err + output);
        Assert.Contains("is serve: 66.7 % of nanoseconds", output, StringComparison.Ordinal);
        Assert.Contains("The function with the most self time in {service_name=\"inference\"}", output, StringComparison.Ordinal);
        Assert.Matches(@"\ninfer\s+3,000,000,000\s+3,000,000,000\s+100\.0\s+100\.0\n", output);
    }
}

/// <summary>Profile of two hosts asked as a question: refused without --yes (exit 2, nothing started), run with it.</summary>
public sealed class AskProfileQuestionTests
{
    [Fact(Timeout = 90_000)]
    public async Task Ask_ProfileTwoHosts_RefusedWithoutYes_RunWithYes()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        FakeAgent web1 = await env.AgentAsync("web-1", _ => FleetTestEnv.Profile(("main;work", 3_000_000)));
        await env.AgentAsync("web-2", _ => FleetTestEnv.Profile(("main;work", 3_000_000)));

        var refused = env.Run(env.ReadToken, "ask", "profile web-1 and web-2 for 1 second", "--plain");
        Assert.True(refused.Code == 2, refused.Out + refused.Err);
        Assert.Contains("Not started: this would profile 2 hosts of {host=~\"web-1|web-2\"} (web-1, web-2) for 1 s", refused.Out, StringComparison.Ordinal);
        Assert.Contains("orac ask \"profile web-1 and web-2 for 1 second\" --yes", refused.Out, StringComparison.Ordinal);
        Assert.Empty(web1.Tasks);

        var run = env.Run(env.ReadToken, "ask", "profile web-1 and web-2 for 1 second", "--plain", "--yes");
        Assert.True(run.Code == 0, run.Out + run.Err);
        Assert.Matches(@"\nwork\s+6,000,000\s+6,000,000\s+100\.0\s+100\.0\n", run.Out);
        Assert.Single(web1.Tasks);
    }
}

/// <summary>Delegated plans against agents: confirmation (refused without a terminal, asked on one, skipped with --yes), and slow with the real agent.</summary>
public sealed class AskFleetTests
{
    private static AskSession Session(DateTimeOffset now) => new()
    {
        Now = now,
        Inventory = new Inventory(),
        Memories = [],
        MemoryOn = false,
        MemoryOffReason = "--temporary",
        Voice = Voice.Plain,
    };

    private static (int Code, string Out, string Err) Confirm(FleetTestEnv env, Plan plan, bool yes, bool terminal, string stdin)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(Encoding.UTF8.GetBytes(stdin)), StdOut = new MemoryStream(), Error = err, StdInIsTerminal = terminal, GetEnv = _ => null };
        using var api = new OracApi(env.Base, env.ReadToken);
        using var input = new StringReader(stdin);
        int code = AskCommand.ConfirmAndRun(plan, "profile web-1 and web-2 for 1 second", Session(DateTimeOffset.UtcNow), api, new AskOptions(yes, true, true, false, null), ctx, input);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }

    [Fact(Timeout = 90_000)]
    public async Task Profile_TwoHosts_RefusedWithoutYes_AskedOnTerminal_RunWithYes()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        Func<AgentTask, AgentAnswer?> answer = _ => FleetTestEnv.Profile(("main;work", 3_000_000), ("main;work;hash", 1_000_000));
        FakeAgent web1 = await env.AgentAsync("web-1", answer);
        FakeAgent web2 = await env.AgentAsync("web-2", answer);
        var plan = new Plan { Kind = PlanKind.Profile, Selector = "{host=~\"web-1|web-2\"}", Seconds = 1, Confirm = true };

        var refused = Confirm(env, plan, yes: false, terminal: false, stdin: "");
        Assert.Equal(2, refused.Code);
        Assert.Contains("Not started: this would profile 2 hosts of {host=~\"web-1|web-2\"} (web-1, web-2) for 1 s, and there is no terminal to confirm on.", refused.Out, StringComparison.Ordinal);
        Assert.Contains("--yes", refused.Out, StringComparison.Ordinal);

        var declined = Confirm(env, plan, yes: false, terminal: true, stdin: "n\n");
        Assert.Equal(2, declined.Code);
        Assert.Contains("Go ahead? [y/N]", declined.Err, StringComparison.Ordinal);
        Assert.Empty(web1.Tasks);
        Assert.Empty(web2.Tasks);
        using (var api = new OracApi(env.Base, env.ReadToken))
        {
            TaskListDocument tasks = await api.GetAsync("/api/v1/tasks", OracJsonContext.Default.TaskListDocument);
            Assert.Empty(tasks.Tasks);
        }

        var run = Confirm(env, plan, yes: true, terminal: false, stdin: "");
        Assert.True(run.Code == 0, run.Out + run.Err);
        // Two hosts × (work 3 ms + hash 1 ms): work self 6 ms of 8 ms.
        Assert.Contains("The profile of 2 hosts of {host=~\"web-1|web-2\"} (1 s) has work first with 75.0 % of self nanoseconds (measured).", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nwork\s+6,000,000\s+8,000,000\s+75\.0\s+100\.0\n", run.Out);
        Assert.Contains("flame graph (merged): " + env.Base + "#view=task&id=", run.Out, StringComparison.Ordinal);
        Assert.Single(web1.Tasks);

        var yes = Confirm(env, plan, yes: false, terminal: true, stdin: "y\n");
        Assert.True(yes.Code == 0, yes.Out + yes.Err);
        Assert.Equal(2, web2.Tasks.Count);
    }

    [Fact(Timeout = 90_000)]
    public async Task Profile_OneHostMissing_Partial_Exit3_SaysWhich()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await env.AgentAsync("web-1", _ => FleetTestEnv.Profile(("main;work", 3_000_000)));
        await env.AgentAsync("web-2", _ => FleetTestEnv.Failed("perf_event_open: permission denied"));
        var plan = new Plan { Kind = PlanKind.Profile, Selector = "{host=~\"web-1|web-2\"}", Seconds = 1, Confirm = true };

        var run = Confirm(env, plan, yes: true, terminal: false, stdin: "");

        Assert.Equal(3, run.Code);
        Assert.StartsWith("PARTIAL: missing web-2", run.Out, StringComparison.Ordinal);
        Assert.Contains("from the profile", run.Out.Split('\n')[0], StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Slow_OneHost_RealAgent_CheckAndProfile()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        await using FleetAgent agent = FleetAgent.Create(new AgentOptions
        {
            Server = env.Base,
            Token = env.IngestToken,
            StateDirectory = Path.Combine(env.Dir, "agent"),
            Hostname = "slow-1",
            Labels = new Dictionary<string, string> { ["service_name"] = "real" },
            Profile = false,
            MaxBackoff = TimeSpan.FromSeconds(1),
        });
        agent.Start();
        await agent.Registered.WaitAsync(TimeSpan.FromSeconds(20));
        var plan = new Plan { Kind = PlanKind.Slow, Selector = "{host=\"slow-1\"}", Seconds = 2 };

        var run = Confirm(env, plan, yes: false, terminal: false, stdin: "");

        // Profiling may be refused on a locked-down host: then the answer is PARTIAL (exit 3) and says so; the check always runs.
        Assert.True(run.Code is 0 or 3, $"exit {run.Code}: {run.Out}{run.Err}");
        Assert.Contains("hosts with problems (USE method; figures measured by each agent over its window)", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nslow-1\s+\d+\s", run.Out);
        if (run.Code == 0)
        {
            Assert.Contains("hottest functions on {host=\"slow-1\"}, profiled for 2 s at 99 Hz (merged over 1 hosts)", run.Out, StringComparison.Ordinal);
            Assert.Contains("flame graph (this profile): ", run.Out, StringComparison.Ordinal);
        }
        else
        {
            Assert.StartsWith("PARTIAL: missing slow-1", run.Out, StringComparison.Ordinal);
        }

        Assert.Contains("check ", run.Err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Slow_NoAgentMatches_Exit1()
    {
        await using FleetTestEnv env = await FleetTestEnv.StartAsync();
        var run = Confirm(env, new Plan { Kind = PlanKind.Slow, Selector = "{host=\"nowhere\"}", Seconds = 1 }, yes: false, terminal: false, stdin: "");

        Assert.Equal(1, run.Code);
        Assert.StartsWith("No agent matches {host=\"nowhere\"}", run.Out, StringComparison.Ordinal);
    }
}
