using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Query;
using Orac.Server.Auth;
using Orac.Tests.Shared;

namespace Orac.Server.Tests.Cost;

/// <summary>
/// A real server priced with tests/data/cost/server-model.jsonc, holding CPU profiles of two orgs pushed through
/// <c>/ingest</c> at known CPU seconds, and one agent registered through the real route (its label <c>tier=big</c>
/// picks the class <c>big</c>). Period under test: one hour, <see cref="Hour"/> to <see cref="Hour"/> + 1 h; the hour
/// before holds a little data so trends have something to compare with.
/// </summary>
public sealed class CostServer : TestServer
{
    /// <summary>Start of the priced hour, Unix seconds (a whole hour, three hours ago).</summary>
    public static readonly long Hour = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (3 * 3600)) / 3600 * 3600;

    /// <summary>The priced hour as query parameters.</summary>
    public static string Range => $"from={Hour}&until={Hour + 3600}";

    protected override string? CostModelPath => Path.Combine(TestPaths.Data, "cost", "server-model.jsonc");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        string ingestA = Tokens[("a", Role.Ingest)];
        string ingestB = Tokens[("b", Role.Ingest)];

        // Host a1 (agent says tier=big): api 4 s and worker 2 s of CPU in each of 10 minutes.
        var reg = await Send(HttpMethod.Post, "/api/v1/agents/register", ingestA, new StringContent(
            """{"id":"agent-a1","hostname":"a1","labels":{"tier":"big"},"cpus":8,"memoryBytes":34359738368,"version":"test"}""", Encoding.UTF8, "application/json"));
        Assert.True(reg.Status == 200, reg.Body);
        for (int m = 0; m < 10; m++)
        {
            await Push(ingestA, "api", "a1", Hour + (m * 60), "main;handle;json_encode 300\nmain;handle 100\n");
            await Push(ingestA, "worker", "a1", Hour + (m * 60), "loop;memcpy 200\n");
        }

        // Host a2 (no agent: class small): api 1.2 s in each of 5 minutes.
        for (int m = 0; m < 5; m++)
        {
            await Push(ingestA, "api", "a2", Hour + (m * 60), "main;handle 120\n");
        }

        // Host b1 of org b (small): web 5 s in each of 4 minutes.
        for (int m = 0; m < 4; m++)
        {
            await Push(ingestB, "web", "b1", Hour + (m * 60), "serve;render 500\n");
        }

        // GPU host g1 of org local (no profiles): one H100 at 50 % for 11 readings a minute apart, drawing 400 W; RAPL
        // package energy rising 3 kJ a minute (50 W).
        var gpus = new StringBuilder();
        var power = new StringBuilder();
        for (int m = 0; m <= 10; m++)
        {
            long ms = (Hour + (m * 60) + 30) * 1000;
            gpus.Append(CultureInfo.InvariantCulture, $$"""{"time":{{ms}},"index":0,"model":"H100","utilPercent":50,"powerWatts":400},""");
            power.Append(CultureInfo.InvariantCulture, $$"""{"time":{{ms}},"domain":"package-0","energyMicrojoules":{{m * 3_000_000L}},"maxEnergyMicrojoules":262143328850},""");
        }

        string batch = $$"""{"host":"g1","gpus":[{{gpus.ToString().TrimEnd(',')}}],"power":[{{power.ToString().TrimEnd(',')}}]}""";
        var metrics = await Send(HttpMethod.Post, "/api/v1/metrics?host=g1&format=json", Admin, new StringContent(batch, Encoding.UTF8, "application/json"));
        Assert.True(metrics.Status == 200, metrics.Body);

        // The hour before: a1's api, 3 s in each of 2 minutes.
        for (int m = 0; m < 2; m++)
        {
            await Push(ingestA, "api", "a1", Hour - 3600 + (m * 60), "main;handle;json_encode 300\n");
        }
    }

    // 100 Hz: each sample is 10 ms of CPU.
    private async Task Push(string token, string service, string host, long minute, string folded)
    {
        string name = Uri.EscapeDataString($"{service}.cpu{{host={host}}}");
        var r = await Post($"/ingest?name={name}&from={minute + 5}&until={minute + 15}&sampleRate=100", token, folded);
        Assert.True(r.Status == 200, r.Body);
    }
}

