using System.Text.Json;

namespace Orac.Model.Wire;

// The fleet protocol's documents (docs/fleet.md): agent ⇄ server, and CLI/UI ⇄ server.
// Times are Unix milliseconds; durations milliseconds; every figure names its unit.

/// <summary>What an agent says about its host when it registers (<c>POST /api/v1/agents/register</c>).</summary>
public sealed class AgentInfo
{
    /// <summary>Stable agent id (generated once, kept in the agent's state folder): 1–64 of [A-Za-z0-9._-].</summary>
    public required string Id { get; init; }

    /// <summary>The host's name (becomes the label <c>host</c>).</summary>
    public required string Hostname { get; init; }

    /// <summary>Labels given with <c>--label k=v</c> (the server adds <c>host</c>).</summary>
    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>Kernel release (<c>uname -r</c>).</summary>
    public string Kernel { get; init; } = "";

    /// <summary>CPU model name from /proc/cpuinfo.</summary>
    public string CpuModel { get; init; } = "";

    /// <summary>Online CPUs.</summary>
    public int Cpus { get; init; }

    /// <summary>Physical memory, bytes.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>GPU names, empty when none were found.</summary>
    public List<string> Gpus { get; init; } = [];

    /// <summary>Orac version of the agent.</summary>
    public string Version { get; init; } = "";

    /// <summary>What this host can do: <c>sample</c> (perf_event CPU sampling), <c>pmc</c> (hardware counters), <c>bpftrace</c>, <c>check</c>, <c>gpu</c>.</summary>
    public List<string> Capabilities { get; init; } = [];

    /// <summary>
    /// The agent's own continuous profiling rate (<c>--hz</c>), Hz: the rate it runs until an operator sets one, so the
    /// server's initial settings (version 1) carry it and <c>fleet ls</c> shows what really runs. 0: not said (19 Hz).
    /// </summary>
    public int Hz { get; init; }
}

/// <summary>What the server wants an agent to collect. Applied by the agent within one heartbeat.</summary>
public sealed class AgentSettings
{
    /// <summary>Continuous profiling rate, Hz (1–1000).</summary>
    public int Hz { get; init; } = 19;

    /// <summary>True: continuous profiling paused (tasks still run).</summary>
    public bool Paused { get; init; }

    /// <summary>Labels added by <c>orac fleet set --label</c>, on top of the agent's own; they go on every upload.</summary>
    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>Increases with every change; the agent echoes the version it applied in its heartbeat.</summary>
    public long Version { get; init; }
}

/// <summary>Answer to register: the agent's settings and how often to heartbeat.</summary>
public sealed class AgentRegistration
{
    /// <summary>The agent id as registered.</summary>
    public required string AgentId { get; init; }

    /// <summary>The org the agent's token belongs to.</summary>
    public required string Org { get; init; }

    /// <summary>Current settings.</summary>
    public required AgentSettings Settings { get; init; }

    /// <summary>The longest the server holds a heartbeat open (long poll), ms; the agent's read timeout must exceed it.</summary>
    public required int HeartbeatWaitMs { get; init; }
}

/// <summary>The agent's own cost, measured by the agent from /proc/self.</summary>
public sealed class AgentOverhead
{
    /// <summary>CPU used by the agent process over the last interval, percent of one core (measured).</summary>
    public double CpuPercent { get; init; }

    /// <summary>Resident set size, bytes (measured).</summary>
    public long RssBytes { get; init; }
}

/// <summary>The agent's upload spool (uploads waiting for the server).</summary>
public sealed class SpoolStats
{
    /// <summary>Uploads waiting on disk.</summary>
    public long Files { get; init; }

    /// <summary>Bytes waiting on disk.</summary>
    public long Bytes { get; init; }

    /// <summary>Uploads dropped (oldest first) because the spool was full, since the agent started.</summary>
    public long DroppedUploads { get; init; }

    /// <summary>Samples in those dropped uploads.</summary>
    public long DroppedSamples { get; init; }
}

/// <summary>A heartbeat (<c>POST /api/v1/agents/{id}/heartbeat?wait=MS</c>): the agent's state.</summary>
public sealed class AgentHeartbeat
{
    /// <summary>The settings version the agent runs with.</summary>
    public long SettingsVersion { get; init; }

    /// <summary>The agent's own CPU and memory.</summary>
    public AgentOverhead Overhead { get; init; } = new();

