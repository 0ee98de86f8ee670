using System.Globalization;
using System.IO.Compression;
using Orac.Collect.PerfEvents;
using Orac.Collect.Symbols;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>
/// The agent's continuous profiler: samples every CPU with the perf_event sampler and symbolizer of
/// <c>orac record -a</c> at the settings' rate (19 Hz by default) and, every interval, writes what it took to
/// the <see cref="Spool"/> as CPU time (samples × period, nanoseconds), one upload for
/// <c>POST /api/v1/profiles?service=S&amp;label=host=H&amp;…&amp;format=json</c>. Sampling runs on its own thread;
/// the spool's sender uploads, so a slow or absent server never stalls the rings. Settings (rate, pause,
/// extra labels) apply at once: the current interval is closed and the sampler reopened at the new rate.
/// </summary>
public sealed class ContinuousProfiler : IDisposable
{
    /// <summary>Default sampling rate (Hz): low overhead, off the beat of periodic timers.</summary>
    public const int DefaultHz = 19;

    /// <summary>Default upload interval.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>The service an upload carries when the labels name none.</summary>
    public const string DefaultService = "host";

    // ORAC_AGENT_TRACE_MEMORY=1: one line per interval with RSS and managed heap (diagnosing the agent's footprint).
    private static readonly bool s_traceMemory = Environment.GetEnvironmentVariable("ORAC_AGENT_TRACE_MEMORY") == "1";

    private readonly Spool _spool;
    private readonly Symbolizer _symbolizer;
    private readonly TimeSpan _interval;
    private readonly TextWriter _log;
    private readonly IReadOnlyDictionary<string, string> _ownLabels;
    private readonly CancellationTokenSource _stop = new();
    private readonly ManualResetEventSlim _appliedEvent = new(false);
    private readonly object _lock = new();
    private AgentSettings _desired;
    private long _appliedVersion = -1;
    private Thread? _thread;
    private long _recorded;
    private long _lostTotal;
    private int _cpus;
    private int _modulesLoaded;
    private long _allocatedAtLastCollect;
    private string? _openError;

    /// <summary>A profiler writing to <paramref name="spool"/>; call <see cref="Start"/>. <paramref name="host"/>: the <c>host</c> label (default: the machine name).</summary>
    public ContinuousProfiler(Spool spool, Symbolizer symbolizer, IReadOnlyDictionary<string, string> ownLabels, AgentSettings initial, TimeSpan interval, TextWriter log, string? host = null)
    {
        _spool = spool;
        _symbolizer = symbolizer;
        _ownLabels = ownLabels;
        _desired = initial;
        _interval = interval;
        _log = log;
        Host = host ?? Environment.MachineName;
    }

    /// <summary>The host label uploads carry.</summary>
    public string Host { get; }

    /// <summary>Samples taken and written to the spool (including those later dropped by its bound).</summary>
    public long RecordedSamples => Interlocked.Read(ref _recorded);

    /// <summary>Samples the kernel lost (ring buffer full), since start.</summary>
    public long LostSamples => Interlocked.Read(ref _lostTotal);

    /// <summary>CPUs sampled (0 until the sampler opened).</summary>
    public int Cpus => Volatile.Read(ref _cpus);

    /// <summary>The settings version the sampling thread runs with.</summary>
    public long AppliedVersion => Interlocked.Read(ref _appliedVersion);

    /// <summary>Why the sampler could not open, when it could not.</summary>
    public string? OpenError => Volatile.Read(ref _openError);

    /// <summary>The settings the profiler runs (or is about to run) with.</summary>
    public AgentSettings Settings
    {
        get
        {
            lock (_lock)
            {
                return _desired;
            }
        }
    }

    /// <summary>Starts the sampling thread.</summary>
    public void Start()
    {
        _thread = new Thread(SampleLoop) { IsBackground = true, Name = "orac agent sampler" };
        _thread.Start();
    }

    /// <summary>
    /// New settings from the server: the sampling thread closes the current interval and applies them. Waits up
    /// to <paramref name="wait"/> for that; true when applied.
    /// </summary>
    public bool Apply(AgentSettings settings, TimeSpan wait)
    {
        lock (_lock)
        {
            _desired = settings;
            _appliedEvent.Reset();
        }

        return AppliedVersion >= settings.Version || _appliedEvent.Wait(wait);
    }

