using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Orac.Model.Wire;
using Orac.Storage;

namespace Orac.Server.Tests.Fleet;

/// <summary>A thousand agents holding a heartbeat open at once: no thread each, and one settings change answers them all.</summary>
public sealed class FleetScaleTests
{
    private const int Agents = 1000;

    [Fact(Timeout = 120_000)]
    public async Task ThousandParkedHeartbeats_AreAnsweredBySettingsChange()
    {
        var server = OracServer.Create(new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = "unused", InMemory = true }, new MemoryProfileStore(), log: TextWriter.Null);
        string admin = server.Auth.Bootstrap()!;
        await server.StartAsync();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Agents + 10, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            var agents = Enumerable.Range(0, Agents).Select(i => new FleetAgent(http, server.Address!, admin, $"scale-{i}", $"scale-{i:0000}")).ToArray();
            foreach (FleetAgent[] chunk in agents.Chunk(50))
            {
                await Task.WhenAll(chunk.Select(a => a.Register(new() { ["fleet"] = "scale" })));
            }

            Task<HeartbeatReply>[] parked = [.. agents.Select(a => a.Heartbeat(20_000))];
            var wait = Stopwatch.StartNew();
            while (server.AgentRegistry.OpenHeartbeats() < Agents && wait.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
            }

            Assert.Equal(Agents, server.AgentRegistry.OpenHeartbeats());
            Assert.DoesNotContain(parked, p => p.IsCompleted);

            // Parked heartbeats hold no thread: the pool stays far below one thread per agent.
            Assert.True(ThreadPool.ThreadCount < Agents / 4, $"{ThreadPool.ThreadCount} thread-pool threads for {Agents} parked heartbeats");

            var sw = Stopwatch.StartNew();
            using (var req = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address!, "/api/v1/agents/settings")))
            {
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                req.Content = new StringContent("""{"selector":"{fleet=\"scale\"}","hz":31}""", Encoding.UTF8, "application/json");
                using HttpResponseMessage resp = await http.SendAsync(req);
                Assert.Equal(200, (int)resp.StatusCode);
            }

            HeartbeatReply[] replies = await Task.WhenAll(parked);
            double ms = sw.Elapsed.TotalMilliseconds;
            Assert.All(replies, r => Assert.Equal(31, r.Settings?.Hz));
            Assert.True(ms < 10_000, $"{Agents} parked heartbeats took {ms:0} ms to answer after one settings change");
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }
}