    /// <summary>The upload spool.</summary>
    public SpoolStats Spool { get; init; } = new();

    /// <summary>Continuous-profiling samples uploaded and acknowledged since the agent started.</summary>
    public long UploadedSamples { get; init; }

    /// <summary>Ids of tasks the agent is working on now.</summary>
    public List<string> RunningTasks { get; init; } = [];
}

/// <summary>Answer to a heartbeat: new settings (when the version moved) and tasks to run.</summary>
public sealed class HeartbeatReply
{
    /// <summary>New settings, or null when the agent's version is current.</summary>
    public AgentSettings? Settings { get; init; }

    /// <summary>Tasks for this agent that it has not been given yet.</summary>
    public List<AgentTask> Tasks { get; init; } = [];
}

/// <summary>The task kinds of the fixed catalogue. Agents refuse anything else.</summary>
public static class TaskKinds
{
    /// <summary>CPU profile of the whole host at <see cref="AgentTask.Hz"/> for <see cref="AgentTask.DurationMs"/>.</summary>
    public const string Profile = "profile";

    /// <summary>The 60-second host check (USE method), window <see cref="AgentTask.DurationMs"/>.</summary>
    public const string Check = "check";

    /// <summary>Hardware/software counters system-wide for <see cref="AgentTask.DurationMs"/>.</summary>
    public const string Pmc = "pmc";

    /// <summary>A bpftrace catalogue tool (<see cref="AgentTask.Tool"/>) for <see cref="AgentTask.DurationMs"/>.</summary>
    public const string Trace = "trace";

    /// <summary>All kinds.</summary>
    public static IReadOnlyList<string> All { get; } = [Profile, Check, Pmc, Trace];
}

/// <summary>One host's part of a task, as the agent receives it.</summary>
public sealed class AgentTask
{
    /// <summary>Task id.</summary>
    public required string Id { get; init; }

    /// <summary>One of <see cref="TaskKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>How long to collect, ms.</summary>
    public required long DurationMs { get; init; }

    /// <summary>Sampling rate for <c>profile</c>, Hz.</summary>
    public int Hz { get; init; }

    /// <summary>Catalogue tool name for <c>trace</c>.</summary>
    public string? Tool { get; init; }

    /// <summary>Counter names for <c>pmc</c> (empty: the default set).</summary>
    public List<string> Events { get; init; } = [];

    /// <summary>When the server stops waiting, Unix ms. A result after it is kept but the task is partial.</summary>
    public required long DeadlineMs { get; init; }
}

/// <summary>Part states, in order of progress.</summary>
public static class PartStates
{
    /// <summary>Waiting for the agent to pick it up.</summary>
    public const string Queued = "queued";

    /// <summary>The agent has it.</summary>
    public const string Running = "running";

    /// <summary>Result received before the deadline.</summary>
    public const string Done = "done";

    /// <summary>The agent reported a failure (<see cref="TaskPart.Reason"/> says why).</summary>
    public const string Failed = "failed";

    /// <summary>No result by the deadline (a result arriving later is kept; <see cref="TaskPart.Late"/>).</summary>
    public const string TimedOut = "timed_out";
}

/// <summary>A research request (<c>POST /api/v1/tasks</c>).</summary>
public sealed class TaskRequest
{
    /// <summary>One of <see cref="TaskKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>Which agents: a selector over agent labels and <c>host</c> (empty: every agent of the org).</summary>
    public string Selector { get; init; } = "";

    /// <summary>Collection time per host, ms.</summary>
    public long DurationMs { get; init; }

    /// <summary>Sampling rate for <c>profile</c>, Hz (default 99).</summary>
    public int Hz { get; init; }

    /// <summary>Tool for <c>trace</c>.</summary>
    public string? Tool { get; init; }

    /// <summary>Counters for <c>pmc</c>.</summary>
    public List<string> Events { get; init; } = [];

    /// <summary>How long the server waits for all parts, ms from creation (default duration + 30 s).</summary>
    public long DeadlineMs { get; init; }
}

/// <summary>Answer to a task result (<c>POST /api/v1/agents/{id}/tasks/{taskId}/result</c>).</summary>
public sealed class TaskResultAck
{
    /// <summary>True when the result arrived after the task's deadline: kept and shown, but the task stays partial.</summary>
    public bool Late { get; init; }
}

/// <summary>One host's part of a task as the server reports it.</summary>
public sealed class TaskPart
{
    /// <summary>Agent id.</summary>
    public required string AgentId { get; init; }

