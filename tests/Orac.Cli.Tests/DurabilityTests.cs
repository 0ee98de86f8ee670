using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Orac.Cli.Tests;

/// <summary>
/// DESIGN.md: "Nothing acknowledged is lost on a crash: ingest writes ahead before it answers." A real
/// <c>orac serve --data DIR</c> takes a stream of small profiles from four writers and is killed with SIGKILL
/// mid-stream; restarted on the same folder, every profile that got a 2xx answer must be there, exactly once.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private const string Service = "durability";
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-durability-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task KillNine_MidStream_EveryAcknowledgedProfileSurvivesOnce()
    {
        string data = Path.Combine(_dir, "data");
        string[] args = ["serve", "--listen", "127.0.0.1:0", "--data", data];
        var acknowledged = new ConcurrentDictionary<string, bool>();
        var attempted = new ConcurrentDictionary<string, bool>();
        string token;
        using (ServerProcess server = ServerProcess.Start(args, expectToken: true))
        {
            token = server.Token!;
            using HttpClient http = server.Client(token);
            using var stop = new CancellationTokenSource();
            Task[] writers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteUntilRefused(http, w, acknowledged, attempted, stop.Token)))];

            // Let a good number be acknowledged, then kill at a random moment in the next second.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (acknowledged.Count < 40 && DateTime.UtcNow < deadline && !writers.All(t => t.IsCompleted))
            {
                await Task.Delay(10);
            }

            Assert.True(acknowledged.Count >= 40, $"only {acknowledged.Count} profiles were acknowledged in 30 s:\n{server.Output}");
            await Task.Delay(Random.Shared.Next(0, 1000));
            server.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        Assert.NotEmpty(acknowledged);
        using (ServerProcess again = ServerProcess.Start(args, expectToken: false))
        {
            using HttpClient http = again.Client(token);
            string selector = $"{{service_name=\"{Service}\"}}";
            string folded = await http.GetStringAsync(
                $"/api/v1/query/export?format=folded&query={Uri.EscapeDataString(selector)}&from=now-1h&until=now%2B1m");
            var stored = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string line in folded.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                int space = line.LastIndexOf(' ');
                string stack = line[..space];
                string leaf = stack[(stack.LastIndexOf(';') + 1)..];
                stored[leaf] = stored.GetValueOrDefault(leaf) + long.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }

            var missing = acknowledged.Keys.Where(f => !stored.ContainsKey(f)).Order(StringComparer.Ordinal).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged profiles are gone after kill -9, e.g. {string.Join(", ", missing.Take(5))}");
            foreach ((string fn, long value) in stored)
            {
                Assert.True(attempted.ContainsKey(fn), $"'{fn}' is stored but was never sent");
                Assert.True(value == 1, $"'{fn}' was sent once with value 1 but is stored with value {value} (counted twice?)");
            }
        }
    }

    private static async Task WriteUntilRefused(HttpClient http, int writer, ConcurrentDictionary<string, bool> acknowledged, ConcurrentDictionary<string, bool> attempted, CancellationToken stop)
    {
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string fn = $"durable_w{writer}_n{i}";
            attempted[fn] = true;
            using var body = new ByteArrayContent(Encoding.UTF8.GetBytes($"main;{fn} 1\n"));
            try
            {
                using HttpResponseMessage r = await http.PostAsync($"/api/v1/profiles?service={Service}&format=folded&label=writer=w{writer}", body, CancellationToken.None);
                if (r.IsSuccessStatusCode)
                {
                    acknowledged[fn] = true;
                }
                else if ((int)r.StatusCode is >= 400 and < 500)
                {
                    throw new InvalidOperationException($"ingest refused {fn}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
            catch (HttpRequestException)
            {
                return; // the server is gone: this request has no answer, so it is unacknowledged
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }
}
