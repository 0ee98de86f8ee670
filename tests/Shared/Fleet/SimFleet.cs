namespace Orac.Sim;

/// <summary>
/// N <see cref="SimAgent"/>s sharing one <see cref="HttpClient"/> and one <see cref="SimStats"/>: registers them (a few
/// at a time, as a fleet coming up does), runs their loops, stops them. Used by the load test
/// (tests/Orac.Server.Tests/Fleet) and by <c>fleetsim agents</c> (bench/FleetSim).
/// </summary>
public sealed class SimFleet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    /// <summary>Agents <c>sim-0000</c> … <c>sim-(N-1)</c>, all with <paramref name="token"/> (role ingest or admin).</summary>
    public SimFleet(HttpClient http, string token, int count, SimAgentOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Agents = [.. Enumerable.Range(0, count).Select(i => new SimAgent(http, token, i, Stats, options))];
    }

    /// <summary>The agents, by index.</summary>
    public IReadOnlyList<SimAgent> Agents { get; }

    /// <summary>What they measured.</summary>
    public SimStats Stats { get; } = new();

    /// <summary>
    /// One client for a whole simulated fleet: enough connections for every agent's long poll plus its results and
    /// uploads (HTTP/1.1 holds one request per connection), and a timeout well above the 20 s hold.
    /// </summary>
    public static HttpClient CreateHttpClient(Uri server, int agents) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = (agents * 3) + 64,
            PooledConnectionLifetime = TimeSpan.FromMinutes(30),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        })
        {
            BaseAddress = server,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>Registers every agent (<paramref name="parallel"/> at a time), then starts their loops. Throws when one cannot register.</summary>
    public async Task StartAsync(int parallel = 16, CancellationToken ct = default)
    {
        await Parallel.ForEachAsync(Agents, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
            async (a, c) => await a.RegisterAsync(c));
        foreach (SimAgent a in Agents)
        {
            _loops.Add(Task.Run(() => a.RunAsync(_stop.Token), CancellationToken.None));
        }
    }

    /// <summary>Cancels every loop (open long polls are dropped) and waits for them.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _loops.Clear();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
