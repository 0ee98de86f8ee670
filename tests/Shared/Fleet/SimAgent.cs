using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Sim;

/// <summary>How a <see cref="SimAgent"/> behaves.</summary>
public sealed record SimAgentOptions
{
    /// <summary>The <c>wait</c> of every heartbeat, ms (the server caps it at its <c>heartbeatWaitMs</c>).</summary>
    public int HeartbeatWaitMs { get; init; } = 20_000;

    /// <summary>Label <c>service_name</c> of every agent.</summary>
    public string Service { get; init; } = "sim";

    /// <summary>Agents per rack (label <c>rack</c> = index / this).</summary>
    public int RackSize { get; init; } = 20;

    /// <summary>True: upload a small profile every <see cref="UploadInterval"/> with <c>X-Orac-Upload-Id</c>, as <c>orac agent</c> does.</summary>
    public bool ContinuousUploads { get; init; }

    /// <summary>Continuous-profiling upload interval.</summary>
    public TimeSpan UploadInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A lightweight simulated <c>orac agent</c>: the real fleet protocol over HTTP (docs/fleet.md) without sampling. It
/// registers, keeps one heartbeat long poll open, applies settings by echoing their version, runs <c>profile</c> tasks by
/// waiting their duration and posting a small <see cref="ProfileDocument"/> (CPU ns, with a frame naming the agent), and
/// optionally uploads every 10 s. Everything it measures goes to a shared <see cref="SimStats"/>. Many agents share one
/// <see cref="HttpClient"/> (<see cref="SimFleet.CreateHttpClient"/>).
/// </summary>
public sealed class SimAgent
{
    /// <summary>Period of the simulated samples, ns (99 Hz).</summary>
    public const long PeriodNs = 10_101_010;

