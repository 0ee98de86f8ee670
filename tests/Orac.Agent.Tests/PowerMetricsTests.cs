using System.Diagnostics;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Agent.Tests;

/// <summary>
/// GPU and RAPL readings from the agent to a real server: a shell script stands in for nvidia-smi (a real process
/// printing nvidia-smi's CSV) and a folder stands in for /sys/class/powercap (real files).
/// </summary>
public sealed class PowerMetricsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-agent-power-").FullName;
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync(Path.Combine(_dir, "data"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private string FakeNvidiaSmi()
    {
        string path = Path.Combine(_dir, "nvidia-smi");

        // `date` without -u: the agent runs nvidia-smi with TZ=UTC, so local time is UTC here.
        File.WriteAllText(path, """
            #!/bin/sh
            if [ "$1" = "-L" ]; then
              echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-fake-0)"
              exit 0
            fi
            case "$1" in --query-gpu=timestamp,index,uuid,name,utilization.gpu,power.draw,memory.used) ;; *) exit 3 ;; esac
            [ "$TZ" = "UTC" ] || exit 4
            echo "timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], memory.used [MiB]"
            echo "$(date '+%Y/%m/%d %H:%M:%S.000'), 0, GPU-fake-0, NVIDIA H100 80GB HBM3, 42 %, 250.50 W, 2048 MiB"
            """.Replace("\r", "", StringComparison.Ordinal));
        MakeExecutable(path);
        return path;
    }

    private string FakePowercap()
    {
        string root = Path.Combine(_dir, "powercap");
        void Zone(string zone, string name, long uj)
        {
            string d = Path.Combine(root, zone);
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "name"), name + "\n");
            File.WriteAllText(Path.Combine(d, "energy_uj"), uj + "\n");
            File.WriteAllText(Path.Combine(d, "max_energy_range_uj"), "262143328850\n");
        }

        Zone("intel-rapl:0", "package-0", 1_000_000);
        Zone("intel-rapl:0:0", "core", 500_000); // inside the package: not read
        Zone("intel-rapl:1", "package-1", 2_000_000);
        Directory.CreateDirectory(Path.Combine(root, "intel-rapl:2")); // no counter: not read
        return root;
    }

    private FleetAgent NewAgent(string nvidiaSmi, string powercap) => FleetAgent.Create(new AgentOptions
    {
        Server = _server.Url,
        Token = _server.IngestToken,
        StateDirectory = Path.Combine(_dir, "state"),
        Hostname = "gpu-agent-host",
        UploadInterval = TimeSpan.FromMilliseconds(600),
        GpuSampleInterval = TimeSpan.FromMilliseconds(200),
        Profile = false,
        MaxBackoff = TimeSpan.FromSeconds(1),
        NvidiaSmi = nvidiaSmi,
        PowercapRoot = powercap,
    });

    private async Task<MetricsBatch> Stored()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        (int status, string body) = await _server.GetAsync($"/api/v1/metrics?host=gpu-agent-host&from={now - 600}&until={now + 60}");
        Assert.True(status == 200, body);
        return JsonSerializer.Deserialize(body, OracJsonContext.Default.MetricsBatch)!;
    }

    [Fact]
    public async Task Agent_WithNvidiaSmiAndRapl_SendsReadings_AndOffersGpu()
    {
        await using FleetAgent agent = NewAgent(FakeNvidiaSmi(), FakePowercap());
        Assert.Contains(AgentInfoProbe.Capabilities.Gpu, agent.Info.Capabilities);
        Assert.Equal(["NVIDIA H100 80GB HBM3"], agent.Info.Gpus);
        Assert.NotNull(agent.Metrics);
        Assert.True(agent.Metrics!.SamplesGpus && agent.Metrics.ReadsRapl);
        agent.Start();

        var watch = Stopwatch.StartNew();
        MetricsBatch stored;
        while (true)
        {
            stored = await Stored();
            if ((stored.Gpus.Count >= 2 && stored.Power.Count >= 4) || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                break;
            }

            File.WriteAllText(Path.Combine(_dir, "powercap", "intel-rapl:0", "energy_uj"), (1_000_000 + (watch.ElapsedMilliseconds * 1000)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Task.Delay(200);
        }

        Assert.True(stored.Gpus.Count >= 2, $"GPU readings stored: {stored.Gpus.Count}; sample failures {agent.Metrics.SampleFailures}, upload failures {agent.Metrics.UploadFailures}");
        GpuReading g = stored.Gpus[0];
        Assert.Equal((0, "GPU-fake-0", "NVIDIA H100 80GB HBM3", 42.0, 250.5, 2048.0), (g.Index, g.Uuid, g.Model, g.UtilPercent!.Value, g.PowerWatts!.Value, g.MemoryUsedMib!.Value));

        // Timestamps are the sampling time read as UTC (TZ=UTC), within the last minute.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.InRange(g.Time, now - 60_000, now + 1_000);

        Assert.True(stored.Power.Count >= 4, $"RAPL readings stored: {stored.Power.Count}");
        Assert.Equal(["package-0", "package-1"], stored.Power.Select(p => p.Domain).Distinct().Order(StringComparer.Ordinal).ToArray());
        Assert.All(stored.Power, p => Assert.Equal(262_143_328_850, p.MaxEnergyMicrojoules));
        Assert.Equal(2_000_000, stored.Power.First(p => p.Domain == "package-1").EnergyMicrojoules);
        Assert.Equal(0, agent.Metrics.UploadFailures);
    }

    [Fact]
    public async Task Agent_WithoutNvidiaSmiOrRapl_NoGpuCapabilityNoUploader()
    {
        await using FleetAgent agent = NewAgent(Path.Combine(_dir, "no-such-nvidia-smi"), Path.Combine(_dir, "no-powercap"));
        Assert.DoesNotContain(AgentInfoProbe.Capabilities.Gpu, agent.Info.Capabilities);
        Assert.Empty(agent.Info.Gpus);
        Assert.Null(agent.Metrics);
    }

    [Fact]
    public async Task Agent_NvidiaSmiFailing_CountedNotFatal_RaplStillSent()
    {
        string path = Path.Combine(_dir, "nvidia-smi-broken");
        File.WriteAllText(path, "#!/bin/sh\nif [ \"$1\" = \"-L\" ]; then echo 'GPU 0: NVIDIA A100 (UUID: GPU-x)'; exit 0; fi\necho 'garbage'\nexit 9\n");
        MakeExecutable(path);
        await using FleetAgent agent = NewAgent(path, FakePowercap());
        agent.Start();
        var watch = Stopwatch.StartNew();
        while ((agent.Metrics!.SampleFailures < 2 || agent.Metrics.SentReadings < 2) && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        Assert.True(agent.Metrics.SampleFailures >= 2, $"sample failures {agent.Metrics.SampleFailures}");
        Assert.True(agent.Metrics.SentReadings >= 2, $"sent {agent.Metrics.SentReadings}");
        MetricsBatch stored = await Stored();
        Assert.Empty(stored.Gpus);
        Assert.NotEmpty(stored.Power);
    }
}