public sealed class CostRouteTests(CostServer s) : IClassFixture<CostServer>
{
    // The model's classes (tests/data/cost/server-model.jsonc), and what each host did in the hour.
    private sealed record Cls(double UsdPerHour, int Vcpus, double WattsIdle, double WattsMax, double Pue);

    private static readonly Cls s_small = new(0.36, 4, 1, 5, 1.5);
    private static readonly Cls s_big = new(1.44, 8, 2, 10, 1.2);
    private const double GramsPerKwh = 400;

    private string ReadA => s.Tokens[("a", Role.Read)];

    private string ReadB => s.Tokens[("b", Role.Read)];

    /// <summary>Attributed figures by hand: a vCPU-second costs the class's price per vCPU-second; active energy is CPU seconds × (max − idle) W × PUE.</summary>
    private static (double Usd, double Kwh, double Kg) Attributed(Cls c, double cpuSeconds)
    {
        double usd = cpuSeconds * c.UsdPerHour / c.Vcpus / 3600;
        double kwh = cpuSeconds * (c.WattsMax - c.WattsIdle) * c.Pue / 3.6e6;
        return (usd, kwh, kwh * GramsPerKwh / 1000);
    }

    /// <summary>Idle by hand: the unused share of the billed time, and idle power × observed time × PUE.</summary>
    private static (double Usd, double Kwh) Idle(Cls c, double cpuSeconds, double observedSeconds)
    {
        double usd = (c.UsdPerHour * observedSeconds / 3600) - (cpuSeconds * c.UsdPerHour / c.Vcpus / 3600);
        double kwh = c.Vcpus * c.WattsIdle * observedSeconds * c.Pue / 3.6e6;
        return (usd, kwh);
    }

    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)) + 1e-15, $"{what}: expected {expected:R}, got {actual:R}");

    private static JsonElement Row(JsonElement rows, string name) =>
        rows.EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);

    private async Task<JsonElement> Cost(string token, string extra = "", string? scopeOrg = null)
    {
        var r = await s.Get($"/api/v1/cost?{CostServer.Range}{extra}", token, scopeOrg);
        Assert.True(r.Status == 200, r.Body);
        return TestServer.Json(r.Body);
    }

    [Fact]
    public async Task Cost_OrgA_TotalsEqualHandComputedFigures()
    {
        JsonElement doc = await Cost(ReadA);
        JsonElement hosts = doc.GetProperty("hosts");
        Assert.Equal(["a1", "a2"], hosts.EnumerateArray().Select(h => h.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));

        // a1: 60 CPU-seconds over 10 observed minutes, class big (from its agent's label); a2: 6 over 5, class small.
        JsonElement a1 = Row(hosts, "a1");
        JsonElement a2 = Row(hosts, "a2");
        Assert.Equal("big", a1.GetProperty("class").GetString());
        Assert.Equal("small", a2.GetProperty("class").GetString());
        Near(60, a1.GetProperty("figures").GetProperty("cpuSeconds").GetDouble(), "a1 CPU seconds");
        Near(6, a2.GetProperty("figures").GetProperty("cpuSeconds").GetDouble(), "a2 CPU seconds");

        (double u1, double k1, double c1) = Attributed(s_big, 60);
        (double u2, double k2, double c2) = Attributed(s_small, 6);
        Near(u1, a1.GetProperty("figures").GetProperty("usd").GetDouble(), "a1 $");
        Near(k1, a1.GetProperty("figures").GetProperty("kwh").GetDouble(), "a1 kWh");
        Near(c1, a1.GetProperty("figures").GetProperty("kgCo2e").GetDouble(), "a1 kg CO2e");
        Near(u2, a2.GetProperty("figures").GetProperty("usd").GetDouble(), "a2 $");
        Near(k2, a2.GetProperty("figures").GetProperty("kwh").GetDouble(), "a2 kWh");

        (double iu1, double ik1) = Idle(s_big, 60, 600);
        (double iu2, double ik2) = Idle(s_small, 6, 300);
        JsonElement idle = doc.GetProperty("idle");
        Near(iu1 + iu2, idle.GetProperty("usd").GetDouble(), "idle $");
        Near(ik1 + ik2, idle.GetProperty("kwh").GetDouble(), "idle kWh");

        JsonElement total = doc.GetProperty("total");
        Near(66, total.GetProperty("cpuSeconds").GetDouble(), "total CPU seconds");
        Near(u1 + u2 + iu1 + iu2, total.GetProperty("usd").GetDouble(), "total $");
        Near(k1 + k2 + ik1 + ik2, total.GetProperty("kwh").GetDouble(), "total kWh");
        Near((k1 + k2 + ik1 + ik2) * GramsPerKwh / 1000, total.GetProperty("kgCo2e").GetDouble(), "total kg CO2e");
        Assert.Equal("estimated", total.GetProperty("energyBasis").GetString());
        Assert.EndsWith("server-model.jsonc", doc.GetProperty("model").GetString(), StringComparison.Ordinal);

        // Services add up: api = a1's 40 s + a2's 6 s, worker = a1's 20 s.
        JsonElement services = doc.GetProperty("services");
        Near(46, Row(services, "api").GetProperty("figures").GetProperty("cpuSeconds").GetDouble(), "api CPU seconds");
        Near(20, Row(services, "worker").GetProperty("figures").GetProperty("cpuSeconds").GetDouble(), "worker CPU seconds");
        Near(Attributed(s_big, 20).Usd, Row(services, "worker").GetProperty("figures").GetProperty("usd").GetDouble(), "worker $");
    }

    [Fact]
    public async Task Cost_Selector_PricesOnlySelectedServices()
    {
        string sel = Uri.EscapeDataString("{service_name=\"worker\"}");
        JsonElement doc = await Cost(ReadA, $"&query={sel}");
        Assert.Equal(["a1"], doc.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()!));
        Near(20, doc.GetProperty("total").GetProperty("cpuSeconds").GetDouble(), "worker CPU seconds");
        Near(Attributed(s_big, 20).Usd, doc.GetProperty("total").GetProperty("usd").GetDouble() - doc.GetProperty("idle").GetProperty("usd").GetDouble(), "worker attributed $");
        Assert.All(doc.GetProperty("functions").EnumerateArray(), f => Assert.NotEqual("json_encode", f.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Cost_OrgB_SeesNoneOfOrgA()
    {
        JsonElement doc = await Cost(ReadB);
        Assert.Equal(["b1"], doc.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()!));
        Assert.Equal(["b"], doc.GetProperty("orgs").EnumerateArray().Select(h => h.GetProperty("name").GetString()!));
        Near(20, doc.GetProperty("total").GetProperty("cpuSeconds").GetDouble(), "b CPU seconds");
        Near(Attributed(s_small, 20).Usd, Row(doc.GetProperty("hosts"), "b1").GetProperty("figures").GetProperty("usd").GetDouble(), "b1 $");
        string[] functions = [.. doc.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];
        Assert.Contains("render", functions);
        Assert.DoesNotContain("json_encode", functions);
        Assert.DoesNotContain("memcpy", functions);

        // Asking for org a with b's token is refused, on every cost route.
        TestServer.AssertError(await s.Get($"/api/v1/cost?{CostServer.Range}&org=a", ReadB), 403);
        TestServer.AssertError(await s.Get($"/api/v1/opportunities?{CostServer.Range}", ReadB, scopeOrg: "a"), 403);
        TestServer.AssertError(await s.Get($"/api/v1/query?{CostServer.Range}&unit=usd&org=a", ReadB), 403);

        var tree = await s.Get($"/api/v1/query?{CostServer.Range}&type={ProfileTypeId.ProcessCpu}&unit=usd", ReadB);
        Assert.Equal(200, tree.Status);
        string[] names = [.. TestServer.Json(tree.Body).GetProperty("names").EnumerateArray().Select(n => n.GetString()!)];
        Assert.Contains("render", names);
        Assert.DoesNotContain("json_encode", names);
    }

    [Fact]
    public async Task Cost_AdminToken_SpansEveryOrg_UnlessOneIsNamed()
    {
        JsonElement all = await Cost(s.Admin);
        Assert.Equal(["a", "b", "local"], all.GetProperty("orgs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        Near(86, all.GetProperty("total").GetProperty("cpuSeconds").GetDouble(), "fleet CPU seconds");

        JsonElement onlyB = await Cost(s.Admin, "&org=b");
        Assert.Equal(["b1"], onlyB.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()!));
    }

    [Fact]
    public async Task Cost_GpuReadings_GiveGpuRowsAndMeasuredEnergy()
    {
        JsonElement doc = await Cost(s.Admin, "&org=local");
        Assert.Equal(["g1"], doc.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()!));
        Assert.Equal("gpu", doc.GetProperty("hosts")[0].GetProperty("class").GetString());
        JsonElement gpu = doc.GetProperty("gpus").EnumerateArray().Single();
        Assert.Equal("g1", gpu.GetProperty("host").GetString());
        Assert.Equal("H100", gpu.GetProperty("model").GetString());
        double observed = gpu.GetProperty("observedSeconds").GetDouble();
        Assert.True(observed >= 540 && observed <= 660, $"GPU observed {observed} s");
        Near(50, gpu.GetProperty("utilPercent").GetDouble(), "GPU util %");
        JsonElement f = gpu.GetProperty("figures");
        Near(observed / 2, f.GetProperty("gpuSeconds").GetDouble(), "GPU busy seconds");
        Near(3.6 * observed / 3600, f.GetProperty("usd").GetDouble(), "GPU $");

        // Power was measured (400 W × observed time × PUE 1.25), not estimated from the class's 100–700 W.
        Assert.Equal("measured", f.GetProperty("energyBasis").GetString());
        Near(400 * observed * 1.25 / 3.6e6, f.GetProperty("kwh").GetDouble(), "GPU kWh");

        // Minutes with readings are observed time; RAPL's energy is measured and, with no CPU profiles, all idle.
        string notes = string.Join(" | ", doc.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Contains("CPU energy measured", notes, StringComparison.Ordinal);
        JsonElement idle = doc.GetProperty("idle");
        Assert.True(idle.GetProperty("kwh").GetDouble() > 0, doc.ToString());
        Assert.NotEqual("estimated", idle.GetProperty("energyBasis").GetString());

        // Org a's answer holds no GPU rows: the readings belong to org local.
        Assert.Empty((await Cost(ReadA)).GetProperty("gpus").EnumerateArray());
    }

    [Theory]
    [InlineData("usd", "microdollars")]
    [InlineData("kwh", "milliwatt-hours")]
    [InlineData("co2e", "milligrams CO2e")]
    public async Task QueryUnit_FlameTreeTotal_EqualsAttributedCost(string unit, string unitWord)
    {
        JsonElement doc = await Cost(ReadA);
        double attributed = unit switch
        {
            "usd" => doc.GetProperty("total").GetProperty("usd").GetDouble() - doc.GetProperty("idle").GetProperty("usd").GetDouble(),
            "kwh" => doc.GetProperty("total").GetProperty("kwh").GetDouble() - doc.GetProperty("idle").GetProperty("kwh").GetDouble(),
            _ => doc.GetProperty("total").GetProperty("kgCo2e").GetDouble() - doc.GetProperty("idle").GetProperty("kgCo2e").GetDouble(),
        };

        var r = await s.Get($"/api/v1/query?{CostServer.Range}&type={ProfileTypeId.ProcessCpu}&unit={unit}", ReadA);
        Assert.True(r.Status == 200, r.Body);
        JsonElement tree = TestServer.Json(r.Body);
        Assert.Equal(unitWord, tree.GetProperty("unit").GetString());
        Assert.Equal("estimated", tree.GetProperty("provenance").GetString());

        // Each stack row is rounded to a whole unit: the total is within half a unit per row.
        long total = tree.GetProperty("total").GetInt64();
        Assert.True(total > 0, r.Body);
        Assert.True(Math.Abs((attributed * 1e6) - total) <= 4, $"tree total {total} vs attributed {attributed * 1e6:R}");

        // a1's frames cost more per CPU-second than a2's (big vs small): json_encode (a1 only) is priced at big's rate.
        string[] names = [.. tree.GetProperty("names").EnumerateArray().Select(n => n.GetString()!)];
        int[] nameOf = [.. tree.GetProperty("nodes").GetProperty("name").EnumerateArray().Select(e => e.GetInt32())];
        long[] totals = [.. tree.GetProperty("nodes").GetProperty("total").EnumerateArray().Select(e => e.GetInt64())];
        int json = Array.FindIndex(nameOf, n => names[n] == "json_encode");
        double expected = unit switch
        {
            "usd" => Attributed(s_big, 30).Usd,
            "kwh" => Attributed(s_big, 30).Kwh,
            _ => Attributed(s_big, 30).Kg,
        };
        Assert.True(Math.Abs((expected * 1e6) - totals[json]) <= 1, $"json_encode {totals[json]} vs {expected * 1e6:R}");
    }

    [Fact]
    public async Task QueryUnit_BadInput_IsOneClearError()
    {
        string msg = TestServer.AssertError(await s.Get($"/api/v1/query?{CostServer.Range}&type={ProfileTypeId.ProcessCpu}&unit=euro", ReadA), 400);
        Assert.Contains("usd, kwh or co2e", msg, StringComparison.Ordinal);
        msg = TestServer.AssertError(await s.Get($"/api/v1/query?{CostServer.Range}&type={ProfileTypeId.ProcessCpuSamples}&unit=usd", ReadA), 400);
        Assert.Contains("prices CPU time", msg, StringComparison.Ordinal);
        msg = TestServer.AssertError(await s.Get($"/api/v1/cost?from={CostServer.Hour + 60}&until={CostServer.Hour}", ReadA), 400);
        Assert.Contains("must be after", msg, StringComparison.Ordinal);
        msg = TestServer.AssertError(await s.Get($"/api/v1/cost?{CostServer.Range}&query={Uri.EscapeDataString("{service_name=")}", ReadA), 400);
        Assert.Contains("selector", msg, StringComparison.Ordinal);
        msg = TestServer.AssertError(await s.Get($"/api/v1/cost?{CostServer.Range}&query={Uri.EscapeDataString("wall:wall:nanoseconds:wall:nanoseconds{}")}", ReadA), 400);
        Assert.Contains("prices CPU time", msg, StringComparison.Ordinal);
        msg = TestServer.AssertError(await s.Get($"/api/v1/opportunities?{CostServer.Range}&improve=0", ReadA), 400);
        Assert.Contains("improve", msg, StringComparison.Ordinal);
        TestServer.AssertError(await s.Get($"/api/v1/cost?{CostServer.Range}", null), 401);
    }

    [Fact]
    public async Task Opportunities_WithPreviousPeriod_HaveTrend()
    {
        var r = await s.Get($"/api/v1/opportunities?{CostServer.Range}&improve=20&top=50", ReadA);
        Assert.True(r.Status == 200, r.Body);
        JsonElement doc = TestServer.Json(r.Body);
        Assert.Equal(20, doc.GetProperty("improvementPercent").GetDouble());
        JsonElement[] items = [.. doc.GetProperty("items").EnumerateArray()];
        Assert.NotEmpty(items);
        Assert.Equal(Enumerable.Range(1, items.Length), items.Select(i => i.GetProperty("rank").GetInt32()));

        // json_encode ran in both hours (30 s now on a1, 6 s before on a1): its trend is +400 %.
        JsonElement json = items.First(i => i.GetProperty("name").GetString() == "json_encode");
        Assert.Equal(JsonValueKind.Number, json.GetProperty("trendPercent").ValueKind);
        Near(400, json.GetProperty("trendPercent").GetDouble(), "json_encode trend");

        // memcpy did not run the hour before: no trend to show.
        JsonElement? memcpy = items.Where(i => i.GetProperty("name").GetString() == "memcpy").Cast<JsonElement?>().FirstOrDefault();
        if (memcpy is JsonElement m)
        {
            Assert.Equal(JsonValueKind.Null, m.TryGetProperty("trendPercent", out JsonElement t) ? t.ValueKind : JsonValueKind.Null);
        }

        // Org b's backlog holds none of org a's functions.
        var b = await s.Get($"/api/v1/opportunities?{CostServer.Range}", ReadB);
        Assert.Equal(200, b.Status);
        Assert.DoesNotContain("json_encode", b.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportOrgs_ReadToken_Is403()
    {
        TestServer.AssertError(await s.Get($"/api/v1/report/orgs?{CostServer.Range}", ReadA), 403);
        TestServer.AssertError(await s.Get($"/api/v1/report/orgs?{CostServer.Range}", s.Tokens[("a", Role.Ingest)]), 403);
    }

    [Theory]
    [InlineData("json", "application/json")]
    [InlineData("md", "text/markdown")]
    [InlineData("csv", "text/csv")]
    [InlineData("html", "text/html")]
    public async Task ReportOrgs_Admin_ListsBothOrgs(string format, string contentType)
    {
        using HttpRequestMessage req = s.Request(HttpMethod.Get, $"/api/v1/report/orgs?{CostServer.Range}&format={format}", s.Admin);
        using HttpResponseMessage resp = await s.Http.SendAsync(req);
        string body = await resp.Content.ReadAsStringAsync();
        Assert.True((int)resp.StatusCode == 200, body);
        Assert.Equal(contentType, resp.Content.Headers.ContentType?.MediaType);
        if (format == "json")
        {
            JsonElement doc = TestServer.Json(body);
            JsonElement[] orgs = [.. doc.GetProperty("orgs").EnumerateArray()];
            JsonElement a = orgs.Single(o => o.GetProperty("org").GetString() == "a");
            JsonElement b = orgs.Single(o => o.GetProperty("org").GetString() == "b");
            (double iu1, _) = Idle(s_big, 60, 600);
            (double iu2, _) = Idle(s_small, 6, 300);
            Near(Attributed(s_big, 60).Usd + Attributed(s_small, 6).Usd + iu1 + iu2, a.GetProperty("figures").GetProperty("usd").GetDouble(), "org a $");
            Near(20, b.GetProperty("figures").GetProperty("cpuSeconds").GetDouble(), "org b CPU seconds");
            Near(86, doc.GetProperty("total").GetProperty("cpuSeconds").GetDouble(), "fleet CPU seconds");

            // Org a had data the hour before: a change; org b did not.
            Assert.Equal(JsonValueKind.Number, a.GetProperty("changePercent").ValueKind);
        }
        else
        {
            Assert.Matches(LinePattern(format, "a"), body);
            Assert.Matches(LinePattern(format, "b"), body);
        }
    }

    [Fact]
    public async Task ReportOrgs_BadFormat_Is400()
    {
        string msg = TestServer.AssertError(await s.Get($"/api/v1/report/orgs?{CostServer.Range}&format=pdf", s.Admin), 400);
        Assert.Contains("json, md, csv or html", msg, StringComparison.Ordinal);
    }

    // A row naming the org: a table cell in md and html, an org row in csv.
    private static string LinePattern(string format, string org) => format switch
    {
        "md" => $@"(?m)^\|\s*{org}\s*\|",
        "csv" => $@"(?m)^org,{org},",
        _ => $@"<td[^>]*>\s*{org}\s*</td>",
    };

    [Fact]
    public async Task Create_BadModelFile_StopsWithTheModelsError()
    {
        string dir = Path.Combine(Path.GetTempPath(), "orac-cost-bad-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ServerOptions
            {
                Listen = "127.0.0.1:0",
                DataDirectory = dir,
                InMemory = true,
                CostModelPath = Path.Combine(TestPaths.Data, "cost", "server-bad-model.jsonc"),
            };
            await using var store = new Orac.Storage.MemoryProfileStore();
            OracException e = Assert.Throws<OracException>(() => OracServer.Create(options, store, log: TextWriter.Null));
            Assert.Contains("server-bad-model.jsonc", e.Message, StringComparison.Ordinal);
            Assert.Contains("classes.small.pue", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Equal(OracException.Usage, e.ExitCode);

            var missing = options with { CostModelPath = Path.Combine(dir, "nope.jsonc") };
            e = Assert.Throws<OracException>(() => OracServer.Create(missing, store, log: TextWriter.Null));
            Assert.Contains("nope.jsonc", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void CostRoutes_AreGuarded()
    {
        var routes = s.Server.Routes();
        Assert.Contains(("GET", "/api/v1/cost", Access.Read), routes);
        Assert.Contains(("GET", "/api/v1/opportunities", Access.Read), routes);
        Assert.Contains(("GET", "/api/v1/report/orgs", Access.Admin), routes);
    }
}
