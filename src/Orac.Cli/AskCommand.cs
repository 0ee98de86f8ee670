using System.Globalization;
using System.Text;
using Orac.Ask;
using Orac.Cli.Ask;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// <c>orac ask "QUESTION"</c> (docs/ask.md): reads the live inventory, memories and persona, plans the question with
/// the deterministic planner, confirms fleet actions on more than one host (unless <c>--yes</c>; refused without a
/// terminal), runs the plan and prints the answer (verdict first) or, with <c>--json</c>, the plan and the answer's data.
/// Exit codes: 0 answered, 3 partial, 1 error, 2 usage, clarify or refused.
/// </summary>
public static class AskCommand
{
    private const string UsageLine = "usage: orac ask \"QUESTION\" [--yes] [--temporary] [--plain] [--json] [--top N] [--llm [--llm-url URL] [--llm-model M] [--llm-key K]] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser (shared with <c>chat</c>).</summary>
    public static ArgParser Create(string verb = "ask") => LlmSettings.AddOptions(RemoteTarget.AddOptions(new ArgParser(verb)
        .Flag("--yes", "-y")
        .Flag("--temporary")
        .Flag("--plain")
        .Flag("--json")
        .Flag("--llm")
        .Option("--top", "-n")
        .Flag("--help", "-h")));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count == 0 || string.IsNullOrWhiteSpace(string.Join(' ', p.Positionals)))
        {
            throw p.Usage("expected a QUESTION in quotes, e.g. orac ask \"top 5 functions in api over the last hour\"");
        }

        string question = string.Join(' ', p.Positionals);
        if (p.Has("--llm"))
        {
            return RunLlm(p, question, ctx);
        }

        AskOptions o = AskOptions.From(p);
        DateTimeOffset now = AskSession.ReadNow(ctx.GetEnv, p);
        using var api = new OracApi(RemoteTarget.Resolve(p, ctx).Client());
        AskSession session = AskSession.LoadAsync(api, now, o.Temporary, o.Plain).GetAwaiter().GetResult();
        using var input = new StreamReader(ctx.StdIn, Encoding.UTF8, false, 4096, leaveOpen: true);
        (int code, _) = AnswerOne(question, null, session, api, o, ctx, input);
        return code;
    }

    /// <summary><c>ask --llm</c>: the question goes to the user's own model with Orac's tools (docs/ask.md "An optional model").</summary>
    private static int RunLlm(ArgParser p, string question, CliContext ctx)
    {
        if (p.Has("--json"))
        {
            throw p.Usage("--json is not available with --llm (the model's answer is prose; its tool calls are listed after it)");
        }

        LlmSettings settings = LlmSettings.Resolve(p, ctx);
        using var api = new OracApi(RemoteTarget.Resolve(p, ctx).Client());
        using var input = new StreamReader(ctx.StdIn, Encoding.UTF8, false, 4096, leaveOpen: true);
        using var output = new StreamWriter(ctx.StdOut, new UTF8Encoding(false), 4096, leaveOpen: true);
        var options = new LlmOptions { Yes = p.Has("--yes"), Temporary = p.Has("--temporary"), Plain = p.Has("--plain"), Interactive = ctx.StdInIsTerminal };
        return LlmAsk.RunAsync(settings, api, question, options, input, output, ctx.Error, ctx.Interrupt.Token).GetAwaiter().GetResult();
    }

    /// <summary>Plans, confirms, runs and prints one question; the exit code and the plan (the next follow-up's context).</summary>
    internal static (int Code, Plan Plan) AnswerOne(string question, Plan? previous, AskSession session, OracApi api, AskOptions o, CliContext ctx, TextReader input)
    {
        Plan plan = Planner.Plan(question, session.Context(previous));
        if (o.Top is int n && plan.Kind is PlanKind.Top or PlanKind.Opportunities or PlanKind.Diff or PlanKind.Slow or PlanKind.Profile)
        {
            plan = plan with { Top = n };
        }

        return (ConfirmAndRun(plan, question, session, api, o, ctx, input), plan);
    }

    /// <summary>Confirms a fleet action (unless <c>--yes</c>; refused without a terminal), runs the plan and prints the answer; the exit code.</summary>
    internal static int ConfirmAndRun(Plan plan, string question, AskSession session, OracApi api, AskOptions o, CliContext ctx, TextReader input)
    {
        if (plan.Confirm && !o.Yes)
        {
            string what = Describe(plan, api);
            bool go = false;
            if (ctx.StdInIsTerminal)
            {
                ctx.Error.Write($"ask: this will {what}. Go ahead? [y/N] ");
                ctx.Error.Flush();
                string? line = input.ReadLine();
                go = line is not null && line.Trim().ToLowerInvariant() is "y" or "yes";
            }

            if (!go)
            {
                var refused = new Answer { Plan = plan, ExitCode = OracException.Usage };
                refused.Verdict = ctx.StdInIsTerminal
                    ? Said.Both($"Not started: you did not confirm. It would {what}.")
                    : Said.Both($"Not started: this would {what}, and there is no terminal to confirm on.");
                refused.Remarks.Add(Said.Both($"To run it anyway: orac ask \"{question.Replace("\"", "\\\"", StringComparison.Ordinal)}\" --yes"));
                Write(refused, session.Voice, o, ctx);
                return refused.ExitCode;
            }
        }

        var runner = new PlanRunner(api, session.RunOptions(ctx.Error));
        Answer answer = runner.RunAsync(plan).GetAwaiter().GetResult();
        Write(answer, session.Voice, o, ctx);
        return answer.ExitCode;
    }

    private static void Write(Answer answer, Voice voice, AskOptions o, CliContext ctx)
    {
        if (o.Json)
        {
            using Stream output = ctx.OpenOutput(null);
            output.Write(AnswerRenderer.Json(answer, voice));
            return;
        }

        FleetCommand.Write(ctx, AnswerRenderer.Text(answer, voice));
    }

    /// <summary>What a confirmed plan would start, with the hosts it matches now ("profile 2 hosts (web-1, web-2) for 30 s").</summary>
    private static string Describe(Plan plan, OracApi api)
    {
        FleetDocument fleet = api.FleetAsync(plan.Selector == "{}" ? "" : plan.Selector).GetAwaiter().GetResult();
        var hosts = fleet.Agents.Select(a => a.Info.Hostname).Order(StringComparer.Ordinal).ToList();
        string list = hosts.Count == 0 ? "no agent matches now" : string.Join(", ", hosts.Take(10)) + (hosts.Count > 10 ? $" and {hosts.Count - 10} more" : "");
        string verb = plan.Kind == PlanKind.Slow ? "run a check and a profile on" : "profile";
        return string.Create(CultureInfo.InvariantCulture, $"{verb} {hosts.Count} host{(hosts.Count == 1 ? "" : "s")} of {PlanRunner.Scope(plan.Selector)} ({list}) for {plan.Seconds} s");
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  answers a question in plain English from the live server: a verdict first, then the tables and flame-graph links it rests on");
        w.WriteLine("  e.g. \"top 5 functions in api over the last hour\", \"what changed in api since yesterday?\", \"why is web-1 slow?\",");
        w.WriteLine("       \"what does json_encode cost per year?\", \"which hosts are outliers?\", \"what do you remember?\"");
        w.WriteLine("  --yes           start fleet actions on several hosts without asking (without a terminal they are refused otherwise)");
        w.WriteLine("  --temporary     neither read nor write memory");
        w.WriteLine("  --plain         neutral wording (the persona's voice otherwise; numbers are the same in every voice)");
        w.WriteLine("  --json          the plan (canonical form, steps) and the answer's data");
        w.WriteLine("  --top N         rows of top, diff and profile tables");
        w.WriteLine("  --llm           hand the question to your own model (docs/ask.md): --llm-url URL, --llm-model M, --llm-key K");
        w.WriteLine("                  (or ORAC_LLM_URL, ORAC_LLM_MODEL, ORAC_LLM_KEY, or llmUrl/llmModel/llmKey in the config file)");
        w.WriteLine("  ORAC_NOW        an RFC 3339 time to use as now (reproducible answers and tests)");
        w.WriteLine("exit codes: 0 answered, 1 error, 2 usage error, a question back (clarify) or a fleet action not confirmed, 3 PARTIAL answer");
    }
}

/// <summary>The options of <c>ask</c> and <c>chat</c>.</summary>
internal sealed record AskOptions(bool Yes, bool Temporary, bool Plain, bool Json, int? Top)
{
    public static AskOptions From(ArgParser p)
    {
        int? top = null;
        if (p.Get("--top") is not null)
        {
            int n = p.GetInt("--top", Plan.DefaultTop);
            if (n is < 1 or > 1000)
            {
                throw p.Usage($"--top needs a count from 1 to 1000, got {n}");
            }

            top = n;
        }

        return new AskOptions(p.Has("--yes"), p.Has("--temporary"), p.Has("--plain"), p.Has("--json"), top);
    }
}
