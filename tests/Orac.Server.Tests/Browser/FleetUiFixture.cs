using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// One real <see cref="OracServer"/> on 127.0.0.1 (port 0, in memory, 1 s heartbeat long polls) with two orgs of
/// <see cref="FakeAgent"/>s speaking the real fleet protocol, and one headless system Chromium, shared by the fleet
/// and task page tests.
/// <list type="bullet">
/// <item>org <c>fleet</c>: <c>web-1</c>, <c>web-2</c>, <c>web-3</c>, all answering; <c>web-3</c>'s profile is
/// mostly <c>compress</c> (the host that differs); check problems: web-1 none, web-2 two, web-3 one.</item>
/// <item>org <c>lab</c>: <c>db-1</c> answers, <c>db-2</c> takes tasks and never answers, <c>db-3</c> registered once
/// and went silent (offline).</item>
/// </list>
/// </summary>
public sealed class FleetUiFixture : IAsyncLifetime
{
    /// <summary>The server's longest heartbeat hold: agents are offline after 3 × this without one.</summary>
    public const int HeartbeatWaitMs = 1000;

    private readonly List<FakeAgent> _agents = [];
    private string? _dataDir;
    private IPlaywright? _playwright;

    public OracServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>Read token of org <c>fleet</c> (what the UI gets).</summary>
    public string FleetRead { get; private set; } = "";

    /// <summary>Read token of org <c>lab</c>.</summary>
    public string LabRead { get; private set; } = "";

    /// <summary>Admin token whose org is <c>lab</c>.</summary>
    public string LabAdmin { get; private set; } = "";

    public IReadOnlyList<FakeAgent> Agents => _agents;

    /// <summary>Uncaught script errors and CSP violations of the page made last by <see cref="NewPageAsync()"/>.</summary>
    public List<string> PageErrors { get; } = [];

    /// <summary>Frames of each host's profile result: web-3 spends most of its time in compress.</summary>
    public static string Folded(string host) => host == "web-3"
        ? "main;serve;handler 200000000\nmain;compress 800000000\n"
        : "main;serve;handler 700000000\nmain;gc 300000000\n";

    /// <summary>Check problems per host (resource, kind, rule, message).</summary>
    public static (string Resource, string Kind, string Rule, string Message)[] Problems(string host) => host switch
    {
        "web-2" =>
        [
            ("CPU", "utilization", "cpu-util", "CPU 97.0% busy (threshold 90%): the host is CPU bound"),
            ("memory", "saturation", "mem-swap", "swapping 120 pages/s (threshold 10): memory is short"),
        ],
        "web-3" => [("disk sda", "errors", "disk-errors", "3 I/O errors in the kernel log")],
        _ => [],
    };

