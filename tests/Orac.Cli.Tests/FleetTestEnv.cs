using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Server;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Cli.Tests;

/// <summary>
/// A real in-process Orac server (Kestrel on 127.0.0.1:0, in-memory store) with org <c>a</c> and one token per role,
/// plus fake agents: plain HttpClient loops that speak the real agent protocol (register, long-poll heartbeats,
/// post task results) against it. The verbs run in-process through <see cref="Program.Run"/>.
/// </summary>
public sealed class FleetTestEnv : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-fleet-cli-").FullName;
    private readonly List<FakeAgent> _agents = [];

    private FleetTestEnv(OracServer server) => Server = server;

    public OracServer Server { get; }

    public Uri Base => Server.Address!;

    public string ReadToken { get; private set; } = "";

    public string AdminToken { get; private set; } = "";

    public string IngestToken { get; private set; } = "";

    /// <summary>A scratch folder removed with the environment.</summary>
    public string Dir => _dir;

    /// <summary>Starts the server; <paramref name="costModel"/> prices cost routes with that model file (built-in defaults otherwise).</summary>
    public static async Task<FleetTestEnv> StartAsync(string? costModel = null)
    {
        string dir = Directory.CreateTempSubdirectory("orac-fleet-cli-data-").FullName;
        var server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = dir, HeartbeatWaitMs = 2_000, CostModelPath = costModel }, new MemoryProfileStore(), log: TextWriter.Null);
        var env = new FleetTestEnv(server);
        env._dataDir = dir;
        _ = server.Auth.Bootstrap();
        server.Auth.CreateOrg("a");
        env.ReadToken = server.Auth.CreateToken("a", Role.Read, "alice");
        env.AdminToken = server.Auth.CreateToken("a", Role.Admin, "ops");
        env.IngestToken = server.Auth.CreateToken("a", Role.Ingest, "agents");
        await server.StartAsync();
        return env;
    }

    private string _dataDir = "";

    /// <summary>Starts a fake agent and waits until it is registered and heartbeating.</summary>
    public async Task<FakeAgent> AgentAsync(string host, Func<AgentTask, AgentAnswer?> onTask, Dictionary<string, string>? labels = null, bool appliesSettings = true,
        AgentHeartbeat? beat = null, string[]? capabilities = null)
    {
        var agent = new FakeAgent(this, host, onTask, labels ?? [], appliesSettings, beat, capabilities ?? ["sample", "check", "pmc"]);
        await agent.StartAsync();
        _agents.Add(agent);
        return agent;
    }

    /// <summary>Runs <c>orac ARGS --server URL --token TOKEN</c> in-process; exit code, stdout, stderr.</summary>
    public (int Code, string Out, string Err) Run(string token, params string[] args)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = TextWriter.Synchronized(err), GetEnv = _ => null };
        int code = Program.Run([.. args, "--server", Base.ToString(), "--token", token], ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }

    /// <summary>Runs against this server with a context the test holds (to interrupt it); exit code and stdout.</summary>
    public (int Code, string Out) RunCtx(CliContext ctx, string token, params string[] args)
    {
        int code = Program.Run([.. args, "--server", Base.ToString(), "--token", token], ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()));
    }

    /// <summary>Runs <c>orac ARGS</c> with no environment (no server unless the args name one).</summary>
    public static (int Code, string Out, string Err) RunLocal(params string[] args)
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = err, GetEnv = _ => null };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(((MemoryStream)ctx.StdOut).ToArray()), err.ToString());
    }

    /// <summary>A profile result: folded stacks (frames separated by ';', then the CPU nanoseconds).</summary>
    public static AgentAnswer Profile(params (string Stack, long Ns)[] stacks)
    {
        var frames = new List<string>();
        var samples = new List<ProfileSample>();
        foreach ((string stack, long ns) in stacks)
        {
            var ids = new List<int>();
            foreach (string f in stack.Split(';'))
            {
                int ix = frames.IndexOf(f);
                if (ix < 0)
                {
                    ix = frames.Count;
                    frames.Add(f);
                }

                ids.Add(ix);
            }

            samples.Add(new ProfileSample { Stack = ids, Values = [ns] });
        }

        var doc = new ProfileDocument
        {
            Source = "fake agent",
            SampleTypes = [new ProfileSampleType { Type = "cpu", Unit = "nanoseconds" }],
            Frames = frames,
            Samples = samples,
        };
        return new AgentAnswer(JsonSerializer.SerializeToUtf8Bytes(doc, OracJsonContext.Default.ProfileDocument), null);
    }

    public static AgentAnswer JsonResult(string json) => new(Encoding.UTF8.GetBytes(json), null);

    public static AgentAnswer Failed(string reason) => new(null, reason);

    public async ValueTask DisposeAsync()
    {
        foreach (FakeAgent a in _agents)
        {
            await a.DisposeAsync();
        }

        await Server.StopAsync();
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_dataDir, recursive: true);
    }
}

