using System.Globalization;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// The cost verbs as processes against a real <c>orac serve --cost-model</c> process: push, <c>cost</c>,
/// <c>opportunities</c> and <c>report orgs</c> through the built <c>orac</c> binary, exit codes from the process.
/// </summary>
public sealed class CostProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-cost-proc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact(Timeout = 120_000)]
    public async Task ServeWithCostModel_PushThenCostOpportunitiesReport_AsProcesses()
    {
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: orac is not built");
        await Task.Yield();
        string model = Path.Combine(TestPaths.Data, "cost", "cli-model.jsonc");
        using ServerProcess server = ServerProcess.StartProgram(TestPaths.OracBinary,
            ["serve", "--listen", "127.0.0.1:0", "--data", Path.Combine(_dir, "data"), "--cost-model", model], expectToken: true);
        string url = server.Url.ToString();
        string admin = server.Token!;
        long minute = ((DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600) / 60 * 60) + 5;
        string from = minute.ToString(CultureInfo.InvariantCulture);
        string until = (minute + 10).ToString(CultureInfo.InvariantCulture);

        var push = Orac("push", Path.Combine(TestPaths.Data, "cost", "cli-api.json"), "--service", "api", "--label", "host=web-1", "--from", from, "--until", until, "--server", url, "--token", admin);
        Assert.True(push.Code == 0, push.Err);

        var cost = Orac("cost", "api", "--period", "1h", "--server", url, "--token", admin);
        Assert.True(cost.Code == 0, cost.Err);
        Assert.StartsWith("cost of ", cost.Out, StringComparison.Ordinal);
        Assert.Contains("model: " + model, cost.Out, StringComparison.Ordinal);
        // 6 CPU-s of test-box over one observed minute: $0.06 in all, $0.0015 attributed to web-1.
        Assert.Matches(@"\ntotal\s+6\.00\s+0\s+0\.0600\s", cost.Out);
        Assert.Matches(@"\nweb-1\s+test-box\s+6\.00\s+100\s+0\.00150\s", cost.Out);

        var opps = Orac("opportunities", "api", "--period", "1h", "--server", url, "--token", admin);
        Assert.True(opps.Code == 0, opps.Err);
        Assert.Matches(@"\n\s*1\s+function\s+serve\s", opps.Out);
        Assert.Contains("flame graph: " + url.TrimEnd('/') + "/", opps.Out, StringComparison.Ordinal);

        string md = Path.Combine(_dir, "orgs.md");
        var report = Orac("report", "orgs", "--period", "1h", "-o", md, "--server", url, "--token", admin);
        Assert.True(report.Code == 0, report.Err);
        Assert.StartsWith("# Org report", File.ReadAllText(md), StringComparison.Ordinal);

        var usage = Orac("cost", "api", "--class", "test-box", "--server", url, "--token", admin);
        Assert.Equal(2, usage.Code);
        Assert.Contains("--class applies to FILEs only", usage.Err, StringComparison.Ordinal);
    }

    [SkippableFact(Timeout = 60_000)]
    public async Task Process_FoldedWithoutHz_OneLine_Exit1_AndPartial_Exit3()
    {
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: orac is not built");
        await Task.Yield();
        string folded = Path.Combine(TestPaths.Data, "cost", "cli-100hz.folded");

        var noHz = Orac("cost", folded);
        Assert.Equal(1, noHz.Code);
        Assert.Equal("", noHz.Out);
        Assert.Contains("--hz", Assert.Single(noHz.Err.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);

        var partial = Orac("cost", folded, "--hz", "100");
        Assert.Equal(3, partial.Code);
        Assert.StartsWith("PARTIAL: ", partial.Out, StringComparison.Ordinal);
    }

    private static (int Code, string Out, string Err) Orac(params string[] args) => RecordCommandTests.Exec(TestPaths.OracBinary, args);
}
