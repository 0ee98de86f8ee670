using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// <c>orac cost</c> on files, run in-process, checked against figures worked out by hand from
/// tests/data/cost/cli-model.jsonc: class test-box is 4 vCPUs at $3.60/h ($0.00025 per CPU-second), 1 W idle and 11 W
/// busy per vCPU (10 W active), PUE 1.5, 500 g CO2e/kWh, no memory, no embodied emissions.
/// </summary>
public sealed class CostCommandTests
{
    private const double UsdPerCpuSecond = 3.6 / 4 / 3600;
    private const double KwhPerCpuSecond = 10 / 3.6e6 * 1.5;
    private const double SecondsPerYear = 365.25 * 86400;

    private static string Data(string name) => Path.Combine(TestPaths.Data, "cost", name);

    private static readonly string s_model = Data("cli-model.jsonc");

    [Fact]
    public void Folded_WithHzAndPeriod_FiguresMatchTheHandWorkedNumbers()
    {
        // cli-100hz.folded: 1,000 samples at 100 Hz = 10 CPU-s (compress 5, memcpy 3, parse 2) over 20 s observed.
        var (code, output, err) = Json("cost", Data("cli-100hz.folded"), "--hz", "100", "--period", "20s", "--model", s_model);

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = output;
        Assert.False(d.Partial, string.Join("\n", d.Notes));
        Assert.Equal(s_model, d.Model);
        Assert.Equal(20_000, d.Until - d.From);

        // Attributed: 10 CPU-s × $0.00025 = $0.0025; 10 × 10 W × 1.5 = 150 J = 4.1667e-5 kWh; × 0.5 kg/kWh.
        double attributedUsd = 10 * UsdPerCpuSecond;
        double attributedKwh = 10 * KwhPerCpuSecond;
        // Idle: the machine's 20 s ($0.02) less what was attributed; 4 vCPUs × 1 W × 20 s = 80 J × 1.5.
        double idleUsd = (3.6 * 20 / 3600) - attributedUsd;
        double idleKwh = 80 / 3.6e6 * 1.5;
        Near(10, d.Total.CpuSeconds);
        Near(attributedUsd + idleUsd, d.Total.Usd);
        Near(0.02, d.Total.Usd);
        Near(attributedKwh + idleKwh, d.Total.Kwh);
        Near((attributedKwh + idleKwh) * 0.5, d.Total.KgCo2e);
        Near(idleUsd, d.Idle.Usd);
        Near(idleKwh, d.Idle.Kwh);
        Near(0, d.Idle.CpuSeconds);
        Assert.Equal(Basis.Estimated, d.Total.EnergyBasis);

        // Per year: the 20 s stand for a year of such periods.
        Near(0.02 * SecondsPerYear / 20, d.ProjectedPerYear.Usd);
        Assert.Equal(Basis.Projection, d.ProjectedPerYear.EnergyBasis);

        // Per function, self time, largest first.
        Assert.Equal(["compress", "memcpy", "parse"], d.Functions.ConvertAll(f => f.Name));
        Near(5, d.Functions[0].Figures.CpuSeconds);
        Near(5 * UsdPerCpuSecond, d.Functions[0].Figures.Usd);
        Near(3 * KwhPerCpuSecond, d.Functions[1].Figures.Kwh);
        Near(20, d.Functions[2].CpuPercent);
        Assert.Equal("file", d.Functions[0].Service);

        // One host (the file's name, no host in folded files), one service "file", class from the model.
        CostRow host = Assert.Single(d.Hosts);
        Assert.Equal("cli-100hz.folded", Path.GetFileName(host.Name));
        Assert.Equal("test-box", host.Class);
        Near(idleUsd, Assert.Single(d.HostIdle).Figures.Usd);
        Assert.Equal("file", Assert.Single(d.Services).Name);
    }

