using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;

namespace Orac.Server.Tests.Fleet;

/// <summary>
/// An agent as the protocol sees it: a real HttpClient speaking register, heartbeat and result to a real server. Not a
/// mock of the server: the behaviour under test is the server's answers.
/// </summary>
internal sealed class FleetAgent(HttpClient http, Uri server, string token, string id, string host)
{
    public string Id { get; } = id;

    public string Host { get; } = host;

    public long Version { get; private set; }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<AgentRegistration> Register(Dictionary<string, string>? labels = null, int hz = 0)
    {
        var info = new AgentInfo { Id = Id, Hostname = Host, Labels = labels ?? [], Version = "test", Capabilities = ["sample", "check"], Hz = hz };
        using var content = new StringContent(JsonSerializer.Serialize(info, OracJsonContext.Default.AgentInfo), Encoding.UTF8, "application/json");
        (int status, string body) = await Send(HttpMethod.Post, "/api/v1/agents/register", content);
        Assert.True(status == 200, body);
        AgentRegistration reg = JsonSerializer.Deserialize(body, OracJsonContext.Default.AgentRegistration)!;
        Version = reg.Settings.Version;
        return reg;
    }

    /// <summary>One heartbeat; applies settings it gets (as a real agent does) and returns the answer.</summary>
    public async Task<HeartbeatReply> Heartbeat(int waitMs, CancellationToken cancellationToken = default)
    {
        string hb = JsonSerializer.Serialize(new AgentHeartbeat { SettingsVersion = Version, UploadedSamples = 7 }, OracJsonContext.Default.AgentHeartbeat);
        (int status, string body) = await Send(HttpMethod.Post, $"/api/v1/agents/{Id}/heartbeat?wait={waitMs}", Json(hb), cancellationToken);
        Assert.True(status == 200, body);
        HeartbeatReply reply = JsonSerializer.Deserialize(body, OracJsonContext.Default.HeartbeatReply)!;
        if (reply.Settings is { } s)
        {
            Version = s.Version;
        }

        return reply;
    }

    public async Task<(int Status, string Body)> Result(string taskId, byte[] body, bool gzip = false)
    {
        byte[] bytes = gzip ? Gzip(body) : body;
        return await Send(HttpMethod.Post, $"/api/v1/agents/{Id}/tasks/{taskId}/result?state=done", new ByteArrayContent(bytes));
    }

    public Task<(int Status, string Body)> Fail(string taskId, string reason) =>
        Send(HttpMethod.Post, $"/api/v1/agents/{Id}/tasks/{taskId}/result?state=failed&reason={Uri.EscapeDataString(reason)}", new ByteArrayContent([]));

    private async Task<(int Status, string Body)> Send(HttpMethod method, string path, HttpContent content, CancellationToken cancellationToken = default)
    {
        using var req = new HttpRequestMessage(method, new Uri(server, path)) { Content = content };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage resp = await http.SendAsync(req, cancellationToken);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>An Orac profile result (cpu/nanoseconds) from folded-style lines <c>a;b 100</c>.</summary>
    public static byte[] Profile(params string[] lines)
    {
        var frames = new List<string>();
        var samples = new List<string>();
        foreach (string line in lines)
        {
            int space = line.LastIndexOf(' ');
            var idx = new List<int>();
            foreach (string f in line[..space].Split(';'))
            {
                int i = frames.IndexOf(f);
                if (i < 0)
                {
                    i = frames.Count;
                    frames.Add(f);
                }

                idx.Add(i);
            }

            samples.Add($$"""{"stack":[{{string.Join(",", idx)}}],"values":[{{line[(space + 1)..]}}]}""");
        }

        string json = $$"""{"format":"orac-profile","version":1,"sampleTypes":[{"type":"cpu","unit":"nanoseconds"}],"frames":[{{string.Join(",", frames.Select(f => "\"" + f + "\""))}}],"samples":[{{string.Join(",", samples)}}]}""";
        return Encoding.UTF8.GetBytes(json);
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    /// <summary>Time of an awaited call, ms.</summary>
    public static async Task<(T Value, double Ms)> Timed<T>(Task<T> task)
    {
        var sw = Stopwatch.StartNew();
        T v = await task;
        return (v, sw.Elapsed.TotalMilliseconds);
    }
}
