using System.Text;
using System.Text.Json;
using Orac.Server;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Cli.Tests;

/// <summary>A real in-process server (127.0.0.1, data in a temporary folder) for <c>orac memory</c> and <c>orac persona</c>.</summary>
public sealed class MemoryServerEnv : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-memory-cli-").FullName;

    public OracServer Server { get; private set; } = null!;

    public Uri Base => Server.Address!;

    public async Task InitializeAsync()
    {
        Server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = Path.Combine(_dir, "data") }, new MemoryProfileStore(), log: TextWriter.Null);
        _ = Server.Auth.Bootstrap();
        Server.Auth.CreateOrg("a");
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A new user of org a (a read token with that name).</summary>
    public string User(string name, Role role = Role.Read) => Server.Auth.CreateToken("a", role, name);

    /// <summary>Runs <c>orac ARGS --server URL --token TOKEN</c> in-process; exit code, stdout, stderr.</summary>
    public (int Code, string Out, string Err) Run(string token, params string[] args)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = err, GetEnv = _ => null };
        int code = Program.Run([.. args, "--server", Base.ToString(), "--token", token], ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }
}

public sealed class MemoryCommandTests(MemoryServerEnv env) : IClassFixture<MemoryServerEnv>
{
    private static void Ok((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, $"exit {r.Code}: {r.Err}{r.Out}");

    [Fact(Timeout = 60_000)]
    public async Task AddListForgetClear_ShowWhatOracReadAndWhen()
    {
        await Task.Yield();
        string t = env.User("cli-alice");
        var add = env.Run(t, "memory", "add", "our H100s cost $2.10 an hour");
        Ok(add);
        Assert.Contains("Memory updated: m1", add.Out, StringComparison.Ordinal);
        Assert.Contains("GPU price: H100 $2.10 per GPU-hour", add.Out, StringComparison.Ordinal);
        Assert.Contains("orac memory forget m1", add.Out, StringComparison.Ordinal);
        Ok(env.Run(t, "memory", "add", "service api belongs to the search org"));
        Ok(env.Run(t, "memory", "add", "the deploy window is Tuesday"));

        var list = env.Run(t, "memory", "list");
        Ok(list);
        string[] lines = list.Out.Split('\n');
        Assert.StartsWith("ID", lines[0], StringComparison.Ordinal);
        Assert.Contains("SAVED (UTC)", lines[0], StringComparison.Ordinal);
        string m1 = lines.Single(l => l.StartsWith("m1 ", StringComparison.Ordinal));
        Assert.Contains("our H100s cost $2.10 an hour", m1, StringComparison.Ordinal);
        Assert.Contains("cli", m1, StringComparison.Ordinal);
        Assert.Matches(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", m1);
        Assert.Contains("owner: api belongs to search", lines.Single(l => l.StartsWith("m2 ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("note", lines.Single(l => l.StartsWith("m3 ", StringComparison.Ordinal)), StringComparison.Ordinal);

        // --json is the server's document.
        var json = env.Run(t, "memory", "list", "--json");
        Ok(json);
        using (JsonDocument doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal("cli-alice", doc.RootElement.GetProperty("user").GetString());
            Assert.Equal(3, doc.RootElement.GetProperty("items").GetArrayLength());
            Assert.Equal("gpu-price", doc.RootElement.GetProperty("items")[0].GetProperty("fact").GetProperty("kind").GetString());
        }

        var byId = env.Run(t, "memory", "forget", "m2");
        Ok(byId);
        Assert.Contains("Forgot m2", byId.Out, StringComparison.Ordinal);
        var byText = env.Run(t, "memory", "forget", "deploy window");
        Ok(byText);
        Assert.Contains("Forgot m3", byText.Out, StringComparison.Ordinal);
        var missing = env.Run(t, "memory", "forget", "m2");
        Assert.Equal(1, missing.Code);
        Assert.Contains("no memory m2", missing.Err, StringComparison.Ordinal);

        Ok(env.Run(t, "memory", "add", "the H100 nodes sit in rack 4"));
        var ambiguous = env.Run(t, "memory", "forget", "H100");
        Assert.Equal(1, ambiguous.Code);
        Assert.Contains("m1", ambiguous.Err, StringComparison.Ordinal);
        Assert.Contains("m4", ambiguous.Err, StringComparison.Ordinal);

        var clear = env.Run(t, "memory", "clear");
        Ok(clear);
        Assert.Contains("Forgot all 2 memories", clear.Out, StringComparison.Ordinal);
        Assert.Contains("No memories", env.Run(t, "memory", "list").Out, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task OffOn_ListSaysOff_AddIsRefused()
    {
        await Task.Yield();
        string t = env.User("cli-offon");
        Ok(env.Run(t, "memory", "add", "kept"));
        var off = env.Run(t, "memory", "off");
        Ok(off);
        Assert.Contains("Memory is off", off.Out, StringComparison.Ordinal);
        var list = env.Run(t, "memory", "list");
        Ok(list);
        Assert.StartsWith("Memory is off", list.Out, StringComparison.Ordinal);
        Assert.Contains("kept", list.Out, StringComparison.Ordinal);
        var refused = env.Run(t, "memory", "add", "not saved");
        Assert.Equal(1, refused.Code);
        Assert.Contains("memory is off", refused.Err, StringComparison.Ordinal);
        Ok(env.Run(t, "memory", "on"));
        Ok(env.Run(t, "memory", "add", "saved"));
        Assert.DoesNotContain("Memory is off", env.Run(t, "memory", "list").Out, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Persona_ShowSetReset()
    {
        await Task.Yield();
        string t = env.User("cli-persona");
        var show = env.Run(t, "persona", "show");
        Ok(show);
        Assert.Contains("About:   (not set)", show.Out, StringComparison.Ordinal);
        Assert.Contains("Voice:   orac", show.Out, StringComparison.Ordinal);
        Assert.Contains("default persona", show.Out, StringComparison.Ordinal);

        var set = env.Run(t, "persona", "set", "--about", "SRE on the search team", "--respond", "Neutral tone, no sarcasm.");
        Ok(set);
        Assert.Contains("About:   SRE on the search team", set.Out, StringComparison.Ordinal);
        Assert.Contains("Voice:   plain", set.Out, StringComparison.Ordinal);

        Ok(env.Run(t, "persona", "set", "--respond", "short answers"));
        var json = env.Run(t, "persona", "show", "--json");
        Ok(json);
        using (JsonDocument doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal("SRE on the search team", doc.RootElement.GetProperty("about").GetString());
            Assert.Equal("orac", doc.RootElement.GetProperty("voice").GetString());
            Assert.False(doc.RootElement.GetProperty("isDefault").GetBoolean());
        }

        Ok(env.Run(t, "persona", "reset"));
        Assert.Contains("default persona", env.Run(t, "persona", "show").Out, StringComparison.Ordinal);

        // Another user never sees it.
        Ok(env.Run(t, "persona", "set", "--about", "only mine"));
        Assert.DoesNotContain("only mine", env.Run(env.User("cli-persona-2"), "persona", "show").Out, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("memory")]
    [InlineData("memory", "nope")]
    [InlineData("memory", "add")]
    [InlineData("memory", "add", "a", "b")]
    [InlineData("memory", "add", " ")]
    [InlineData("memory", "list", "extra")]
    [InlineData("memory", "forget")]
    [InlineData("memory", "clear", "m1")]
    [InlineData("memory", "list", "--bogus")]
    [InlineData("persona")]
    [InlineData("persona", "set")]
    [InlineData("persona", "show", "--about", "x")]
    [InlineData("persona", "show", "extra")]
    [InlineData("persona", "wear")]
    public async Task UsageErrors_Exit2(params string[] args)
    {
        await Task.Yield();
        var r = env.Run(env.User("cli-usage-" + Guid.NewGuid().ToString("N")[..8]), args);
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith("orac: ", r.Err, StringComparison.Ordinal);
        Assert.Empty(r.Out);
    }

    [Fact(Timeout = 60_000)]
    public async Task TooLongText_IsAUsageError_AndAnIngestTokenIsRefused()
    {
        await Task.Yield();
        var longText = env.Run(env.User("cli-long"), "memory", "add", new string('x', 501));
        Assert.Equal(2, longText.Code);
        Assert.Contains("500", longText.Err, StringComparison.Ordinal);

        var ingest = env.Run(env.User("cli-ingest", Role.Ingest), "memory", "list");
        Assert.Equal(1, ingest.Code);
        Assert.Contains("403", ingest.Err + ingest.Out, StringComparison.Ordinal);
    }
}
