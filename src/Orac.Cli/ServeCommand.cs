using System.Runtime.InteropServices;
using Orac.Model;
using Orac.Server;
using Orac.Storage;

namespace Orac.Cli;

/// <summary>
/// The <c>orac serve</c> verb: the HTTP server (ingest, queries, web UI) on 127.0.0.1:4040 unless told otherwise.
/// On first run it creates org <c>local</c> and prints an admin token once to standard error. Runs until SIGINT or
/// SIGTERM, then stops gracefully (requests in flight finish).
/// </summary>
public static class ServeCommand
{
    private const string UsageLine = "usage: orac serve [--listen ADDR] [--data DIR] [--memory] [--cost-model FILE]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("serve")
        .Option("--listen", "-l")
        .Option("--data")
        .Flag("--memory")
        .Option("--cost-model")
        .Flag("--help", "-h");

    /// <summary>Default data folder: <c>$XDG_DATA_HOME/orac</c>, else <c>~/.local/share/orac</c>.</summary>
    public static string DefaultDataDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "orac");
    }

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine($"  --listen ADDR  IP:PORT to bind (default {ServerOptions.DefaultListen}; 0.0.0.0:4040 for every interface)");
            ctx.Error.WriteLine($"  --data DIR     data folder: orgs and tokens (auth.json) and profiles (default {DefaultDataDirectory()})");
            ctx.Error.WriteLine("  --memory       keep everything in memory: nothing survives a restart (tests, demos)");
            ctx.Error.WriteLine("  --cost-model FILE  cost model the cost routes price with (default: built-in defaults; docs/cost.md)");
            ctx.Error.WriteLine("API: docs/api.md; running it: docs/serve.md");
            return 0;
        }

        if (p.Positionals.Count > 0)
        {
            throw p.Usage($"unexpected argument '{p.Positionals[0]}'");
        }

        var options = new ServerOptions
        {
            Listen = p.Get("--listen") ?? ServerOptions.DefaultListen,
            DataDirectory = p.Get("--data") ?? DefaultDataDirectory(),
            InMemory = p.Has("--memory"),
            CostModelPath = p.Get("--cost-model"),
        };

        ctx.StopsGracefully = true;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            ctx.Interrupt.Cancel();
        });
        return RunAsync(options, ctx).GetAwaiter().GetResult();
    }

    /// <summary>The store <c>orac serve</c> and <c>orac up</c> run on (one place to choose it).</summary>
    internal static IProfileStore OpenStore(ServerOptions options, TextWriter? log = null) =>
        options.InMemory
            ? new MemoryProfileStore()
            : TieredProfileStore.Open(options.DataDirectory, new StorageOptions { Log = log is null ? null : line => log.WriteLine($"orac: store: {line}") });

    private static async Task<int> RunAsync(ServerOptions options, CliContext ctx)
    {
        await using IProfileStore store = OpenStore(options, ctx.Error);
        await using OracServer server = OracServer.Create(options, store, log: ctx.Error);
        string? token = server.Auth.Bootstrap();
        if (!options.InMemory)
        {
            ctx.Error.WriteLine($"orac: data in {options.DataDirectory} (orgs and tokens, write-ahead log, DuckDB file)");
        }

        if (token is not null)
        {
            ctx.Error.WriteLine($"orac: first run: created org 'local' and an admin token (shown once, keep it):");
            ctx.Error.WriteLine(token);
        }

        try
        {
            await server.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new OracException($"cannot listen on {options.Listen}: {e.Message}");
        }

        try
        {
            await Task.Delay(Timeout.Infinite, ctx.Interrupt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        ctx.Error.WriteLine("orac: stopping");
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }
}