/// <summary>What a fake agent answers to a task: a result body, or a failure reason.</summary>
public sealed record AgentAnswer(byte[]? Body, string? FailReason);

/// <summary>An agent speaking the real protocol over HTTP: register, heartbeat (long poll), post results; no collection.</summary>
public sealed class FakeAgent : IAsyncDisposable
{
    private readonly FleetTestEnv _env;
    private readonly Func<AgentTask, AgentAnswer?> _onTask;
    private readonly Dictionary<string, string> _labels;
    private readonly bool _appliesSettings;
    private readonly AgentHeartbeat? _beat;
    private readonly string[] _capabilities;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _appliedVersion;

    internal FakeAgent(FleetTestEnv env, string host, Func<AgentTask, AgentAnswer?> onTask, Dictionary<string, string> labels, bool appliesSettings, AgentHeartbeat? beat, string[] capabilities)
    {
        _env = env;
        Host = host;
        _onTask = onTask;
        _labels = labels;
        _appliesSettings = appliesSettings;
        _beat = beat;
        _capabilities = capabilities;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", env.IngestToken);
    }

    public string Host { get; }

    public string Id => "agent-" + Host;

    /// <summary>Tasks this agent was given.</summary>
    public List<AgentTask> Tasks { get; } = [];

    /// <summary>The settings this agent last received.</summary>
    public AgentSettings? Settings { get; private set; }

    internal async Task StartAsync()
    {
        var info = new AgentInfo { Id = Id, Hostname = Host, Labels = _labels, Cpus = 4, Version = "test", Capabilities = [.. _capabilities], Kernel = "6.1" };
        AgentRegistration reg = await PostJson(new Uri(_env.Base, "/api/v1/agents/register"), JsonSerializer.SerializeToUtf8Bytes(info, OracJsonContext.Default.AgentInfo), OracJsonContext.Default.AgentRegistration);
        Settings = reg.Settings;
        _appliedVersion = reg.Settings.Version;

        // One heartbeat before returning, so the agent is online (and has reported its overhead) when the test goes on.
        await BeatOnce(0);
        _loop = Task.Run(Loop);
    }

    private async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await BeatOnce(1_000);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task BeatOnce(int waitMs)
    {
        var beat = new AgentHeartbeat
        {
            SettingsVersion = _appliedVersion,
            Overhead = _beat?.Overhead ?? new AgentOverhead { CpuPercent = 0.4, RssBytes = 25_000_000 },
            Spool = _beat?.Spool ?? new SpoolStats(),
            UploadedSamples = _beat?.UploadedSamples ?? 0,
        };
        HeartbeatReply reply = await PostJson(new Uri(_env.Base, $"/api/v1/agents/{Id}/heartbeat?wait={waitMs}"),
            JsonSerializer.SerializeToUtf8Bytes(beat, OracJsonContext.Default.AgentHeartbeat), OracJsonContext.Default.HeartbeatReply);
        if (reply.Settings is not null)
        {
            Settings = reply.Settings;
            if (_appliesSettings)
            {
                _appliedVersion = reply.Settings.Version;
            }
        }

        foreach (AgentTask task in reply.Tasks)
        {
            lock (Tasks)
            {
                Tasks.Add(task);
            }

            AgentAnswer? answer = _onTask(task);
            if (answer is null)
            {
                continue; // this agent never answers: the server times the part out at the deadline
            }

            string path = answer.Body is null
                ? $"/api/v1/agents/{Id}/tasks/{task.Id}/result?state=failed&reason={Uri.EscapeDataString(answer.FailReason ?? "")}"
                : $"/api/v1/agents/{Id}/tasks/{task.Id}/result?state=done";
            using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(_env.Base, path)) { Content = new ByteArrayContent(answer.Body ?? []) };
            using HttpResponseMessage resp = await _http.SendAsync(req, _stop.Token);
            if (!resp.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"result of {task.Id} refused: {(int)resp.StatusCode} {await resp.Content.ReadAsStringAsync()}");
            }
        }
    }

    private async Task<T> PostJson<T>(Uri uri, byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage resp = await _http.PostAsync(uri, content, _stop.Token);
        string text = await resp.Content.ReadAsStringAsync();
        if (!resp.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{uri.AbsolutePath}: {(int)resp.StatusCode} {text}");
        }

        return JsonSerializer.Deserialize(text, info)!;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
