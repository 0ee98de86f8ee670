using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Collect.Trace;
using Orac.Cost.Gpu;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>
/// RAPL energy counters under a powercap folder (<c>/sys/class/powercap</c>): the top-level zones
/// <c>intel-rapl:N</c> (package domains; sub-zones <c>intel-rapl:N:M</c> are inside them and skipped).
/// </summary>
public sealed class RaplReader
{
    private readonly List<(string Domain, string EnergyPath, long Max)> _zones;

    private RaplReader(List<(string, string, long)> zones) => _zones = zones;

    /// <summary>Zones found.</summary>
    public int Zones => _zones.Count;

    /// <summary>The readable zones under <paramref name="root"/>, or null when there are none (no RAPL, or not readable: root only on many kernels).</summary>
    public static RaplReader? Open(string root)
    {
        var zones = new List<(string, string, long)>();
        try
        {
            if (!Directory.Exists(root))
            {
                return null;
            }

            string[] dirs = Directory.GetDirectories(root, "intel-rapl:*");
            Array.Sort(dirs, StringComparer.Ordinal);
            foreach (string dir in dirs)
            {
                string zone = Path.GetFileName(dir);
                if (zone.Count(c => c == ':') != 1)
                {
                    continue;
                }

                string energy = Path.Combine(dir, "energy_uj");
                if (ReadLong(energy) is null)
                {
                    continue;
                }

                string name = ReadText(Path.Combine(dir, "name")) ?? zone;
                long max = ReadLong(Path.Combine(dir, "max_energy_range_uj")) ?? 0;
                zones.Add((name, energy, max));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return zones.Count == 0 ? null : new RaplReader(zones);
    }

    /// <summary>One reading per zone at <paramref name="timeMs"/>; zones that fail to read are left out.</summary>
    public List<PowerReading> Read(long timeMs)
    {
        var list = new List<PowerReading>(_zones.Count);
        foreach ((string domain, string path, long max) in _zones)
        {
            if (ReadLong(path) is long uj)
            {
                list.Add(new PowerReading { Time = timeMs, Domain = domain, EnergyMicrojoules = uj, MaxEnergyMicrojoules = max });
            }
        }

        return list;
    }

    private static string? ReadText(string path)
    {
        try
        {
            string s = File.ReadAllText(path).Trim();
            return s.Length is > 0 and <= 64 ? s : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadLong(string path) =>
        long.TryParse(ReadText(path), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
}

/// <summary>
/// Measured power for the cost views (docs/cost.md "GPUs"): samples <c>nvidia-smi</c> every
/// <see cref="AgentOptions.GpuSampleInterval"/> where it runs, reads RAPL each upload interval where it is readable, and
/// sends a <see cref="MetricsBatch"/> to <c>POST /api/v1/metrics</c> each upload interval. Best effort: failures are
/// counted and logged once per streak, readings wait for the next upload (at most <see cref="MaxBuffered"/>, oldest
/// dropped), nothing stops the agent.
/// </summary>
public sealed class MetricsUploader
{
    /// <summary>Readings held between uploads (each kind), the oldest dropped beyond.</summary>
    public const int MaxBuffered = 10_000;

    /// <summary>The query nvidia-smi is run with.</summary>
    public const string NvidiaSmiQuery = "--query-gpu=timestamp,index,uuid,name,utilization.gpu,power.draw,memory.used";

    private readonly AgentHttp _http;
    private readonly string _host;
    private readonly string? _nvidiaSmi;
    private readonly RaplReader? _rapl;
    private readonly TimeSpan _gpuInterval;
    private readonly TimeSpan _uploadInterval;
    private readonly TextWriter _log;
    private readonly List<GpuReading> _gpus = [];
    private readonly List<PowerReading> _power = [];
    private long _sentReadings;
    private long _uploadFailures;
    private long _sampleFailures;
    private long _dropped;
    private string? _failing;

    internal MetricsUploader(AgentHttp http, string host, string? nvidiaSmi, RaplReader? rapl, TimeSpan gpuInterval, TimeSpan uploadInterval, TextWriter log)
    {
        _http = http;
        _host = host;
        _nvidiaSmi = nvidiaSmi;
        _rapl = rapl;
        _gpuInterval = gpuInterval;
        _uploadInterval = uploadInterval;
        _log = log;
    }

    /// <summary>Whether nvidia-smi is sampled.</summary>
    public bool SamplesGpus => _nvidiaSmi is not null;

    /// <summary>Whether RAPL is read.</summary>
    public bool ReadsRapl => _rapl is not null;

    /// <summary>Readings the server acknowledged.</summary>
    public long SentReadings => Interlocked.Read(ref _sentReadings);

    /// <summary>Uploads that failed (the readings stay for the next one).</summary>
    public long UploadFailures => Interlocked.Read(ref _uploadFailures);

    /// <summary>nvidia-smi runs that failed or timed out.</summary>
    public long SampleFailures => Interlocked.Read(ref _sampleFailures);

    /// <summary>Readings dropped because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Samples and uploads until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        TimeSpan tick = _nvidiaSmi is null ? _uploadInterval : (_gpuInterval < _uploadInterval ? _gpuInterval : _uploadInterval);
        using var timer = new PeriodicTimer(tick);
        var sinceUpload = Stopwatch.StartNew();
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (_nvidiaSmi is not null)
                {
                    await SampleGpusAsync(stop).ConfigureAwait(false);
                }

                if (sinceUpload.Elapsed >= _uploadInterval)
                {
                    sinceUpload.Restart();
                    if (_rapl is not null)
                    {
                        Buffer(_power, _rapl.Read(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
                    }

                    await UploadAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task SampleGpusAsync(CancellationToken stop)
    {
        var psi = new ProcessStartInfo(_nvidiaSmi!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(NvidiaSmiQuery);
        psi.ArgumentList.Add("--format=csv");

        // nvidia-smi prints local time; the server reads these timestamps as UTC.
        psi.Environment["TZ"] = "UTC";
        try
        {
            using Process p = Process.Start(psi) ?? throw new IOException("not started");
            Task<string> output = p.StandardOutput.ReadToEndAsync(stop);
            _ = p.StandardError.ReadToEndAsync(stop);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                p.Kill(entireProcessTree: true);
                Interlocked.Increment(ref _sampleFailures);
                return;
            }

            string text = await output.ConfigureAwait(false);
            if (p.ExitCode != 0)
            {
                Interlocked.Increment(ref _sampleFailures);
                return;
            }

            GpuParseResult r = GpuFormats.ParseNvidiaSmiCsv(new StringReader(text), "nvidia-smi");
            Buffer(_gpus, r.Readings);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException or Orac.Model.OracException)
        {
            Interlocked.Increment(ref _sampleFailures);
        }
    }

    private void Buffer<T>(List<T> buffer, IReadOnlyList<T> items)
    {
        buffer.AddRange(items);
        int over = buffer.Count - MaxBuffered;
        if (over > 0)
        {
            buffer.RemoveRange(0, over);
            Interlocked.Add(ref _dropped, over);
        }
    }

    private async Task UploadAsync(CancellationToken stop)
    {
        if (_gpus.Count == 0 && _power.Count == 0)
        {
            return;
        }

        var batch = new MetricsBatch { Host = _host, Gpus = [.. _gpus], Power = [.. _power] };
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(batch, OracJsonContext.Default.MetricsBatch));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpAnswer answer = await _http.SendAsync(HttpMethod.Post, "/api/v1/metrics?format=json", content, null, stop).ConfigureAwait(false);
        if (answer.Ok || answer.Status == 400)
        {
            // 400: the server will never take these readings; keeping them would block every later upload.
            _gpus.RemoveRange(0, batch.Gpus.Count);
            _power.RemoveRange(0, batch.Power.Count);
        }

        if (answer.Ok)
        {
            Interlocked.Add(ref _sentReadings, batch.Gpus.Count + batch.Power.Count);
            if (_failing is not null)
            {
                _log.WriteLine($"orac agent: GPU/RAPL readings upload works again (was: {_failing})");
                _failing = null;
            }

            return;
        }

        Interlocked.Increment(ref _uploadFailures);
        if (_failing is null)
        {
            _failing = answer.Describe();
            _log.WriteLine($"orac agent: GPU/RAPL readings upload failing ({_failing}); retrying each interval");
        }
    }

    /// <summary>The nvidia-smi executable for <paramref name="command"/> (a path, or a name looked up on PATH), or null.</summary>
    public static string? ResolveNvidiaSmi(string command) => BpftraceRunner.Resolve(command);
}
