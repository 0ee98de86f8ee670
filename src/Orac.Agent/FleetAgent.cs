using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Collect.Symbols;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>What an agent needs to run (the <c>orac agent</c> options).</summary>
public sealed class AgentOptions
{
    /// <summary>The server's base URL.</summary>
    public required Uri Server { get; init; }

    /// <summary>An <c>ingest</c> (or <c>admin</c>) token of the agent's org.</summary>
    public required string Token { get; init; }

    /// <summary>Where the agent id (and by default the spool) is kept.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>
    /// The host name the agent registers and labels its uploads with (<c>--hostname</c>); null: the machine name.
    /// Distinct names let several agents share one machine (tests, containers).
    /// </summary>
    public string? Hostname { get; init; }

    /// <summary>Labels of this host (<c>--label k=v</c>); <c>service_name</c> names the uploads' service.</summary>
    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>Continuous profiling rate until an operator sets one on the server (settings still at their initial version), Hz.</summary>
    public int Hz { get; init; } = ContinuousProfiler.DefaultHz;

    /// <summary>The spool folder (default <c>STATE/spool</c>).</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>Bound on the spool, bytes.</summary>
    public long SpoolMaxBytes { get; init; } = Spool.DefaultMaxBytes;

    /// <summary>How often the continuous profile is cut and uploaded.</summary>
    public TimeSpan UploadInterval { get; init; } = ContinuousProfiler.DefaultInterval;

    /// <summary>False: no continuous profiling (tasks still run).</summary>
    public bool Profile { get; init; } = true;

    /// <summary>Where the agent writes its log lines.</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>The long poll the agent asks for, ms (the server caps it).</summary>
    public int HeartbeatWaitMs { get; init; } = 20_000;

    /// <summary>Longest wait between retries (uploads, heartbeats, registration).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the final upload attempt on stop may take.</summary>
    public TimeSpan FinalUploadBudget { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The nvidia-smi command (a name on PATH or a path); GPUs are sampled and the <c>gpu</c> capability offered only when it runs.</summary>
    public string NvidiaSmi { get; init; } = "nvidia-smi";

    /// <summary>How often nvidia-smi is sampled.</summary>
    public TimeSpan GpuSampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The powercap folder whose <c>intel-rapl:N/energy_uj</c> counters are read each upload interval.</summary>
    public string PowercapRoot { get; init; } = "/sys/class/powercap";
}

/// <summary>
/// The host agent (docs/fleet.md): registers with the server, heartbeats by long poll, applies the settings the
/// server holds (rate, pause, extra labels), runs catalogue tasks, profiles the host continuously and uploads
/// through the on-disk <see cref="Spool"/>. <see cref="Start"/> returns at once (registration and uploads
/// retry in the background while the server is away); <see cref="StopAsync"/> stops gracefully: the last
/// interval is spooled, one final upload attempt is made, and what was not sent stays on disk.
/// </summary>
public sealed class FleetAgent : IAsyncDisposable
{
    /// <summary>The settings version a server gives an agent nobody has changed (docs/fleet.md).</summary>
    public const long InitialSettingsVersion = 1;

    private readonly AgentOptions _options;
    private readonly TextWriter _log;
    private readonly AgentHttp _http;
    private readonly Symbolizer _symbolizer = new();
    private readonly SelfOverhead _overhead = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<AgentRegistration> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _heartbeats;
    private Task? _sender;
    private Task? _metrics;
    private long _appliedVersion;
    private long _heartbeatCount;
    private long _registrations;
    private AgentSettings _settings;
    private AgentOverhead _lastOverhead = new();
    private bool _stopped;

    private FleetAgent(AgentOptions options, string id, TextWriter log)
    {
        _options = options;
        _log = log;
        Id = id;
        _http = new AgentHttp(options.Server, options.Token, TimeSpan.FromMilliseconds(options.HeartbeatWaitMs) + TimeSpan.FromSeconds(30));
        Spool = Spool.Open(options.SpoolDirectory ?? Path.Combine(options.StateDirectory, "spool"), id, options.SpoolMaxBytes, log);
        Sender = new SpoolSender(Spool, _http, log, options.MaxBackoff);
        _settings = new AgentSettings { Hz = options.Hz, Version = 0 };
        bool canSample = AgentInfoProbe.CanSample(out string? why);
        CannotSampleReason = canSample ? null : why;
        Info = AgentInfoProbe.Probe(id, options.Hostname ?? Environment.MachineName, options.Labels, canSample, options.Hz, options.NvidiaSmi);
        string? nvidiaSmi = Info.Gpus.Count > 0 ? MetricsUploader.ResolveNvidiaSmi(options.NvidiaSmi) : null;
        RaplReader? rapl = RaplReader.Open(options.PowercapRoot);
        if (nvidiaSmi is not null || rapl is not null)
        {
            Metrics = new MetricsUploader(_http, Info.Hostname, nvidiaSmi, rapl, options.GpuSampleInterval, options.UploadInterval, log);
        }

        Tasks = new TaskRunner(id, _http, _symbolizer, Info.Capabilities, log, _stop.Token);
        if (options.Profile && canSample)
        {
            Profiler = new ContinuousProfiler(Spool, _symbolizer, options.Labels, _settings, options.UploadInterval, log, Info.Hostname);
        }
    }

