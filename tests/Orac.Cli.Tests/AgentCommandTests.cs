using System.Diagnostics;
using Orac.Agent;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server;
using Orac.Storage;

namespace Orac.Cli.Tests;

/// <summary><c>orac agent</c>'s options: where server and token come from, labels, sizes, and usage errors.</summary>
public sealed class AgentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-agent-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CliContext Context(StringWriter err, params (string Name, string Value)[] env) => new()
    {
        StdIn = Stream.Null,
        StdOut = new MemoryStream(),
        Error = err,
        GetEnv = name => name == "XDG_CONFIG_HOME" ? Path.Combine(_dir, "config") : env.FirstOrDefault(v => v.Name == name).Value,
    };

    private AgentOptions Parse(string line, params (string Name, string Value)[] env)
    {
        ArgParser p = AgentCommand.Create().Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return AgentCommand.Options(p, Context(new StringWriter(), env));
    }

    [Fact]
    public void Options_FromFlags_AreAllTaken()
    {
        AgentOptions o = Parse($"--server http://fleet:4040 --token orac_t --label service_name=api --label zone=eu-1 --hz 49 --state {_dir}/s --spool {_dir}/q --spool-max 64MiB --upload-interval 5s --no-profile");
        Assert.Equal(new Uri("http://fleet:4040"), o.Server);
        Assert.Equal("orac_t", o.Token);
        Assert.Equal(new Dictionary<string, string> { ["service_name"] = "api", ["zone"] = "eu-1" }, o.Labels);
        Assert.Equal(49, o.Hz);
        Assert.Equal($"{_dir}/s", o.StateDirectory);
        Assert.Equal($"{_dir}/q", o.SpoolDirectory);
        Assert.Equal(64L << 20, o.SpoolMaxBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), o.UploadInterval);
        Assert.False(o.Profile);
        Assert.Null(o.Hostname);
    }

    [Fact]
    public void Hostname_IsTaken_AndUsedForRegistrationUploadsAndTheId()
    {
        AgentOptions o = Parse($"--server http://fleet:4040 --token orac_t --hostname node-a.rack_1 --state {_dir}/h");
        Assert.Equal("node-a.rack_1", o.Hostname);

        AgentInfo info = AgentInfoProbe.Probe("id-1", o.Hostname!, o.Labels, canSample: false);
        Assert.Equal("node-a.rack_1", info.Hostname);
        Assert.StartsWith("node-a.rack_1-", AgentInfoProbe.LoadOrCreateId(Path.Combine(_dir, "h"), o.Hostname), StringComparison.Ordinal);
        string path = ContinuousProfiler.UploadPath(o.Hostname!, o.Labels, new Dictionary<string, string>(), 1000, 2000);
        Assert.Contains("label=host%3Dnode-a.rack_1", path, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ServerAndTokenFromEnvironment_TokenFromFile()
    {
        AgentOptions env = Parse($"--state {_dir}/s", ("ORAC_SERVER", "http://srv:9"), ("ORAC_TOKEN", "orac_env"));
        Assert.Equal(new Uri("http://srv:9"), env.Server);
        Assert.Equal("orac_env", env.Token);
        Assert.Equal(19, env.Hz);
        Assert.Equal(Spool.DefaultMaxBytes, env.SpoolMaxBytes);
        Assert.True(env.Profile);
        Assert.Null(env.SpoolDirectory);

        string file = Path.Combine(_dir, "token");
        File.WriteAllText(file, "orac_fromfile\n");
        AgentOptions fromFile = Parse($"--server http://srv:9 --token-file {file} --state {_dir}/s", ("ORAC_TOKEN", "orac_env"));
        Assert.Equal("orac_fromfile", fromFile.Token);
    }

    [Theory]
    [InlineData("--server http://s:1", "needs a token")]
    [InlineData("--server http://s:1 --token t --token-file f", "--token and --token-file exclude each other")]
    [InlineData("--server http://s:1 --token t --label nolabel", "--label needs NAME=VALUE")]
    [InlineData("--server http://s:1 --token t --label 9x=1", "must be letters, digits and '_'")]
    [InlineData("--server http://s:1 --token t --label host=web-1", "set by the agent from the host name")]
    [InlineData("--server http://s:1 --token t --hz 0", "--hz needs 1 to 1000")]
    [InlineData("--server http://s:1 --token t --hz 5000", "--hz needs 1 to 1000")]
    [InlineData("--server http://s:1 --token t --spool-max lots", "--spool-max needs a size")]
    [InlineData("--server http://s:1 --token t --spool-max 1k", "--spool-max needs a size")]
    [InlineData("--server http://s:1 --token t --upload-interval 0", "--upload-interval")]
    [InlineData("--server http://s:1 --token t --hostname -lead", "--hostname needs 1 to 253")]
    [InlineData("--server http://s:1 --token t --hostname a/b", "--hostname needs 1 to 253")]
    [InlineData("--server http://s:1 --token t --hostname .hidden", "--hostname needs 1 to 253")]
    [InlineData("--server http://s:1 --token t --hostname", "--hostname")]
    [InlineData("--server ftp://s --token t", "bad server URL")]
    [InlineData("--server http://s:1 --token t extra", "unexpected argument 'extra'")]
    public void BadArguments_AreUsageErrors(string line, string expected)
    {
        var err = new StringWriter();
        int code = Program.Run(["agent", .. line.Split(' ')], Context(err));
        Assert.Equal(OracException.Usage, code);
        Assert.Contains(expected, err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TokenFile_Missing_IsOneLine()
    {
        var err = new StringWriter();
        int code = Program.Run(["agent", "--server", "http://s:1", "--token-file", Path.Combine(_dir, "nope")], Context(err));
        Assert.Equal(OracException.Failure, code);
        Assert.Contains("token file not found", err.ToString(), StringComparison.Ordinal);
        Assert.Single(err.ToString().Trim().Split('\n'));
    }

    [Fact]
    public void Help_ListsEveryOption()
    {
        var err = new StringWriter();
        Assert.Equal(0, Program.Run(["agent", "--help"], Context(err)));
        foreach (string option in new[] { "--server", "--token", "--token-file", "--hostname", "--label", "--hz", "--state", "--spool", "--spool-max", "--upload-interval", "--no-profile" })
        {
            Assert.Contains(option, err.ToString(), StringComparison.Ordinal);
        }

        var top = new StringWriter();
        Program.Run(["--help"], Context(top));
        Assert.Contains("  agent ", top.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultState_IsVarLibForRoot_ElseXdgStateOrHome()
    {
        string d = AgentCommand.DefaultStateDirectory(n => n == "HOME" ? "/home/u" : null);
        Assert.Equal(SelfOverhead.IsRoot ? "/var/lib/orac-agent" : "/home/u/.local/state/orac-agent", d);
    }

    [Fact]
    public async Task Agent_RegistersWithARealServer_PrintsOneLine_StopsOnInterrupt()
    {
        await using var store = new MemoryProfileStore();
        await using OracServer server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = Path.Combine(_dir, "data") }, store, log: TextWriter.Null);
        Assert.NotNull(server.Auth.Bootstrap()); // creates the org 'local'
        string ingest = server.Auth.CreateToken("local", Orac.Server.Auth.Role.Ingest, "agents");
        await server.StartAsync();

        var err = new SyncWriter();
        CliContext ctx = Context(err);
        Task<int> run = Task.Run(() => Program.Run(["agent", "--server", server.Address!.ToString(), "--token", ingest, "--state", Path.Combine(_dir, "state"), "--no-profile", "--label", "service_name=clitest"], ctx));
        var watch = Stopwatch.StartNew();
        while (!err.ToString().Contains("registered host", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20) && !run.IsCompleted, "no registration line:\n" + err);
            await Task.Delay(50);
        }

        string line = Assert.Single(err.ToString().Split('\n'), l => l.Contains("registered host", StringComparison.Ordinal));
        Assert.Matches(@"^orac agent: registered host \S+ as \S+ in org local \(capabilities: [a-z, ]+\)$", line.TrimEnd('\r'));
        Assert.True(File.Exists(Path.Combine(_dir, "state", "agent-id")));

        await ctx.Interrupt.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("orac agent: stopped;", err.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err.ToString(), StringComparison.Ordinal);
        await server.StopAsync();
    }

    /// <summary>A StringWriter safe to read while the agent writes from its threads.</summary>
    private sealed class SyncWriter : StringWriter
    {
        private readonly object _gate = new();

        public override void Write(char value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return base.ToString();
            }
        }
    }
}
