using System.Text;
using Orac.Ask;
using Orac.Cli.Ask;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// <c>orac chat</c>: <c>ask</c> in a session. Questions are read line by line from stdin (the prompt <c>orac&gt; </c>
/// only when stdin is a terminal); each plan is the next question's context, so "and for the inference service?"
/// follows up. "quit", "exit" or end of input ends it. One question's error is its one line; the session goes on.
/// </summary>
public static class ChatCommand
{
    private const string UsageLine = "usage: orac chat [--yes] [--temporary] [--plain] [--json] [--top N] [--server URL] [--token TOKEN]";

    /// <summary>Runs the verb; returns 0 at the end of the session (1 when the server cannot be read at the start).</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = AskCommand.Create("chat").Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  one question per line; follow-ups (\"and for the inference service?\", \"top 5 instead\") reuse the previous plan;");
            ctx.Error.WriteLine("  \"quit\", \"exit\" or end of input ends the session; options as for `orac ask`");
            return 0;
        }

        if (p.Positionals.Count > 0)
        {
            throw p.Usage($"chat reads its questions from stdin, not arguments (got '{p.Positionals[0]}'); `orac ask \"QUESTION\"` asks one");
        }

        if (p.Has("--llm"))
        {
            throw p.Usage("chat runs the deterministic planner only; ask one question of your model with `orac ask --llm \"QUESTION\"`");
        }

        AskOptions o = AskOptions.From(p);
        DateTimeOffset now = AskSession.ReadNow(ctx.GetEnv, p);
        using var api = new OracApi(RemoteTarget.Resolve(p, ctx).Client());
        AskSession session = AskSession.LoadAsync(api, now, o.Temporary, o.Plain).GetAwaiter().GetResult();
        using var input = new StreamReader(ctx.StdIn, Encoding.UTF8, false, 4096, leaveOpen: true);
        Plan? previous = null;
        while (true)
        {
            if (ctx.StdInIsTerminal)
            {
                // The prompt goes with the answers (stdout) so a terminal shows them in turn.
                FleetCommand.Write(ctx, "orac> ");
                ctx.StdOut.Flush();
            }

            string? line = input.ReadLine();
            if (line is null)
            {
                return 0;
            }

            string q = line.Trim();
            if (q.Length == 0)
            {
                continue;
            }

            if (q.ToLowerInvariant() is "quit" or "exit" or "bye")
            {
                return 0;
            }

            try
            {
                (_, Plan plan) = AskCommand.AnswerOne(q, previous, session, api, o, ctx, input);
                previous = plan.Kind is PlanKind.Clarify or PlanKind.Help ? previous : plan;
            }
            catch (OracException e)
            {
                ctx.Error.WriteLine($"orac: {e.Message}");
            }

            if (!o.Json)
            {
                FleetCommand.Write(ctx, "\n");
            }

            ctx.StdOut.Flush();
        }
    }
}
