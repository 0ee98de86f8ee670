using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac memory</c> verb (docs/ask.md "Memory"): what Orac remembers for you on the server — add, list,
/// forget by id or words, clear, and turn memory off and on. Memory is per user (the token's name) and org.
/// </summary>
public static class MemoryCommand
{
    private const string UsageLine = "usage: orac memory add \"TEXT\" | list | forget ID|TEXT | clear | off | on   [--json] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("memory")
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

        if (p.Positionals.Count == 0)
        {
            throw p.Usage("expected a sub-command: add, list, forget, clear, off or on");
        }

        string sub = p.Positionals[0];
        List<string> rest = p.Positionals.GetRange(1, p.Positionals.Count - 1);
        bool json = p.Has("--json");
        switch (sub)
        {
            case "add":
                {
                    if (rest.Count != 1 || rest[0].Trim().Length == 0)
                    {
                        throw p.Usage($"add needs one TEXT (quote it: orac memory add \"our H100s cost $2.10 an hour\"), got {rest.Count} argument(s)");
                    }

                    if (rest[0].Trim().Length > 500)
                    {
                        throw p.Usage($"a memory is at most 500 characters, got {rest[0].Trim().Length}");
                    }

                    byte[] body = JsonSerializer.SerializeToUtf8Bytes(new MemoryAddRequest { Text = rest[0], Source = "cli" }, OracJsonContext.Default.MemoryAddRequest);
                    byte[] answer = Send(p, ctx, HttpMethod.Post, "/api/v1/memory", body);
                    MemoryItem item = Parse(answer, OracJsonContext.Default.MemoryItem, "POST /api/v1/memory");
                    Output(ctx, json, answer, $"Memory updated: {item.Id} \"{Clean(item.Text)}\" (read as {ReadAs(item.Fact)}). Forget it with: orac memory forget {item.Id}\n");
                    return 0;
                }

            case "list":
                {
                    NoArguments(p, sub, rest);
                    byte[] answer = Send(p, ctx, HttpMethod.Get, "/api/v1/memory", null);
                    MemoryDocument doc = Parse(answer, OracJsonContext.Default.MemoryDocument, "GET /api/v1/memory");
                    Output(ctx, json, answer, Render(doc));
                    return 0;
                }

            case "forget":
                {
                    if (rest.Count != 1 || rest[0].Trim().Length == 0)
                    {
                        throw p.Usage($"forget needs one ID (m3) or some words of the memory, got {rest.Count} argument(s)");
                    }

                    string what = rest[0].Trim();
                    string path = IsId(what)
                        ? "/api/v1/memory/" + Uri.EscapeDataString(what)
                        : RemoteClient.PathWithQuery("/api/v1/memory", ("text", what));
                    byte[] answer = Send(p, ctx, HttpMethod.Delete, path, null);
                    MemoryForgetResult r = Parse(answer, OracJsonContext.Default.MemoryForgetResult, "DELETE /api/v1/memory");
                    Output(ctx, json, answer, Forgotten(r));
                    return 0;
                }

            case "clear":
                {
                    NoArguments(p, sub, rest);
                    byte[] answer = Send(p, ctx, HttpMethod.Delete, "/api/v1/memory", null);
                    MemoryForgetResult r = Parse(answer, OracJsonContext.Default.MemoryForgetResult, "DELETE /api/v1/memory");
                    Output(ctx, json, answer, r.Removed.Count == 0 ? "Nothing to forget: memory was empty.\n" : $"Forgot all {r.Removed.Count} memories.\n");
                    return 0;
                }

            case "off" or "on":
                {
                    NoArguments(p, sub, rest);
                    byte[] body = JsonSerializer.SerializeToUtf8Bytes(new MemorySettings { Enabled = sub == "on" }, OracJsonContext.Default.MemorySettings);
                    byte[] answer = Send(p, ctx, HttpMethod.Put, "/api/v1/memory/settings", body);
                    MemoryDocument doc = Parse(answer, OracJsonContext.Default.MemoryDocument, "PUT /api/v1/memory/settings");
                    Output(ctx, json, answer, doc.Enabled
                        ? $"Memory is on: Orac reads and saves your {doc.Items.Count} memories again.\n"
                        : $"Memory is off: nothing is read or saved until 'orac memory on' ({doc.Items.Count} memories kept).\n");
                    return 0;
                }

            default:
                throw p.Usage($"unknown sub-command '{sub}' (add, list, forget, clear, off or on)");
        }
    }

    /// <summary>The list as text: id, text, what Orac read it as, source and time (UTC); says when memory is off.</summary>
    public static string Render(MemoryDocument doc)
    {
        var sb = new StringBuilder();
        if (!doc.Enabled)
        {
            sb.Append("Memory is off: these are kept but not used, and nothing new is saved, until 'orac memory on'.\n");
        }

        if (doc.Items.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"No memories for {Clean(doc.User)} in org {Clean(doc.Org)}. Add one: orac memory add \"our H100s cost $2.10 an hour\"\n");
            return sb.ToString();
        }

        var table = new TextTable("ID", "MEMORY", "READ AS", "SOURCE", "SAVED (UTC)");
        foreach (MemoryItem i in doc.Items)
        {
            table.Row(i.Id, i.Text, ReadAs(i.Fact), i.Source, FleetCommand.Rfc3339(i.CreatedMs));
        }

        sb.Append(table.Render());
        sb.Append(CultureInfo.InvariantCulture, $"{doc.Items.Count} {(doc.Items.Count == 1 ? "memory" : "memories")} of {Clean(doc.User)} in org {Clean(doc.Org)} (at most 200). Forget one: orac memory forget ID\n");
        return sb.ToString();
    }

    /// <summary>What Orac read a memory as, in words (units included).</summary>
    public static string ReadAs(MemoryFact f) => f.Kind switch
    {
        "gpu-price" => $"GPU price: {f.Subject} ${Num(f.UsdPerHour)} per GPU-hour",
        "vcpu-price" => $"vCPU price: ${Num(f.UsdPerHour)} per vCPU-hour",
        "owner" => $"owner: {f.Subject} belongs to {f.Value}",
        "alias" => $"alias: {f.Subject} = {f.Value}",
        "scope" => $"your scope: {f.Value}",
        "note" => "note (shown, not used by plans)",
        _ => f.Kind,
    };

    private static string Forgotten(MemoryForgetResult r)
    {
        var sb = new StringBuilder();
        foreach (MemoryItem i in r.Removed)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Forgot {i.Id}: \"{Clean(i.Text)}\"\n");
        }

        return sb.ToString();
    }

    private static bool IsId(string s)
    {
        if (s.Length < 2 || s[0] != 'm')
        {
            return false;
        }

        foreach (char c in s.AsSpan(1))
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static void NoArguments(ArgParser p, string sub, List<string> rest)
    {
        if (rest.Count > 0)
        {
            throw p.Usage($"{sub} takes no arguments, got '{rest[0]}'");
        }
    }

    internal static byte[] Send(ArgParser p, CliContext ctx, HttpMethod method, string path, byte[]? body)
    {
        using RemoteClient client = RemoteTarget.Resolve(p, ctx).Client();
        using ByteArrayContent? content = body is null ? null : FleetCommand.Json(body);
        return client.SendAsync(method, path, content).GetAwaiter().GetResult();
    }

    internal static T Parse<T>(byte[] answer, JsonTypeInfo<T> info, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(answer, info) ?? throw new JsonException("null document");
        }
        catch (JsonException e)
        {
            throw new OracException($"the server answered {what} with something that is not the expected document: {e.Message}");
        }
    }

    internal static void Output(CliContext ctx, bool json, byte[] answer, string text)
    {
        if (json)
        {
            FleetCommand.WriteJson(ctx, answer);
        }
        else
        {
            FleetCommand.Write(ctx, text);
        }
    }

    // Text from the server is shown, never interpreted: control characters become '?'.
    internal static string Clean(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }

    private static string Num(double? v) => v is double d ? d.ToString("0.00##", CultureInfo.InvariantCulture) : "?";

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  add \"TEXT\"        remember a fact (at most 500 characters); the server reads prices, owners, aliases and your scope");
        w.WriteLine("                    from it (\"our H100s cost $2.10 an hour\", \"service api belongs to the search org\")");
        w.WriteLine("  list              what Orac remembers: id, text, what Orac read it as, source, when it was saved (UTC)");
        w.WriteLine("  forget ID|TEXT    forget one memory by id (m3) or by words it contains (several matches: it lists them)");
        w.WriteLine("  clear             forget everything");
        w.WriteLine("  off | on          stop or restart using and saving memories (they are kept while off)");
        w.WriteLine("  --json            print the server's document");
        w.WriteLine("  --server URL      server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN     bearer token of a read or admin token; memory belongs to the token's name in its org");
        w.WriteLine("exit codes: 0 ok, 1 failure (the server's reason), 2 usage error");
    }
}