    private static readonly OracJsonContext s_json = new(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

    private readonly HttpClient _http;
    private readonly string _token;
    private readonly SimStats _stats;
    private readonly SimAgentOptions _options;
    private readonly Lock _gate = new();
    private readonly List<string> _running = [];
    private readonly List<Task> _work = [];
    private long _settingsVersion;
    private int _heartbeatWaitMs;
    private bool _paused;
    private long _uploadedSamples;

    /// <summary>An agent <c>sim-NNNN</c> (host name the same) using <paramref name="http"/> (its base address is the server).</summary>
    public SimAgent(HttpClient http, string token, int index, SimStats stats, SimAgentOptions? options = null)
    {
        _http = http;
        _token = token;
        _stats = stats;
        _options = options ?? new SimAgentOptions();
        Index = index;
        Id = string.Create(CultureInfo.InvariantCulture, $"sim-{index:D4}");
        Labels = new Dictionary<string, string>
        {
            ["service_name"] = _options.Service,
            ["rack"] = (index / Math.Max(1, _options.RackSize)).ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Position in the fleet.</summary>
    public int Index { get; }

    /// <summary>Agent id and host name.</summary>
    public string Id { get; }

    /// <summary>The agent's own labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; }

    /// <summary>The settings version the agent runs with (echoed in every heartbeat).</summary>
    public long SettingsVersion => Interlocked.Read(ref _settingsVersion);

    /// <summary>The frame only this agent's profiles carry.</summary>
    public string OwnFrame => "sim_agent_" + Id;

    /// <summary>Registers (<c>POST /api/v1/agents/register</c>); throws <see cref="HttpRequestException"/> when the server refuses.</summary>
    public async Task RegisterAsync(CancellationToken ct)
    {
        var info = new AgentInfo
        {
            Id = Id,
            Hostname = Id,
            Labels = new Dictionary<string, string>(Labels),
            Kernel = "sim",
            CpuModel = "simulated",
            Cpus = 4,
            MemoryBytes = 8L << 30,
            Version = "fleetsim",
            Capabilities = ["sample"],
        };
        using HttpRequestMessage req = Request(HttpMethod.Post, "/api/v1/agents/register",
            JsonContent(JsonSerializer.SerializeToUtf8Bytes(info, s_json.AgentInfo)));
        using HttpResponseMessage resp = await _http.SendAsync(req, ct);
        string body = await resp.Content.ReadAsStringAsync(ct);
        if (!resp.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{Id}: register answered {(int)resp.StatusCode}: {Clip(body)}");
        }

        AgentRegistration reg = JsonSerializer.Deserialize(body, s_json.AgentRegistration)
            ?? throw new HttpRequestException($"{Id}: register answered null");
        Apply(reg.Settings, SimStats.NowUnixMs());
        _heartbeatWaitMs = reg.HeartbeatWaitMs;
    }

    /// <summary>Heartbeats (and uploads, when enabled) until <paramref name="ct"/> is cancelled; then waits for its running tasks.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        Task uploads = _options.ContinuousUploads ? UploadLoop(ct) : Task.CompletedTask;
        await HeartbeatLoop(ct);
        await uploads;
        Task[] work;
        lock (_gate)
        {
            work = [.. _work];
        }

        await Task.WhenAll(work);
    }

    private async Task HeartbeatLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var hb = new AgentHeartbeat
            {
                SettingsVersion = SettingsVersion,
                UploadedSamples = Interlocked.Read(ref _uploadedSamples),
                RunningTasks = Running(),
            };
            int wait = _options.HeartbeatWaitMs;
            double hold = _heartbeatWaitMs > 0 ? Math.Min(wait, _heartbeatWaitMs) : wait;
            long t0 = Stopwatch.GetTimestamp();
            HttpStatusCode status;
            string body;
            try
            {
                using HttpRequestMessage req = Request(HttpMethod.Post,
                    string.Create(CultureInfo.InvariantCulture, $"/api/v1/agents/{Id}/heartbeat?wait={wait}"),
                    JsonContent(JsonSerializer.SerializeToUtf8Bytes(hb, s_json.AgentHeartbeat)));
                using HttpResponseMessage resp = await _http.SendAsync(req, ct);
                status = resp.StatusCode;
                body = await resp.Content.ReadAsStringAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                _stats.HeartbeatFailed($"{Id}: heartbeat: {e.Message}");
                await Pause(ct);
                continue;
            }

            double rtt = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            double at = SimStats.NowUnixMs();
            if (status == HttpStatusCode.NotFound)
            {
                // The server forgot us (docs/fleet.md: register again).
                _stats.Reregistered();
                try
                {
                    await RegisterAsync(ct);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
                {
                    _stats.HeartbeatFailed($"{Id}: register again: {e.Message}");
                    await Pause(ct);
                }

                continue;
            }

            if ((int)status is < 200 or > 299)
            {
                _stats.HeartbeatFailed($"{Id}: heartbeat answered {(int)status}: {Clip(body)}");
                await Pause(ct);
                continue;
            }

            HeartbeatReply? reply;
            try
            {
                reply = JsonSerializer.Deserialize(body, s_json.HeartbeatReply);
            }
            catch (JsonException e)
            {
                _stats.HeartbeatFailed($"{Id}: heartbeat answer is not a HeartbeatReply: {e.Message}");
                await Pause(ct);
                continue;
            }

            if (reply is null || (reply.Settings is null && (reply.Tasks is null || reply.Tasks.Count == 0)))
            {
                _stats.HeartbeatHeld(Id, rtt - hold);
                continue;
            }

            _stats.HeartbeatAnswered();
            if (reply.Settings is not null)
            {
                Apply(reply.Settings, at);
            }

            foreach (AgentTask task in reply.Tasks ?? [])
            {
                _stats.TaskReceived(task.Id, at);
                lock (_gate)
                {
                    _running.Add(task.Id);
                    _work.RemoveAll(t => t.IsCompleted);
                    _work.Add(RunTask(task, ct));
                }
            }
        }
    }

    private void Apply(AgentSettings settings, double at)
    {
        Volatile.Write(ref _paused, settings.Paused);
        Interlocked.Exchange(ref _settingsVersion, settings.Version);
        _stats.SettingsApplied(Id, settings.Version, at);
    }

    private List<string> Running()
    {
        lock (_gate)
        {
            return [.. _running];
        }
    }

    private async Task RunTask(AgentTask task, CancellationToken ct)
    {
        try
        {
            string path = $"/api/v1/agents/{Id}/tasks/{Uri.EscapeDataString(task.Id)}/result";
            HttpContent? content;
            long total = 0;
            if (task.Kind != TaskKinds.Profile)
            {
                path += "?state=failed&reason=" + Uri.EscapeDataString("the simulated agent runs profile tasks only");
                content = null;
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(task.DurationMs), ct);
                ProfileDocument doc = Profile(out total);
                path += "?state=done";
                content = JsonContent(JsonSerializer.SerializeToUtf8Bytes(doc, s_json.ProfileDocument));
            }

            using HttpRequestMessage req = Request(HttpMethod.Post, path, content);
            using HttpResponseMessage resp = await _http.SendAsync(req, ct);
            string body = await resp.Content.ReadAsStringAsync(ct);
            if (!resp.IsSuccessStatusCode)
            {
                _stats.ResultFailed($"{Id}: result of {task.Id} answered {(int)resp.StatusCode}: {Clip(body)}");
                return;
            }

            if (task.Kind == TaskKinds.Profile)
            {
                TaskResultAck ack = JsonSerializer.Deserialize(body, s_json.TaskResultAck)
                    ?? throw new JsonException("the answer to a result is null");
                _stats.ResultSent(task.Id, total, ack.Late);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            _stats.ResultFailed($"{Id}: result of {task.Id}: {e.Message}");
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(task.Id);
            }
        }
    }

