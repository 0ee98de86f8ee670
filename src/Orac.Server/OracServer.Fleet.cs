using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Formats.Folded;
using Orac.Formats.Pprof;
using Orac.Formats.Svg;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Fleet;
using Orac.Server.Ingest;

namespace Orac.Server;

// The fleet control plane (docs/fleet.md): agents register and long-poll heartbeats, engineers create research tasks
// and read their merged answers, operators change agent settings and read the audit log.
public sealed partial class OracServer
{
    /// <summary>Longest <c>GET /api/v1/tasks/{id}?wait=MS</c> holds the request, ms.</summary>
    public const int MaxTaskWaitMs = 60_000;

    private void MapFleet(WebApplication app)
    {
        Route(app, "POST", "/api/v1/agents/register", Access.Ingest, RegisterAsync);
        Route(app, "POST", "/api/v1/agents/{id}/heartbeat", Access.Ingest, HeartbeatAsync);
        Route(app, "POST", "/api/v1/agents/{id}/tasks/{taskId}/result", Access.Ingest, TaskResultAsync);
        Route(app, "GET", "/api/v1/agents", Access.Read, AgentsAsync);
        Route(app, "POST", "/api/v1/agents/settings", Access.Admin, FleetSetAsync);
        Route(app, "POST", "/api/v1/tasks", Access.Read, CreateTaskAsync);
        Route(app, "GET", "/api/v1/tasks", Access.Read, TasksAsync);
        Route(app, "GET", "/api/v1/tasks/{id}", Access.Read, TaskAsync);
        Route(app, "GET", "/api/v1/tasks/{id}/top", Access.Read, TaskTopAsync);
        Route(app, "GET", "/api/v1/tasks/{id}/flame", Access.Read, TaskFlameAsync);
        Route(app, "GET", "/api/v1/tasks/{id}/hosts", Access.Read, TaskHostsAsync);
        Route(app, "GET", "/api/v1/tasks/{id}/export", Access.Read, TaskExportAsync);
        Route(app, "GET", "/api/v1/tasks/{id}/results", Access.Read, TaskResultsAsync);
        Route(app, "GET", "/api/v1/audit", Access.Admin, AuditAsync);
    }

    private static string RouteValue(HttpContext ctx, string name) => ctx.Request.RouteValues[name] as string ?? "";

    private async Task RegisterAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        AgentInfo info = await ReadJson(ctx, Json.AgentInfo).ConfigureAwait(false);
        (AgentRegistration reg, bool changed, bool isNew) = _fleet.Register(org, info);
        if (changed)
        {
            string detail = isNew ? $"new agent {info.Id} ({info.Version})" : $"agent {info.Id} changed host name, labels or version ({info.Version})";
            _audit.Append(new AuditEntry { TimeMs = NowMs(), Org = org, Who = AuditLog.Who(who!), Action = "agent.register", Detail = detail, Hosts = [info.Hostname] });
        }