    [Fact]
    public void Folded_Text_HeaderTotalsAndTablesSayTheirUnits()
    {
        var (code, output, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--hz", "100", "--period", "20s", "--model", s_model);

        Assert.True(code == 0, $"exit {code}: {err}");
        string[] lines = output.Split('\n');
        Assert.StartsWith("cost of ", lines[0], StringComparison.Ordinal);
        Assert.Contains("cli-100hz.folded, period 20 s (", lines[0], StringComparison.Ordinal);
        Assert.EndsWith($"UTC); model: {s_model}", lines[0], StringComparison.Ordinal);
        Assert.Equal("CPU seconds measured; $ and CO2e estimated; kWh estimated", lines[1]);
        Assert.DoesNotContain("PARTIAL", output, StringComparison.Ordinal);

        // Units in every column header.
        Assert.Matches(@"\n\s+CPU \(s\)\s+GPU \(s\)\s+cost \(\$\)\s+energy \(kWh\)\s+CO2e \(kg\)\s+embodied CO2e \(kg\)\n", output);
        Assert.Matches(@"\ntotal\s+10\.00\s+0\s+0\.0200\s+0\.0000750\s+0\.0000375\s+0\n", output);
        Assert.Matches(@"\n  attributed to workloads\s+10\.00\s+0\s+0\.00250\s+0\.0000417\s+0\.0000208\s+0\n", output);
        Assert.Matches(@"\n  idle / unattributed\s+0\s+0\s+0\.0175\s+0\.0000333\s+0\.0000167\s+0\n", output);
        Assert.Matches(@"\nper year \(projection\)\s+15,778,800\s+0\s+31,558\s+118\.34\s+59\.17\s+0\n", output);
        Assert.Matches(@"\nfunction\s+service\s+CPU \(s\)\s+CPU \(%\)\s+cost \(\$\)\s+energy \(kWh\)\s+CO2e \(kg\)\n", output);
        Assert.Matches(@"\ncompress\s+file\s+5\.00\s+50\s+0\.00125\s+0\.0000208\s+0\.0000104\n", output);
        Assert.Matches(@"\nhost\s+class\s+CPU \(s\)\s+CPU \(%\)\s+cost \(\$\)\s+energy \(kWh\)\s+CO2e \(kg\)\s+idle cost \(\$\)\s+idle energy \(kWh\)\n", output);
        Assert.Contains("services (attributed)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoFiles_OneHostEach_AddUp()
    {
        // cli-api.json: Orac profile JSON in CPU ns, 6 CPU-s (serve 4, json_encode 2); priced as big-box (same rates).
        var (code, output, err) = Json("cost", Data("cli-100hz.folded"), Data("cli-api.json"), "--hz", "100", "--period", "1m", "--model", s_model, "--class", "big-box");

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = output;
        Assert.Equal(2, d.Hosts.Count);
        Assert.All(d.Hosts, h => Assert.Equal("big-box", h.Class));
        Near(16, d.Total.CpuSeconds);
        Near(16 * UsdPerCpuSecond, d.Total.Usd - d.Idle.Usd);
        // Two machines of $7.20/h for 60 s each.
        Near(2 * 7.2 * 60 / 3600, d.Total.Usd);
        Assert.Equal(["compress", "serve", "memcpy"], d.Functions.GetRange(0, 3).ConvertAll(f => f.Name));
        Near(4, d.Functions[1].Figures.CpuSeconds);
        Assert.Contains("cli-api.json", d.Selection, StringComparison.Ordinal);
    }

    [Fact]
    public void Stdin_ReadAsAFile()
    {
        var err = new StringWriter();
        var ctx = new CliContext
        {
            StdIn = new MemoryStream(File.ReadAllBytes(Data("cli-100hz.folded"))),
            StdOut = new MemoryStream(),
            Error = err,
            GetEnv = _ => null,
        };

        int code = Program.Run(["cost", "-", "--hz", "100", "--period", "20s", "--model", s_model, "--json"], ctx);

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = JsonSerializer.Deserialize(((MemoryStream)ctx.StdOut).ToArray(), OracJsonContext.Default.CostDocument)!;
        Near(10, d.Total.CpuSeconds);
        Assert.Equal("<stdin>", d.Hosts[0].Name);
    }

    [Fact]
    public void NoPeriod_NoIdleNoProjection_SaidAndPartial_Exit3()
    {
        var (code, output, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--hz", "100", "--model", s_model);

        Assert.True(code == CostCommand.PartialExit, $"exit {code}: {err}");
        Assert.StartsWith("PARTIAL: ", output, StringComparison.Ordinal);
        Assert.Contains("period unknown", output, StringComparison.Ordinal);
        Assert.Matches(@"\n  idle / unattributed\s+n/a\s+n/a", output);
        Assert.Matches(@"\nper year \(projection\)\s+n/a\s+n/a", output);
        Assert.Contains("holds no duration", output, StringComparison.Ordinal);
        Assert.Contains("pass --period", output, StringComparison.Ordinal);
        // Attributed figures are still exact.
        Assert.Matches(@"\ntotal\s+10\.00\s+0\s+0\.00250\s", output);
    }

    [Fact]
    public void OracRecordFile_FromThisMachine_NeedsNoHzNoPeriod_AndHasAnIdleLine()
    {
        // What `orac record -o r.json` writes: samples with a CPU-ns period, this host's name, the recording's span.
        var b = new ProfileBuilder(SampleType.Samples)
        {
            Metadata = new ProfileMetadata
            {
                Host = Environment.MachineName,
                Period = 10_000_000,
                PeriodType = new SampleType("cpu", "nanoseconds"),
                StartNs = 1_700_000_000_000_000_000,
                EndNs = 1_700_000_010_000_000_000,
            },
        };
        b.Add(b.Stack([b.Frame("main"), b.Frame("deflate_slow")]), [300]);
        string path = Path.Combine(Path.GetTempPath(), $"orac-cost-{Guid.NewGuid():N}.json");
        try
        {
            using (FileStream f = File.Create(path))
            {
                ProfileJson.Write(ProfileJson.ToDocument(b.Build(), "orac record"), f);
            }

            var (code, d, err) = Json("cost", path);

            Assert.True(code == 0, $"exit {code}: {err}\n{string.Join("\n", d.Notes)}");
            Assert.False(d.Partial);
            Near(3, d.Total.CpuSeconds);
            Assert.Equal(10_000, d.Until - d.From);
            // Built-in default class: $0.05 per vCPU-hour, sized from this machine.
            Near(0.05 * Environment.ProcessorCount * 10 / 3600, d.Total.Usd);
            Assert.True(d.Idle.Usd > 0);
            Assert.Contains(d.Notes, n => n.Contains("recorded on this machine", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Top_LimitsFunctionRows_AndCountsTheRest()
    {
        var (code, output, err) = Json("cost", Data("cli-100hz.folded"), "--hz", "100", "--period", "20s", "--model", s_model, "--top", "1");

        Assert.True(code == 0, $"exit {code}: {err}");
        CostDocument d = output;
        Assert.Equal("compress", Assert.Single(d.Functions).Name);
        Assert.Equal(2, d.FunctionsOmitted);
    }

    [Fact]
    public void FoldedWithoutHz_OneLineAskingForHz_Exit1()
    {
        var (code, output, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--model", s_model);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        string line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("orac: ", line, StringComparison.Ordinal);
        Assert.Contains("cli-100hz.folded", line, StringComparison.Ordinal);
        Assert.Contains("--hz", line, StringComparison.Ordinal);
    }

    [Fact]
    public void BadModel_TheModelsOneLineError_Exit1()
    {
        string bad = Data("cli-bad-model.jsonc");
        var (code, output, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--hz", "100", "--model", bad);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        string line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains("usd_per_hour", line, StringComparison.Ordinal);
        Assert.Contains("cli-bad-model.jsonc", line, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingModel_SaysSo_Exit1()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--hz", "100", "--model", Data("no-such-model.jsonc"));

        Assert.Equal(1, code);
        Assert.Contains("no such cost model file", err, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownClass_ListsTheKnownOnes_Exit2()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), "--hz", "100", "--model", s_model, "--class", "nope");

        Assert.Equal(2, code);
        Assert.Contains("unknown machine class 'nope'", err, StringComparison.Ordinal);
        Assert.Contains("big-box", err, StringComparison.Ordinal);
        Assert.Contains("test-box", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--period", "soon")]
    [InlineData("--period", "0s")]
    [InlineData("--hz", "0")]
    [InlineData("--hz", "fast")]
    [InlineData("--top", "0")]
    [InlineData("--nope", "1")]
    public void BadOption_UsageError_Exit2(string option, string value)
    {
        var (code, output, err) = FleetTestEnv.RunLocal("cost", Data("cli-100hz.folded"), option, value);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("cost: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_NoSuchFile_Exit1()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", "nothing-here.folded", "--hz", "100");

        Assert.Equal(1, code);
        Assert.Contains("nothing-here.folded: no such file", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Selector_WithFileOnlyOption_UsageError_Exit2()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", "{service_name=\"api\"}", "--model", s_model);

        Assert.Equal(2, code);
        Assert.Contains("--model applies to FILEs only", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Selector_NoServer_OneLine_Exit1()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", "api", "--server", "http://127.0.0.1:1");

        Assert.Equal(1, code);
        Assert.Contains("no Orac server at http://127.0.0.1:1/", err, StringComparison.Ordinal);
    }

    [Fact]
    public void GarbageFile_OneClearError_NoCrash()
    {
        string dir = Directory.CreateTempSubdirectory("orac-cost-cli-").FullName;
        try
        {
            string bin = Path.Combine(dir, "garbage.json");
            File.WriteAllBytes(bin, Encoding.UTF8.GetBytes("{\"format\": \"orac-profile\", \"version\": 1, \"samples\": [ {\"stack\": [7], \"values\": [1]} ]"));
            var (code, output, err) = FleetTestEnv.RunLocal("cost", bin, "--model", s_model);

            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Contains("garbage.json", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Help_Exit0_NamesEveryOption()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("cost", "--help");

        Assert.Equal(0, code);
        foreach (string o in (string[])["--model", "--class", "--period", "--hz", "--top", "--json", "--server", "--token"])
        {
            Assert.Contains(o, err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Num_PrecisionFollowsMagnitude()
    {
        Assert.Equal("0", CostRender.Num(0));
        Assert.Equal("31,558", CostRender.Num(31_557.6));
        Assert.Equal("118.34", CostRender.Num(118.341));
        Assert.Equal("0.0200", CostRender.Num(0.02));
        Assert.Equal("0.00125", CostRender.Num(0.00125));
        Assert.Equal("4.17e-7", CostRender.Num(4.1667e-7));
        Assert.Equal("8.70e-6", CostRender.Num(8.7e-6));
        Assert.Equal("0.0000104", CostRender.Num(1.04167e-5));
        Assert.Equal("-0.0200", CostRender.Num(-0.02));
        Assert.Equal("n/a", CostRender.Num(double.NaN));
    }

    [Fact]
    public void ServerAnswer_WithGpus_PartialFirstGpuTableWithUnits()
    {
        byte[] answer = File.ReadAllBytes(Path.Combine(TestPaths.Data, "cli-cost", "cost.json"));

        string text = CostRender.Cost(CostAnswers.Cost(answer, new Uri("http://127.0.0.1:4040")));

        Assert.StartsWith("PARTIAL: ", text, StringComparison.Ordinal);
        Assert.Matches(@"\nhost\s+GPU\s+model\s+util \(%\)\s+SM active \(%\)\s+GPU \(s\)\s+cost \(\$\)\s+energy \(kWh\)\s+CO2e \(kg\)\s+stranded idle \(\$\)\s+util trap \(\$\)\n", text);
        Assert.Matches(@"\ngpu-1\s+0\s+NVIDIA H100 80GB HBM3\s+35\.5\s+12\.5\s+7\.10\s", text);
        Assert.Contains("\nnotes:\n  - host gpu-1: CPU energy measured (RAPL)\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("{\"total\": null, \"idle\": {}, \"projectedPerYear\": {}}")]
    [InlineData("{\"total\": {\"usd\": 1}, \"idle\": {}, \"projectedPerYear\": {}, \"hosts\": [null]}")]
    public void ServerAnswer_Malformed_OneLineNamingTheAnswer(string body)
    {
        OracException e = Assert.Throws<OracException>(() => CostAnswers.Cost(Encoding.UTF8.GetBytes(body), new Uri("http://127.0.0.1:4040")));

        Assert.StartsWith("the server at http://127.0.0.1:4040/ answered the cost query with a document that ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }

    internal static (int Code, CostDocument Doc, string Err) Json(params string[] args)
    {
        var (code, output, err) = FleetTestEnv.RunLocal([.. args, "--json"]);
        CostDocument? d = output.Length == 0 ? null : JsonSerializer.Deserialize(output, OracJsonContext.Default.CostDocument);
        Assert.True(d is not null, $"exit {code}, no document: {err}");
        return (code, d, err);
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");
}

public sealed class ReportFilesTests
{
    private static string Data(string name) => Path.Combine(TestPaths.Data, "cost", name);

    [Fact]
    public void ReportOrgs_OnFiles_OneRowPerOrgAddingUpToTheFleet()
    {
        string folded = Data("cli-100hz.folded");
        var (code, output, err) = FleetTestEnv.RunLocal("report", "orgs", "search=" + folded, "ads=" + folded, folded,
            "--hz", "100", "--period", "20s", "--model", Data("cli-model.jsonc"), "--format", "json");

        Assert.True(code == 0, $"exit {code}: {err}");
        OrgReportDocument r = JsonSerializer.Deserialize(output, OracJsonContext.Default.OrgReportDocument)!;
        Assert.Equal(["ads", "local", "search"], r.Orgs.Select(o => o.Org).Order(StringComparer.Ordinal));
        // Each file is 10 CPU-s on a 4-vCPU $3.60/h box for 20 s: $0.02 each, three of them.
        Assert.All(r.Orgs, o => Assert.Equal(0.02, o.Figures.Usd, 9));
        Assert.Equal(0.06, r.Total.Usd, 9);
        Assert.All(r.Orgs, o => Assert.Null(o.ChangePercent));
        Assert.All(r.Orgs, o => Assert.NotEmpty(o.Top));
    }

    [Fact]
    public void ReportOrgs_ModelWithoutFiles_IsAUsageError()
    {
        var (code, _, err) = FleetTestEnv.RunLocal("report", "orgs", "--model", Data("cli-model.jsonc"), "--server", "http://127.0.0.1:9", "--token", "t");
        Assert.Equal(2, code);
        Assert.Contains("--model applies to files only", err, StringComparison.Ordinal);
    }
}