    private async Task UploadLoop(CancellationToken ct)
    {
        var interval = _options.UploadInterval;
        try
        {
            // Spread the fleet's uploads over the interval, as real agents started at different times are.
            await Task.Delay(TimeSpan.FromMilliseconds(interval.TotalMilliseconds * (Index % 100) / 100), ct);
            long from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (long seq = 1; !ct.IsCancellationRequested; seq++)
            {
                await Task.Delay(interval, ct);
                long until = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                if (Volatile.Read(ref _paused))
                {
                    from = until;
                    continue;
                }

                ProfileDocument doc = Profile(out _);
                string query = string.Create(CultureInfo.InvariantCulture,
                    $"/api/v1/profiles?service={Uri.EscapeDataString(_options.Service)}&label=host={Id}&label=rack={Labels["rack"]}&from={from}&until={until}&format=json");
                using HttpRequestMessage req = Request(HttpMethod.Post, query, JsonContent(JsonSerializer.SerializeToUtf8Bytes(doc, s_json.ProfileDocument)));
                req.Headers.Add("X-Orac-Upload-Id", string.Create(CultureInfo.InvariantCulture, $"{Id}-{seq}"));
                try
                {
                    using HttpResponseMessage resp = await _http.SendAsync(req, ct);
                    string body = await resp.Content.ReadAsStringAsync(ct);
                    if (!resp.IsSuccessStatusCode)
                    {
                        _stats.UploadFailed($"{Id}: upload {seq} answered {(int)resp.StatusCode}: {Clip(body)}");
                        continue;
                    }

                    IngestResult? r = JsonSerializer.Deserialize(body, s_json.IngestResult);
                    _stats.Uploaded(r?.Duplicate ?? false);
                    Interlocked.Add(ref _uploadedSamples, doc.Samples.Count);
                    from = until;
                }
                catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    _stats.UploadFailed($"{Id}: upload {seq}: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The profile this agent reports: four stacks under <c>sim_main</c>, one through <see cref="OwnFrame"/>, CPU time in
    /// ns (whole 99 Hz periods). The same for every call, so a task's merged total is the sum over agents of
    /// <see cref="ProfileTotal(int)"/>.
    /// </summary>
    public ProfileDocument Profile(out long total)
    {
        long a = PeriodNs * (3 + (Index % 5));
        long b = PeriodNs * (1 + (Index % 3));
        long c = PeriodNs * 2;
        long d = PeriodNs;
        total = a + b + c + d;
        return new ProfileDocument
        {
            Source = "fleetsim " + Id,
            SampleTypes = [new ProfileSampleType { Type = "cpu", Unit = "nanoseconds" }],
            Period = PeriodNs,
            PeriodUnit = "nanoseconds",
            Frames = ["sim_main", "sim_loop", OwnFrame, "sim_compute", "sim_io", "sim_rack_" + Labels["rack"]],
            Samples =
            [
                new ProfileSample { Stack = [0, 1, 2, 3], Values = [a] },
                new ProfileSample { Stack = [0, 1, 2, 4], Values = [b] },
                new ProfileSample { Stack = [0, 1, 5], Values = [c] },
                new ProfileSample { Stack = [0, 3], Values = [d] },
            ],
        };
    }

    /// <summary>The CPU ns under <see cref="OwnFrame"/> in agent <paramref name="index"/>'s <see cref="Profile"/>.</summary>
    public static long OwnFrameTotal(int index) => PeriodNs * ((3 + (index % 5)) + (1 + (index % 3)));

    /// <summary>The CPU ns total of agent <paramref name="index"/>'s <see cref="Profile"/>.</summary>
    public static long ProfileTotal(int index) => PeriodNs * ((3 + (index % 5)) + (1 + (index % 3)) + 2 + 1);

    private HttpRequestMessage Request(HttpMethod method, string pathAndQuery, HttpContent? content)
    {
        var req = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative)) { Content = content };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return req;
    }

    private static ByteArrayContent JsonContent(byte[] body)
    {
        var c = new ByteArrayContent(body);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return c;
    }

    private static async Task Pause(CancellationToken ct)
    {
        try
        {
            await Task.Delay(1000, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Clip(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
