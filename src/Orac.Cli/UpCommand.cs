using System.Globalization;
using System.Text;
using Orac.Agent;
using Orac.Model;
using Orac.Server;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Cli;

/// <summary>
/// The <c>orac up</c> verb, Orac's main command: starts the server in this process (the same
/// <see cref="OracServer"/> and store as <c>orac serve</c>), creates the local org and an admin token on first
/// run, writes the server's URL and token to the CLI config (so <c>push</c> and <c>query</c> need no flags),
/// runs the host agent in this process against it (<see cref="FleetAgent"/>, the same agent as <c>orac agent</c>:
/// this host shows in <c>orac fleet ls</c>, is profiled continuously and takes research tasks), prints the web UI
/// address and runs until Ctrl-C or SIGTERM, then stops gracefully: last upload, server stopped, store flushed.
/// </summary>
public static class UpCommand
{
    private const string UsageLine = "usage: orac up [--listen ADDR] [--data DIR] [--no-record] [--upload-interval DUR] [--cost-model FILE]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("up")
        .Option("--listen")
        .Option("--data")
        .Flag("--no-record")
        .Option("--upload-interval")
        .Option("--cost-model")
        .Flag("--help", "-h");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count > 0)
        {
            throw p.Usage($"unexpected argument '{p.Positionals[0]}'");
        }

        string listen = p.Get("--listen") ?? ServerOptions.DefaultListen;
        OracServer.ParseListen(listen);
        string data = Path.GetFullPath(p.Get("--data") ?? ServeCommand.DefaultDataDirectory());
        TimeSpan interval = ContinuousProfiler.DefaultInterval;
        if (p.Get("--upload-interval") is string iv)
        {
            try
            {
                interval = TimeSpan.FromSeconds(Durations.ParseSeconds(p, iv, allowZero: false));
            }
            catch (OracException)
            {
                throw p.Usage($"--upload-interval needs a duration like 10s, 1m or 500ms, got '{iv}'");
            }
        }
        var options = new ServerOptions { Listen = listen, DataDirectory = data, CostModelPath = p.Get("--cost-model") };

        // A bad model stops here, before the first run's admin token is created (and would be lost unseen).
        OracServer.LoadCostModel(options);
        return RunAsync(options, !p.Has("--no-record"), interval, ctx).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(ServerOptions options, bool record, TimeSpan interval, CliContext ctx)
    {
        AuthStore auth = AuthStore.Open(options.DataDirectory);
        string? firstToken = auth.Bootstrap();
        await using IProfileStore store = ServeCommand.OpenStore(options, ctx.Error);
        await using OracServer server = OracServer.Create(options, store, auth, ctx.Error);
        try
        {
            await server.StartAsync(ctx.Interrupt.Token).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new OracException($"up: cannot listen on {options.Listen}: {e.Message} (is another orac up or Pyroscope running? try --listen 127.0.0.1:0)");
        }

        Uri url = LocalUrl(server.Address ?? throw new OracException("up: the server started but reports no address"));
        string configPath = CliConfig.PathFor(ctx.GetEnv);
        string token = firstToken ?? ReuseToken(configPath, auth) ?? auth.CreateToken(AuthStore.DefaultOrg, Role.Admin, "orac up");
        (KeptSettings(configPath) with { Server = url.ToString().TrimEnd('/'), Token = token }).Save(configPath);
        ctx.Error.WriteLine(firstToken is not null
            ? $"orac up: data in {options.DataDirectory} (first run: created org '{AuthStore.DefaultOrg}' and an admin token)"
            : $"orac up: data in {options.DataDirectory}");
        ctx.Error.WriteLine($"orac up: CLI config written to {configPath} (server and token; push and query use it)");

        ctx.StopsGracefully = true;

        // The host agent, in process, against this server with the admin token: uploads go through the same ingest
        // route, spool and auth as every other agent's. Its id and spool live under DATA/agent.
        await using FleetAgent agent = FleetAgent.Create(new AgentOptions
        {
            Server = url,
            Token = token,
            StateDirectory = Path.Combine(options.DataDirectory, "agent"),
            UploadInterval = interval,
            Profile = record,
            Log = ctx.Error,
        });
        agent.OnRegistered = reg => ctx.Error.WriteLine(AgentCommand.RegisteredLine(agent, reg));
        bool recording = agent.Profiler is not null;
        if (!record)
        {
            ctx.Error.WriteLine("orac up: not recording this host (--no-record)");
        }
        else if (!recording)
        {
            ctx.Error.WriteLine($"orac up: not recording this host ({agent.CannotSampleReason}); the server runs without it");
        }
        else
        {
            ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"orac up: recording this host ({agent.Info.Cpus} CPUs at {ContinuousProfiler.DefaultHz} Hz), uploading every {interval.TotalSeconds:0.###} s as service_name=\"{ContinuousProfiler.DefaultService}\", host=\"{Environment.MachineName}\""));
        }

        agent.Start();

        using (Stream output = ctx.OpenOutput(null))
        {
            output.Write(Encoding.UTF8.GetBytes($"orac up: open {url.ToString().TrimEnd('/')}/#token={token}\n"));
        }

        try
        {
            await Task.Delay(Timeout.Infinite, ctx.Interrupt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        ctx.Error.WriteLine("orac up: stopping (uploading the last interval, flushing the store)");
        await agent.StopAsync().ConfigureAwait(false);
        long uploaded = agent.UploadedSamples;

        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        ctx.StopsGracefully = false;
        ctx.Error.WriteLine(!recording
            ? "orac up: stopped"
            : string.Create(CultureInfo.InvariantCulture, $"orac up: stopped; {uploaded:N0} samples of this host were stored"));
        return 0;
    }

    /// <summary>The token in the CLI config when this server knows it (a later run on the same data folder).</summary>
    /// <summary>The config's other settings (the <c>ask --llm</c> endpoint) survive <c>up</c>; a broken file is replaced whole.</summary>
    private static CliConfig KeptSettings(string configPath)
    {
        try
        {
            return CliConfig.Load(configPath);
        }
        catch (OracException)
        {
            return new CliConfig();
        }
    }

    private static string? ReuseToken(string configPath, AuthStore auth)
    {
        string? token;
        try
        {
            token = CliConfig.Load(configPath).Token;
        }
        catch (OracException)
        {
            return null; // a broken config is replaced below
        }

        return token is not null && auth.Authenticate(token) is { Role: Role.Admin } ? token : null;
    }

    /// <summary>The address local clients use: a wildcard bind (0.0.0.0, [::]) is reached on loopback.</summary>
    private static Uri LocalUrl(Uri bound)
    {
        if (bound.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*")
        {
            return new UriBuilder(bound) { Host = bound.Host.Contains(':', StringComparison.Ordinal) || bound.Host == "[::]" ? "[::1]" : "127.0.0.1" }.Uri;
        }

        return bound;
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine($"  --listen ADDR           where the server answers (default {ServerOptions.DefaultListen}; port 0 picks a free one)");
        w.WriteLine("  --data DIR              data folder: write-ahead log, DuckDB file, orgs and tokens (default $XDG_DATA_HOME/orac or ~/.local/share/orac)");
        w.WriteLine("  --no-record             serve only; do not sample this host");
        w.WriteLine($"  --upload-interval DUR   how often this host's profile is uploaded (default {ContinuousProfiler.DefaultInterval.TotalSeconds:0}s)");
        w.WriteLine("  --cost-model FILE       cost model the cost routes price with (default: built-in defaults; docs/cost.md)");
        w.WriteLine($"Runs the host agent in process: records this host at {ContinuousProfiler.DefaultHz} Hz on every CPU (needs root, CAP_PERFMON or a low kernel.perf_event_paranoid; without, it says so and serves only),");
        w.WriteLine("shows it in `orac fleet ls` and runs research tasks on it; its id and upload spool live in DATA/agent.");
        w.WriteLine("Writes the server URL and token to the CLI config ($XDG_CONFIG_HOME/orac/config.json, mode 0600). Ctrl-C or SIGTERM stops it gracefully.");
    }
}
