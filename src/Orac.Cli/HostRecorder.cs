using System.Globalization;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Orac.Collect.PerfEvents;
using Orac.Collect.Symbols;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// <c>orac up</c>'s continuous profiler: samples every CPU at a low rate with the same perf_event sampler
/// and symbolizer as <c>orac record -a</c>, and every interval uploads what it took through the ingest API
/// (<c>POST /api/v1/profiles</c>, service_name=host, host=HOSTNAME) as CPU time: samples × the sampling
/// period, in nanoseconds. Sampling runs on its own thread; uploads on another, so a slow server never
/// stalls the rings.
/// </summary>
internal sealed class HostRecorder : IAsyncDisposable
{
    /// <summary>Default sampling rate (Hz): low overhead, off the beat of periodic timers (DESIGN.md: agents use 19 Hz).</summary>
    public const int DefaultHz = 19;

    /// <summary>Default upload interval.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly PerfSampler _sampler;
    private readonly Symbolizer _symbolizer = new();
    private readonly RemoteClient _client;
    private readonly TextWriter _log;
    private readonly int _hz;
    private readonly TimeSpan _interval;
    private readonly string _host;
    private readonly Channel<Batch> _uploads = Channel.CreateBounded<Batch>(new BoundedChannelOptions(6) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private Task? _uploader;
    private long _uploaded;
    private long _failed;
    private long _dropped;
    private long _lostBefore;

    private HostRecorder(PerfSampler sampler, RemoteClient client, int hz, TimeSpan interval, TextWriter log)
    {
        _sampler = sampler;
        _client = client;
        _hz = hz;
        _interval = interval;
        _log = log;
        _host = Environment.MachineName;
    }

    /// <summary>Samples uploaded and acknowledged so far.</summary>
    public long UploadedSamples => Interlocked.Read(ref _uploaded);

    /// <summary>Number of CPUs sampled.</summary>
    public int Cpus => _sampler.Cpus;

    /// <summary>The service_name label uploads carry.</summary>
    public const string Service = "host";

    /// <summary>
    /// Opens the sampler on every CPU, or returns null after writing ONE line to <paramref name="log"/> saying
    /// why this host cannot be sampled (not root, perf_event_paranoid, no perf events in a container).
    /// </summary>
    public static HostRecorder? TryStart(RemoteClient client, int hz, TimeSpan interval, TextWriter log)
    {
        PerfSampler sampler;
        try
        {
            sampler = PerfSampler.Open(PerfEventSpec.CpuClock, hz, null);
        }
        catch (OracException e)
        {
            log.WriteLine($"orac up: not recording this host ({e.Message}); the server runs without it");
            return null;
        }

        var r = new HostRecorder(sampler, client, hz, interval, log);
        r._uploader = Task.Run(r.UploadLoopAsync);
        r._thread = new Thread(r.SampleLoop) { IsBackground = true, Name = "orac up sampler" };
        r._thread.Start();
        return r;
    }

    private void SampleLoop()
    {
        var sink = new SampleProfileSink(_symbolizer);
        long periodNs = 1_000_000_000L / _hz;
        long startMs = NowMs();
        DateTime next = DateTime.UtcNow + _interval;
        _sampler.Enable();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int wait = (int)Math.Clamp((next - DateTime.UtcNow).TotalMilliseconds, 0, 500);
                _sampler.Poll(wait, sink);
                if (DateTime.UtcNow >= next)
                {
                    long endMs = NowMs();
                    Enqueue(sink, periodNs, startMs, endMs);
                    sink = new SampleProfileSink(_symbolizer);
                    startMs = endMs;
                    next = DateTime.UtcNow + _interval;
                }
            }
        }
        finally
        {
            _sampler.Stop(sink);
            Enqueue(sink, periodNs, startMs, NowMs());
            _uploads.Writer.TryComplete();
        }
    }

    private void Enqueue(SampleProfileSink sink, long periodNs, long startMs, long endMs)
    {
        if (sink.Samples == 0)
        {
            return;
        }

        Profile profile = sink.Build(periodNs);
        // Only this interval's losses make this batch partial.
        long lost = _sampler.Stats.Lost - _lostBefore;
        _lostBefore = _sampler.Stats.Lost;
        string? why = lost > 0 ? $"{lost} samples lost in this interval (ring buffer full)" : null;
        ProfileDocument doc = ToCpuTime(ProfileJson.ToDocument(profile, $"orac up -F {_hz}", why is not null, why), periodNs);
        if (!_uploads.Writer.TryWrite(new Batch(doc, sink.Samples, startMs, Math.Max(endMs, startMs + 1))))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Samples × period: CPU time in nanoseconds, the type Orac and Pyroscope show CPU profiles in.</summary>
    internal static ProfileDocument ToCpuTime(ProfileDocument d, long periodNs)
    {
        var samples = new List<ProfileSample>(d.Samples.Count);
        foreach (ProfileSample s in d.Samples)
        {
            samples.Add(new ProfileSample { Stack = s.Stack, Values = [s.Values[0] * periodNs] });
        }

        return new ProfileDocument
        {
            Source = d.Source,
            Provenance = d.Provenance,
            Partial = d.Partial,
            PartialReason = d.PartialReason,
            SampleTypes = [new ProfileSampleType { Type = "cpu", Unit = "nanoseconds" }],
            Period = periodNs,
            PeriodUnit = "nanoseconds",
            Frames = d.Frames,
            Samples = samples,
        };
    }

    private async Task UploadLoopAsync()
    {
        bool warned = false;
        await foreach (Batch b in _uploads.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            ProfileJson.Write(b.Document, body);
            using var content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            string path = RemoteClient.PathWithQuery("/api/v1/profiles",
                ("service", Service),
                ("label", "host=" + _host),
                ("format", "json"),
                ("from", b.StartMs.ToString(CultureInfo.InvariantCulture)),
                ("until", b.EndMs.ToString(CultureInfo.InvariantCulture)));
            try
            {
                await _client.SendAsync(HttpMethod.Post, path, content).ConfigureAwait(false);
                Interlocked.Add(ref _uploaded, b.Samples);
                warned = false;
            }
            catch (OracException e)
            {
                Interlocked.Increment(ref _failed);

                // One line per run of failures, not one per interval.
                if (!warned)
                {
                    _log.WriteLine($"orac up: uploading this host's profile failed: {e.Message}");
                    warned = true;
                }
            }
        }
    }

    /// <summary>Stops sampling, uploads what was taken since the last upload, and waits for the uploads to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _thread?.Join();
        if (_uploader is not null)
        {
            await _uploader.ConfigureAwait(false);
        }

        _sampler.Dispose();
        _stop.Dispose();
        if (Interlocked.Read(ref _failed) > 0 || Interlocked.Read(ref _dropped) > 0)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"orac up: this host's profile is partial: {_failed:N0} uploads failed, {_dropped:N0} dropped while the server was slow"));
        }
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed record Batch(ProfileDocument Document, long Samples, long StartMs, long EndMs);
}