    /// <summary>The agent's host name.</summary>
    public required string Host { get; init; }

    /// <summary>One of <see cref="PartStates"/>.</summary>
    public required string State { get; set; }

    /// <summary>Why it failed or timed out.</summary>
    public string? Reason { get; set; }

    /// <summary>When the agent took it, Unix ms.</summary>
    public long? StartedMs { get; set; }

    /// <summary>When its result (or failure) arrived, Unix ms.</summary>
    public long? FinishedMs { get; set; }

    /// <summary>True when the result arrived after the deadline (kept, task stays partial).</summary>
    public bool Late { get; set; }

    /// <summary>Size of the stored result, bytes.</summary>
    public long ResultBytes { get; set; }

    /// <summary>For profile parts: the host's total in the result's unit.</summary>
    public long? Total { get; set; }
}

/// <summary>A research task: what was asked, of which hosts, and how each part went.</summary>
public sealed class TaskDocument
{
    /// <summary>Task id.</summary>
    public required string Id { get; init; }

    /// <summary>Owning org.</summary>
    public required string Org { get; init; }

    /// <summary>One of <see cref="TaskKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The agent selector as given.</summary>
    public required string Selector { get; init; }

    /// <summary>Collection time per host, ms.</summary>
    public required long DurationMs { get; init; }

    /// <summary>Profile rate, Hz (profile tasks).</summary>
    public int Hz { get; init; }

    /// <summary>Tool (trace tasks).</summary>
    public string? Tool { get; init; }

    /// <summary>Counters (pmc tasks).</summary>
    public List<string> Events { get; init; } = [];

    /// <summary>Name of the token that created it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>Creation time, Unix ms.</summary>
    public required long CreatedMs { get; init; }

    /// <summary>Deadline, Unix ms.</summary>
    public required long DeadlineMs { get; init; }

    /// <summary><c>running</c> until every part is done/failed or the deadline passed; then <c>done</c> (all parts done) or <c>partial</c>.</summary>
    public required string State { get; set; }

    /// <summary>True when the answer lacks some hosts' results (failed, timed out, or late).</summary>
    public bool Partial { get; set; }

    /// <summary>Hosts whose results are missing from the answer, with the reason, e.g. <c>web-2 (timed out)</c>.</summary>
    public List<string> Missing { get; set; } = [];

    /// <summary>One part per matched agent.</summary>
    public required List<TaskPart> Parts { get; init; }
}

/// <summary><c>GET /api/v1/tasks</c>: newest first.</summary>
public sealed class TaskListDocument
{
    /// <summary>The tasks.</summary>
    public required List<TaskDocument> Tasks { get; init; }
}

/// <summary>How one host of a profile task compares with the rest (<c>GET /api/v1/tasks/{id}/hosts</c>).</summary>
public sealed class HostDivergence
{
    /// <summary>Host name.</summary>
    public required string Host { get; init; }

    /// <summary>The host's total, in <see cref="HostsDocument.Unit"/>.</summary>
    public required long Total { get; init; }

    /// <summary>Half the L1 distance between this host's and the other hosts' function shares (self time), 0–100 percentage points. Higher = more different.</summary>
    public required double DistancePercent { get; init; }

    /// <summary>The functions whose share differs most (name, this host's self %, the rest's self %), up to 3.</summary>
    public required List<FunctionShare> Differs { get; init; }
}

/// <summary>A function's self share on one host and on the rest.</summary>
public sealed class FunctionShare
{
    /// <summary>Function (frame) name.</summary>
    public required string Name { get; init; }

    /// <summary>Self share on the host, percent of its total.</summary>
    public required double HostPercent { get; init; }

    /// <summary>Self share on the other hosts together, percent of their total.</summary>
    public required double RestPercent { get; init; }
}

/// <summary>Per-host breakdown of a profile task, most different host first.</summary>
public sealed class HostsDocument
{
    /// <summary>Unit of totals.</summary>
    public required string Unit { get; init; }

    /// <summary>Whether the task's answer is partial.</summary>
    public required bool Partial { get; init; }

    /// <summary>Missing hosts, as in <see cref="TaskDocument.Missing"/>.</summary>
    public required List<string> Missing { get; init; }

    /// <summary>Hosts, most different first.</summary>
    public required List<HostDivergence> Hosts { get; init; }
}

