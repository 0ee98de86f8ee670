using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// Reads the server's fleet and research answers (docs/fleet.md) defensively: an answer that is not JSON, lacks a
/// required field, or holds a null where a list or a name must be, is one <see cref="OracException"/> naming the
/// route and what is wrong, never a crash further down in the rendering.
/// </summary>
public static class FleetAnswers
{
    /// <summary><c>GET /api/v1/agents</c>.</summary>
    public static FleetDocument Fleet(byte[] bytes, Uri server)
    {
        FleetDocument d = Read(bytes, OracJsonContext.Default.FleetDocument, server, "the agent list");
        Agents(d.Agents, server, "the agent list");
        return d;
    }

    /// <summary><c>POST /api/v1/agents/settings</c>.</summary>
    public static FleetSetResult SetResult(byte[] bytes, Uri server)
    {
        FleetSetResult d = Read(bytes, OracJsonContext.Default.FleetSetResult, server, "the settings change");
        Agents(d.Agents, server, "the settings change");
        return d;
    }

    /// <summary>An answer's agent list: present, and every agent whole.</summary>
    private static void Agents(List<AgentDocument>? agents, Uri server, string what)
    {
        Check(agents is not null, server, what, "has no 'agents' list");
        foreach (AgentDocument a in agents)
        {
            Agent(a, server, what);
        }
    }

    /// <summary><c>GET /api/v1/audit</c>.</summary>
    public static AuditDocument Audit(byte[] bytes, Uri server)
    {
        const string What = "the audit log";
        AuditDocument d = Read(bytes, OracJsonContext.Default.AuditDocument, server, What);
        Check(d.Entries is not null, server, What, "has no 'entries' list");
        foreach (AuditEntry e in d.Entries)
        {
            Check(e is not null && e.Who is not null && e.Action is not null && e.Detail is not null && e.Org is not null
                && e.Hosts is not null && !e.Hosts.Contains(null!), server, What, "has an entry without who, action, detail or hosts");
        }

        return d;
    }

    /// <summary><c>POST /api/v1/tasks</c> and <c>GET /api/v1/tasks/{id}</c>.</summary>
    public static TaskDocument Task(byte[] bytes, Uri server)
    {
        TaskDocument d = Read(bytes, OracJsonContext.Default.TaskDocument, server, "the task");
        TaskDoc(d, server, "the task");
        return d;
    }

    /// <summary><c>GET /api/v1/tasks</c>.</summary>
    public static TaskListDocument TaskList(byte[] bytes, Uri server)
    {
        TaskListDocument d = Read(bytes, OracJsonContext.Default.TaskListDocument, server, "the task list");
        Check(d.Tasks is not null, server, "the task list", "has no 'tasks' list");
        foreach (TaskDocument t in d.Tasks)
        {
            TaskDoc(t, server, "the task list");
        }

        return d;
    }

    /// <summary><c>GET /api/v1/tasks/{id}/hosts</c>.</summary>
    public static HostsDocument Hosts(byte[] bytes, Uri server)
    {
        const string What = "the per-host breakdown";
        HostsDocument d = Read(bytes, OracJsonContext.Default.HostsDocument, server, What);
        Check(d.Unit is not null && d.Missing is not null && d.Hosts is not null && !d.Missing.Contains(null!), server, What, "lacks unit, missing or hosts");
        foreach (HostDivergence h in d.Hosts)
        {
            Check(h is not null && h.Host is not null && h.Differs is not null, server, What, "has a host without name or differing functions");
            Check(double.IsFinite(h.DistancePercent), server, What, $"gives host '{h.Host}' a distance that is not a number");
            foreach (FunctionShare f in h.Differs)
            {
                Check(f is not null && f.Name is not null && double.IsFinite(f.HostPercent) && double.IsFinite(f.RestPercent),
                    server, What, $"has a differing function of host '{h.Host}' without name or shares");
            }
        }

        return d;
    }

    /// <summary><c>GET /api/v1/tasks/{id}/results</c>.</summary>
    public static ResultsDocument Results(byte[] bytes, Uri server)
    {
        const string What = "the task results";
        ResultsDocument d = Read(bytes, OracJsonContext.Default.ResultsDocument, server, What);
        Check(d.Task is not null && d.Results is not null, server, What, "lacks task or results");
        TaskDoc(d.Task, server, What);
        foreach (PartResult r in d.Results)
        {
            Check(r is not null && r.Host is not null && r.AgentId is not null && r.State is not null, server, What, "has a result without host, agent id or state");
        }

        return d;
    }

    /// <summary><c>GET /api/v1/tasks/{id}/top</c> (and <c>/api/v1/query/top</c>).</summary>
    public static TopReport Top(byte[] bytes, Uri server)
    {
        const string What = "the top query";
        TopReport d = Read(bytes, OracJsonContext.Default.TopReport, server, What);
        Check(d.Source is not null && d.SampleType is not null && d.Unit is not null && d.OrderBy is not null && d.Functions is not null,
            server, What, "lacks source, sample type, unit, order or functions");
        foreach (TopRow r in d.Functions)
        {
            Check(r is not null && r.Name is not null && double.IsFinite(r.SelfPercent) && double.IsFinite(r.TotalPercent), server, What, "has a function without name or percentages");
        }

        return d;
    }

    private static void Agent(AgentDocument a, Uri server, string what)
    {
        Check(a is not null && a.Info is not null && a.Labels is not null && a.Status is not null && a.Settings is not null
            && a.Overhead is not null && a.Spool is not null && a.RunningTasks is not null, server, what,
            "has an agent without info, labels, status, settings, overhead or spool");
        Check(a.Info.Id is not null && a.Info.Hostname is not null && a.Info.Labels is not null && a.Info.Capabilities is not null
            && a.Info.Gpus is not null && a.Info.Kernel is not null && a.Info.CpuModel is not null && a.Info.Version is not null
            && !a.Info.Capabilities.Contains(null!), server, what, "has an agent whose info lacks id, hostname, labels or capabilities");
        Check(a.Settings.Labels is not null, server, what, $"has agent '{a.Info.Id}' with settings without labels");
        Check(double.IsFinite(a.Overhead.CpuPercent), server, what, $"has agent '{a.Info.Id}' with a CPU figure that is not a number");
        foreach (var kv in a.Labels)
        {
            Check(kv.Value is not null, server, what, $"has agent '{a.Info.Id}' with a null label value");
        }

        foreach (var kv in a.Settings.Labels)
        {
            Check(kv.Value is not null, server, what, $"has agent '{a.Info.Id}' with a null settings label value");
        }
    }

    private static void TaskDoc(TaskDocument t, Uri server, string what)
    {
        Check(t is not null && t.Id is not null && t.Org is not null && t.Kind is not null && t.Selector is not null && t.CreatedBy is not null
            && t.State is not null && t.Missing is not null && t.Parts is not null && t.Events is not null && !t.Missing.Contains(null!),
            server, what, "has a task without id, kind, selector, state, missing or parts");
        foreach (TaskPart p in t.Parts)
        {
            Check(p is not null && p.AgentId is not null && p.Host is not null && p.State is not null, server, what,
                $"has a part of task '{t.Id}' without agent id, host or state");
        }
    }

    private static T Read<T>(byte[] bytes, JsonTypeInfo<T> info, Uri server, string what)
        where T : class => ServerAnswer.Read(bytes, info, server, what, "docs/fleet.md");

    private static void Check([DoesNotReturnIf(false)] bool ok, Uri server, string what, string problem) =>
        ServerAnswer.Check(ok, server, what, problem);
}
