using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Cost;
using Orac.Storage;

namespace Orac.Server.Tests;

/// <summary>POST/GET /api/v1/metrics on a real server: each format, org isolation, bad bodies, the body limit, restarts.</summary>
public sealed class MetricsTests(TestServer s) : IClassFixture<TestServer>
{
    private static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string SmiTime(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy/MM/dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string SmiCsv(long t0) =>
        "timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], memory.used [MiB]\n"
        + $"{SmiTime(t0)}, 0, GPU-a, NVIDIA H100 80GB HBM3, 90 %, 600.00 W, 1024 MiB\n"
        + $"{SmiTime(t0 + 10_000)}, 0, GPU-a, NVIDIA H100 80GB HBM3, 80 %, [N/A], 1024 MiB\n"
        + $"{SmiTime(t0 + 10_000)}, 1, GPU-b, NVIDIA H100 80GB HBM3, 0 %, 70.00 W, 0 MiB\n";

    private async Task<JsonElement> Readings(string token, string host, long fromMs, long untilMs)
    {
        var r = await s.Get($"/api/v1/metrics?host={host}&from={fromMs / 1000}&until={(untilMs / 1000) + 1}", token);
        Assert.True(r.Status == 200, r.Body);
        return TestServer.Json(r.Body);
    }

    [Fact]
    public async Task NvidiaSmiCsv_Ingested_ReadBackInItsOrgOnly()
    {
        long t0 = NowMs - 60_000;
        var r = await s.Post("/api/v1/metrics?host=smi-host&format=nvidia-smi", s.Tokens[("a", Role.Ingest)], SmiCsv(t0));
        Assert.True(r.Status == 200, r.Body);
        JsonElement result = TestServer.Json(r.Body);
        Assert.Equal(3, result.GetProperty("readings").GetInt64());
        Assert.Equal(0, result.GetProperty("skipped").GetInt64());

        JsonElement back = await Readings(s.Tokens[("a", Role.Read)], "smi-host", t0 - 1000, t0 + 20_000);
        JsonElement[] gpus = [.. back.GetProperty("gpus").EnumerateArray()];
        Assert.Equal(3, gpus.Length);
        Assert.Equal(t0, gpus[0].GetProperty("time").GetInt64());
        Assert.Equal(600, gpus[0].GetProperty("powerWatts").GetDouble());
        Assert.Equal(JsonValueKind.Null, gpus[1].GetProperty("powerWatts").ValueKind);
        Assert.Equal(1, gpus[2].GetProperty("index").GetInt32());
        Assert.Equal(["smi-host"], s.Server.Metrics.Hosts("a", t0 - 1000, t0 + 20_000));

        // Org b has no such readings, and its store has no such host.
        JsonElement inB = await Readings(s.Tokens[("b", Role.Read)], "smi-host", t0 - 1000, t0 + 20_000);
        Assert.Empty(inB.GetProperty("gpus").EnumerateArray());
        Assert.Empty(s.Server.Metrics.Hosts("b", 0, long.MaxValue));
    }

    [Fact]
    public async Task DcgmText_ScrapeTimeFromTheQuery_BlanksMissing()
    {
        long scrape = NowMs - 30_000;
        string text = """
            # HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
            # TYPE DCGM_FI_DEV_POWER_USAGE gauge
            DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-x",modelName="NVIDIA H200"} 512.5
            DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-x",modelName="NVIDIA H200"} 9223372036854775792
            DCGM_FI_1002{gpu="0",UUID="GPU-x",modelName="NVIDIA H200"} 0.25
            """;
        var r = await s.Post($"/api/v1/metrics?host=dcgm-host&format=dcgm&time={scrape}", s.Tokens[("a", Role.Ingest)], text);
        Assert.True(r.Status == 200, r.Body);
        Assert.Equal(1, TestServer.Json(r.Body).GetProperty("readings").GetInt64());

        JsonElement g = (await Readings(s.Tokens[("a", Role.Read)], "dcgm-host", scrape - 1000, scrape + 1000)).GetProperty("gpus")[0];
        Assert.Equal(scrape, g.GetProperty("time").GetInt64());
        Assert.Equal(512.5, g.GetProperty("powerWatts").GetDouble());
        Assert.Equal(25, g.GetProperty("smActivePercent").GetDouble());
        Assert.Equal(JsonValueKind.Null, g.GetProperty("energyMillijoules").ValueKind);
        Assert.Equal("NVIDIA H200", g.GetProperty("model").GetString());
    }

    [Fact]
    public async Task JsonBatch_GpuAndRapl_BadReadingsCountedTheRestKept()
    {
        long t = NowMs - 20_000;
        string body = $$"""
            {"host":"json-host","gpus":[{"time":{{t}},"index":0,"utilPercent":50,"powerWatts":300},{"time":{{t}},"index":1,"utilPercent":150}],
             "power":[{"time":{{t}},"domain":"package-0","energyMicrojoules":1000,"maxEnergyMicrojoules":262143328850},
                      {"time":{{t + 10_000}},"domain":"package-0","energyMicrojoules":2001000,"maxEnergyMicrojoules":262143328850}]}
            """;
        var r = await s.Post("/api/v1/metrics?host=json-host", s.Tokens[("a", Role.Ingest)], body);
        Assert.True(r.Status == 200, r.Body);
        JsonElement result = TestServer.Json(r.Body);
        Assert.Equal(3, result.GetProperty("readings").GetInt64());
        Assert.Equal(1, result.GetProperty("skipped").GetInt64());
        Assert.Equal("gpus[1]: utilPercent out of 0–100", result.GetProperty("firstSkip").GetString());

        var power = s.Server.Metrics.Power("a", "json-host", t, t + 20_000);
        Assert.Equal(2, power.Count);
        var energy = Orac.Cost.Gpu.GpuFormats.ReduceRapl(power, t, t + 20_000)!;
        Assert.Equal(2, energy.Joules, 9);
        Assert.Equal(0.2, energy.IdleWatts, 9);
    }

    [Fact]
    public async Task BadBodies_400WithWhere()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        string csv = "timestamp, index, utilization.gpu [%]\n2026/11/29 10:15:00.000, 0, lots\n";
        string msg = TestServer.AssertError(await s.Post("/api/v1/metrics?host=h&format=nvidia-smi", ingest, csv), 400);
        Assert.Contains("body:2: bad utilization.gpu 'lots'", msg, StringComparison.Ordinal);

        msg = TestServer.AssertError(await s.Post("/api/v1/metrics?host=h&format=nvidia-smi", ingest, "hello, world\n"), 400);
        Assert.Contains("body:1: not an nvidia-smi --query-gpu CSV header", msg, StringComparison.Ordinal);

        msg = TestServer.AssertError(await s.Post("/api/v1/metrics?host=h", ingest, "{\"host\":\"h\",\n\"gpus\":[{\"time\":x}]}"), 400);
        Assert.StartsWith("bad metrics JSON at byte", msg, StringComparison.Ordinal);

        msg = TestServer.AssertError(await s.Post("/api/v1/metrics?format=dcgm", ingest, "x 1\n"), 400);
        Assert.Contains("needs host=H", msg, StringComparison.Ordinal);

        msg = TestServer.AssertError(await s.Post("/api/v1/metrics?host=other", ingest, "{\"host\":\"h\"}"), 400);
        Assert.Contains("differs from host=other", msg, StringComparison.Ordinal);

        TestServer.AssertError(await s.Post("/api/v1/metrics?host=h&format=csv", ingest, ""), 400);
        TestServer.AssertError(await s.Post("/api/v1/metrics?host=bad%20host&format=dcgm", ingest, ""), 400);
        TestServer.AssertError(await s.Post("/api/v1/metrics?host=h&format=dcgm&time=-5", ingest, ""), 400);

        msg = TestServer.AssertError(await s.Post("/api/v1/metrics?host=h&format=dcgm", ingest, new string('x', (int)TestServer.MaxBody + 10)), 413);
        Assert.Contains("larger than", msg, StringComparison.Ordinal);

        // Binary junk is a counted skip or a clear 400, never a 500.
        byte[] junk = new byte[200_000];
        new Random(3).NextBytes(junk);
        foreach (string format in new[] { "nvidia-smi", "dcgm", "json" })
        {
            var r = await s.Send(HttpMethod.Post, $"/api/v1/metrics?host=h&format={format}", ingest, new ByteArrayContent(junk));
            Assert.True(r.Status is 200 or 400, $"{format}: {r.Status} {r.Body}");
        }
    }

