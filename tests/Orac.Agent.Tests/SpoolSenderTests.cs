using System.Diagnostics;
using System.Text;
using Orac.Model.Wire;

namespace Orac.Agent.Tests;

/// <summary>The spool's sender against a real server's ingest route: acknowledged, refused for good, and an outage.</summary>
public sealed class SpoolSenderTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-sender-").FullName;
    private readonly StringWriter _log = new();
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync(Path.Combine(_dir, "data"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _log.Dispose();

    /// <summary>A CPU-time profile of <paramref name="samples"/> samples at 19 Hz, gzip-compressed, as the profiler writes it.</summary>
    private static byte[] Profile(long samples, string leaf)
    {
        long period = 1_000_000_000L / 19;
        var doc = new ProfileDocument
        {
            Source = "test",
            SampleTypes = [new ProfileSampleType { Type = "cpu", Unit = "nanoseconds" }],
            Period = period,
            PeriodUnit = "nanoseconds",
            Frames = ["app", leaf],
            Samples = [new ProfileSample { Stack = [0, 1], Values = [samples * period] }],
        };
        return ContinuousProfiler.Gzip(doc);
    }

    private static string PathFor(string service)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return ContinuousProfiler.UploadPath("testhost", new Dictionary<string, string> { ["service_name"] = service, ["team"] = "perf" }, new Dictionary<string, string>(), now - 10_000, now);
    }

    private static async Task Until(Func<bool> done, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(watch.Elapsed < limit, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Sender_AcknowledgedUploadsAreDeletedAndCounted_RefusedOnesDroppedAsRejected()
    {
        using Spool spool = Spool.Open(Path.Combine(_dir, "spool"), "agent-s", Spool.DefaultMaxBytes, _log);
        using var http = new AgentHttp(_server.Url, _server.IngestToken, TimeSpan.FromSeconds(30));
        var sender = new SpoolSender(spool, http, _log);
        spool.Add(PathFor("sendertest"), "application/json", 7, Profile(7, "hot"));
        spool.Add(PathFor("sendertest"), "application/json", 1, Encoding.UTF8.GetBytes("this is not a profile"));
        spool.Add(PathFor("sendertest"), "application/json", 3, Profile(3, "cold"));

        using var cts = new CancellationTokenSource();
        Task run = sender.RunAsync(cts.Token);
        await Until(() => spool.Stats.Files == 0, TimeSpan.FromSeconds(20), "the spool to drain");
        await cts.CancelAsync();
        await run;

        Assert.Equal(10, sender.UploadedSamples);
        Assert.Equal(2, sender.UploadedFiles);
        Assert.Equal(1, sender.RejectedFiles);
        Assert.Equal(1, sender.RejectedSamples);
        Assert.Contains("refused by the server (400", _log.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "spool")));

        // Stored as sent: 10 samples × the 19 Hz period, under the service and labels of the path.
        long total = await _server.CpuTotalNsAsync("{service_name=\"sendertest\", host=\"testhost\", team=\"perf\"}");
        Assert.Equal(10 * (1_000_000_000L / 19), total);
    }

    [Fact]
    public async Task Sender_ServerAway_KeepsUploads_LogsOutageOnce_ReplaysWhenItIsBack()
    {
        using Spool spool = Spool.Open(Path.Combine(_dir, "spool"), "agent-o", Spool.DefaultMaxBytes, _log);
        using var http = new AgentHttp(_server.Url, _server.IngestToken, TimeSpan.FromSeconds(30));
        var sender = new SpoolSender(spool, http, _log, maxBackoff: TimeSpan.FromSeconds(1));
        await _server.StopAsync();

        using var cts = new CancellationTokenSource();
        Task run = sender.RunAsync(cts.Token);
        for (int i = 1; i <= 4; i++)
        {
            spool.Add(PathFor("outagetest"), "application/json", i, Profile(i, "f" + i));
            await Task.Delay(300);
        }

        await Until(() => sender.InOutage, TimeSpan.FromSeconds(10), "the outage to be noticed");
        Assert.Equal(4, spool.Stats.Files);
        Assert.Equal(0, sender.UploadedSamples);

        await _server.RestartAsync();
        await Until(() => spool.Stats.Files == 0 && !sender.InOutage, TimeSpan.FromSeconds(20), "the replay");
        await cts.CancelAsync();
        await run;

        Assert.Equal(1 + 2 + 3 + 4, sender.UploadedSamples);
        string log = _log.ToString();
        Assert.Single(log.Split('\n'), l => l.Contains("uploads failing", StringComparison.Ordinal));
        Assert.Contains("replayed 4 uploads from the spool", log, StringComparison.Ordinal);
        Assert.Equal(10 * (1_000_000_000L / 19), await _server.CpuTotalNsAsync("{service_name=\"outagetest\"}"));
    }
}
