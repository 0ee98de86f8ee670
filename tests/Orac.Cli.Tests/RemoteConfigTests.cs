using System.Net;
using System.Net.Sockets;
using Orac.Model;

namespace Orac.Cli.Tests;

/// <summary>The CLI config file, how remote verbs pick server and token, format sniffing for push, and an absent server.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RemoteConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void ConfigPath_HonoursXdgConfigHome_ElseHomeDotConfig()
    {
        Assert.Equal("/x/cfg/orac/config.json", CliConfig.PathFor(Env(("XDG_CONFIG_HOME", "/x/cfg"), ("HOME", "/home/u"))));
        Assert.Equal("/home/u/.config/orac/config.json", CliConfig.PathFor(Env(("HOME", "/home/u"))));

        // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
        Assert.Equal("/home/u/.config/orac/config.json", CliConfig.PathFor(Env(("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/u"))));
    }

    [Fact]
    public void ConfigSave_IsPrivateAndAtomic_AndLoadsBack()
    {
        string folder = Path.Combine(_dir, "orac");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
        string path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, "{\"server\":\"http://old:1\"}");
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("644", 8));

        new CliConfig { Server = "http://127.0.0.1:4040", Token = "orac_secret" }.Save(path);

        Assert.Equal((UnixFileMode)Convert.ToInt32("700", 8), File.GetUnixFileMode(folder));
        Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(path));
        Assert.Equal(["config.json"], Directory.GetFiles(folder).Select(Path.GetFileName));
        CliConfig back = CliConfig.Load(path);
        Assert.Equal("http://127.0.0.1:4040", back.Server);
        Assert.Equal("orac_secret", back.Token);
    }

    [Fact]
    public void ConfigSave_CreatesFolder0700()
    {
        string path = Path.Combine(_dir, "a", "orac", "config.json");
        new CliConfig { Token = "t" }.Save(path);
        Assert.Equal((UnixFileMode)Convert.ToInt32("700", 8), File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(path));
        Assert.Null(CliConfig.Load(path).Server);
    }

    [Theory]
    [InlineData("{\"server\": ", "not valid JSON (line 1")]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("{\"token\": 5}", "'token' must be a string, not number")]
    public void ConfigLoad_BadFile_IsOneClearError(string text, string expected)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, text);
        var e = Assert.Throws<OracException>(() => CliConfig.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigLoad_InvalidUtf8InString_IsOneClearError()
    {
        // Found by CliFuzzTests: a string with a stray 0xC2 byte made JsonElement.GetString throw InvalidOperationException.
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllBytes(path, [.. "{\"server\": \"http://x:1"u8, 0xC2, .. "\"}"u8]);
        var e = Assert.Throws<OracException>(() => CliConfig.Load(path));
        Assert.Contains("'server' is not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigLoad_Absent_IsEmpty() => Assert.Equal(new CliConfig(), CliConfig.Load(Path.Combine(_dir, "none.json")));

    [Fact]
    public void Target_FlagsBeatEnvironment_EnvironmentBeatsConfig()
    {
        string cfgHome = Path.Combine(_dir, "xdg");
        new CliConfig { Server = "http://cfg:1", Token = "cfg-token" }.Save(Path.Combine(cfgHome, "orac", "config.json"));
        RemoteTarget Resolve(string[] args, params (string, string)[] env)
        {
            var ctx = new CliContext { StdIn = Stream.Null, StdOut = Stream.Null, Error = TextWriter.Null, GetEnv = Env([("XDG_CONFIG_HOME", cfgHome), .. env]) };
            return RemoteTarget.Resolve(RemoteTarget.AddOptions(new ArgParser("t")).Parse(args), ctx);
        }

        RemoteTarget fromConfig = Resolve([]);
        Assert.Equal(new Uri("http://cfg:1"), fromConfig.Server);
        Assert.Equal("cfg-token", fromConfig.Token);

        RemoteTarget fromEnv = Resolve([], ("ORAC_SERVER", "http://env:2"), ("ORAC_TOKEN", "env-token"));
        Assert.Equal(new Uri("http://env:2"), fromEnv.Server);
        Assert.Equal("env-token", fromEnv.Token);

        RemoteTarget fromFlags = Resolve(["--server", "flag:3", "--token", "flag-token"], ("ORAC_SERVER", "http://env:2"), ("ORAC_TOKEN", "env-token"));
        Assert.Equal(new Uri("http://flag:3"), fromFlags.Server);
        Assert.Equal("flag-token", fromFlags.Token);

        // The token alone from the environment, the server from the config.
        RemoteTarget mixed = Resolve([], ("ORAC_TOKEN", "env-token"));
        Assert.Equal(new Uri("http://cfg:1"), mixed.Server);
        Assert.Equal("env-token", mixed.Token);
    }

    [Fact]
    public void Target_NothingConfigured_IsLocalDefault()
    {
        var ctx = new CliContext { StdIn = Stream.Null, StdOut = Stream.Null, Error = TextWriter.Null, GetEnv = Env(("XDG_CONFIG_HOME", _dir)) };
        RemoteTarget t = RemoteTarget.Resolve(RemoteTarget.AddOptions(new ArgParser("t")).Parse([]), ctx);
        Assert.Equal(new Uri(RemoteTarget.DefaultServer), t.Server);
        Assert.Null(t.Token);
    }

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("http://")]
    public void Target_BadServerUrl_IsUsageError(string url)
    {
        var ctx = new CliContext { StdIn = Stream.Null, StdOut = Stream.Null, Error = TextWriter.Null, GetEnv = Env(("XDG_CONFIG_HOME", _dir)) };
        var e = Assert.Throws<OracException>(() => RemoteTarget.Resolve(RemoteTarget.AddOptions(new ArgParser("t")).Parse(["--server", url]), ctx));
        Assert.Equal(OracException.Usage, e.ExitCode);
    }

    public static TheoryData<byte[], string> SniffCases() => new()
    {
        // sample_type {type: 1, unit: 2}, string_table ["", "cpu", "nanoseconds"]: the smallest real pprof shape.
        { [0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x32, 0x00, 0x32, 0x03, (byte)'c', (byte)'p', (byte)'u'], "pprof" },
        { "main;work 3\n"u8.ToArray(), "folded" },
        { "\nmain;work 3\n"u8.ToArray(), "folded" },
        { "\n\n"u8.ToArray(), "folded" },
        { "  {\"format\":\"orac-profile\"}"u8.ToArray(), "json" },
        { [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'], "json" },
        { [0x0a, 0x7f, 0x08], "folded" }, // a length longer than the data is not pprof
    };

    [Theory]
    [MemberData(nameof(SniffCases))]
    public void PushSniff_NamesTheFormat(byte[] data, string expected) => Assert.Equal(expected, PushCommand.Sniff(data));

    [Fact]
    public void Push_NoServerListening_SaysSoInOneLine()
    {
        // A port that was just free: nothing listens there, so the connection is refused.
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        string file = Path.Combine(_dir, "x.folded");
        File.WriteAllText(file, "main;work 3\n");
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = Stream.Null, StdOut = new MemoryStream(), Error = err, GetEnv = Env(("XDG_CONFIG_HOME", _dir)) };
        int code = Program.Run(["push", file, "--service", "s", "--server", $"http://127.0.0.1:{port}", "--token", "t"], ctx);
        Assert.Equal(1, code);
        Assert.Equal($"orac: push: {file}: no Orac server at http://127.0.0.1:{port}/ (start one with `orac up`)\n", err.ToString());
    }

    [Theory]
    [InlineData("push x.folded", "--service NAME is required")]
    [InlineData("push x.folded --service s --label novalue", "--label needs NAME=VALUE")]
    [InlineData("push x.folded --service s --from yesterday", "bad time for --from")]
    [InlineData("push x.folded --service s --type cpu", "bad profile type 'cpu'")]
    [InlineData("query {service_name=", "bad selector")]
    [InlineData("query --svg a.svg --json", "exclude each other")]
    [InlineData("query --base-from now-2h", "go with --diff")]
    [InlineData("query --top 0", "--top needs a positive count")]
    public void RemoteVerbs_BadArguments_AreUsageErrors(string line, string expected)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = Stream.Null, StdOut = new MemoryStream(), Error = err, GetEnv = Env(("XDG_CONFIG_HOME", _dir)) };
        int code = Program.Run(line.Split(' '), ctx);
        Assert.Equal(2, code);
        Assert.Contains(expected, err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ArgParser_RepeatableOption_KeepsEveryValue()
    {
        ArgParser p = new ArgParser("t").Repeatable("--label", "-l").Parse(["--label", "a=1", "-l", "b=2", "--label=c=3"]);
        Assert.Equal(["a=1", "b=2", "c=3"], p.GetAll("--label"));
        Assert.Empty(new ArgParser("t").Repeatable("--label").Parse([]).GetAll("--label"));
    }
}
