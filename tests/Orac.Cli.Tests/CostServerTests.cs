using System.Text;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Server;
using Orac.Server.Auth;
using Orac.Storage;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// A real in-process Orac server (Kestrel on 127.0.0.1, in-memory store) priced with tests/data/cost/cli-model.jsonc
/// (class test-box: $0.00025 per CPU-second, 10 W active and 1 W idle per vCPU, PUE 1.5, 500 g/kWh), holding
/// profiles pushed with the real <c>orac push</c>: org a, host web-1, service api, 6 CPU-seconds in one minute ten
/// minutes ago (observed 60 s); org b, host b1, service web, the same profile.
/// </summary>
public sealed class CostServerEnv : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-cost-cli-").FullName;

    public OracServer Server { get; private set; } = null!;

    public Uri Base => Server.Address!;

    public string ReadA { get; private set; } = "";

    public string Admin { get; private set; } = "";

    public string Dir => _dir;

    public async Task InitializeAsync()
    {
        Server = OracServer.Create(
            new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = Path.Combine(_dir, "data"), CostModelPath = Path.Combine(TestPaths.Data, "cost", "cli-model.jsonc") },
            new MemoryProfileStore(), log: TextWriter.Null);
        _ = Server.Auth.Bootstrap();
        Server.Auth.CreateOrg("a");
        Server.Auth.CreateOrg("b");
        ReadA = Server.Auth.CreateToken("a", Role.Read, "alice");
        Admin = Server.Auth.CreateToken("a", Role.Admin, "ops");
        string ingestA = Server.Auth.CreateToken("a", Role.Ingest, "agents-a");
        string ingestB = Server.Auth.CreateToken("b", Role.Ingest, "agents-b");
        await Server.StartAsync();

        // One minute, ten minutes ago, aligned so the push falls inside one observed minute.
        long minute = ((DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600) / 60 * 60) + 5;
        string profile = Path.Combine(TestPaths.Data, "cost", "cli-api.json");
        Push(ingestA, profile, "api", "web-1", minute);
        Push(ingestB, profile, "web", "b1", minute);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Runs <c>orac ARGS --server URL --token TOKEN</c> in-process; exit code, stdout, stderr.</summary>
    public (int Code, string Out, string Err) Run(string token, params string[] args)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = err, GetEnv = _ => null };
        int code = Program.Run([.. args, "--server", Base.ToString(), "--token", token], ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }

    private void Push(string token, string file, string service, string host, long fromSeconds)
    {
        var (code, _, err) = Run(token, "push", file, "--service", service, "--label", $"host={host}",
            "--from", fromSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--until", (fromSeconds + 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"push exit {code}: {err}");
    }
}

public sealed class CostServerTests(CostServerEnv env) : IClassFixture<CostServerEnv>
{
    private const double UsdPerCpuSecond = 3.6 / 4 / 3600;
    private const double KwhPerCpuSecond = 10 / 3.6e6 * 1.5;

