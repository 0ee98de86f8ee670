using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Cli;

/// <summary>The <c>orac</c> command: dispatches to one static class per verb.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        using var stdin = Console.OpenStandardInput();
        using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        var error = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
        var ctx = new CliContext { StdIn = stdin, StdOut = stdout, Error = error };
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
        {
            if (ctx.StopsGracefully && !ctx.Interrupt.IsCancellationRequested)
            {
                // The verb stops its work and still writes what it has (and says it is partial).
                signal.Cancel = true;
                ctx.Interrupt.Cancel();
                return;
            }

            // Ctrl-C: stop at once with the conventional status; partial output is not flushed as if complete.
            error.WriteLine("orac: interrupted");
            Environment.Exit(130);
        });
        // SIGTERM (systemd, docker stop, kill): a verb that stops gracefully (orac up) finishes its work as on
        // Ctrl-C; any other verb ends as the signal's default says.
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            if (ctx.StopsGracefully && !ctx.Interrupt.IsCancellationRequested)
            {
                signal.Cancel = true;
                ctx.Interrupt.Cancel();
            }
        });
        int code = Run(args, ctx);
        try
        {
            stdout.Flush();
        }
        catch (IOException)
        {
            // stdout closed early (e.g. piped into head): not an error worth a stack trace.
        }

        return code;
    }

    /// <summary>Runs one command line against <paramref name="ctx"/> and returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            Help.Write(ctx.Error);
            return args.Count == 0 ? OracException.Usage : 0;
        }

        string verb = args[0];
        var rest = args.Skip(1).ToArray();
        try
        {
            return verb switch
            {
                "collapse" => CollapseCommand.Run(rest, ctx),
                "flamegraph" => FlamegraphCommand.Run(rest, ctx),
                "diff" => DiffCommand.Run(rest, ctx),
                "top" => TopCommand.Run(rest, ctx),
                "record" => RecordCommand.Run(rest, ctx),
                "pmc" => PmcCommand.Run(rest, ctx),
                "check" => CheckCommand.Run(rest, ctx),
                "trace" => TraceCommand.Run(rest, ctx),
                "up" => UpCommand.Run(rest, ctx),
                "agent" => AgentCommand.Run(rest, ctx),
                "serve" => ServeCommand.Run(rest, ctx),
                "admin" => AdminCommand.Run(rest, ctx),
                "push" => PushCommand.Run(rest, ctx),
                "query" => QueryCommand.Run(rest, ctx),
                "fleet" => FleetCommand.Run(rest, ctx),
                "research" => ResearchCommand.Run(rest, ctx),
                "cost" => CostCommand.Run(rest, ctx),
                "opportunities" => OpportunitiesCommand.Run(rest, ctx),
                "report" => ReportCommand.Run(rest, ctx),
                "mcp" => McpCommand.Run(rest, ctx),
                "version" or "--version" => Version(ctx),
                _ => throw new OracException($"unknown verb '{verb}' (try 'orac --help')", OracException.Usage),
            };
        }
        catch (OracException e)
        {
            ctx.Error.WriteLine($"orac: {e.Message}");
            return e.ExitCode;
        }
        catch (IOException e) when (e.HResult == 32 || e.Message.Contains("Broken pipe", StringComparison.Ordinal))
        {
            return OracException.Failure;
        }
    }

    private static int Version(CliContext ctx)
    {
        string v = typeof(Program).Assembly.GetName().Version?.ToString() ?? "0";
        ctx.Error.WriteLine($"orac {v}");
        return 0;
    }
}

/// <summary>The top-level help text.</summary>
internal static class Help
{
    public static void Write(TextWriter w)
    {
        w.WriteLine("orac - performance engineering for fleets of machines");
        w.WriteLine();
        w.WriteLine("usage: orac <verb> [options] [FILE...]   (FILE may be '-' for stdin; gzip is detected)");
        w.WriteLine();
        w.WriteLine("  collapse perf   perf script text -> folded stacks (stackcollapse-perf.pl compatible)");
        w.WriteLine("  flamegraph      folded stacks or perf script -> interactive SVG (flamegraph.pl compatible)");
        w.WriteLine("  diff            two folded files -> three-column differential folded (difffolded.pl compatible)");
        w.WriteLine("  top             top functions by self and total, with units");
        w.WriteLine("  record          sample on-CPU stacks with perf_event_open -> flame graph SVG or folded, plus a top-10 table");
        w.WriteLine("  pmc             count task-clock, context switches, migrations, page faults (and hardware counters where present)");
        w.WriteLine("  check           this host's 60-second analysis from /proc and /sys: a USE table with problems flagged");
        w.WriteLine("  trace           run a vetted bpftrace tool (runqlat, biolatency, syscount, execsnoop, offcpu)");
        w.WriteLine("  up              the server here + this host recorded continuously + the CLI configured; prints the web UI address");
        w.WriteLine("  serve           HTTP server: Pyroscope-compatible ingest, queries, web UI (127.0.0.1:4040)");
        w.WriteLine("  agent           host agent for a fleet: continuous profiling, research tasks, uploads buffered on disk");
        w.WriteLine("  admin           create orgs and API tokens (org create NAME; token create --org ORG --role ROLE)");
        w.WriteLine("  push            send profile files (folded, Orac JSON, pprof) to a server");
        w.WriteLine("  query           ask a server: top table, SVG, folded, flame tree JSON, or a diff of two selections");
        w.WriteLine("  fleet           the agents: ls (status, rate, own CPU/RSS, spool), set (--hz, --pause, --resume, --label), audit");
        w.WriteLine("  research        delegate work to the agents now: profile, check, pmc, trace TOOL; ls and show past tasks");
        w.WriteLine("  cost            $, kWh and kgCO2e of files or a server's selection: total, idle, per year, per function/service/host/GPU");
        w.WriteLine("  opportunities   the ranked backlog of wins: functions, libraries, patterns, stranded GPUs by annual cost, with savings");
        w.WriteLine("  mcp             an MCP server on stdio for AI assistants: Orac's operations as tools, memory, persona (also /mcp on the server)");
        w.WriteLine("  report orgs     (admin) the multi-org report: cost, energy, CO2e, change and top opportunities per org (md, csv, json, html)");
        w.WriteLine();
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error, 3 partial answer (research: some hosts missing; cost, opportunities, report: some data missing)");
    }
}
