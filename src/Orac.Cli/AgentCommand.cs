using System.Globalization;
using Orac.Agent;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac agent</c> verb (docs/agent.md, docs/fleet.md): the long-running host agent. Registers with the server,
/// heartbeats, profiles this host continuously and uploads through an on-disk spool, runs catalogue tasks. Runs until
/// Ctrl-C or SIGTERM, then stops gracefully (last interval spooled, one final upload attempt, spool kept).
/// </summary>
public static class AgentCommand
{
    private const string UsageLine = "usage: orac agent --server URL --token TOKEN [--hostname NAME] [--label k=v]... [--hz 19] [--state DIR] [--spool DIR] [--spool-max SIZE] [--upload-interval 10s] [--no-profile]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("agent"))
        .Option("--token-file")
        .Option("--hostname")
        .Repeatable("--label", "-l")
        .Option("--hz", "-F")
        .Option("--state")
        .Option("--spool")
        .Option("--spool-max")
        .Option("--upload-interval")
        .Flag("--no-profile")
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

        AgentOptions options = Options(p, ctx);
        return RunAsync(options, ctx).GetAwaiter().GetResult();
    }

    /// <summary>Parses and checks every option (usage errors exit 2 before anything starts).</summary>
    internal static AgentOptions Options(ArgParser p, CliContext ctx)
    {
        if (p.Has("--token") && p.Has("--token-file"))
        {
            throw p.Usage("--token and --token-file exclude each other");
        }

        RemoteTarget target = RemoteTarget.Resolve(p, ctx);
        string? token = p.Get("--token-file") is string file ? ReadTokenFile(file) : target.Token;
        if (string.IsNullOrEmpty(token))
        {
            throw p.Usage("needs a token: --token TOKEN, --token-file FILE or ORAC_TOKEN (create one with `orac admin token create --role ingest`)");
        }

        Dictionary<string, string> labels = ParseLabels(p);
        string? hostname = p.Get("--hostname");
        if (hostname is not null && !AgentInfoProbe.IsValidHostname(hostname))
        {
            throw p.Usage($"--hostname needs 1 to 253 of letters, digits, '.', '_' and '-' starting with a letter or digit, got '{hostname}'");
        }

        int hz = p.GetInt("--hz", ContinuousProfiler.DefaultHz);
        if (hz is < 1 or > 1000)
        {
            throw p.Usage($"--hz needs 1 to 1000, got {hz}");
        }

        TimeSpan interval = ContinuousProfiler.DefaultInterval;
        if (p.Get("--upload-interval") is string iv)
        {
            double seconds;
            try
            {
                seconds = Durations.ParseSeconds(p, iv, allowZero: false);
            }
            catch (OracException)
            {
                throw p.Usage($"--upload-interval needs a duration like 10s, 1m or 500ms, got '{iv}'");
            }

            if (seconds < 0.1 || seconds > 3600)
            {
                throw p.Usage($"--upload-interval must be between 100ms and 1h, got '{iv}'");
            }

            interval = TimeSpan.FromSeconds(seconds);
        }

        long spoolMax = p.Get("--spool-max") is string sm ? ParseSize(p, sm) : Spool.DefaultMaxBytes;
        string state = Path.GetFullPath(p.Get("--state") ?? DefaultStateDirectory(ctx.GetEnv));
        return new AgentOptions
        {
            Server = target.Server,
            Token = token,
            Hostname = hostname,
            StateDirectory = state,
            SpoolDirectory = p.Get("--spool") is string spool ? Path.GetFullPath(spool) : null,
            SpoolMaxBytes = spoolMax,
            Labels = labels,
            Hz = hz,
            UploadInterval = interval,
            Profile = !p.Has("--no-profile"),
            Log = ctx.Error,
        };
    }

    private static async Task<int> RunAsync(AgentOptions options, CliContext ctx)
    {
        await using FleetAgent agent = FleetAgent.Create(options);
        agent.OnRegistered = reg => ctx.Error.WriteLine(RegisteredLine(agent, reg));
        if (options.Profile && agent.CannotSampleReason is string why)
        {
            ctx.Error.WriteLine($"orac agent: not profiling this host ({why}); tasks that need no sampling still run");
        }

        ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"orac agent: {agent.Id} on {agent.Info.Hostname} connecting to {options.Server} (state {options.StateDirectory}, spool {agent.Spool.Directory}, at most {options.SpoolMaxBytes / 1048576.0:0.#} MiB)"));
        ctx.StopsGracefully = true;
        await agent.RunAsync(ctx.Interrupt.Token).ConfigureAwait(false);
        ctx.StopsGracefully = false;
        ctx.Error.WriteLine(StoppedLine(agent));
        return 0;
    }

    /// <summary>
    /// The last line: exact sample counts of this run (no digit grouping, so scripts can read them). Samples
    /// recorded = uploaded (less those the server already had) + dropped + refused + still spooled, when the spool
    /// started empty.
    /// </summary>
    internal static string StoppedLine(FleetAgent agent)
    {
        SpoolStats s = agent.Spool.Stats;
        return string.Create(CultureInfo.InvariantCulture,
            $"orac agent: stopped; samples: {agent.RecordedSamples} recorded, {agent.UploadedSamples} uploaded and acknowledged ({agent.Sender.DuplicateSamples} of them already on the server), {s.DroppedSamples} dropped (spool full), {agent.Sender.RejectedSamples} refused by the server, {agent.Spool.WaitingSamples} still spooled ({s.Files} uploads)");
    }

    /// <summary>The one line printed at registration.</summary>
    internal static string RegisteredLine(FleetAgent agent, AgentRegistration reg) =>
        string.Create(CultureInfo.InvariantCulture,
            $"orac agent: registered host {agent.Info.Hostname} as {reg.AgentId} in org {reg.Org} (capabilities: {(agent.Info.Capabilities.Count == 0 ? "none" : string.Join(", ", agent.Info.Capabilities))})");

    /// <summary>STATE default: /var/lib/orac-agent for root, else $XDG_STATE_HOME/orac-agent or ~/.local/state/orac-agent.</summary>
    public static string DefaultStateDirectory(Func<string, string?> env)
    {
        if (SelfOverhead.IsRoot)
        {
            return "/var/lib/orac-agent";
        }

        string? xdg = env("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "orac-agent");
        }

        string? home = env("HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        if (string.IsNullOrEmpty(home))
        {
            throw new OracException("agent: cannot find a state folder: HOME is not set (pass --state DIR)");
        }

        return Path.Combine(home, ".local", "state", "orac-agent");
    }

    private static string ReadTokenFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new OracException($"{path}: token file not found");
            }

            if (info.Length > 4096)
            {
                throw new OracException($"{path}: the token file is {info.Length:N0} bytes; a token is one short line");
            }

            string token = File.ReadAllText(path).Trim();
            if (token.Length == 0 || token.Any(char.IsControl) || token.Contains(' ', StringComparison.Ordinal))
            {
                throw new OracException($"{path}: the token file must hold one token on one line");
            }

            return token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read the token file: {e.Message}");
        }
    }

    /// <summary>--label k=v, repeatable: names like Prometheus labels; <c>host</c> is the server's.</summary>
    internal static Dictionary<string, string> ParseLabels(ArgParser p)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string label in p.GetAll("--label"))
        {
            int eq = label.IndexOf('=', StringComparison.Ordinal);
            string name = eq > 0 ? label[..eq] : "";
            string value = eq > 0 ? label[(eq + 1)..] : "";
            if (name.Length == 0 || value.Length == 0)
            {
                throw p.Usage($"--label needs NAME=VALUE, got '{label}'");
            }

            if (!(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || name.Length > 100)
            {
                throw p.Usage($"--label name '{name}' must be letters, digits and '_' (not starting with a digit)");
            }

            if (name == "host")
            {
                throw p.Usage("--label host=… is set by the agent from the host name");
            }

            if (value.Length > 1000 || value.Any(char.IsControl))
            {
                throw p.Usage($"--label {name}: the value must be one line of at most 1000 characters");
            }

            labels[name] = value;
        }

        return labels;
    }

    /// <summary>Parses <c>256MiB</c>, <c>256M</c>, <c>1GiB</c>, <c>512k</c>, <c>1048576</c> (bytes; K/M/G are powers of 1024).</summary>
    internal static long ParseSize(ArgParser p, string text)
    {
        string t = text.Trim();
        long scale = 1;
        string lower = t.ToLowerInvariant();
        foreach ((string suffix, long s) in new (string, long)[] { ("gib", 1L << 30), ("mib", 1L << 20), ("kib", 1L << 10), ("gb", 1L << 30), ("mb", 1L << 20), ("kb", 1L << 10), ("g", 1L << 30), ("m", 1L << 20), ("k", 1L << 10), ("b", 1) })
        {
            if (lower.EndsWith(suffix, StringComparison.Ordinal))
            {
                scale = s;
                t = t[..^suffix.Length];
                break;
            }
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v <= 0 || v * scale < 64 * 1024 || v * scale > (1L << 40))
        {
            throw p.Usage($"--spool-max needs a size from 64KiB to 1TiB like 256MiB or 1G, got '{text}'");
        }

        return (long)(v * scale);
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  --server URL          the Orac server (else ORAC_SERVER, else the CLI config)");
        w.WriteLine("  --token TOKEN         an ingest token of the host's org (else ORAC_TOKEN, else the CLI config)");
        w.WriteLine("  --token-file FILE     read the token from FILE (for systemd: keep it out of the command line)");
        w.WriteLine("  --hostname NAME       the host name to register and label uploads with (default: the machine name; several agents on one machine or containers need distinct ones)");
        w.WriteLine("  --label k=v           a label of this host (repeatable); service_name=S names the uploads' service (default \"host\")");
        w.WriteLine($"  --hz N                continuous profiling rate until an operator sets one with `orac fleet set` (default {ContinuousProfiler.DefaultHz})");
        w.WriteLine("  --state DIR           agent id and spool (default /var/lib/orac-agent as root, else ~/.local/state/orac-agent)");
        w.WriteLine("  --spool DIR           upload spool (default STATE/spool)");
        w.WriteLine("  --spool-max SIZE      spool bound; the oldest uploads are dropped (and counted) beyond it (default 256MiB)");
        w.WriteLine($"  --upload-interval DUR how often the continuous profile is uploaded (default {ContinuousProfiler.DefaultInterval.TotalSeconds:0}s)");
        w.WriteLine("  --no-profile          no continuous profiling; research tasks still run");
        w.WriteLine("Connects outbound only. Runs until Ctrl-C or SIGTERM, then uploads what it can, keeps the rest on disk and prints its sample counts. See docs/agent.md.");
    }
}