    [Fact(Timeout = 60_000)]
    public async Task Cost_Selector_Json_HandWorkedFigures()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "cost", "api", "--period", "1h", "--json");

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = JsonSerializer.Deserialize(output, OracJsonContext.Default.CostDocument)!;
        Assert.False(d.Partial, string.Join("\n", d.Notes));
        Assert.InRange(d.Until - d.From, 3_599_000L, 3_601_000L);
        CostRow host = Assert.Single(d.Hosts);
        Assert.Equal("web-1", host.Name);
        Assert.Equal("test-box", host.Class);
        Near(6, d.Total.CpuSeconds);
        Near(6 * UsdPerCpuSecond, host.Figures.Usd);
        Near(6 * KwhPerCpuSecond, host.Figures.Kwh);
        // Observed one minute: the machine's 60 s cost $0.06; idle is the rest. Idle power 4 × 1 W × 60 s × 1.5.
        Near(3.6 * 60 / 3600, d.Total.Usd);
        Near((3.6 * 60 / 3600) - (6 * UsdPerCpuSecond), d.Idle.Usd);
        Near(4 * 60 * 1.5 / 3.6e6, d.Idle.Kwh);
        Assert.Equal(["serve", "json_encode"], d.Functions.ConvertAll(f => f.Name));
        Assert.Equal("api", d.Functions[0].Service);
    }

    [Fact(Timeout = 60_000)]
    public async Task Cost_Selector_Text_HeaderTotalsTables_OrgScoped()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "cost", "{}", "--period", "1h");

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.StartsWith("cost of ", lines[0], StringComparison.Ordinal);
        Assert.Contains("period 1 h (", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("model: " + Path.Combine(TestPaths.Data, "cost", "cli-model.jsonc"), lines[0], StringComparison.Ordinal);
        Assert.Equal("CPU seconds measured; $ and CO2e estimated; kWh estimated", lines[1]);
        Assert.Matches(@"\ntotal\s+6\.00\s+0\s+0\.0600\s", output);
        Assert.Matches(@"\nweb-1\s+test-box\s+6\.00\s+100\s+0\.00150\s", output);
        Assert.Matches(@"\napi\s+6\.00\s+100\s+0\.00150\s", output);
        // Org a's token sees org a only.
        Assert.DoesNotContain("b1", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Cost_NoMatch_EmptyTotals_Exit0()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "cost", "nothing-runs-here", "--period", "1h", "--json");

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = JsonSerializer.Deserialize(output, OracJsonContext.Default.CostDocument)!;
        Assert.Empty(d.Hosts);
        Assert.Equal(0, d.Total.Usd);
    }

    [Fact(Timeout = 60_000)]
    public async Task Cost_BadToken_ServersErrorLine_Exit1()
    {
        await Task.Yield();
        var (code, output, err) = env.Run("orac_not-a-token", "cost", "api");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("answered 401", err, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Opportunities_Selector_RankedTableWithAdviceAndLinks()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "opportunities", "--period", "1h", "--improve", "20");

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.StartsWith("opportunities in ", lines[0], StringComparison.Ordinal);
        Assert.Equal("figures per year are projections of the period; $, kWh and CO2e are estimated", lines[1]);
        Assert.Equal("save: what a 20 % improvement would save per year; trend: change against the previous period of the same length", lines[2]);
        Assert.Matches(@"\n#\s+kind\s+name\s+\$/year\s+kWh/year\s+kgCO2e/year\s+save 20% \(\$/year\)\s+owners\s+trend\n", output);
        // serve is the biggest function: 4 CPU-s of the hour, a year of such hours.
        double serveYear = 4 * UsdPerCpuSecond * (365.25 * 24);
        Assert.Matches(@"\n\s*1\s+function\s+serve\s+" + System.Text.RegularExpressions.Regex.Escape(CostRender.Num(serveYear)) + @"\s", output);
        Assert.Contains("a/api 100%", output, StringComparison.Ordinal);
        Assert.Contains("flame graph: " + env.Base.ToString().TrimEnd('/') + "/", output, StringComparison.Ordinal);
        Assert.Contains("saves per year: 20 % better $", output, StringComparison.Ordinal);
        Assert.Contains("advice: ", output, StringComparison.Ordinal);
        // Every line fits in 120 columns except links, which sit on their own lines, whole.
        foreach (string line in lines)
        {
            Assert.True(line.Length <= 120 || line.TrimStart().StartsWith("flame graph: ", StringComparison.Ordinal), line);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Opportunities_Json_SavingsAreTheImprovementOfTheAnnualCost()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "opportunities", "api", "--period", "1h", "--json", "--top", "3");

        Assert.True(code == 0, $"exit {code}: {err}");
        OpportunitiesDocument d = JsonSerializer.Deserialize(output, OracJsonContext.Default.OpportunitiesDocument)!;
        Assert.Equal(10, d.ImprovementPercent);
        Assert.InRange(d.Items.Count, 1, 3);
        for (int i = 0; i < d.Items.Count; i++)
        {
            Opportunity o = d.Items[i];
            Assert.Equal(i + 1, o.Rank);
            Near(o.Annual.Usd * 0.1, o.IfImproved.Usd);
            Assert.Null(o.TrendPercent);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("md", "# Org report\n", "| a | 0.06")]
    [InlineData("csv", "row,org,partial,", "\norg,a,false,")]
    [InlineData("html", "<!DOCTYPE html>", ">a</")]
    public async Task ReportOrgs_Formats_EveryOrgAndTheFleet(string format, string start, string orgA)
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.Admin, "report", "orgs", "--period", "1h", "--format", format);

        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.StartsWith(start, output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(orgA, output, StringComparison.Ordinal);
        Assert.Contains("serve", output, StringComparison.Ordinal);
        // Without -o the report is stdout only; stderr stays quiet.
        Assert.Equal("", err);
    }

    [Fact(Timeout = 60_000)]
    public async Task ReportOrgs_JsonToFile_BothOrgsAddUpToTheFleet()
    {
        await Task.Yield();
        string file = Path.Combine(env.Dir, "orgs.json");
        var (code, output, err) = env.Run(env.Admin, "report", "orgs", "--period", "1h", "--format", "json", "-o", file);

        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.Equal("", output);
        Assert.Contains($"to {file}", err, StringComparison.Ordinal);
        OrgReportDocument d = JsonSerializer.Deserialize(File.ReadAllBytes(file), OracJsonContext.Default.OrgReportDocument)!;
        // Every org of the server (the bootstrap's own org too), orgs a and b priced.
        Assert.Contains("a", d.Orgs.ConvertAll(o => o.Org));
        Assert.Contains("b", d.Orgs.ConvertAll(o => o.Org));
        Near(3.6 * 60 / 3600, d.Orgs.Single(o => o.Org == "b").Figures.Usd);
        Near(d.Orgs.Sum(o => o.Figures.Usd), d.Total.Usd);
        Near(2 * 3.6 * 60 / 3600, d.Total.Usd);
    }

    [Fact(Timeout = 60_000)]
    public async Task ReportOrgs_ReadToken_Refused_Exit1()
    {
        await Task.Yield();
        var (code, output, err) = env.Run(env.ReadA, "report", "orgs");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("answered 403", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("report")]
    [InlineData("report", "teams")]
    [InlineData("report", "orgs", "extra")]
    [InlineData("report", "orgs", "--format", "pdf")]
    [InlineData("report", "orgs", "--period", "forever")]
    [InlineData("opportunities", "--improve", "0")]
    [InlineData("opportunities", "--improve", "150")]
    [InlineData("opportunities", "{service_name=", "--period", "1h")]
    [InlineData("opportunities", "api", "--hz", "99")]
    public void UsageErrors_Exit2(params string[] args)
    {
        var (code, output, err) = FleetTestEnv.RunLocal([.. args, "--server", "http://127.0.0.1:1"]);

        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Equal("", output);
        Assert.StartsWith("orac: ", err, StringComparison.Ordinal);
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");
}