    /// <summary>
    /// Prepares an agent: keeps (or creates) its id in the state folder, opens the spool, probes the host.
    /// Throws <see cref="OracException"/> when the state or spool folder cannot be used.
    /// </summary>
    public static FleetAgent Create(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TextWriter log = TextWriter.Synchronized(options.Log);
        string id = AgentInfoProbe.LoadOrCreateId(options.StateDirectory, options.Hostname ?? Environment.MachineName);
        return new FleetAgent(options, id, log);
    }

    /// <summary>The agent id (kept in <c>STATE/agent-id</c>).</summary>
    public string Id { get; }

    /// <summary>What the agent registers.</summary>
    public AgentInfo Info { get; }

    /// <summary>Why continuous profiling / profile tasks cannot sample on this host, or null when they can.</summary>
    public string? CannotSampleReason { get; }

    /// <summary>The upload spool.</summary>
    public Spool Spool { get; }

    /// <summary>The spool's sender.</summary>
    public SpoolSender Sender { get; }

    /// <summary>The continuous profiler; null with <see cref="AgentOptions.Profile"/> false or when this host cannot be sampled.</summary>
    public ContinuousProfiler? Profiler { get; }

    /// <summary>The task runner.</summary>
    public TaskRunner Tasks { get; }

    /// <summary>GPU and RAPL readings sent to the server; null where neither nvidia-smi runs nor RAPL is readable.</summary>
    public MetricsUploader? Metrics { get; }

    /// <summary>Completes with the first successful registration.</summary>
    public Task<AgentRegistration> Registered => _registered.Task;

    /// <summary>Called after each successful registration (first and re-registrations).</summary>
    public Action<AgentRegistration>? OnRegistered { get; set; }

    /// <summary>The settings version the agent runs with (echoed in heartbeats).</summary>
    public long AppliedVersion => Interlocked.Read(ref _appliedVersion);

    /// <summary>Heartbeats answered by the server.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeatCount);

    /// <summary>Successful registrations (1 + re-registrations after a 404).</summary>
    public long Registrations => Interlocked.Read(ref _registrations);

    /// <summary>The overhead figure sent in the last heartbeat (measured).</summary>
    public AgentOverhead LastOverhead => Volatile.Read(ref _lastOverhead);

    /// <summary>Continuous-profile samples taken and spooled.</summary>
    public long RecordedSamples => Profiler?.RecordedSamples ?? 0;

    /// <summary>Continuous-profile samples the server acknowledged.</summary>
    public long UploadedSamples => Sender.UploadedSamples;

    /// <summary>The settings currently in force.</summary>
    public AgentSettings Settings => Volatile.Read(ref _settings);

    /// <summary>Starts profiling, uploading, registering and heartbeating in the background.</summary>
    public void Start()
    {
        Profiler?.Start();
        _sender = Task.Run(() => Sender.RunAsync(_stop.Token));
        _heartbeats = Task.Run(HeartbeatLoopAsync);
        if (Metrics is not null)
        {
            _metrics = Task.Run(() => Metrics.RunAsync(_stop.Token));
        }
    }

    /// <summary>Runs until <paramref name="stop"/>, then stops gracefully.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Start();
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync().ConfigureAwait(false);
    }