/// <summary>One host's raw result of a check, pmc or trace task (<c>GET /api/v1/tasks/{id}/results</c>).</summary>
public sealed class PartResult
{
    /// <summary>Host name.</summary>
    public required string Host { get; init; }

    /// <summary>Agent id.</summary>
    public required string AgentId { get; init; }

    /// <summary>Part state.</summary>
    public required string State { get; init; }

    /// <summary>Failure reason.</summary>
    public string? Reason { get; init; }

    /// <summary>True when the result arrived after the deadline.</summary>
    public bool Late { get; init; }

    /// <summary>The agent's result document as it sent it (check: the <c>orac check --json</c> report; pmc and trace: their <c>--json</c> reports); null when none.</summary>
    public JsonElement? Result { get; init; }
}

/// <summary>All hosts' results of a task, in part order.</summary>
public sealed class ResultsDocument
{
    /// <summary>The task.</summary>
    public required TaskDocument Task { get; init; }

    /// <summary>One per part.</summary>
    public required List<PartResult> Results { get; init; }
}

/// <summary>An agent as <c>orac fleet ls</c> shows it.</summary>
public sealed class AgentDocument
{
    /// <summary>What the agent registered.</summary>
    public required AgentInfo Info { get; init; }

    /// <summary>All labels: the agent's, those set by <c>fleet set --label</c>, and <c>host</c>.</summary>
    public required Dictionary<string, string> Labels { get; init; }

    /// <summary><c>online</c> (heartbeat within 3 × the long-poll wait, or one is open now), <c>offline</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Last heartbeat or registration, Unix ms.</summary>
    public required long LastSeenMs { get; init; }

    /// <summary>First registration, Unix ms.</summary>
    public required long RegisteredMs { get; init; }

    /// <summary>Settings the server holds for it.</summary>
    public required AgentSettings Settings { get; init; }

    /// <summary>The settings version the agent last reported running (equal to <see cref="AgentSettings.Version"/> once applied).</summary>
    public long AppliedVersion { get; init; }

    /// <summary>The agent's own overhead as last reported (measured by the agent).</summary>
    public AgentOverhead Overhead { get; init; } = new();

    /// <summary>The agent's spool as last reported.</summary>
    public SpoolStats Spool { get; init; } = new();

    /// <summary>Samples uploaded since the agent started, as last reported.</summary>
    public long UploadedSamples { get; init; }

    /// <summary>Tasks it reported running.</summary>
    public List<string> RunningTasks { get; init; } = [];
}

/// <summary><c>GET /api/v1/agents</c>.</summary>
public sealed class FleetDocument
{
    /// <summary>Agents, sorted by host name then id.</summary>
    public required List<AgentDocument> Agents { get; init; }
}

/// <summary>A control change (<c>POST /api/v1/agents/settings</c>): only the fields given change.</summary>
public sealed class FleetSetRequest
{
    /// <summary>Which agents (empty: all of the org).</summary>
    public string Selector { get; init; } = "";

    /// <summary>New continuous profiling rate, Hz.</summary>
    public int? Hz { get; init; }

    /// <summary>True pauses, false resumes continuous profiling.</summary>
    public bool? Paused { get; init; }

    /// <summary>Labels to add or replace (an empty value removes the label).</summary>
    public Dictionary<string, string>? Labels { get; init; }
}

/// <summary>Answer to a control change: the agents changed.</summary>
public sealed class FleetSetResult
{
    /// <summary>Agents whose settings changed (after the change).</summary>
    public required List<AgentDocument> Agents { get; init; }
}

/// <summary>One audit record: who did what to which hosts, when.</summary>
public sealed class AuditEntry
{
    /// <summary>When, Unix ms.</summary>
    public required long TimeMs { get; init; }

    /// <summary>Org acted on.</summary>
    public required string Org { get; init; }

    /// <summary>Token name (and role) that acted.</summary>
    public required string Who { get; init; }

    /// <summary><c>task.create</c>, <c>fleet.set</c>, <c>agent.register</c>.</summary>
    public required string Action { get; init; }

    /// <summary>What exactly, one line (e.g. <c>profile 30 s at 99 Hz {service_name="api"}</c>).</summary>
    public required string Detail { get; init; }

    /// <summary>Host names affected.</summary>
    public required List<string> Hosts { get; init; }
}

/// <summary><c>GET /api/v1/audit</c>, newest first.</summary>
public sealed class AuditDocument
{
    /// <summary>The entries.</summary>
    public required List<AuditEntry> Entries { get; init; }
}
