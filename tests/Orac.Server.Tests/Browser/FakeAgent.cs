using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using Orac.Model.Wire;

namespace Orac.Server.Tests.Browser;

/// <summary>What a <see cref="FakeAgent"/> sends back for a task: a JSON body (state=done), a failure reason, or nothing ever.</summary>
public sealed record FakeAnswer(string? Json, string? FailReason = null)
{
    /// <summary>The agent takes the task and never answers (the part times out at the deadline).</summary>
    public static readonly FakeAnswer Never = new(Json: null);
}

/// <summary>
/// A host agent reduced to its protocol (docs/fleet.md): it registers, long-polls heartbeats, echoes the settings version
/// it was given, and answers each task it receives with whatever <c>answer</c> makes of it. Plain <see cref="HttpClient"/>
/// against the real server: what the UI then shows is what the server made of real protocol traffic.
/// </summary>
public sealed class FakeAgent : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Func<AgentTask, FakeAnswer> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _answers = [];
    private readonly Lock _gate = new();
    private Task _loop = Task.CompletedTask;
    private long _version;

    public FakeAgent(Uri server, string token, AgentInfo info, Func<AgentTask, FakeAnswer> answer)
    {
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Info = info;
        _answer = answer;
    }

    public AgentInfo Info { get; }

    private readonly List<string> _errors = [];

    /// <summary>Protocol errors the agent met (anything but a clean answer); a test asserts there are none.</summary>
    public string[] Errors
    {
        get
        {
            lock (_gate)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Settings the agent runs with (hz, paused) as the server last sent them.</summary>
    public AgentSettings? Settings { get; private set; }

    /// <summary>Registers once and returns; with <paramref name="heartbeat"/> false the agent then stays silent (it goes offline).</summary>
    public async Task StartAsync(bool heartbeat = true)
    {
        await RegisterAsync(_stop.Token);
        if (heartbeat)
        {
            _loop = Task.Run(() => LoopAsync(_stop.Token));
        }
    }

    private async Task RegisterAsync(CancellationToken ct)
    {
        using HttpResponseMessage r = await _http.PostAsync(
            new Uri("/api/v1/agents/register", UriKind.Relative), Body(Info, OracJsonContext.Default.AgentInfo), ct);
        string text = await r.Content.ReadAsStringAsync(ct);
        if (!r.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"register {Info.Id}: {(int)r.StatusCode} {text}");
        }

        AgentRegistration reg = System.Text.Json.JsonSerializer.Deserialize(text, OracJsonContext.Default.AgentRegistration)!;
        Settings = reg.Settings;
        _version = reg.Settings.Version;
        HeartbeatWaitMs = reg.HeartbeatWaitMs;
    }

    private int HeartbeatWaitMs { get; set; } = 1000;

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var beat = new AgentHeartbeat
                {
                    SettingsVersion = _version,
                    Overhead = new AgentOverhead { CpuPercent = 0.4, RssBytes = 40L << 20 },
                    Spool = new SpoolStats { Files = 1, Bytes = 2048 },
                    UploadedSamples = 1000,
                };
                using HttpResponseMessage r = await _http.PostAsync(
                    new Uri($"/api/v1/agents/{Info.Id}/heartbeat?wait={HeartbeatWaitMs}", UriKind.Relative),
                    Body(beat, OracJsonContext.Default.AgentHeartbeat),
                    ct);
                if (r.StatusCode == HttpStatusCode.NotFound)
                {
                    await RegisterAsync(ct);
                    continue;
                }

                string text = await r.Content.ReadAsStringAsync(ct);
                if (!r.IsSuccessStatusCode)
                {
                    Note($"heartbeat: {(int)r.StatusCode} {text}");
                    await Task.Delay(200, ct);
                    continue;
                }

                HeartbeatReply reply = System.Text.Json.JsonSerializer.Deserialize(text, OracJsonContext.Default.HeartbeatReply)!;
                if (reply.Settings is not null)
                {
                    Settings = reply.Settings;
                    _version = reply.Settings.Version;
                }

                foreach (AgentTask task in reply.Tasks)
                {
                    lock (_gate)
                    {
                        _answers.Add(Task.Run(() => AnswerAsync(task, ct), ct));
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException e)
            {
                // The server is shutting down at the end of the test class, or went away for a moment.
                if (!ct.IsCancellationRequested)
                {
                    Note($"heartbeat: {e.Message}");
                    await Task.Delay(200, CancellationToken.None);
                }
            }
        }
    }

    private async Task AnswerAsync(AgentTask task, CancellationToken ct)
    {
        FakeAnswer answer = _answer(task);
        if (answer.Json is null && answer.FailReason is null)
        {
            return;
        }

        string query = answer.Json is null
            ? $"state=failed&reason={Uri.EscapeDataString(answer.FailReason!)}"
            : "state=done";
        using var content = new StringContent(answer.Json ?? "", Encoding.UTF8, "application/json");
        using HttpResponseMessage r = await _http.PostAsync(
            new Uri($"/api/v1/agents/{Info.Id}/tasks/{task.Id}/result?{query}", UriKind.Relative), content, ct);
        if (!r.IsSuccessStatusCode)
        {
            Note($"result of {task.Id}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
        }
    }

    private void Note(string error)
    {
        lock (_gate)
        {
            _errors.Add(error);
        }
    }

    private static JsonContent Body<T>(T value, JsonTypeInfo<T> type) => JsonContent.Create(value, type);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
            Task[] pending;
            lock (_gate)
            {
                pending = [.. _answers];
            }

            await Task.WhenAll(pending);
        }
        catch (OperationCanceledException)
        {
            // Stopped mid-request: the server is going away with it.
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
