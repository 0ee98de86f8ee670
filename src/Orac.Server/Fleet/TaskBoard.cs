using System.Security.Cryptography;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Server.Fleet;

/// <summary>
/// Research tasks: created from the fixed catalogue, handed to the matching online agents of the org through their
/// heartbeats, collected with a deadline (one timer per task), kept (the newest <see cref="Kept"/>) in
/// <c>DATA/tasks/ID/</c>: <c>task.json</c> and one <c>result-AGENTID.json</c> per host. A task running when the server
/// stopped is partial after the restart, its unfinished parts timed out with the reason "server restarted". Each task
/// has its own lock; the board's lock guards only the map.
/// </summary>
internal sealed class TaskBoard : IDisposable
{
    /// <summary>Tasks kept (older ones and their folders are deleted).</summary>
    public const int Kept = 200;

    /// <summary>Longest collection, ms.</summary>
    public const long MaxDurationMs = 600_000;

    /// <summary>Tasks whose merged profile and hosts answer are kept in memory (the most recently read).</summary>
    public const int CachedTasks = 8;

    private const string TaskFile = "task.json";
    private readonly string? _dir;
    private readonly FleetRegistry _registry;
    private readonly Action<string> _log;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskEntry> _tasks = new(StringComparer.Ordinal);
    private bool _disposed;
    private long _seq;
    private long _readTick;