    private async Task HeartbeatLoopAsync()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), _options.MaxBackoff);
        bool registered = false;
        string? failing = null;
        int waitMs = _options.HeartbeatWaitMs;
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            HttpAnswer answer;
            try
            {
                if (!registered)
                {
                    answer = await PostJsonAsync("/api/v1/agents/register", JsonSerializer.SerializeToUtf8Bytes(Info, OracJsonContext.Default.AgentInfo), stop).ConfigureAwait(false);
                    if (answer.Ok && Parse(answer.Body, OracJsonContext.Default.AgentRegistration) is AgentRegistration reg)
                    {
                        registered = true;
                        waitMs = Math.Clamp(Math.Min(_options.HeartbeatWaitMs, reg.HeartbeatWaitMs), 0, 120_000);
                        Interlocked.Increment(ref _registrations);
                        ApplySettings(reg.Settings);
                        OnRegistered?.Invoke(reg);
                        _registered.TrySetResult(reg);
                        failing = Recovered(failing, backoff);
                        continue;
                    }
                }
                else
                {
                    AgentOverhead overhead = _overhead.Measure();
                    Volatile.Write(ref _lastOverhead, overhead);
                    var hb = new AgentHeartbeat
                    {
                        SettingsVersion = AppliedVersion,
                        Overhead = overhead,
                        Spool = Spool.Stats,
                        UploadedSamples = Sender.UploadedSamples,
                        RunningTasks = Tasks.RunningIds,
                    };
                    string path = $"/api/v1/agents/{Uri.EscapeDataString(Id)}/heartbeat?wait={waitMs.ToString(CultureInfo.InvariantCulture)}";
                    answer = await PostJsonAsync(path, JsonSerializer.SerializeToUtf8Bytes(hb, OracJsonContext.Default.AgentHeartbeat), stop).ConfigureAwait(false);
                    if (answer.Ok && Parse(answer.Body, OracJsonContext.Default.HeartbeatReply) is HeartbeatReply reply)
                    {
                        Interlocked.Increment(ref _heartbeatCount);
                        if (reply.Settings is AgentSettings s)
                        {
                            ApplySettings(s);
                        }

                        foreach (AgentTask t in reply.Tasks)
                        {
                            Tasks.Start(t);
                        }

                        failing = Recovered(failing, backoff);
                        continue;
                    }

                    if (answer.Status == 404)
                    {
                        _log.WriteLine($"orac agent: the server does not know agent {Id} ({answer.Describe()}); registering again");
                        registered = false;
                        continue;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            string why = answer.Ok ? "the server's answer did not hold together" : answer.Describe();
            if (failing is null)
            {
                _log.WriteLine($"orac agent: {(registered ? "heartbeat" : "registration")} failing ({why}); retrying with backoff");
                failing = why;
            }

            try
            {
                await Task.Delay(backoff.Next(), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private string? Recovered(string? failing, Backoff backoff)
    {
        if (failing is not null)
        {
            _log.WriteLine($"orac agent: the server answers again (was: {failing})");
        }

        backoff.Reset();
        return null;
    }

    private void ApplySettings(AgentSettings s)
    {
        // Version 1 is what the server gives a new agent (nobody has run `orac fleet set` on it yet): the agent's own
        // --hz stands until an operator sets a rate.
        AgentSettings effective = s.Version <= InitialSettingsVersion
            ? new AgentSettings { Hz = _options.Hz, Paused = s.Paused, Labels = s.Labels, Version = s.Version }
            : s;
        AgentSettings before = Volatile.Read(ref _settings);
        Volatile.Write(ref _settings, effective);
        if (Profiler is not null && !Profiler.Apply(effective, TimeSpan.FromSeconds(2)))
        {
            _log.WriteLine($"orac agent: settings version {s.Version} not applied within 2 s (the sampler is busy); reporting it when it is");
            return;
        }

        Interlocked.Exchange(ref _appliedVersion, s.Version);
        if (before.Version != s.Version && s.Version > InitialSettingsVersion)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"orac agent: settings version {s.Version}: {effective.Hz} Hz{(effective.Paused ? ", paused" : "")}{(effective.Labels.Count > 0 ? ", labels " + string.Join(",", effective.Labels.Select(kv => kv.Key + "=" + kv.Value)) : "")}"));
        }
    }

    private async Task<HttpAnswer> PostJsonAsync(string path, byte[] json, CancellationToken stop)
    {
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await _http.SendAsync(HttpMethod.Post, path, content, null, stop).ConfigureAwait(false);
    }

    private static T? Parse<T>(byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stops gracefully: sampling stops and its last interval is spooled, running tasks are told to stop and given
    /// a moment to report, one final upload attempt is made; whatever was not sent stays in the spool.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Profiler?.Stop();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (Task? t in new[] { _heartbeats, _sender, _metrics })
        {
            if (t is not null)
            {
                await t.ConfigureAwait(false);
            }
        }

        await Tasks.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await Sender.DrainAsync(_options.FinalUploadBudget).ConfigureAwait(false);
        SpoolStats left = Spool.Stats;
        if (left.Files > 0)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"orac agent: {left.Files:N0} uploads ({left.Bytes:N0} bytes) stay in {Spool.Directory}; they are sent at the next start"));
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Profiler?.Dispose();
        _http.Dispose();
        Spool.Dispose();
        _stop.Dispose();
    }
}
