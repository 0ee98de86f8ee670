using System.Text.Json;
using System.Text.Json.Serialization;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Storage;

namespace Orac.Server.Fleet;

/// <summary>
/// The agents of every org, keyed by (org, agent id): what each registered, the settings the server holds for it and
/// what its last heartbeat said. Heartbeats park on a per-agent signal (a <see cref="TaskCompletionSource"/> replaced
/// each time it fires): no thread and no polling per waiting agent, so a thousand open long polls cost a thousand
/// small objects and timers. Registrations and settings changes are written to <c>DATA/fleet.json</c> (temporary file,
/// fsync, rename); heartbeats are not (<c>lastSeen</c> after a restart is the last registration or settings write).
/// Thread-safe: one lock guards the maps; nothing slow runs under it except the rare fleet.json write.
/// </summary>
internal sealed class FleetRegistry
{
    /// <summary>File name inside the data folder.</summary>
    public const string FileName = "fleet.json";

    private const int MaxLabels = 64;
    private const int MaxText = 256;
    private const int MaxList = 64;

    private readonly string? _path;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Org, string Id), AgentState> _agents = [];
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private bool _savePending;

    // fleet.json is written outside _gate (an fsync must not stall heartbeats): snapshots are numbered under _gate,
    // written under _writeGate, and one older than the last written is dropped (the newer one already holds its state).
    private readonly Lock _writeGate = new();
    private long _snapshotSeq;
    private long _writtenSeq;

    private FleetRegistry(string? path, int heartbeatWaitMs, TimeProvider time, Action<string> log)
    {
        _path = path;
        HeartbeatWaitMs = heartbeatWaitMs;
        _time = time;
        _log = log;
    }

    /// <summary>Longest a registration waits to be written to fleet.json, ms.</summary>
    public const int SaveDelayMs = 200;

    /// <summary>Longest a heartbeat is held open, ms; an agent is online while it was seen within 3 × this.</summary>
    public int HeartbeatWaitMs { get; }

    /// <summary>
    /// Opens the registry of a data folder (<paramref name="dataDirectory"/> null: memory only). A fleet.json that
    /// does not parse is an <see cref="OracException"/> naming the file and the byte offset: agents are never dropped
    /// silently.
    /// </summary>
    public static FleetRegistry Open(string? dataDirectory, int heartbeatWaitMs, Action<string> log, TimeProvider? time = null)
    {
        string? path = dataDirectory is null ? null : Path.Combine(dataDirectory, FileName);
        var registry = new FleetRegistry(path, heartbeatWaitMs, time ?? TimeProvider.System, log);
        if (path is not null && File.Exists(path))
        {
            registry.Load(path);
        }

        return registry;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read the fleet state: {e.Message}");
        }

        FleetFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, FleetJsonContext.Default.FleetFile);
        }
        catch (JsonException e)
        {
            long offset = JsonOffsets.ByteOffset(bytes, e.LineNumber, e.BytePositionInLine);
            throw new OracException($"{path}: corrupt fleet state at byte offset {offset}: {e.Message} (fix the file or move it away; agents then register again with default settings)");
        }

        if (file is null || file.Version != 1)
        {
            throw new OracException($"{path}: not an Orac fleet state file (version {file?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}, expected 1) at byte offset 0");
        }

        int i = 0;
        foreach (AgentEntry? e in file.Agents ?? [])
        {
            if (e?.Info is null || e.Settings is null || string.IsNullOrEmpty(e.Org) || !IsValidId(e.Info.Id))
            {
                throw new OracException($"{path}: agent entry {i} is incomplete (org, info with a valid id and settings are required) at byte offset 0; fix the file or move it away");
            }

            _agents[(e.Org, e.Info.Id)] = new AgentState(e.Org, e.Info, e.Settings, e.RegisteredMs, e.LastSeenMs);
            i++;
        }
    }

    /// <summary>Agent ids: 1–64 of [A-Za-z0-9._-], and not <c>.</c> or <c>..</c>.</summary>
    public static bool IsValidId(string? id)
    {
        if (id is null || id.Length is 0 or > 64 || id is "." or "..")
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Registers (or re-registers) an agent. Returns its registration and whether this is news worth an audit line: a
    /// new agent, or a changed host name, labels or version (a plain restart is not).
    /// </summary>
    public (AgentRegistration Registration, bool Changed, bool New) Register(string org, AgentInfo info)
    {
        Validate(info);
        var clean = new AgentInfo
        {
            Id = info.Id,
            Hostname = info.Hostname,
            Labels = new Dictionary<string, string>(info.Labels ?? [], StringComparer.Ordinal),
            Kernel = info.Kernel ?? "",
            CpuModel = info.CpuModel ?? "",
            Cpus = info.Cpus,
            MemoryBytes = info.MemoryBytes,
            Gpus = [.. info.Gpus ?? []],
            Version = info.Version ?? "",
            Capabilities = [.. info.Capabilities ?? []],
            Hz = info.Hz,
        };
        lock (_gate)
        {
            long now = NowMs;
            bool isNew = !_agents.TryGetValue((org, info.Id), out AgentState? a);
            bool changed;
            bool persist;
            if (a is null)
            {
                a = new AgentState(org, clean, InitialSettings(clean, null), now, now);
                _agents[(org, info.Id)] = a;
                changed = true;
                persist = true;
            }
            else
            {
                changed = a.Info.Hostname != clean.Hostname || a.Info.Version != clean.Version || !SameLabels(a.Info.Labels, clean.Labels);
                persist = changed || !SameInfo(a.Info, clean);
                a.Info = clean;
                if (a.Settings.Version == InitialVersion && a.Settings.Hz != InitialSettings(clean, a.Settings).Hz)
                {
                    // Nobody set this agent's rate: it runs its own --hz, which changed with this restart.
                    a.Settings = InitialSettings(clean, a.Settings);
                    persist = true;
                }
                a.LastSeenMs = now;
            }

            if (persist)
            {
                ScheduleSave();
            }

            return (new AgentRegistration { AgentId = a.Info.Id, Org = org, Settings = a.Settings, HeartbeatWaitMs = HeartbeatWaitMs }, changed, isNew);
        }
    }

    /// <summary>The settings version of an agent nobody has changed with <c>fleet set</c>.</summary>
    public const long InitialVersion = 1;

    /// <summary>Version 1 with the agent's own rate (what it runs until an operator sets one).</summary>
    private static AgentSettings InitialSettings(AgentInfo info, AgentSettings? old) => new()
    {
        Version = InitialVersion,
        Hz = info.Hz > 0 ? info.Hz : new AgentSettings().Hz,
        Paused = old?.Paused ?? false,
        Labels = old?.Labels ?? [],
    };

    private static bool SameLabels(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out string? v) && v == kv.Value);

    private static bool SameInfo(AgentInfo a, AgentInfo b) =>
        JsonSerializer.Serialize(a, FleetJsonContext.Default.AgentInfo) == JsonSerializer.Serialize(b, FleetJsonContext.Default.AgentInfo);

    private static void Validate(AgentInfo info)
    {
        if (!IsValidId(info.Id))
        {
            throw new ApiException(400, $"bad agent id '{Escape(info.Id)}': 1 to 64 of letters, digits, '.', '_' and '-' (not '.' or '..')");
        }

        CheckText("hostname", info.Hostname, required: true);
        CheckText("kernel", info.Kernel, required: false);
        CheckText("cpuModel", info.CpuModel, required: false);
        CheckText("version", info.Version, required: false);
        if (info.Hz is < 0 or > 1000)
        {
            throw new ApiException(400, $"bad hz {info.Hz}: 1 to 1000 (0: not said)");
        }

        if (info.Cpus < 0 || info.MemoryBytes < 0)
        {
            throw new ApiException(400, "cpus and memoryBytes must not be negative");
        }

        if ((info.Gpus?.Count ?? 0) > MaxList || (info.Capabilities?.Count ?? 0) > MaxList)
        {
            throw new ApiException(400, $"at most {MaxList} gpus and {MaxList} capabilities");
        }

        foreach (string? g in (info.Gpus ?? []).Concat(info.Capabilities ?? []))
        {
            CheckText("gpu or capability", g, required: true);
        }

        CheckLabels(info.Labels, allowEmptyValues: false);
    }

    /// <summary>Label names as everywhere (letters, digits, '_', '.'); values up to 1024 characters; <c>host</c> is the server's.</summary>
    public static void CheckLabels(Dictionary<string, string>? labels, bool allowEmptyValues)
    {
        if (labels is null)
        {
            return;
        }

        if (labels.Count > MaxLabels)
        {
            throw new ApiException(400, $"at most {MaxLabels} labels");
        }

        foreach (KeyValuePair<string, string> kv in labels)
        {
            if (!SeriesLabels.IsValidName(kv.Key))
            {
                throw new ApiException(400, $"bad label name '{Escape(kv.Key)}': letters, digits, '_' and '.', not starting with a digit, at most 128 characters");
            }

            if (kv.Key == "host")
            {
                throw new ApiException(400, "the label 'host' is the agent's host name; it cannot be set");
            }

            if (kv.Value is null || kv.Value.Length > 1024 || (!allowEmptyValues && kv.Value.Length == 0) || kv.Value.Any(char.IsControl))
            {
                throw new ApiException(400, $"label '{kv.Key}': the value must be 1 to 1024 characters without control characters");
            }
        }
    }

    private static void CheckText(string what, string? value, bool required)
    {
        if ((required && string.IsNullOrEmpty(value)) || (value is not null && (value.Length > MaxText || value.Any(char.IsControl))))
        {
            throw new ApiException(400, $"bad {what} '{Escape(value ?? "")}': {(required ? "1" : "0")} to {MaxText} characters without control characters");
        }
    }

    private static string Escape(string? s) => Auth.AuthStore.Escape(s ?? "");

    /// <summary>The agent, or null when <paramref name="org"/> has no agent with that id.</summary>
    public AgentState? Find(string org, string id)
    {
        lock (_gate)
        {
            return _agents.GetValueOrDefault((org, id));
        }
    }

    /// <summary>Records a heartbeat's report and marks a long poll open (pair with <see cref="EndHeartbeat"/>).</summary>
    public void BeginHeartbeat(AgentState agent, AgentHeartbeat beat)
    {
        lock (_gate)
        {
            agent.LastSeenMs = NowMs;
            agent.Last = beat;
            agent.AppliedVersion = beat.SettingsVersion;
            agent.OpenHeartbeats++;
        }
    }

    /// <summary>The long poll answered or was abandoned.</summary>
    public void EndHeartbeat(AgentState agent)
    {
        lock (_gate)
        {
            agent.LastSeenMs = NowMs;
            agent.OpenHeartbeats--;
        }
    }

    /// <summary>
    /// What the agent must be told now: new settings when its version differs from the server's, and the tasks queued
    /// for it (taken off the queue). When there is nothing, returns null and the signal to wait on; the signal is read
    /// under the same lock as the state, so a change made after this call always fires it.
    /// </summary>
    public (HeartbeatReply? Reply, Task Signal) TakeOrWait(AgentState agent, long agentVersion)
    {
        lock (_gate)
        {
            bool settings = agent.Settings.Version != agentVersion;
            if (!settings && agent.Pending.Count == 0)
            {
                return (null, agent.Signal.Task);
            }

            var reply = new HeartbeatReply { Settings = settings ? agent.Settings : null, Tasks = [.. agent.Pending] };
            agent.Pending.Clear();
            return (reply, Task.CompletedTask);
        }
    }

    /// <summary>Queues a task part for an agent and wakes its open heartbeat.</summary>
    public void Enqueue(AgentState agent, AgentTask task)
    {
        lock (_gate)
        {
            agent.Pending.Add(task);
            agent.Wake();
        }
    }

    /// <summary>Removes a task part that was never delivered (its deadline passed).</summary>
    public void Unqueue(string org, string agentId, string taskId)
    {
        lock (_gate)
        {
            if (_agents.TryGetValue((org, agentId), out AgentState? a))
            {
                a.Pending.RemoveAll(t => t.Id == taskId);
            }
        }
    }

    /// <summary>Wakes every parked heartbeat (server stopping).</summary>
    public void WakeAll()
    {
        lock (_gate)
        {
            foreach (AgentState a in _agents.Values)
            {
                a.Wake();
            }
        }
    }

    /// <summary>Whether an agent is online: a heartbeat is open now, or it was seen within 3 × the heartbeat wait.</summary>
    public bool IsOnline(AgentState agent, long nowMs) => agent.OpenHeartbeats > 0 || nowMs - agent.LastSeenMs <= 3L * HeartbeatWaitMs;

    /// <summary>All labels of an agent: its own, those set by the fleet, and <c>host</c>.</summary>
    public static Dictionary<string, string> Labels(AgentState a)
    {
        var labels = new Dictionary<string, string>(a.Info.Labels, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> kv in a.Settings.Labels)
        {
            labels[kv.Key] = kv.Value;
        }

        labels["host"] = a.Info.Hostname;
        return labels;
    }

    /// <summary>Agents of <paramref name="org"/> that <paramref name="selector"/> selects (online only when asked), by host name then id.</summary>
    public List<AgentState> Select(string org, Selector selector, bool onlineOnly)
    {
        long now = NowMs;
        lock (_gate)
        {
            var list = new List<AgentState>();
            foreach (AgentState a in _agents.Values)
            {
                if (a.Org != org || (onlineOnly && !IsOnline(a, now)))
                {
                    continue;
                }

                Dictionary<string, string> labels = Labels(a);
                if (selector.Matches(name => labels.GetValueOrDefault(name)))
                {
                    list.Add(a);
                }
            }

            list.Sort((x, y) => string.CompareOrdinal(x.Info.Hostname, y.Info.Hostname) is int c && c != 0 ? c : string.CompareOrdinal(x.Info.Id, y.Info.Id));
            return list;
        }
    }

    /// <summary>The document of one agent, as of now.</summary>
    public AgentDocument Document(AgentState a)
    {
        long now = NowMs;
        lock (_gate)
        {
            return new AgentDocument
            {
                Info = a.Info,
                Labels = Labels(a),
                Status = IsOnline(a, now) ? "online" : "offline",
                LastSeenMs = a.LastSeenMs,
                RegisteredMs = a.RegisteredMs,
                Settings = a.Settings,
                AppliedVersion = a.AppliedVersion,
                Overhead = a.Last?.Overhead ?? new AgentOverhead(),
                Spool = a.Last?.Spool ?? new SpoolStats(),
                UploadedSamples = a.Last?.UploadedSamples ?? 0,
                RunningTasks = a.Last?.RunningTasks ?? [],
            };
        }
    }

    /// <summary>
    /// Applies a settings change to every agent of <paramref name="org"/> the selector matches (online or not: an
    /// offline agent gets it when it comes back). Each changed agent's version moves and its heartbeat is woken.
    /// Returns the agents changed; empty when the selector matched none.
    /// </summary>
    public List<AgentState> Set(string org, Selector selector, FleetSetRequest change)
    {
        if (change.Hz is int hz && hz is < 1 or > 1000)
        {
            throw new ApiException(400, $"bad hz {hz}: expected 1 to 1000");
        }

        CheckLabels(change.Labels, allowEmptyValues: true);
        if (change.Hz is null && change.Paused is null && (change.Labels is null || change.Labels.Count == 0))
        {
            throw new ApiException(400, "nothing to change: give hz, paused or labels");
        }

        List<AgentState> matched = Select(org, selector, onlineOnly: false);
        (long Seq, FleetFile File)? snapshot = null;
        lock (_gate)
        {
            foreach (AgentState a in matched)
            {
                var labels = new Dictionary<string, string>(a.Settings.Labels, StringComparer.Ordinal);
                foreach (KeyValuePair<string, string> kv in change.Labels ?? [])
                {
                    if (kv.Value.Length == 0)
                    {
                        labels.Remove(kv.Key);
                    }
                    else
                    {
                        labels[kv.Key] = kv.Value;
                    }
                }

                a.Settings = new AgentSettings
                {
                    Hz = change.Hz ?? a.Settings.Hz,
                    Paused = change.Paused ?? a.Settings.Paused,
                    Labels = labels,
                    Version = a.Settings.Version + 1,
                };
                a.Wake();
            }

            if (matched.Count > 0)
            {
                snapshot = Snapshot();
            }
        }

        // Written before the answer, but outside the lock: heartbeats go on meanwhile.
        Write(snapshot);
        return matched;
    }

    /// <summary>Open heartbeats now, all orgs (tests and status).</summary>
    public int OpenHeartbeats()
    {
        lock (_gate)
        {
            return _agents.Values.Sum(a => a.OpenHeartbeats);
        }
    }

    /// <summary>
    /// Registrations are written within <see cref="SaveDelayMs"/> ms, together: a thousand agents starting at once
    /// cost a few writes, not a thousand. A registration lost to a crash in between costs nothing lasting: the agent's
    /// next heartbeat gets 404 and it registers again. Settings changes are written before they are answered.
    /// </summary>
    private void ScheduleSave()
    {
        if (_path is null || _savePending)
        {
            return;
        }

        _savePending = true;
        _ = Task.Delay(SaveDelayMs).ContinueWith(
            _ =>
            {
                try
                {
                    Flush();
                }
                catch (OracException e)
                {
                    _log(e.Message);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    /// <summary>Writes fleet.json now when a registration is waiting to be written (server stopping).</summary>
    public void Flush()
    {
        (long Seq, FleetFile File)? snapshot = null;
        lock (_gate)
        {
            // Also when a snapshot is still being written by another thread: a newer one covers it, so this returns
            // only once everything registered so far is on disk.
            if (_savePending || _snapshotSeq > Volatile.Read(ref _writtenSeq))
            {
                snapshot = Snapshot();
            }
        }

        Write(snapshot);
    }

    /// <summary>Held while fleet.json is being written (tests: a slow disk).</summary>
    internal Lock WriteGate => _writeGate;

    /// <summary>The registry as fleet.json holds it, numbered; null without a data folder. Call under <see cref="_gate"/>.</summary>
    private (long Seq, FleetFile File)? Snapshot()
    {
        _savePending = false;
        if (_path is null)
        {
            return null;
        }

        // AgentInfo and AgentSettings are replaced, never changed in place, so the entries can be serialized outside the lock.
        var file = new FleetFile
        {
            Agents = [.. _agents.Values.OrderBy(a => a.Org, StringComparer.Ordinal).ThenBy(a => a.Info.Id, StringComparer.Ordinal)
                .Select(a => new AgentEntry { Org = a.Org, Info = a.Info, Settings = a.Settings, RegisteredMs = a.RegisteredMs, LastSeenMs = a.LastSeenMs })],
        };
        return (++_snapshotSeq, file);
    }

    /// <summary>Writes a snapshot unless a newer one was written already. Call outside <see cref="_gate"/>.</summary>
    private void Write((long Seq, FleetFile File)? snapshot)
    {
        if (snapshot is not { } s)
        {
            return;
        }

        lock (_writeGate)
        {
            if (s.Seq <= _writtenSeq)
            {
                return;
            }

            AtomicFile.Write(_path!, stream => JsonSerializer.Serialize(stream, s.File, FleetJsonContext.Default.FleetFile));
            Volatile.Write(ref _writtenSeq, s.Seq);
        }
    }
}

/// <summary>One agent as the server holds it. Fields are guarded by the registry's lock.</summary>
internal sealed class AgentState(string org, AgentInfo info, AgentSettings settings, long registeredMs, long lastSeenMs)
{
    public string Org { get; } = org;

    public AgentInfo Info { get; set; } = info;

    public AgentSettings Settings { get; set; } = settings;

    public long RegisteredMs { get; } = registeredMs;

    public long LastSeenMs { get; set; } = lastSeenMs;

    public AgentHeartbeat? Last { get; set; }

    public long AppliedVersion { get; set; }

    public int OpenHeartbeats { get; set; }

    /// <summary>Task parts waiting to be handed over in a heartbeat answer.</summary>
    public List<AgentTask> Pending { get; } = [];

    /// <summary>Fired (and replaced) when settings change or a task is queued.</summary>
    public TaskCompletionSource Signal { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Wake()
    {
        TaskCompletionSource fired = Signal;
        Signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fired.TrySetResult();
    }
}

/// <summary>DATA/fleet.json.</summary>
internal sealed class FleetFile
{
    public int Version { get; set; } = 1;

    public List<AgentEntry> Agents { get; set; } = [];
}

/// <summary>One agent in fleet.json.</summary>
internal sealed class AgentEntry
{
    public string Org { get; set; } = "";

    public AgentInfo? Info { get; set; }

    public AgentSettings? Settings { get; set; }

    public long RegisteredMs { get; set; }

    public long LastSeenMs { get; set; }
}

/// <summary>fleet.json is the server's own file, not a wire document, so it has its own small context.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(FleetFile))]
[JsonSerializable(typeof(AgentInfo))]
internal sealed partial class FleetJsonContext : JsonSerializerContext
{
}
