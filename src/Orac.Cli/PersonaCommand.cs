using System.Text;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac persona</c> verb (docs/ask.md "Persona"): who you are and how Orac should answer you, kept by the
/// server per user and org. The persona changes wording only, never figures.
/// </summary>
public static class PersonaCommand
{
    private const string UsageLine = "usage: orac persona show | set [--about \"…\"] [--respond \"…\"] | reset   [--json] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("persona")
        .Option("--about")
        .Option("--respond")
        .Flag("--json")
        .Flag("--help", "-h"));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count != 1)
        {
            throw p.Positionals.Count == 0
                ? p.Usage("expected a sub-command: show, set or reset")
                : p.Usage($"'{p.Positionals[0]}' takes no arguments, got '{p.Positionals[1]}' (quote texts: --about \"SRE on search\")");
        }

        string sub = p.Positionals[0];
        if (sub != "set" && (p.Has("--about") || p.Has("--respond")))
        {
            throw p.Usage($"--about and --respond go with 'set', not '{sub}'");
        }

        byte[] answer;
        switch (sub)
        {
            case "show":
                answer = MemoryCommand.Send(p, ctx, HttpMethod.Get, "/api/v1/persona", null);
                break;
            case "set":
                {
                    string? about = p.Get("--about");
                    string? respond = p.Get("--respond");
                    if (about is null && respond is null)
                    {
                        throw p.Usage("set needs --about \"…\" and/or --respond \"…\" (an empty text clears that field)");
                    }

                    foreach ((string name, string? value) in new[] { ("--about", about), ("--respond", respond) })
                    {
                        if (value is { Length: > 1000 })
                        {
                            throw p.Usage($"{name} is at most 1000 characters, got {value.Length}");
                        }
                    }

                    byte[] body = JsonSerializer.SerializeToUtf8Bytes(new PersonaSetRequest { About = about, Respond = respond }, OracJsonContext.Default.PersonaSetRequest);
                    answer = MemoryCommand.Send(p, ctx, HttpMethod.Put, "/api/v1/persona", body);
                    break;
                }

            case "reset":
                answer = MemoryCommand.Send(p, ctx, HttpMethod.Delete, "/api/v1/persona", null);
                break;
            default:
                throw p.Usage($"unknown sub-command '{sub}' (show, set or reset)");
        }

        PersonaDocument doc = MemoryCommand.Parse(answer, OracJsonContext.Default.PersonaDocument, $"{sub} /api/v1/persona");
        MemoryCommand.Output(ctx, p.Has("--json"), answer, Render(doc));
        return 0;
    }

    /// <summary>The persona as text: about, respond, and the voice it gives.</summary>
    public static string Render(PersonaDocument doc)
    {
        var sb = new StringBuilder();
        sb.Append("About:   ").Append(doc.About.Length == 0 ? "(not set)" : MemoryCommand.Clean(doc.About)).Append('\n');
        sb.Append("Respond: ").Append(doc.Respond.Length == 0 ? "(not set)" : MemoryCommand.Clean(doc.Respond)).Append('\n');
        string voice = doc.Voice == "plain" ? "plain (neutral)" : "orac (terse, confident, a little sarcastic; never wrong on facts)";
        sb.Append("Voice:   ").Append(voice).Append(doc.IsDefault ? " — the default persona" : "").Append('\n');
        if (!doc.IsDefault)
        {
            sb.Append("Set:     ").Append(FleetCommand.Rfc3339(doc.UpdatedMs)).Append(" (UTC)\n");
        }

        return sb.ToString();
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  show               your persona and the voice it gives Orac's answers");
        w.WriteLine("  set                --about \"who you are\" and/or --respond \"how to answer\" (each at most 1000 characters;");
        w.WriteLine("                     an option not given keeps its text, an empty one clears it). A respond text asking for a");
        w.WriteLine("                     neutral tone (plain, neutral, formal, serious, professional, no jokes, no sarcasm) picks the");
        w.WriteLine("                     plain voice; otherwise Orac's own. Wording only: figures never change.");
        w.WriteLine("  reset              back to the default persona");
        w.WriteLine("  --json             print the server's document");
        w.WriteLine("  --server URL       server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN      bearer token of a read or admin token; the persona belongs to the token's name in its org");
        w.WriteLine("exit codes: 0 ok, 1 failure (the server's reason), 2 usage error");
    }
}
