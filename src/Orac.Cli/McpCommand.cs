using Orac.Mcp;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac mcp</c> verb (docs/mcp.md): Orac's tools, memory resource and persona prompt as an MCP server over
/// stdio, for an assistant to spawn. Every tool calls the server named like other remote verbs (<c>--server</c>,
/// <c>--token</c>, ORAC_SERVER/ORAC_TOKEN, the CLI config) with that token, so it sees what the token may see.
/// Standard output carries only the protocol; messages go to standard error. Ends when the client closes stdin.
/// </summary>
public static class McpCommand
{
    private const string UsageLine = "usage: orac mcp [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("mcp").Flag("--help", "-h"));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  an MCP server over stdio: tools (list_services, top_functions, diff, cost, opportunities, fleet_list,");
            ctx.Error.WriteLine("  start_research, research_result, health_check, ...), the resource orac://memory and the prompt orac_persona.");
            ctx.Error.WriteLine("  Add it to an assistant's MCP config as the command `orac mcp` (see docs/mcp.md).");
            return 0;
        }

        if (p.Positionals.Count > 0)
        {
            throw p.Usage($"mcp takes no arguments, got '{p.Positionals[0]}'");
        }

        RemoteTarget target = RemoteTarget.Resolve(p, ctx);
        if (target.Token is null)
        {
            throw new OracException($"orac mcp needs a token for {target.Server} (pass --token, set ORAC_TOKEN or run `orac up`)", OracException.Usage);
        }

        ctx.StopsGracefully = true;
        using var api = new OracApi(target.Client());
        ctx.Error.WriteLine($"orac mcp: serving MCP on stdio for {target.Server.ToString().TrimEnd('/')}");
        try
        {
            OracMcpServer.RunStdioAsync(ctx.StdIn, ctx.StdOut, api, ctx.Interrupt.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (ctx.Interrupt.IsCancellationRequested)
        {
            // Ctrl-C or SIGTERM: a normal end.
        }

        return 0;
    }
}
