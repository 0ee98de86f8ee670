using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// A real <c>orac serve</c> (the published binary) with two orgs and profiles pushed to each, and the caller alice's
/// memory; the MCP clients of <see cref="McpClientTests"/> talk to it.
/// </summary>
public sealed class McpServerFixture : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-mcp-").FullName;

    public McpServerFixture()
    {
        if (!McpClientTests.NodeAvailable(out _))
        {
            return;
        }

        Server = ServerProcess.Start(["serve", "--listen", "127.0.0.1:0", "--data", Path.Combine(_dir, "data")], expectToken: true);
        using HttpClient admin = Server.Client(Server.Token!);
        Post(admin, "/api/v1/orgs", """{"org": "a"}""");
        Post(admin, "/api/v1/orgs", """{"org": "b"}""");
        ReadA = Token(admin, "a", "read", "alice");
        ReadB = Token(admin, "b", "read", "bob");
        string ingestA = Token(admin, "a", "ingest", "agents-a");
        string ingestB = Token(admin, "b", "ingest", "agents-b");

        // Org a: the inference service on gpu-node-7, 100 samples of which matmul_kernel is 70 (self).
        using (HttpClient ia = Server.Client(ingestA))
        {
            Ingest(ia, "inference.cpu{host=gpu-node-7}", "main;serve;matmul_kernel 70\nmain;serve;tokenize 20\nmain;idle_loop 10\n");
            Ingest(ia, "api.cpu{host=web-1}", "main;handle_request;parse_json 30\nmain;handle_request 5\n");
        }

        // Org b: its own service and a function no org-a caller may ever see.
        using (HttpClient ib = Server.Client(ingestB))
        {
            Ingest(ib, "billing.cpu{host=db-9}", "main;secret_b_function 50\n");
        }

        using HttpClient alice = Server.Client(ReadA);
        using var content = new StringContent("""{"text": "our H100s cost $2.10 an hour", "source": "cli"}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage saved = alice.PostAsync("/api/v1/memory", content).GetAwaiter().GetResult();
        MemorySaved = saved.IsSuccessStatusCode ? null : $"POST /api/v1/memory answered {(int)saved.StatusCode}: {saved.Content.ReadAsStringAsync().GetAwaiter().GetResult()}";
    }

    internal ServerProcess? Server { get; }

    public string ReadA { get; } = "";

    public string ReadB { get; } = "";

    /// <summary>Null when alice's memory was saved, else why not (the memory routes are missing).</summary>
    public string? MemorySaved { get; }

    public Uri McpUrl => new(Server!.Url, "/mcp");

    public void Dispose()
    {
        Server?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Post(HttpClient http, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage r = http.PostAsync(path, content).GetAwaiter().GetResult();
        string body = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(r.IsSuccessStatusCode, $"POST {path} answered {(int)r.StatusCode}: {body}");
        return body;
    }

    private static string Token(HttpClient admin, string org, string role, string name)
    {
        using JsonDocument doc = JsonDocument.Parse(Post(admin, "/api/v1/tokens", $$"""{"org": "{{org}}", "role": "{{role}}", "name": "{{name}}"}"""));
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    private static void Ingest(HttpClient http, string name, string folded)
    {
        using var content = new StringContent(folded, Encoding.UTF8, "text/plain");
        using HttpResponseMessage r = http.PostAsync("/ingest?name=" + Uri.EscapeDataString(name), content).GetAwaiter().GetResult();
        Assert.True(r.IsSuccessStatusCode, $"ingest {name} answered {(int)r.StatusCode}: {r.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
    }
}

/// <summary>
/// Real MCP clients nobody here wrote, against <c>orac mcp</c> (stdio) and <c>/mcp</c> (Streamable HTTP) of a real
/// server: the official TypeScript SDK's <c>Client</c> (tests/clients/mcp/client.mjs, which also validates every
/// structured result against the tool's output schema) and the MCP Inspector CLI. Both are pinned by
/// tests/clients/mcp/package-lock.json; <c>./test.sh</c> runs <c>npm ci</c> there.
/// </summary>
public sealed class McpClientTests(McpServerFixture env) : IClassFixture<McpServerFixture>
{
    private static readonly string[] s_tools =
        ["list_services", "list_labels", "list_profile_types", "top_functions", "diff", "cost", "opportunities", "fleet_list", "start_research", "research_result", "health_check"];

    private static string ClientDir => Path.Combine(TestPaths.RepoRoot, "tests", "clients", "mcp");

    private const string Steps = """
        {"list": true, "calls": [
          {"name": "top_functions", "arguments": {"service": "inference", "from": "now-1h", "limit": 2}},
          {"name": "top_functions", "arguments": {"service": "infer"}},
          {"name": "list_services", "arguments": {}},
          {"name": "diff", "arguments": {"service": "inference", "base_service": "api"}},
          {"name": "top_functions", "arguments": {"limit": 500}}
        ]}
        """;

    [SkippableFact]
    public void SdkClient_Stdio_ListsMarksAndAnswersWithTheCallersData()
    {
        SkipWithoutNode();
        JsonElement o = Client(["stdio", ServerProcess.Binary, "mcp", "--server", env.Server!.Url.ToString(), "--token", env.ReadA], Steps);
        AssertSession(o);
    }

    [SkippableFact]
    public void SdkClient_Http_ListsMarksAndAnswersWithTheCallersData()
    {
        SkipWithoutNode();
        JsonElement o = Client(["http", env.McpUrl.ToString(), env.ReadA], Steps);
        AssertSession(o);
    }

    [SkippableFact]
    public void SdkClient_HttpOtherOrg_SeesOnlyItsOwnData()
    {
        SkipWithoutNode();
        JsonElement o = Client(["http", env.McpUrl.ToString(), env.ReadB], """
            {"calls": [
              {"name": "list_services", "arguments": {}},
              {"name": "top_functions", "arguments": {}},
              {"name": "top_functions", "arguments": {"service": "inference"}}
            ]}
            """);
        JsonElement[] calls = Calls(o);
        JsonElement services = Structured(calls[0]);
        Assert.Equal(["billing"], services.GetProperty("services").EnumerateArray().Select(s => s.GetString()!));
        Assert.Equal(["db-9"], services.GetProperty("hosts").EnumerateArray().Select(s => s.GetString()!));
        JsonElement top = Structured(calls[1]);
        Assert.Equal(50, top.GetProperty("profileTotal").GetInt64());
        Assert.Equal("secret_b_function", top.GetProperty("functions")[0].GetProperty("name").GetString());
        Assert.DoesNotContain("matmul_kernel", calls[1].GetRawText(), StringComparison.Ordinal);
        Assert.Contains("unknown service 'inference'", ErrorText(calls[2]), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Http_WithoutOrWithBadToken_Is401()
    {
        SkipWithoutNode();
        using var http = new HttpClient { BaseAddress = env.Server!.Url };
        const string Init = """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""";
        foreach (string? token in new[] { null, "orac_not_a_token" })
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(Init, Encoding.UTF8, "application/json") };
            req.Headers.Accept.ParseAdd("application/json, text/event-stream");
            if (token is not null)
            {
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using HttpResponseMessage r = await http.SendAsync(req);
            string body = await r.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Contains("\"status\":401", body, StringComparison.Ordinal);
            Assert.DoesNotContain("top_functions", body, StringComparison.Ordinal);
        }

        // The real client without a token fails to connect (and says why), rather than seeing tools.
        (int code, string output) = Run("node", ["client.mjs", "http", env.McpUrl.ToString(), "", "--", """{"list": true}"""], ClientDir, []);
        Assert.NotEqual(0, code);
        Assert.Contains("401", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Inspector_StdioAndHttp_ListsToolsCallsAndReportsToolErrors()
    {
        SkipWithoutNode();
        var orac = new Dictionary<string, string> { ["ORAC_SERVER"] = env.Server!.Url.ToString(), ["ORAC_TOKEN"] = env.ReadA };

        JsonElement list = Inspector(["--cli", ServerProcess.Binary, "mcp", "--method", "tools/list"], orac);
        var tools = list.GetProperty("tools").EnumerateArray().ToList();
        Assert.Equal(s_tools.Order(), tools.Select(t => t.GetProperty("name").GetString()!).Order());
        Assert.All(tools, t => Assert.Equal(t.GetProperty("name").GetString() is "start_research" or "health_check",
            !t.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean()));

        JsonElement top = Inspector(["--cli", ServerProcess.Binary, "mcp", "--method", "tools/call", "--tool-name", "top_functions", "--tool-arg", "service=inference", "limit=3"], orac);
        Assert.False(top.TryGetProperty("isError", out JsonElement e) && e.GetBoolean(), top.GetRawText());
        JsonElement s = top.GetProperty("structuredContent");
        Assert.Equal(100, s.GetProperty("profileTotal").GetInt64());
        Assert.Equal(["matmul_kernel", "tokenize", "idle_loop"], s.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("name").GetString()!));
        Assert.Equal([70L, 20L, 10L], s.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("self").GetInt64()));

        // HTTP with the header; the inspector exits 0 on tool errors, so the JSON is what says it failed.
        string[] http = ["--cli", env.McpUrl.ToString(), "--transport", "http", "--header", $"Authorization: Bearer {env.ReadA}"];
        JsonElement bad = Inspector([.. http, "--method", "tools/call", "--tool-name", "top_functions", "--tool-arg", "service=infer"], []);
        Assert.True(bad.GetProperty("isError").GetBoolean(), bad.GetRawText());
        Assert.Contains("unknown service 'infer'; did you mean 'inference'?", bad.GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);

        JsonElement httpList = Inspector([.. http, "--method", "tools/list"], []);
        Assert.Equal(s_tools.Length, httpList.GetProperty("tools").GetArrayLength());
        JsonElement prompts = Inspector([.. http, "--method", "prompts/list"], []);
        Assert.Equal("orac_persona", prompts.GetProperty("prompts")[0].GetProperty("name").GetString());
        JsonElement resources = Inspector([.. http, "--method", "resources/list"], []);
        Assert.Equal("orac://memory", resources.GetProperty("resources")[0].GetProperty("uri").GetString());
    }

    private void AssertSession(JsonElement o)
    {
        Assert.Equal("orac", o.GetProperty("server").GetProperty("name").GetString());

        // The tool list, with typed schemas and the fleet-changing marks.
        var tools = o.GetProperty("tools").EnumerateArray().ToList();
        Assert.Equal(s_tools, tools.Select(t => t.GetProperty("name").GetString()!));
        foreach (JsonElement t in tools)
        {
            string name = t.GetProperty("name").GetString()!;
            bool fleet = name is "start_research" or "health_check";
            Assert.Equal("object", t.GetProperty("inputSchema").GetProperty("type").GetString());
            Assert.Equal("object", t.GetProperty("outputSchema").GetProperty("type").GetString());
            Assert.Equal(!fleet, t.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
            Assert.Equal(fleet, t.GetProperty("description").GetString()!.StartsWith("FLEET-CHANGING", StringComparison.Ordinal));
        }

        JsonElement limit = tools.Single(t => t.GetProperty("name").GetString() == "top_functions").GetProperty("inputSchema").GetProperty("properties").GetProperty("limit");
        Assert.Equal(100, limit.GetProperty("maximum").GetInt32());

        JsonElement[] calls = Calls(o);

        // top_functions: the numbers pushed (the SDK already validated structuredContent against outputSchema).
        JsonElement top = Structured(calls[0]);
        Assert.Equal("{service_name=\"inference\"}", top.GetProperty("selector").GetString());
        Assert.Equal(100, top.GetProperty("profileTotal").GetInt64());
        Assert.Equal("samples", top.GetProperty("unit").GetString());
        Assert.Equal("measured", top.GetProperty("provenance").GetString());
        var fns = top.GetProperty("functions").EnumerateArray().ToList();
        Assert.Equal(2, fns.Count);
        Assert.Equal("matmul_kernel", fns[0].GetProperty("name").GetString());
        Assert.Equal(70, fns[0].GetProperty("self").GetInt64());
        Assert.Equal(70.0, fns[0].GetProperty("selfPercent").GetDouble());
        Assert.Equal("tokenize", fns[1].GetProperty("name").GetString());
        Assert.Equal(20, fns[1].GetProperty("self").GetInt64());
        Assert.StartsWith(env.Server!.Url.ToString().TrimEnd('/'), top.GetProperty("link").GetString(), StringComparison.Ordinal);
        string text = calls[0].GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.Contains("70 samples", text, StringComparison.Ordinal);
        Assert.Contains("measured", text, StringComparison.Ordinal);

        // An unknown service is a tool error with the suggestion.
        Assert.Equal("unknown service 'infer'; did you mean 'inference'?", ErrorText(calls[1]));

        // The caller's org only.
        JsonElement services = Structured(calls[2]);
        Assert.Equal(["api", "inference"], services.GetProperty("services").EnumerateArray().Select(s => s.GetString()!));
        Assert.DoesNotContain("billing", calls[2].GetRawText(), StringComparison.Ordinal);

        // diff of two services over the same range: inference's functions grew from nothing, api's shrank to nothing.
        JsonElement diff = Structured(calls[3]);
        Assert.Equal(100, diff.GetProperty("total").GetInt64());
        Assert.Equal(35, diff.GetProperty("baseTotal").GetInt64());
        JsonElement first = diff.GetProperty("changes")[0];
        Assert.Equal("matmul_kernel", first.GetProperty("name").GetString());
        Assert.Equal(70, first.GetProperty("delta").GetInt64());

        // A bound the schema states is enforced by the server too.
        Assert.Contains("argument 'limit': expected an integer from 1 to 100, got 500", ErrorText(calls[4]), StringComparison.Ordinal);

        Assert.Equal("orac://memory", o.GetProperty("resources")[0].GetProperty("uri").GetString());
        Assert.Equal("orac_persona", o.GetProperty("prompts")[0].GetProperty("name").GetString());
    }

    [SkippableFact]
    public void SdkClient_StdioAndHttp_MemoryResourceAndPersonaPromptAreTheCallers()
    {
        SkipWithoutNode();
        Assert.True(env.MemorySaved is null, env.MemorySaved);
        const string Read = """{"readMemory": true, "persona": true}""";
        AssertMemory(Client(["stdio", ServerProcess.Binary, "mcp", "--server", env.Server!.Url.ToString(), "--token", env.ReadA], Read), "a");
        AssertMemory(Client(["http", env.McpUrl.ToString(), env.ReadA], Read), "a");
    }

    private static void AssertMemory(JsonElement o, string org)
    {
        Assert.False(o.TryGetProperty("failed", out JsonElement failed), failed.ToString());
        string memory = o.GetProperty("memory").GetProperty("contents")[0].GetProperty("text").GetString()!;
        Assert.Contains($"user alice, org {org}", memory, StringComparison.Ordinal);
        Assert.Contains("our H100s cost $2.10 an hour", memory, StringComparison.Ordinal);
        string persona = o.GetProperty("persona").GetProperty("messages")[0].GetProperty("content").GetProperty("text").GetString()!;
        Assert.StartsWith("You are Orac", persona, StringComparison.Ordinal);
        Assert.Contains("our H100s cost $2.10 an hour", persona, StringComparison.Ordinal);
    }

    private static JsonElement[] Calls(JsonElement o)
    {
        Assert.False(o.TryGetProperty("failed", out JsonElement failed), failed.ToString());
        return [.. o.GetProperty("calls").EnumerateArray()];
    }

    private static JsonElement Structured(JsonElement call)
    {
        Assert.False(call.TryGetProperty("thrown", out JsonElement thrown), $"{call.GetProperty("name")}: {thrown}");
        JsonElement r = call.GetProperty("result");
        Assert.False(r.TryGetProperty("isError", out JsonElement e) && e.GetBoolean(), r.GetRawText());
        return r.GetProperty("structuredContent");
    }

    private static string ErrorText(JsonElement call)
    {
        Assert.False(call.TryGetProperty("thrown", out JsonElement thrown), $"{call.GetProperty("name")}: {thrown}");
        JsonElement r = call.GetProperty("result");
        Assert.True(r.GetProperty("isError").GetBoolean(), r.GetRawText());
        Assert.False(r.TryGetProperty("structuredContent", out _), r.GetRawText());
        return r.GetProperty("content")[0].GetProperty("text").GetString()!;
    }

    private JsonElement Client(string[] target, string steps)
    {
        EnsureNodeModules();
        (int code, string stdout, string stderr) = Run3("node", ["client.mjs", .. target, "--", steps], ClientDir, []);
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{')) ?? "";
        Assert.True(code == 0 && last.Length > 0, $"node client.mjs failed ({code}):\n{stdout}\n{stderr}\nserver:\n{env.Server!.Output}");
        using JsonDocument doc = JsonDocument.Parse(last);
        return doc.RootElement.Clone();
    }

    private JsonElement Inspector(string[] args, Dictionary<string, string> extraEnv)
    {
        EnsureNodeModules();
        (int code, string stdout, string stderr) = Run3("npx", ["--no-install", "--prefix", ClientDir, "mcp-inspector", .. args], ClientDir, extraEnv);
        int start = stdout.IndexOf('{', StringComparison.Ordinal);
        Assert.True(code == 0 && start >= 0, $"mcp-inspector {string.Join(' ', args)} failed ({code}):\n{stdout}\n{stderr}\nserver:\n{env.Server!.Output}");
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(stdout[start..]));
        using JsonDocument doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.Clone();
    }

    /// <summary>Whether node and npm are on PATH (the only reason these tests skip).</summary>
    internal static bool NodeAvailable(out string why)
    {
        foreach (string tool in new[] { "node", "npm", "npx" })
        {
            string? path = Environment.GetEnvironmentVariable("PATH");
            if (path is null || !path.Split(':').Any(d => File.Exists(Path.Combine(d, tool))))
            {
                why = $"{tool} is not installed: the real MCP clients (npm @modelcontextprotocol/sdk and inspector) need Node.js; test.sh installs nodejs and npm";
                return false;
            }
        }

        why = "";
        return true;
    }

    private static void SkipWithoutNode()
    {
        Skip.IfNot(NodeAvailable(out string why), why);
    }

    private static void EnsureNodeModules()
    {
        // test.sh runs `npm ci`; a plain `dotnet test` does it here (the lock file pins every version).
        if (Directory.Exists(Path.Combine(ClientDir, "node_modules", "@modelcontextprotocol", "sdk"))
            && Directory.Exists(Path.Combine(ClientDir, "node_modules", "@modelcontextprotocol", "inspector")))
        {
            return;
        }

        (int code, string output) = Run("npm", ["ci", "--no-audit", "--no-fund"], ClientDir, []);
        Assert.True(code == 0, $"npm ci in {ClientDir} failed ({code}):\n{output}");
    }

    private static (int Code, string Output) Run(string file, string[] args, string dir, Dictionary<string, string> env)
    {
        (int code, string stdout, string stderr) = Run3(file, args, dir, env);
        return (code, stdout + "\n" + stderr);
    }

    private static (int Code, string Out, string Err) Run3(string file, string[] args, string dir, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("ORAC_SERVER");
        psi.Environment.Remove("ORAC_TOKEN");
        foreach (var kv in env)
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout.Result, $"{file} timed out after 180 s\n{stderr.Result}");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