        await WriteJson(ctx, reg, Json.AgentRegistration).ConfigureAwait(false);
    }

    private async Task HeartbeatAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        string id = RouteValue(ctx, "id");
        AgentHeartbeat sent = await ReadJson(ctx, Json.AgentHeartbeat).ConfigureAwait(false);

        // Fields left out (or null) are empty, not null.
        var beat = new AgentHeartbeat
        {
            SettingsVersion = sent.SettingsVersion,
            Overhead = sent.Overhead ?? new AgentOverhead(),
            Spool = sent.Spool ?? new SpoolStats(),
            UploadedSamples = sent.UploadedSamples,
            RunningTasks = sent.RunningTasks ?? [],
        };
        if (beat.RunningTasks.Count > 1000)
        {
            throw new ApiException(400, $"bad heartbeat: {beat.RunningTasks.Count} running tasks (at most 1000)");
        }
        int wait = IntParam(ctx, "wait", _fleet.HeartbeatWaitMs, 0, int.MaxValue);
        wait = Math.Min(wait, _fleet.HeartbeatWaitMs);
        AgentState agent = _fleet.Find(org, id) ?? throw new ApiException(404, $"no agent '{AuthStore.Escape(id)}' in org '{org}': register first");
        _fleet.BeginHeartbeat(agent, beat);
        HeartbeatReply? reply = null;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _app.Lifetime.ApplicationStopping);
            long until = Environment.TickCount64 + wait;
            while (true)
            {
                (reply, Task signal) = _fleet.TakeOrWait(agent, beat.SettingsVersion);
                if (reply is not null)
                {
                    break;
                }

                long left = until - Environment.TickCount64;
                if (left <= 0 || linked.IsCancellationRequested)
                {
                    break;
                }

                await signal.WaitAsync(TimeSpan.FromMilliseconds(left), linked.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                ctx.RequestAborted.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            _fleet.EndHeartbeat(agent);
        }

        reply ??= new HeartbeatReply();
        if (reply.Tasks.Count > 0)
        {
            _tasks.Started(org, id, reply.Tasks);
        }

        await WriteJson(ctx, reply, Json.HeartbeatReply).ConfigureAwait(false);
    }

    private async Task TaskResultAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        string id = RouteValue(ctx, "id");
        string taskId = RouteValue(ctx, "taskId");
        ReadOnlyMemory<byte> body = await ReadBody(ctx).ConfigureAwait(false);
        string state = IngestParser.One(ctx.Request.Query, "state") ?? "done";
        TaskEntry task = _tasks.Get(org, taskId);
        if (task.Part(id) is null)
        {
            throw new ApiException(404, $"task '{taskId}' has no part for agent '{AuthStore.Escape(id)}'");
        }

        bool late;
        if (state == "failed")
        {
            string reason = Clean(IngestParser.One(ctx.Request.Query, "reason"));
            late = _tasks.Finish(org, id, taskId, null, reason.Length == 0 ? "no reason given" : reason);
        }
        else if (state == "done")
        {
            ParsedResult parsed;
            try
            {
                parsed = await Task.Run(() => TaskResults.Parse(task.Doc.Kind, body, _options.MaxBodyBytes * 4, _options.MaxBodyBytes)).ConfigureAwait(false);
            }
            catch (OracException e)
            {
                // The agent will not send it again: the part says why it has no result.
                _ = TryFail(org, id, taskId, "result refused by the server: " + e.Message);
                throw new ApiException(400, e.Message);
            }

            late = _tasks.Finish(org, id, taskId, parsed, null);
        }
        else
        {
            throw new ApiException(400, $"bad state '{AuthStore.Escape(state)}': expected done or failed");
        }

        await WriteJson(ctx, new TaskResultAck { Late = late }, Json.TaskResultAck).ConfigureAwait(false);
    }

    private bool TryFail(string org, string id, string taskId, string reason)
    {
        try
        {
            return _tasks.Finish(org, id, taskId, null, reason);
        }
        catch (ApiException)
        {
            return false;
        }
    }

    private static string Clean(string? reason)
    {
        var sb = new StringBuilder();
        foreach (char c in reason ?? "")
        {
            if (sb.Length >= 500)
            {
                sb.Append('…');
                break;
            }

            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString().Trim();
    }

    private async Task AgentsAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        Selector selector = TaskBoard.AgentSelector(IngestParser.One(ctx.Request.Query, "query"));
        List<AgentState> agents = _fleet.Select(org, selector, onlineOnly: false);
        await WriteJson(ctx, new FleetDocument { Agents = [.. agents.Select(_fleet.Document)] }, Json.FleetDocument).ConfigureAwait(false);
    }

    private async Task FleetSetAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        FleetSetRequest req = await ReadJson(ctx, Json.FleetSetRequest).ConfigureAwait(false);
        Selector selector = TaskBoard.AgentSelector(req.Selector);
        List<AgentState> changed = _fleet.Set(org, selector, req);
        if (changed.Count == 0)
        {
            throw new ApiException(400, $"no agent of org '{org}' matches {selector}");
        }

        var what = new List<string>();
        if (req.Hz is int hz)
        {
            what.Add($"hz={hz}");
        }

        if (req.Paused is bool paused)
        {
            what.Add(paused ? "paused" : "resumed");
        }

        foreach (KeyValuePair<string, string> kv in req.Labels ?? [])
        {
            what.Add(kv.Value.Length == 0 ? $"label {kv.Key} removed" : $"label {kv.Key}={kv.Value}");
        }

        _audit.Append(new AuditEntry
        {
            TimeMs = NowMs(),
            Org = org,
            Who = AuditLog.Who(who!),
            Action = "fleet.set",
            Detail = $"{string.Join(", ", what)} {selector}",
            Hosts = [.. changed.Select(a => a.Info.Hostname)],
        });
        await WriteJson(ctx, new FleetSetResult { Agents = [.. changed.Select(_fleet.Document)] }, Json.FleetSetResult).ConfigureAwait(false);
    }

    private async Task CreateTaskAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        TaskRequest req = await ReadJson(ctx, Json.TaskRequest).ConfigureAwait(false);
        TaskDocument doc = _tasks.Create(org, who!.Name, req);
        _audit.Append(new AuditEntry
        {
            TimeMs = doc.CreatedMs,
            Org = org,
            Who = AuditLog.Who(who),
            Action = "task.create",
            Detail = $"{doc.Id}: {DescribeTask(doc)} {TaskBoard.AgentSelector(doc.Selector)}",
            Hosts = [.. doc.Parts.Select(p => p.Host)],
        });
        await WriteJson(ctx, doc, Json.TaskDocument, 201).ConfigureAwait(false);
    }

    private static string DescribeTask(TaskDocument d)
    {
        string seconds = (d.DurationMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " s";
        return d.Kind switch
        {
            TaskKinds.Profile => $"profile {seconds} at {d.Hz} Hz",
            TaskKinds.Trace => $"trace {d.Tool} {seconds}",
            TaskKinds.Pmc => $"pmc {seconds}" + (d.Events.Count > 0 ? " " + string.Join(",", d.Events) : ""),
            _ => $"{d.Kind} {seconds}",
        };
    }

    private async Task TasksAsync(HttpContext ctx, Principal? who)
    {
        string org = Orgs(ctx, who!, single: true)[0];
        int limit = IntParam(ctx, "limit", 50, 1, TaskBoard.Kept);
        await WriteJson(ctx, new TaskListDocument { Tasks = _tasks.List(org, limit) }, Json.TaskListDocument).ConfigureAwait(false);
    }

    private TaskEntry TaskOf(HttpContext ctx, Principal who) => _tasks.Get(Orgs(ctx, who, single: true)[0], RouteValue(ctx, "id"));

    private async Task TaskAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        int wait = IntParam(ctx, "wait", 0, 0, int.MaxValue);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _app.Lifetime.ApplicationStopping);
        await TaskBoard.WaitAsync(task, TimeSpan.FromMilliseconds(Math.Min(wait, MaxTaskWaitMs)), linked.Token).ConfigureAwait(false);
        ctx.RequestAborted.ThrowIfCancellationRequested();
        await WriteJson(ctx, TaskBoard.Snapshot(task), Json.TaskDocument).ConfigureAwait(false);
    }

    private static void RequireProfile(TaskEntry task, string what)
    {
        if (task.Doc.Kind != TaskKinds.Profile)
        {
            throw new ApiException(400, $"task {task.Doc.Id} is a {task.Doc.Kind} task: {what} is for profile tasks (use /results)");
        }
    }

    /// <summary>The merged profile, or one host's profile when <c>host=</c> is given.</summary>
    private Profile TaskProfile(HttpContext ctx, TaskEntry task)
    {
        string? host = IngestParser.One(ctx.Request.Query, "host");
        if (host is null)
        {
            return _tasks.Merged(task);
        }

        // One host: only its bytes are parsed.
        List<(string Host, Profile Profile)> hosts = TaskBoard.HostProfiles(task, host);
        if (hosts.Count == 0 && !task.Doc.Parts.Any(p => p.Host == host))
        {
            throw new ApiException(404, $"task {task.Doc.Id} has no host '{AuthStore.Escape(host)}'");
        }

        return TaskResults.MergeHosts(hosts);
    }

    private static string TaskSource(TaskEntry task, HttpContext ctx) =>
        $"task {task.Doc.Id}" + (IngestParser.One(ctx.Request.Query, "host") is string h ? $" host {h}" : "");

    private async Task TaskTopAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        RequireProfile(task, "top");
        int limit = IntParam(ctx, "limit", 20, 1, 100_000);
        TopReport report = await Task.Run(() => TopReport.From(TopFunctions.Compute(TaskProfile(ctx, task)), TaskSource(task, ctx), TopOrder.Self, limit)).ConfigureAwait(false);
        await WriteJson(ctx, report, Json.TopReport).ConfigureAwait(false);
    }

    private async Task TaskFlameAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        RequireProfile(task, "flame");
        int maxNodes = IntParam(ctx, "maxNodes", FlameTreeBuilder.DefaultMaxNodes, 1, FlameTreeBuilder.DefaultMaxNodes);
        TaskDocument doc = TaskBoard.Snapshot(task);
        FlameTree tree = await Task.Run(() =>
        {
            FlameTree t = FlameTreeBuilder.Build(TaskProfile(ctx, task), ProfileTypeId.ProcessCpu, doc.CreatedMs * 1_000_000, doc.DeadlineMs * 1_000_000, maxNodes);
            return new FlameTree
            {
                Type = t.Type,
                Unit = t.Unit,
                Provenance = t.Provenance,
                Partial = doc.Partial,
                From = t.From,
                Until = t.Until,
                Total = t.Total,
                Names = t.Names,
                Nodes = t.Nodes,
                Truncated = t.Truncated,
            };
        }).ConfigureAwait(false);
        await WriteJson(ctx, tree, Json.FlameTree).ConfigureAwait(false);
    }

    private async Task TaskHostsAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        RequireProfile(task, "hosts");
        TaskDocument doc = TaskBoard.Snapshot(task);
        List<HostDivergence> hosts = await Task.Run(() => _tasks.Hosts(task)).ConfigureAwait(false);
        await WriteJson(ctx, new HostsDocument { Unit = "nanoseconds", Partial = doc.Partial, Missing = doc.Missing, Hosts = hosts }, Json.HostsDocument).ConfigureAwait(false);
    }

    private async Task TaskExportAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        RequireProfile(task, "export");
        string format = IngestParser.One(ctx.Request.Query, "format") ?? "folded";
        if (format is not ("folded" or "svg" or "pprof"))
        {
            throw new ApiException(400, $"bad format '{AuthStore.Escape(format)}': expected folded, svg or pprof");
        }

        TaskDocument doc = TaskBoard.Snapshot(task);
        await WriteExport(ctx, format, $"task-{doc.Id}.pb.gz", "nanoseconds", () => (TaskProfile(ctx, task),
            $"{TaskSource(task, ctx)}: {DescribeTask(doc)}, {doc.Parts.Count(x => x.State == PartStates.Done)} of {doc.Parts.Count} hosts" + (doc.Partial ? " (partial)" : ""))).ConfigureAwait(false);
    }

    private async Task TaskResultsAsync(HttpContext ctx, Principal? who)
    {
        TaskEntry task = TaskOf(ctx, who!);
        ResultsDocument doc = await Task.Run(() => TaskBoard.Results(task)).ConfigureAwait(false);
        await WriteJson(ctx, doc, Json.ResultsDocument).ConfigureAwait(false);
    }

    private async Task AuditAsync(HttpContext ctx, Principal? who)
    {
        IReadOnlyList<string> orgs = Orgs(ctx, who!, single: false);
        int limit = IntParam(ctx, "limit", 100, 1, AuditLog.Kept);
        await WriteJson(ctx, new AuditDocument { Entries = _audit.Newest(orgs, limit) }, Json.AuditDocument).ConfigureAwait(false);
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