    private TaskBoard(string? dir, FleetRegistry registry, Action<string> log, TimeProvider time)
    {
        _dir = dir;
        _registry = registry;
        _log = log;
        _time = time;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Opens the board of a data folder (null: memory only), loading the kept tasks.</summary>
    public static TaskBoard Open(string? dataDirectory, FleetRegistry registry, Action<string> log, TimeProvider? time = null)
    {
        string? dir = dataDirectory is null ? null : Path.Combine(dataDirectory, "tasks");
        var board = new TaskBoard(dir, registry, log, time ?? TimeProvider.System);
        if (dir is not null)
        {
            AtomicFile.CreateDirectory(dir);
            board.Load(dir);
        }

        return board;
    }

    private void Load(string dir)
    {
        var loaded = new List<TaskEntry>();
        foreach (string folder in Directory.EnumerateDirectories(dir))
        {
            string path = Path.Combine(folder, TaskFile);
            if (!File.Exists(path))
            {
                continue;
            }

            byte[] bytes = File.ReadAllBytes(path);
            TaskDocument? doc;
            try
            {
                doc = JsonSerializer.Deserialize(bytes, OracServer.Json.TaskDocument);
            }
            catch (JsonException e)
            {
                _log($"orac: {path}: not loaded, corrupt at byte offset {JsonOffsets.ByteOffset(bytes, e.LineNumber, e.BytePositionInLine)}: {e.Message}");
                continue;
            }

            if (doc is null || doc.Parts is null || Path.GetFileName(folder) != doc.Id)
            {
                _log($"orac: {path}: not loaded: not a task document of task {Path.GetFileName(folder)}");
                continue;
            }

            loaded.Add(new TaskEntry(doc, folder));
        }

        loaded.Sort((a, b) => b.Doc.CreatedMs.CompareTo(a.Doc.CreatedMs));
        for (int i = loaded.Count - 1; i >= 0; i--)
        {
            loaded[i].Seq = ++_seq;
        }

        foreach (TaskEntry e in loaded.Skip(Kept))
        {
            Delete(e);
        }

        foreach (TaskEntry e in loaded.Take(Kept))
        {
            _tasks[e.Doc.Id] = e;
            if (e.Doc.State != "running")
            {
                e.Finished.TrySetResult();
            }
            else
            {
                foreach (TaskPart p in e.Doc.Parts)
                {
                    if (p.State is PartStates.Queued or PartStates.Running)
                    {
                        if (File.Exists(ResultPath(e, p.AgentId)))
                        {
                            p.State = PartStates.Done;
                        }
                        else
                        {
                            p.State = PartStates.TimedOut;
                            p.Reason = "server restarted";
                        }
                    }
                }

                Finish(e, restarted: true);
                SaveNow(e);
            }
        }
    }

    /// <summary>Checks a request against the catalogue and fills in the defaults; 400 with the reason when it is out of it.</summary>
    public static TaskRequest Normalize(TaskRequest req)
    {
        if (!TaskKinds.All.Contains(req.Kind))
        {
            throw new ApiException(400, $"unknown task kind '{Auth.AuthStore.Escape(req.Kind ?? "")}': the catalogue has {string.Join(", ", TaskKinds.All)}");
        }

        long defaultDuration = req.Kind switch
        {
            TaskKinds.Profile => 30_000,
            TaskKinds.Check => 60_000,
            _ => 10_000,
        };
        long duration = req.DurationMs == 0 ? defaultDuration : req.DurationMs;
        if (duration is < 1000 or > MaxDurationMs)
        {
            throw new ApiException(400, $"bad durationMs {req.DurationMs}: expected 1000 to {MaxDurationMs} (1 s to 10 min)");
        }

        int hz = 0;
        if (req.Kind == TaskKinds.Profile)
        {
            hz = req.Hz == 0 ? 99 : req.Hz;
            if (hz is < 1 or > 1000)
            {
                throw new ApiException(400, $"bad hz {req.Hz}: expected 1 to 1000");
            }
        }
        else if (req.Hz != 0)
        {
            throw new ApiException(400, $"hz applies to profile tasks only, not {req.Kind}");
        }

        string? tool = string.IsNullOrEmpty(req.Tool) ? null : req.Tool;
        if (req.Kind == TaskKinds.Trace)
        {
            if (tool is null || tool.Length > 32 || !tool.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new ApiException(400, $"bad tool '{Auth.AuthStore.Escape(tool ?? "")}': a trace task names a catalogue tool (orac trace --list): 1 to 32 of a-z, 0-9 and '-'");
            }
        }
        else if (tool is not null)
        {
            throw new ApiException(400, $"tool applies to trace tasks only, not {req.Kind}");
        }

        List<string> events = req.Events ?? [];
        if (req.Kind == TaskKinds.Pmc)
        {
            if (events.Count > 32)
            {
                throw new ApiException(400, "at most 32 events");
            }

            foreach (string? e in events)
            {
                if (string.IsNullOrEmpty(e) || e.Length > 64 || !e.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                {
                    throw new ApiException(400, $"bad event '{Auth.AuthStore.Escape(e ?? "")}': 1 to 64 of letters, digits, '-', '_', '.' and ':' (names orac pmc knows)");
                }
            }
        }
        else if (events.Count > 0)
        {
            throw new ApiException(400, $"events apply to pmc tasks only, not {req.Kind}");
        }

        long deadline = req.DeadlineMs == 0 ? duration + 30_000 : req.DeadlineMs;
        if (deadline < 1000 || deadline > duration + MaxDurationMs)
        {
            throw new ApiException(400, $"bad deadlineMs {req.DeadlineMs}: expected 1000 to durationMs + {MaxDurationMs} ({duration + MaxDurationMs})");
        }

        if ((req.Selector?.Length ?? 0) > Selector.MaxLength)
        {
            throw new ApiException(400, $"selector longer than {Selector.MaxLength} characters");
        }

        return new TaskRequest { Kind = req.Kind, Selector = req.Selector ?? "", DurationMs = duration, Hz = hz, Tool = tool, Events = [.. events], DeadlineMs = deadline };
    }

    /// <summary>Parses a selector over agent labels (no profile type).</summary>
    public static Selector AgentSelector(string? text)
    {
        Selector s = Selector.Parse(text);
        if (s.Type is not null)
        {
            throw new ApiException(400, "an agent selector selects agents by label; it has no profile type");
        }

        return s;
    }

    /// <summary>Creates a task for the online agents of <paramref name="org"/> that match; 400 when none does.</summary>
    public TaskDocument Create(string org, string createdBy, TaskRequest request)
    {
        TaskRequest req = Normalize(request);
        Selector selector = AgentSelector(req.Selector);
        List<AgentState> agents = _registry.Select(org, selector, onlineOnly: true);
        if (agents.Count == 0)
        {
            throw new ApiException(400, $"no online agent of org '{org}' matches {selector}");
        }

        long now = NowMs;
        string id = RandomNumberGenerator.GetHexString(16, lowercase: true);
        var doc = new TaskDocument
        {
            Id = id,
            Org = org,
            Kind = req.Kind,
            Selector = req.Selector,
            DurationMs = req.DurationMs,
            Hz = req.Hz,
            Tool = req.Tool,
            Events = req.Events,
            CreatedBy = createdBy,
            CreatedMs = now,
            DeadlineMs = now + req.DeadlineMs,
            State = "running",
            Parts = [.. agents.Select(a => new TaskPart { AgentId = a.Info.Id, Host = a.Info.Hostname, State = PartStates.Queued })],
        };
        var entry = new TaskEntry(doc, _dir is null ? null : Path.Combine(_dir, id)) { Seq = Interlocked.Increment(ref _seq) };
        if (entry.Dir is not null)
        {
            AtomicFile.CreateDirectory(entry.Dir);
        }

        SaveNow(entry);
        List<TaskEntry> evicted = [];
        lock (_gate)
        {
            _tasks[id] = entry;
            if (_tasks.Count > Kept)
            {
                evicted.AddRange(_tasks.Values.OrderBy(t => t.Seq).Take(_tasks.Count - Kept));
                foreach (TaskEntry e in evicted)
                {
                    _tasks.Remove(e.Doc.Id);
                }
            }
        }

        foreach (TaskEntry e in evicted)
        {
            Delete(e);
        }

        entry.Timer = _time.CreateTimer(static s => ((Action)s!)(), (Action)(() => Expire(entry)), TimeSpan.FromMilliseconds(req.DeadlineMs), Timeout.InfiniteTimeSpan);
        var task = new AgentTask { Id = id, Kind = req.Kind, DurationMs = req.DurationMs, Hz = req.Hz, Tool = req.Tool, Events = req.Events, DeadlineMs = doc.DeadlineMs };
        foreach (AgentState a in agents)
        {
            _registry.Enqueue(a, task);
        }

        return Snapshot(entry);
    }

    /// <summary>The task <paramref name="id"/> of <paramref name="org"/>; 404 otherwise (another org's task does not exist for this one).</summary>
    public TaskEntry Get(string org, string id)
    {
        lock (_gate)
        {
            if (_tasks.TryGetValue(id, out TaskEntry? e) && e.Doc.Org == org)
            {
                return e;
            }
        }

        throw new ApiException(404, $"no task '{Auth.AuthStore.Escape(id)}' in org '{org}'");
    }

    /// <summary>The newest <paramref name="limit"/> tasks of <paramref name="org"/>, newest first.</summary>
    public List<TaskDocument> List(string org, int limit)
    {
        List<TaskEntry> entries;
        lock (_gate)
        {
            entries = [.. _tasks.Values.Where(t => t.Doc.Org == org).OrderByDescending(t => t.Seq).Take(limit)];
        }

        return [.. entries.Select(Snapshot)];
    }

    /// <summary>A copy of the task document as of now.</summary>
    public static TaskDocument Snapshot(TaskEntry e)
    {
        byte[] bytes;
        lock (e.Gate)
        {
            bytes = JsonSerializer.SerializeToUtf8Bytes(e.Doc, OracServer.Json.TaskDocument);
        }

        return JsonSerializer.Deserialize(bytes, OracServer.Json.TaskDocument)!;
    }

    /// <summary>Waits until the task is no longer running, or <paramref name="wait"/> passed.</summary>
    public static async Task WaitAsync(TaskEntry e, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (wait > TimeSpan.Zero)
        {
            await e.Finished.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The agent took these tasks (they were in a heartbeat answer): their parts are running.</summary>
    public void Started(string org, string agentId, IReadOnlyList<AgentTask> tasks)
    {
        long now = NowMs;
        foreach (AgentTask t in tasks)
        {
            TaskEntry? e;
            lock (_gate)
            {
                e = _tasks.GetValueOrDefault(t.Id);
            }

            if (e is null || e.Doc.Org != org)
            {
                continue;
            }

            lock (e.Gate)
            {
                TaskPart? p = e.Part(agentId);
                if (p is { State: PartStates.Queued })
                {
                    p.State = PartStates.Running;
                    p.StartedMs = now;
                }
            }

            ScheduleSave(e);
        }
    }

    /// <summary>
    /// Takes an agent's result (<paramref name="result"/>) or failure (<paramref name="failure"/>) for its part.
    /// Returns whether it was late (after the deadline: kept, the task stays partial). 404 when the task or part is
    /// not this agent's in this org; 409 when the part already finished.
    /// </summary>
    public bool Finish(string org, string agentId, string taskId, ParsedResult? result, string? failure)
    {
        TaskEntry e = Get(org, taskId);
        TaskPart? part;
        lock (e.Gate)
        {
            part = e.Part(agentId) ?? throw new ApiException(404, $"task '{taskId}' has no part for agent '{Auth.AuthStore.Escape(agentId)}'");
            if (part.State is PartStates.Done or PartStates.Failed)
            {
                throw new ApiException(409, $"the part of agent '{agentId}' in task '{taskId}' already finished ({part.State})");
            }

            if (part.FinishedMs is not null)
            {
                throw new ApiException(409, $"the part of agent '{agentId}' in task '{taskId}' is being finished");
            }

            part.FinishedMs = NowMs;
        }

        // The result file is written before the task says done, so a restart in between still finds it.
        if (result is not null)
        {
            if (e.Dir is not null)
            {
                AtomicFile.Write(ResultPath(e, agentId), s => s.Write(result.Stored));
            }
        }

        bool late;
        bool complete;
        lock (e.Gate)
        {
            int index = e.Doc.Parts.IndexOf(part);
            // Late: after the deadline, or after the task's answer was given without it (a result racing the deadline timer).
            late = part.State == PartStates.TimedOut || part.FinishedMs > e.Doc.DeadlineMs || e.Doc.State != "running";
            part.Late = late;
            part.State = result is not null ? PartStates.Done : PartStates.Failed;
            part.Reason = result is not null ? null : failure;
            part.ResultBytes = result?.Stored.Length ?? 0;
            part.Total = result?.Profile?.Total();
            part.StartedMs ??= part.FinishedMs;
            if (result is not null)
            {
                // Only the bytes are kept (in memory without a data folder): a parsed profile costs far more than
                // its result, so profiles are parsed again when read, and only the task's merge and hosts are cached.
                if (e.Dir is null)
                {
                    e.Raw[index] = result.Stored;
                }

                e.Merged = null;
                e.Hosts = null;
                e.ResultVersion++;
            }

            if (e.Doc.State != "running")
            {
                e.Doc.Missing = Missing(e.Doc);
            }

            complete = e.Doc.State == "running" && e.Doc.Parts.All(p => p.State is PartStates.Done or PartStates.Failed);
        }

        if (complete)
        {
            Finish(e, restarted: false);
            SaveNow(e);
        }
        else if (late || e.Doc.State != "running")
        {
            SaveNow(e);
        }
        else
        {
            ScheduleSave(e);
        }

        return late;
    }

    private void Expire(TaskEntry e)
    {
        if (_disposed)
        {
            return;
        }

        var undelivered = new List<string>();
        lock (e.Gate)
        {
            if (e.Doc.State != "running")
            {
                return;
            }

            foreach (TaskPart p in e.Doc.Parts)
            {
                if (p.State is PartStates.Queued or PartStates.Running && p.FinishedMs is null)
                {
                    if (p.State == PartStates.Queued)
                    {
                        undelivered.Add(p.AgentId);
                    }

                    p.State = PartStates.TimedOut;
                    p.Reason = "no result by the deadline";
                }
            }
        }

        foreach (string agent in undelivered)
        {
            _registry.Unqueue(e.Doc.Org, agent, e.Doc.Id);
        }

        Finish(e, restarted: false);
        try
        {
            SaveNow(e);
        }
        catch (OracException ex)
        {
            _log($"orac: {ex.Message}");
        }
    }

    private static void Finish(TaskEntry e, bool restarted)
    {
        lock (e.Gate)
        {
            if (e.Doc.State == "running")
            {
                bool allDone = e.Doc.Parts.All(p => p.State == PartStates.Done && !p.Late);
                e.Doc.State = allDone && !restarted ? "done" : "partial";
                e.Doc.Partial = e.Doc.State == "partial";
                e.Doc.Missing = Missing(e.Doc);
            }
        }

        e.Timer?.Dispose();
        e.Finished.TrySetResult();
    }

    private static List<string> Missing(TaskDocument d)
    {
        var list = new List<string>();
        foreach (TaskPart p in d.Parts)
        {
            string? why = p.State switch
            {
                PartStates.Done when p.Late => "late",
                PartStates.Done => null,
                PartStates.Failed => "failed: " + p.Reason,
                PartStates.TimedOut when p.Reason == "server restarted" => "server restarted",
                PartStates.TimedOut => "timed out",
                _ => p.State,
            };
            if (why is not null)
            {
                list.Add($"{p.Host} ({why})");
            }
        }

        return list;
    }

    /// <summary>
    /// Hosts with a profile result (late ones included), in part order, parsed from their stored bytes (only the
    /// parts of <paramref name="host"/> when given).
    /// </summary>
    public static List<(string Host, Profile Profile)> HostProfiles(TaskEntry e, string? host = null)
    {
        var list = new List<(string, Profile)>();
        int n;
        lock (e.Gate)
        {
            n = e.Doc.Parts.Count;
        }

        for (int i = 0; i < n; i++)
        {
            TaskPart p;
            byte[]? raw;
            lock (e.Gate)
            {
                p = e.Doc.Parts[i];
                raw = e.Raw[i];
            }

            if (p.State != PartStates.Done || (host is not null && p.Host != host))
            {
                continue;
            }

            string path = e.Dir is null ? "result" : ResultPath(e, p.AgentId);
            if (raw is null && e.Dir is not null)
            {
                if (!File.Exists(path))
                {
                    continue;
                }

                raw = File.ReadAllBytes(path);
            }

            if (raw is not null)
            {
                list.Add((p.Host, TaskResults.CpuColumn(ProfileJson.Read(new MemoryStream(raw, writable: false), path))));
            }
        }

        return list;
    }

    /// <summary>The merged profile of a profile task (cached until the next result), every sample labelled <c>host</c>.</summary>
    public Profile Merged(TaskEntry e) =>
        Cached(e, static e => e.Merged, static (e, m) => e.Merged = m, static e => TaskResults.MergeHosts(HostProfiles(e)));

    /// <summary>How each host differs from the others (cached until the next result).</summary>
    public List<HostDivergence> Hosts(TaskEntry e) =>
        Cached(e, static e => e.Hosts, static (e, h) => e.Hosts = h, static e => HostComparison.Compare(HostProfiles(e)));

    private T Cached<T>(TaskEntry e, Func<TaskEntry, T?> get, Action<TaskEntry, T> set, Func<TaskEntry, T> compute)
        where T : class
    {
        long version;
        lock (e.Gate)
        {
            e.LastReadTick = Interlocked.Increment(ref _readTick);
            if (get(e) is { } cached)
            {
                return cached;
            }

            version = e.ResultVersion;
        }

        T value = compute(e);
        lock (e.Gate)
        {
            // A result that arrived meanwhile makes this answer stale: give it, but do not keep it.
            if (e.ResultVersion != version)
            {
                return value;
            }

            set(e, value);
        }

        TrimCaches();
        return value;
    }

    /// <summary>Drops the caches of all but the <see cref="CachedTasks"/> most recently read tasks.</summary>
    private void TrimCaches()
    {
        List<TaskEntry> withCache;
        lock (_gate)
        {
            withCache = [.. _tasks.Values];
        }

        var cached = new List<(long Tick, TaskEntry Entry)>();
        foreach (TaskEntry t in withCache)
        {
            lock (t.Gate)
            {
                if (t.Merged is not null || t.Hosts is not null)
                {
                    cached.Add((t.LastReadTick, t));
                }
            }
        }

        if (cached.Count <= CachedTasks)
        {
            return;
        }

        cached.Sort((a, b) => b.Tick.CompareTo(a.Tick));
        foreach ((long _, TaskEntry t) in cached.Skip(CachedTasks))
        {
            lock (t.Gate)
            {
                t.Merged = null;
                t.Hosts = null;
            }
        }
    }

    /// <summary>Tasks whose merge and hosts answer are cached now (tests).</summary>
    internal int CachedCount()
    {
        List<TaskEntry> all;
        lock (_gate)
        {
            all = [.. _tasks.Values];
        }

        return all.Count(t =>
        {
            lock (t.Gate)
            {
                return t.Merged is not null || t.Hosts is not null;
            }
        });
    }

    /// <summary>Every part's raw result (check, pmc, trace); profile parts have no raw result here.</summary>
    public static ResultsDocument Results(TaskEntry e)
    {
        TaskDocument doc = Snapshot(e);
        var results = new List<PartResult>();
        for (int i = 0; i < doc.Parts.Count; i++)
        {
            TaskPart p = doc.Parts[i];
            JsonElement? json = null;
            if (p.State == PartStates.Done && doc.Kind != TaskKinds.Profile)
            {
                byte[]? raw;
                lock (e.Gate)
                {
                    raw = e.Raw[i];
                }

                if (raw is null && e.Dir is not null && File.Exists(ResultPath(e, p.AgentId)))
                {
                    raw = File.ReadAllBytes(ResultPath(e, p.AgentId));
                }

                if (raw is not null)
                {
                    using JsonDocument d = JsonDocument.Parse(raw);
                    json = d.RootElement.Clone();
                }
            }

            results.Add(new PartResult { Host = p.Host, AgentId = p.AgentId, State = p.State, Reason = p.Reason, Late = p.Late, Result = json });
        }

        return new ResultsDocument { Task = doc, Results = results };
    }

    private static string ResultPath(TaskEntry e, string agentId) => Path.Combine(e.Dir!, "result-" + agentId + ".json");

    private void ScheduleSave(TaskEntry e)
    {
        if (e.Dir is null)
        {
            return;
        }

        lock (e.Gate)
        {
            if (e.SavePending)
            {
                return;
            }

            e.SavePending = true;
        }

        // Many hosts finishing at once write task.json once, not once each.
        _ = Task.Delay(200).ContinueWith(
            _ =>
            {
                try
                {
                    SaveNow(e);
                }
                catch (OracException ex)
                {
                    _log($"orac: {ex.Message}");
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void SaveNow(TaskEntry e)
    {
        if (e.Dir is null || _disposed)
        {
            return;
        }

        lock (e.WriteGate)
        {
            if (!Directory.Exists(e.Dir))
            {
                return;
            }

            byte[] bytes;
            lock (e.Gate)
            {
                e.SavePending = false;
                bytes = JsonSerializer.SerializeToUtf8Bytes(e.Doc, OracServer.Json.TaskDocument);
            }

            AtomicFile.Write(Path.Combine(e.Dir, TaskFile), s => s.Write(bytes));
        }
    }

    private void Delete(TaskEntry e)
    {
        e.Timer?.Dispose();
        e.Finished.TrySetResult();
        if (e.Dir is null)
        {
            return;
        }

        try
        {
            lock (e.WriteGate)
            {
                Directory.Delete(e.Dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log($"orac: {e.Dir}: cannot delete an old task: {ex.Message}");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        lock (_gate)
        {
            foreach (TaskEntry e in _tasks.Values)
            {
                e.Timer?.Dispose();
                e.Finished.TrySetResult();
            }
        }
    }
}

/// <summary>A task as the board holds it. <see cref="Doc"/> and the arrays are guarded by <see cref="Gate"/>.</summary>
internal sealed class TaskEntry(TaskDocument doc, string? dir)
{
    public TaskDocument Doc { get; } = doc;

    public string? Dir { get; } = dir;

    public Lock Gate { get; } = new();

    /// <summary>Serializes task.json writes so an older snapshot never overwrites a newer one.</summary>
    public Lock WriteGate { get; } = new();

    public bool SavePending { get; set; }

    /// <summary>Creation order on this server (ties of <see cref="TaskDocument.CreatedMs"/> broken).</summary>
    public long Seq { get; set; }

    /// <summary>Result bytes per part when there is no data folder (with one, they are read from its files).</summary>
    public byte[]?[] Raw { get; } = new byte[]?[doc.Parts.Count];

    /// <summary>Cached merge of a profile task (see <see cref="TaskBoard.Merged"/>).</summary>
    public Profile? Merged { get; set; }

    /// <summary>Cached hosts answer of a profile task (see <see cref="TaskBoard.Hosts"/>).</summary>
    public List<HostDivergence>? Hosts { get; set; }

    /// <summary>When the task's merge or hosts were last asked for (board read counter), for dropping old caches.</summary>
    public long LastReadTick { get; set; }

    /// <summary>Bumped by every result, so a merge computed meanwhile is not cached.</summary>
    public long ResultVersion { get; set; }

    public ITimer? Timer { get; set; }

    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskPart? Part(string agentId) => Doc.Parts.Find(p => p.AgentId == agentId);
}
