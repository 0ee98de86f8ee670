using System.Diagnostics;
using System.Text.Json;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// A real Pyroscope client: the npm package <c>@pyroscope/nodejs</c> profiles a Node.js program
/// (tests/clients/pyroscope-nodejs/profile-me.js: a busy function with a distinctive name, a static tag and a
/// dynamic label) and pushes gzip pprof to <c>POST /ingest</c> of a real <c>orac serve</c> with Orac's bearer token
/// (the client's <c>authToken</c> option). The stored profile must name the function and carry both labels.
/// </summary>
public sealed class PyroscopeNodeClientTests : IDisposable
{
    private const string Function = "oracDistinctiveBusyLoop";
    private const string App = "orac-node-client";
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-node-").FullName;

    private static string ClientDir => Path.Combine(TestPaths.RepoRoot, "tests", "clients", "pyroscope-nodejs");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task PyroscopeNodejs_PushesToOracServe_FunctionAndLabelsAreQueryable()
    {
        EnsureNodeModules();
        using ServerProcess server = ServerProcess.Start(["serve", "--listen", "127.0.0.1:0", "--data", Path.Combine(_dir, "data")], expectToken: true);
        (int code, string output) = Run("node", ["profile-me.js", "3"], ClientDir, new()
        {
            ["ORAC_SERVER"] = server.Url.ToString().TrimEnd('/'),
            ["ORAC_TOKEN"] = server.Token!,
            ["DEBUG"] = "pyroscope*",
        });
        Assert.True(code == 0, $"node profile-me.js failed ({code}):\n{output}\nserver:\n{server.Output}");
        Assert.DoesNotContain("Server rejected", output, StringComparison.Ordinal);

        using HttpClient http = server.Client(server.Token!);
        string window = "from=now-10m&until=now%2B1m";
        using JsonDocument types = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query/types?{window}"));
        var typeIds = types.RootElement.GetProperty("types").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.True(typeIds.Count > 0, $"no profile types stored after the client ran:\n{output}\nserver:\n{server.Output}");

        // The wall profiler's sample types (samples, wall time, CPU time) each become a type; the function is in them.
        string selector = $"{{service_name=\"{App}\", region=\"orac-test-region\", orac_phase=\"spin\"}}";
        var found = new List<string>();
        foreach (string type in typeIds)
        {
            string folded = await http.GetStringAsync($"/api/v1/query/export?format=folded&type={Uri.EscapeDataString(type)}&query={Uri.EscapeDataString(selector)}&{window}");
            if (folded.Contains(Function, StringComparison.Ordinal))
            {
                found.Add(type);
            }
        }

        Assert.True(found.Count > 0, $"'{Function}' is in no stored profile of {selector} (types: {string.Join(", ", typeIds)})\nserver:\n{server.Output}");
        Assert.Contains(found, t => t.StartsWith("wall:", StringComparison.Ordinal));

        // Static tags and dynamic labels are both label values of the stored series.
        Assert.Contains("orac-test-region", await LabelValues(http, "region", window));
        Assert.Contains("spin", await LabelValues(http, "orac_phase", window));
        Assert.Contains(App, await LabelValues(http, "service_name", window));
    }

    private static async Task<List<string>> LabelValues(HttpClient http, string name, string window)
    {
        using JsonDocument doc = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query/labels?name={name}&{window}"));
        return [.. doc.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetString()!)];
    }

    private static void EnsureNodeModules()
    {
        // test.sh runs `npm ci`; a plain `dotnet test` does it here (the lock file pins every version).
        if (Directory.Exists(Path.Combine(ClientDir, "node_modules", "@pyroscope", "nodejs")))
        {
            return;
        }

        (int code, string output) = Run("npm", ["ci", "--no-audit", "--no-fund"], ClientDir, []);
        Assert.True(code == 0, $"npm ci in {ClientDir} failed ({code}); test.sh installs nodejs and npm:\n{output}");
    }

    private static (int Code, string Output) Run(string file, string[] args, string dir, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in env)
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out after 180 s\n{stdout.Result}{stderr.Result}");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
