using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// <c>--cost-model FILE</c> on <c>orac serve</c> and <c>orac up</c>: a bad model stops startup with the model's
/// one-line error (exit 2) before anything listens, and <c>orac up</c> stops before it creates the first-run token.
/// </summary>
public sealed class CostModelOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-cost-model-").FullName;

    private static string BadModel => Path.Combine(TestPaths.Data, "cost", "server-bad-model.jsonc");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Err) Run(params string[] args)
    {
        var err = new StringWriter();
        string cfg = Path.Combine(_dir, "config");
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = err, GetEnv = n => n == "XDG_CONFIG_HOME" ? cfg : null };
        int code = Program.Run(args, ctx);
        return (code, err.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Serve_BadCostModel_StopsWithTheFieldNamed()
    {
        await Task.Yield();
        (int code, string err) = Run("serve", "--memory", "--listen", "127.0.0.1:0", "--cost-model", BadModel);
        Assert.Equal(2, code);
        Assert.Contains("server-bad-model.jsonc", err, StringComparison.Ordinal);
        Assert.Contains("classes.small.pue", err, StringComparison.Ordinal);
        Assert.DoesNotContain("serving on", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("classes.small.pue", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Up_BadCostModel_StopsBeforeTheFirstRunToken()
    {
        await Task.Yield();
        string data = Path.Combine(_dir, "data");
        (int code, string err) = Run("up", "--no-record", "--listen", "127.0.0.1:0", "--data", data, "--cost-model", Path.Combine(_dir, "missing.jsonc"));
        Assert.Equal(2, code);
        Assert.Contains("missing.jsonc", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "auth.json")), "a token was created although startup failed");
        Assert.DoesNotContain("orac_", err, StringComparison.Ordinal);

        (code, err) = Run("up", "--no-record", "--listen", "127.0.0.1:0", "--data", data, "--cost-model", BadModel);
        Assert.Equal(2, code);
        Assert.Contains("classes.small.pue", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "auth.json")));
    }

    [Fact]
    public void Help_ListsCostModel()
    {
        Assert.Contains("--cost-model FILE", Run("serve", "--help").Err, StringComparison.Ordinal);
        Assert.Contains("--cost-model FILE", Run("up", "--help").Err, StringComparison.Ordinal);
    }
}
