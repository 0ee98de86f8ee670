using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Fleet;
using Xunit.Abstractions;

namespace Orac.Server.Tests.Fleet;

/// <summary>
/// What the task board keeps per result: the bytes, not a parsed profile (one parsed profile of a ~1 KB result held
/// ~145 KB), so memory is bounded by result bytes; merges and hosts answers are cached for the most recently read
/// tasks only. And fleet.json is written outside the registry's lock: a slow disk does not stall heartbeats.
/// GC.GetTotalMemory counts the whole process, so this class runs alone (the fleet-load collection).
/// </summary>
[Collection(FleetLoadCollection.Name)]
public sealed class TaskBoardMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const string Org = "o";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-board-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static FleetRegistry Fleet(string? dir, int hosts)
    {
        FleetRegistry registry = FleetRegistry.Open(dir, 20_000, _ => { });
        for (int h = 0; h < hosts; h++)
        {
            registry.Register(Org, new AgentInfo { Id = $"agent-{h}", Hostname = $"host-{h}", Labels = [], Version = "test", Capabilities = ["sample"] });
        }

        return registry;
    }

    /// <summary>A small profile result like a simulated agent's: a few stacks, the host's own total.</summary>
    private static byte[] Result(int host) => FleetAgent.Profile(
        $"main;serve;handle;parse {100 + host}",
        $"main;serve;handle;render {200 + host}",
        $"main;serve;gc {300 + host}",
        $"main;idle {400 + host}",
        $"main;serve;handle;db;query {500 + host}");

    private static long SumSent(int hosts) => Enumerable.Range(0, hosts).Sum(h => 1500L + (5L * h));

    private static string RunTask(TaskBoard board, int hosts)
    {
        string id = board.Create(Org, "test", new TaskRequest { Kind = TaskKinds.Profile, DurationMs = 1000 }).Id;
        for (int h = 0; h < hosts; h++)
        {
            ParsedResult parsed = TaskResults.Parse(TaskKinds.Profile, Result(h), 1 << 22, 1 << 20);
            Assert.False(board.Finish(Org, $"agent-{h}", id, parsed, null));
        }

        return id;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RetainedMemoryPerKeptPart_IsBoundedByResultBytes(bool withDataFolder)
    {
        const int Tasks = 8;
        const int Hosts = 50;
        FleetRegistry registry = Fleet(null, Hosts);
        using TaskBoard board = TaskBoard.Open(withDataFolder ? _dir : null, registry, _ => { });
        string first = RunTask(board, Hosts);   // warms up the code paths and the JSON metadata
        long resultBytes = Result(Hosts - 1).Length;

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var ids = new List<string>();
        for (int t = 0; t < Tasks; t++)
        {
            ids.Add(RunTask(board, Hosts));
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        double perPart = (after - before) / (double)(Tasks * Hosts);
        output.WriteLine($"retained per kept part: {perPart:F0} bytes (measured, GC.GetTotalMemory), result {resultBytes} bytes");

        // Kept per part: the task document's part (~0.5 KB) and, without a data folder, the result bytes. A parsed
        // profile per part would be ~145 KB.
        Assert.True(perPart < resultBytes + 4096, $"{perPart:F0} bytes retained per part (result {resultBytes} bytes)");
        Assert.All(ids.Append(first), id => Assert.Equal("done", TaskBoard.Snapshot(board.Get(Org, id)).State));

        // The results are all there: merged and per host, parsed from the kept bytes.
        TaskEntry e = board.Get(Org, ids[^1]);
        Assert.Equal(SumSent(Hosts), board.Merged(e).Total());
        Assert.Equal(Hosts, board.Hosts(e).Count);
        (string host, Profile one) = Assert.Single(TaskBoard.HostProfiles(e, "host-7"));
        Assert.Equal("host-7", host);
        Assert.Equal(1500L + 35, one.Total());
    }

    [Fact]
    public void MergeCache_KeepsOnlyTheMostRecentlyReadTasks_AndARecomputedMergeIsTheSame()
    {
        const int Hosts = 4;
        FleetRegistry registry = Fleet(null, Hosts);
        using TaskBoard board = TaskBoard.Open(_dir, registry, _ => { });
        var ids = Enumerable.Range(0, TaskBoard.CachedTasks + 4).Select(_ => RunTask(board, Hosts)).ToList();

        foreach (string id in ids)
        {
            Assert.Equal(SumSent(Hosts), board.Merged(board.Get(Org, id)).Total());
        }

        Assert.Equal(TaskBoard.CachedTasks, board.CachedCount());

        // The first task's cache was dropped: it is merged again from the result files, to the same total; the
        // most recently read one is answered from the cache (the same object).
        TaskEntry last = board.Get(Org, ids[^1]);
        Assert.Same(board.Merged(last), board.Merged(last));
        Assert.Equal(SumSent(Hosts), board.Merged(board.Get(Org, ids[0])).Total());
        Assert.Equal(TaskBoard.CachedTasks, board.CachedCount());
    }

    [Fact]
    public void ResultArrivingAfterAMerge_InvalidatesTheCache()
    {
        FleetRegistry registry = Fleet(null, 2);
        using TaskBoard board = TaskBoard.Open(null, registry, _ => { });
        string id = board.Create(Org, "test", new TaskRequest { Kind = TaskKinds.Profile, DurationMs = 1000 }).Id;
        TaskEntry e = board.Get(Org, id);
        board.Finish(Org, "agent-0", id, TaskResults.Parse(TaskKinds.Profile, Result(0), 1 << 22, 1 << 20), null);
        Assert.Equal(1500L, board.Merged(e).Total());
        Assert.Single(board.Hosts(e));

        board.Finish(Org, "agent-1", id, TaskResults.Parse(TaskKinds.Profile, Result(1), 1 << 22, 1 << 20), null);
        Assert.Equal(1500L + 1505, board.Merged(e).Total());
        Assert.Equal(2, board.Hosts(e).Count);
    }

    [Fact]
    public async Task FleetJsonWrite_DoesNotHoldTheRegistryLock_AndIsDoneBeforeTheSettingsAnswer()
    {
        Directory.CreateDirectory(_dir);
        FleetRegistry registry = Fleet(_dir, 2);
        registry.Flush();
        string path = Path.Combine(_dir, FleetRegistry.FileName);

        // A slow disk: the writer lock is held by another thread.
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (registry.WriteGate)
            {
                holding.Set();
                release.Wait();
            }
        });
        holder.Start();
        holding.Wait();

        Task<List<AgentState>> set = Task.Run(() => registry.Set(Org, TaskBoard.AgentSelector(""), new FleetSetRequest { Hz = 77 }));
        try
        {
            // The settings change is made and waits to be written; meanwhile the registry answers heartbeats.
            Assert.True(SpinWait.SpinUntil(() => registry.Find(Org, "agent-0")!.Settings.Hz == 77, 5_000), "the change was not made");
            Task beat = Task.Run(() =>
            {
                AgentState a = registry.Find(Org, "agent-1")!;
                registry.BeginHeartbeat(a, new AgentHeartbeat());
                (HeartbeatReply? reply, Task _) = registry.TakeOrWait(a, 0);
                Assert.NotNull(reply);
                registry.EndHeartbeat(a);
                registry.Register(Org, new AgentInfo { Id = "agent-2", Hostname = "host-2", Labels = [], Version = "test" });
            });
            Assert.Same(beat, await Task.WhenAny(beat, Task.Delay(5_000)));
            await beat;
            await Task.Delay(100);
            Assert.False(set.IsCompleted, "the settings change was answered before fleet.json was written");
        }
        finally
        {
            release.Set();
            holder.Join();
        }

        Assert.Equal(2, (await set).Count);
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path)))
        {
            JsonElement agents = doc.RootElement.GetProperty("agents");
            Assert.True(agents.GetArrayLength() >= 2);
            Assert.All(agents.EnumerateArray().Where(a => a.GetProperty("info").GetProperty("id").GetString() != "agent-2"),
                a => Assert.Equal(77, a.GetProperty("settings").GetProperty("hz").GetInt32()));
        }

        // The registration made while the write waited is written with the next snapshot (never overwritten by an older one).
        registry.Flush();
        using JsonDocument after = JsonDocument.Parse(File.ReadAllBytes(path));
        Assert.Equal(3, after.RootElement.GetProperty("agents").GetArrayLength());
    }

    [Fact]
    public async Task ConcurrentSettingsChanges_LeaveTheNewestInFleetJson()
    {
        Directory.CreateDirectory(_dir);
        FleetRegistry registry = Fleet(_dir, 3);
        await Task.WhenAll(Enumerable.Range(1, 40).Select(hz => Task.Run(() => registry.Set(Org, TaskBoard.AgentSelector(""), new FleetSetRequest { Hz = hz }))));
        registry.Flush();
        int finalHz = registry.Find(Org, "agent-0")!.Settings.Hz;
        long finalVersion = registry.Find(Org, "agent-0")!.Settings.Version;

        FleetRegistry reopened = FleetRegistry.Open(_dir, 20_000, _ => { });
        AgentState a = reopened.Find(Org, "agent-0")!;
        Assert.Equal(finalHz, a.Settings.Hz);
        Assert.Equal(finalVersion, a.Settings.Version);
    }
}