    [Fact]
    public async Task Readings_PersistAcrossRestart_DamagedLineSkipped()
    {
        string dir = Path.Combine(Path.GetTempPath(), "orac-metrics-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = dir };
            long t0 = NowMs - 60_000;
            string token;
            await using (OracServer first = OracServer.Create(options, new MemoryProfileStore(), log: TextWriter.Null))
            {
                first.Auth.Bootstrap();
                token = first.Auth.CreateToken(AuthStore.DefaultOrg, Role.Admin, "t");
                await first.StartAsync();
                using var http = new HttpClient();
                using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(first.Address!, "/api/v1/metrics?host=keep-host&format=nvidia-smi")) { Content = new StringContent(SmiCsv(t0), Encoding.UTF8, "text/csv") };
                req.Headers.Authorization = new("Bearer", token);
                using HttpResponseMessage resp = await http.SendAsync(req);
                Assert.Equal(200, (int)resp.StatusCode);
                await first.StopAsync();
            }

            // A torn line (a crash mid-write) followed by nothing: the next start skips it and keeps the rest.
            string file = Path.Combine(dir, "metrics", AuthStore.DefaultOrg + ".jsonl");
            Assert.True(File.Exists(file));
            File.AppendAllText(file, "{\"host\":\"keep-host\",\"gpus\":[{\"ti");

            var log = new StringWriter();
            await using OracServer second = OracServer.Create(options, new MemoryProfileStore(), log: log);
            Assert.Equal(1, second.Metrics.SkippedLines);
            Assert.Contains("skipped 1 damaged line(s) of GPU/RAPL readings, the first at line 2", log.ToString(), StringComparison.Ordinal);
            Assert.Equal(3, second.Metrics.Gpus(AuthStore.DefaultOrg, "keep-host", t0, t0 + 20_000).Count);

            // Appends after the torn line stay readable at the next start.
            second.Metrics.Add(AuthStore.DefaultOrg, new MetricsBatch { Host = "keep-host", Gpus = [new GpuReading { Time = t0 + 30_000, UtilPercent = 1 }] });
            second.Metrics.Dispose();
            using MetricsStore third = MetricsStore.Open(dir, _ => { });
            Assert.Equal(4, third.Gpus(AuthStore.DefaultOrg, "keep-host", t0, t0 + 40_000).Count);
            Assert.Equal(1, third.SkippedLines);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MemoryMode_KeepsNothingOnDisk()
    {
        string dir = Path.Combine(Path.GetTempPath(), "orac-metrics-mem-" + Guid.NewGuid().ToString("N"));
        using MetricsStore store = MetricsStore.Open(null, _ => { });
        store.Add("a", new MetricsBatch { Host = "h", Gpus = [new GpuReading { Time = NowMs, UtilPercent = 1 }] });
        Assert.Single(store.Gpus("a", "h", 0, long.MaxValue));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Downsample_BeyondTheRawHour_OnePointPerGpuPerMinute_CountersKept()
    {
        // 10-second readings of two GPUs over three minutes.
        var list = new List<GpuReading>();
        for (long t = 0; t < 180_000; t += 10_000)
        {
            for (int i = 0; i < 2; i++)
            {
                list.Add(new GpuReading { Time = t, Index = i, UtilPercent = t < 60_000 ? 50 : 100, PowerWatts = 100 + i, EnergyMillijoules = t * 100 });
            }
        }

        List<GpuReading> down = MetricsStore.DownsampleGpus(list, oldest: 0, cutoff: 120_000);
        Assert.Equal(4 + 12, down.Count); // minutes 0 and 1 as points for each GPU, minute 2 raw
        GpuReading m0 = down[0];
        Assert.Equal((50_000L, 0, 50.0, 100.0, 5_000_000.0), (m0.Time, m0.Index, m0.UtilPercent!.Value, m0.PowerWatts!.Value, m0.EnergyMillijoules!.Value));
        Assert.Equal(110_000, down[2].Time);
        Assert.Equal(120_000, down[4].Time);

        // The energy counter's increase over the kept points equals the raw one.
        var g0 = down.Where(g => g.Index == 0).ToList();
        Assert.Equal(list.Where(g => g.Index == 0).Last().EnergyMillijoules - list[0].EnergyMillijoules, g0[^1].EnergyMillijoules - g0[0].EnergyMillijoules + 5_000_000);

        List<GpuReading> none = MetricsStore.DownsampleGpus(list, oldest: 200_000, cutoff: 120_000);
        Assert.Empty(none);
    }

    [Fact]
    public void Store_ManyReadings_OlderThanAnHourBecomeMinutePoints_EnergyAndHostsKept()
    {
        using var store = new MetricsStore();
        long end = (NowMs / 60_000 * 60_000) - 1000;
        long start = end - (2 * 3600 * 1000);
        var batch = new MetricsBatch { Host = "busy-host" };
        for (long t = start; t < end; t += 1000)
        {
            batch.Gpus.Add(new GpuReading { Time = t, Index = 0, Model = "m", UtilPercent = 100, EnergyMillijoules = (t - start) * 300 });
        }

        store.Add("a", batch);
        IReadOnlyList<GpuReading> kept = store.Gpus("a", "busy-host", start, end);

        // Readings before the newest minus an hour (floored to the minute) are one point a minute: 60 points for
        // the first hour, 3,659 raw readings after the cutoff.
        Assert.Equal(60 + 3659, kept.Count);
        Assert.Equal(0, store.Dropped);
        Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First.Time < p.Second.Time), "readings are in time order");

        // 300 W for the whole span: the counter's increase and the observed time survive downsampling exactly.
        var usage = Orac.Cost.Gpu.GpuFormats.Reduce(kept, start, end);
        double seconds = (end - 1000 - start) / 1000.0;
        Assert.Equal(seconds, usage.ObservedSeconds, 6);
        Assert.Equal(seconds * 300, usage.MeasuredJoules!.Value, 3);
        Assert.Equal(seconds, usage.BusySeconds, 6);
        Assert.Equal(["busy-host"], store.Hosts("a", start, end));
        Assert.Empty(store.Hosts("a", end + 1, end + 2));
        Assert.Empty(store.Hosts("b", start, end));
    }
}