    /// <summary>The upload path for an interval: service from the label <c>service_name</c>, else <c>host</c>.</summary>
    public static string UploadPath(string host, IReadOnlyDictionary<string, string> own, IReadOnlyDictionary<string, string> extra, long fromMs, long untilMs)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in own)
        {
            labels[k] = v;
        }

        foreach ((string k, string v) in extra)
        {
            if (v.Length == 0)
            {
                labels.Remove(k);
            }
            else
            {
                labels[k] = v;
            }
        }

        string service = labels.Remove("service_name", out string? s) && s.Length > 0 ? s : DefaultService;
        labels.Remove("host");
        var query = new List<(string, string)> { ("service", service), ("label", "host=" + host) };
        foreach ((string k, string v) in labels)
        {
            query.Add(("label", k + "=" + v));
        }

        query.Add(("from", fromMs.ToString(CultureInfo.InvariantCulture)));
        query.Add(("until", Math.Max(untilMs, fromMs + 1).ToString(CultureInfo.InvariantCulture)));
        query.Add(("format", "json"));
        return AgentHttp.PathWithQuery("/api/v1/profiles", query);
    }

    private void SampleLoop()
    {
        PerfSampler? sampler = null;
        SampleProfileSink? sink = null;
        int hz = 0;
        long startMs = 0;
        DateTime next = DateTime.MaxValue;
        long lostBefore = 0;
        DateTime retryOpenAt = DateTime.MinValue;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                AgentSettings want = Settings;
                bool reopen = sampler is null || want.Paused || want.Hz != hz;
                if (reopen && sampler is not null)
                {
                    // Close the interval at the old rate: one upload never mixes two periods.
                    sampler.Stop(sink!);
                    Flush(sink!, hz, startMs, sampler.Stats.Lost - lostBefore);
                    sampler.Dispose();
                    sampler = null;
                    sink = null;
                }

                if (want.Paused)
                {
                    MarkApplied(want.Version);
                    _stop.Token.WaitHandle.WaitOne(250);
                    continue;
                }

                if (sampler is null)
                {
                    if (DateTime.UtcNow < retryOpenAt)
                    {
                        MarkApplied(want.Version);
                        _stop.Token.WaitHandle.WaitOne(250);
                        continue;
                    }

                    try
                    {
                        sampler = PerfSampler.Open(PerfEventSpec.CpuClock, Math.Clamp(want.Hz, 1, 1000), null);
                    }
                    catch (OracException e)
                    {
                        if (Interlocked.Exchange(ref _openError, e.Message) is null)
                        {
                            _log.WriteLine($"orac agent: cannot sample this host ({e.Message}); continuous profiling retries every minute, tasks still run");
                        }

                        retryOpenAt = DateTime.UtcNow.AddMinutes(1);
                        MarkApplied(want.Version);
                        continue;
                    }

                    Volatile.Write(ref _openError, null);
                    Volatile.Write(ref _cpus, sampler.Cpus);
                    hz = Math.Clamp(want.Hz, 1, 1000);
                    sink = new SampleProfileSink(_symbolizer);
                    lostBefore = 0;
                    startMs = NowMs();
                    next = DateTime.UtcNow + _interval;
                    sampler.Enable();
                }

                MarkApplied(want.Version);
                int wait = (int)Math.Clamp((next - DateTime.UtcNow).TotalMilliseconds, 0, 500);
                sampler.Poll(wait, sink!);
                KeepYoungGenerationSmall();
                if (DateTime.UtcNow >= next)
                {
                    long lost = sampler.Stats.Lost - lostBefore;
                    lostBefore = sampler.Stats.Lost;
                    long endMs = Flush(sink!, hz, startMs, lost);
                    sink = new SampleProfileSink(_symbolizer);
                    startMs = endMs;
                    next = DateTime.UtcNow + _interval;
                }
            }
        }
        finally
        {
            if (sampler is not null)
            {
                sampler.Stop(sink!);
                Flush(sink!, hz, startMs, sampler.Stats.Lost - lostBefore);
                sampler.Dispose();
            }
        }
    }

    private void MarkApplied(long version)
    {
        Interlocked.Exchange(ref _appliedVersion, version);
        lock (_lock)
        {
            if (_desired.Version == version)
            {
                _appliedEvent.Set();
            }
        }
    }

    /// <summary>
    /// The default gen0 budget (sized from the CPU's cache, tens of MB) lets a process that allocates little keep
    /// touching fresh memory for minutes before its first collection: measured 71 MB RSS after a minute, against
    /// 49 MB flat with a 1 MB budget (DOTNET_GCgen0size, which one binary for every verb cannot set for one). So
    /// the agent collects gen0 itself after every <see cref="YoungBudgetBytes"/> allocated, all threads together:
    /// about one cheap collection every few seconds at 19 Hz.
    /// </summary>
    private void KeepYoungGenerationSmall()
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        if (allocated - _allocatedAtLastCollect >= YoungBudgetBytes)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            _allocatedAtLastCollect = GC.GetTotalAllocatedBytes(precise: false);
        }
    }

    /// <summary>Bytes allocated between the agent's own gen0 collections.</summary>
    public const long YoungBudgetBytes = 1 << 20;

    /// <summary>Writes the interval to the spool; returns its end (Unix ms).</summary>
    private long Flush(SampleProfileSink sink, int hz, long startMs, long lost)
    {
        long endMs = NowMs();
        Interlocked.Add(ref _lostTotal, lost);
        if (sink.Samples == 0)
        {
            return endMs;
        }

        long periodNs = 1_000_000_000L / hz;
        Profile profile = sink.Build(periodNs);
        string? why = lost > 0 ? $"{lost} samples lost in this interval (ring buffer full)" : null;
        ProfileDocument doc = ToCpuTime(ProfileJson.ToDocument(profile, $"orac agent -F {hz}", why is not null, why), periodNs);
        byte[] body = Gzip(doc);
        AgentSettings s = Settings;
        string path = UploadPath(Host, _ownLabels, s.Labels, startMs, endMs);
        _spool.Add(path, "application/json", sink.Samples, body);
        Interlocked.Add(ref _recorded, sink.Samples);

        // Cheap (one stat per known process every interval) and keeps memory flat on hosts with many short processes.
        _symbolizer.ForgetExited();

        // Loading a library's symbols reads its symbol and string tables into large transient arrays (a 20 MB
        // binary: ~16 MB); the GC keeps that memory committed long after. Measured: RSS 47 -> 71 MB for good
        // after the agent first named frames in the orac binary itself. A compacting collection that returns
        // free memory to the OS right after such an interval brings it back; it costs a few ms, and only in
        // intervals that loaded symbols (a handful over the agent's life).
        int modules = _symbolizer.ModulesLoaded;
        if (modules != _modulesLoaded)
        {
            _modulesLoaded = modules;
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        if (s_traceMemory)
        {
            GCMemoryInfo gc = GC.GetGCMemoryInfo();
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"orac agent: memory: rss {SelfOverhead.RssBytes() >> 20} MB, managed heap {gc.HeapSizeBytes >> 20} MB (fragmented {gc.FragmentedBytes >> 20} MB, committed {gc.TotalCommittedBytes >> 20} MB), gen2 GCs {GC.CollectionCount(2)}, processes known {_symbolizer.ProcessCount}"));
        }

        return endMs;
    }

    /// <summary>The document as gzip-compressed JSON (the server detects gzip by its magic bytes).</summary>
    public static byte[] Gzip(ProfileDocument doc)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            System.Text.Json.JsonSerializer.Serialize(gz, doc, OracJsonContext.Default.ProfileDocument);
        }

        return ms.ToArray();
    }

    /// <summary>Samples × period: CPU time in nanoseconds, the type Orac and Pyroscope show CPU profiles in.</summary>
    public static ProfileDocument ToCpuTime(ProfileDocument d, long periodNs)
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

    /// <summary>Stops sampling and writes the last interval to the spool.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _thread?.Join();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
        _appliedEvent.Dispose();
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