    public async Task InitializeAsync()
    {
        if (!UiFixture.HasChromium)
        {
            return;
        }

        _dataDir = Path.Combine(Path.GetTempPath(), $"orac-fleet-ui-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDir);
        Server = OracServer.Create(
            new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dataDir, InMemory = true, HeartbeatWaitMs = HeartbeatWaitMs },
            new MemoryProfileStore(),
            log: TextWriter.Null);
        await Server.StartAsync();
        Address = Server.Address ?? throw new InvalidOperationException("server has no address after start");

        Server.Auth.CreateOrg("fleet");
        Server.Auth.CreateOrg("lab");
        FleetRead = Server.Auth.CreateToken("fleet", Role.Read, "ui-fleet-read");
        LabRead = Server.Auth.CreateToken("lab", Role.Read, "ui-lab-read");
        LabAdmin = Server.Auth.CreateToken("lab", Role.Admin, "ui-lab-admin");
        string fleetIngest = Server.Auth.CreateToken("fleet", Role.Ingest, "agents-fleet");
        string labIngest = Server.Auth.CreateToken("lab", Role.Ingest, "agents-lab");

        foreach (string host in new[] { "web-1", "web-2", "web-3" })
        {
            await AddAsync(fleetIngest, host, "api", Answer);
        }

        await AddAsync(labIngest, "db-1", "db", Answer);
        await AddAsync(labIngest, "db-2", "db", (_, _) => FakeAnswer.Never);
        await AddAsync(labIngest, "db-3", "db", Answer, heartbeat: false);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = UiFixture.ChromiumPath, Headless = true });
        Directory.CreateDirectory(UiFixture.ScreenshotDir);
    }

    private async Task AddAsync(string token, string host, string service, Func<AgentTask, string, FakeAnswer> answer, bool heartbeat = true)
    {
        var info = new AgentInfo
        {
            Id = $"agent-{host}",
            Hostname = host,
            Labels = new Dictionary<string, string> { ["service_name"] = service, ["zone"] = host == "web-3" ? "b" : "a" },
            Kernel = "6.8.0-test",
            CpuModel = "Test CPU",
            Cpus = 8,
            MemoryBytes = 16L << 30,
            Version = "0.0-test",
            Capabilities = ["sample", "check", "pmc", "bpftrace"],
        };
        var agent = new FakeAgent(Address, token, info, task => answer(task, host));
        await agent.StartAsync(heartbeat);
        _agents.Add(agent);
    }

    /// <summary>What an answering fake host sends for each kind of the catalogue.</summary>
    private static FakeAnswer Answer(AgentTask task, string host) => task.Kind switch
    {
        TaskKinds.Profile => new FakeAnswer(ProfileJson(Folded(host), task.Hz)),
        TaskKinds.Check => new FakeAnswer(CheckJson(host)),
        TaskKinds.Trace => new FakeAnswer(TraceJson(task.Tool ?? "", host)),
        _ => new FakeAnswer(null, $"{task.Kind} not supported by this fake host"),
    };

    /// <summary>An Orac profile document (cpu/nanoseconds) with the stacks of a folded text.</summary>
    public static string ProfileJson(string folded, int hz)
    {
        var frames = new List<string>();
        var samples = new List<ProfileSample>();
        foreach (string line in folded.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int space = line.LastIndexOf(' ');
            var stack = new List<int>();
            foreach (string f in line[..space].Split(';'))
            {
                int i = frames.IndexOf(f);
                if (i < 0)
                {
                    i = frames.Count;
                    frames.Add(f);
                }

                stack.Add(i);
            }

            samples.Add(new ProfileSample { Stack = stack, Values = [long.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)] });
        }

        var doc = new ProfileDocument
        {
            Source = $"fake agent at {hz} Hz",
            SampleTypes = [new ProfileSampleType { Type = "cpu", Unit = "nanoseconds" }],
            Frames = frames,
            Samples = samples,
        };
        return JsonSerializer.Serialize(doc, OracJsonContext.Default.ProfileDocument);
    }

    private static string CheckJson(string host)
    {
        var problems = new JsonArray();
        var flagged = new HashSet<string>();
        foreach ((string resource, string kind, string rule, string message) in Problems(host))
        {
            problems.Add(new JsonObject { ["resource"] = resource, ["kind"] = kind, ["rule"] = rule, ["message"] = message });
            flagged.Add(resource);
        }

        var use = new JsonArray();
        foreach (string resource in new[] { "CPU", "memory", "disk sda" })
        {
            string flag = flagged.Contains(resource) ? "PROBLEM" : "ok";
            use.Add(new JsonObject { ["resource"] = resource, ["utilization"] = "12%", ["saturation"] = "-", ["errors"] = "0", ["flag"] = flag });
        }

        return new JsonObject
        {
            ["mode"] = "window",
            ["windowSeconds"] = 1.0,
            ["cpus"] = 8,
            ["partial"] = false,
            ["use"] = use,
            ["problems"] = problems,
        }.ToJsonString();
    }

    private static string TraceJson(string tool, string host) => new JsonObject
    {
        ["tool"] = tool,
        ["description"] = "run queue latency",
        ["durationSeconds"] = 1,
        ["tracedSeconds"] = 1.0,
        ["provenance"] = "measured",
        ["partial"] = false,
        ["histogram"] = new JsonObject
        {
            ["unit"] = "microseconds",
            ["count"] = host == "web-2" ? 420 : 42,
            ["buckets"] = new JsonArray(new JsonObject { ["low"] = 0, ["high"] = 1, ["count"] = 40 }),
        },
    }.ToJsonString();

    /// <summary>Creates a task through the API (as the CLI would) with a token of the org, returning its id.</summary>
    public async Task<string> CreateTaskAsync(string token, TaskRequest request)
    {
        using var http = new HttpClient { BaseAddress = Address };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage r = await http.PostAsync(
            new Uri("/api/v1/tasks", UriKind.Relative), JsonContent.Create(request, OracJsonContext.Default.TaskRequest));
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"create task: {(int)r.StatusCode} {text}");
        return JsonSerializer.Deserialize(text, OracJsonContext.Default.TaskDocument)!.Id;
    }

    public Task<IPage> NewPageAsync() => UiFixture.NewPageAsync(Browser, PageErrors);

    public async Task DisposeAsync()
    {
        foreach (FakeAgent a in _agents)
        {
            await a.DisposeAsync();
        }

        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
