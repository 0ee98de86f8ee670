using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Collect.Check;
using Orac.Collect.PerfEvents;
using Orac.Collect.Symbols;
using Orac.Collect.Trace;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>
/// Runs research tasks from the fixed catalogue (<see cref="TaskKinds"/>) with the parameters the server
/// gave, nothing else: an unknown kind fails with "not in the catalogue", a kind this host cannot do fails
/// with the reason. Each task runs on a background task, at most one per kind at once (a second one of a
/// kind that is busy fails saying so). The result goes to
/// <c>POST /api/v1/agents/{id}/tasks/{taskId}/result?state=done</c> (or <c>state=failed&amp;reason=…</c>),
/// retried until the deadline + 10 min.
/// </summary>
public sealed class TaskRunner
{
    /// <summary>Shortest task duration the catalogue allows.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(1);

    /// <summary>Longest task duration the catalogue allows.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(10);

    /// <summary>How long after the deadline a result upload is still retried.</summary>
    public static readonly TimeSpan ResultGrace = TimeSpan.FromMinutes(10);

    private readonly string _agentId;
    private readonly AgentHttp _http;
    private readonly Symbolizer _symbolizer;
    private readonly TextWriter _log;
    private readonly IReadOnlyCollection<string> _capabilities;
    private readonly ConcurrentDictionary<string, AgentTask> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _busyKinds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly CancellationToken _stop;
    private long _done;
    private long _failed;

    /// <summary>A runner posting results for agent <paramref name="agentId"/>.</summary>
    public TaskRunner(string agentId, AgentHttp http, Symbolizer symbolizer, IReadOnlyCollection<string> capabilities, TextWriter log, CancellationToken stop)
    {
        _agentId = agentId;
        _http = http;
        _symbolizer = symbolizer;
        _capabilities = capabilities;
        _log = log;
        _stop = stop;
    }

    /// <summary>Ids of tasks running now.</summary>
    public List<string> RunningIds => [.. _running.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Tasks whose result was delivered as done.</summary>
    public long Done => Interlocked.Read(ref _done);

    /// <summary>Tasks reported failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Starts <paramref name="task"/> in the background (a task id already seen is ignored).</summary>
    public void Start(AgentTask task)
    {
        if (!_seen.TryAdd(task.Id, 0))
        {
            return;
        }

        Task t = Task.Run(() => RunAsync(task));
        _tasks[t] = 0;
        _ = t.ContinueWith(done => _tasks.TryRemove(done, out _), TaskScheduler.Default);
    }

    /// <summary>Waits (up to <paramref name="wait"/>) for the running tasks to post their results after a stop.</summary>
    public async Task WaitAsync(TimeSpan wait)
    {
        Task all = Task.WhenAll(_tasks.Keys);
        await Task.WhenAny(all, Task.Delay(wait)).ConfigureAwait(false);
    }

    private async Task RunAsync(AgentTask task)
    {
        string? refusal = Refusal(task);
        if (refusal is not null)
        {
            await ReportAsync(task, null, refusal).ConfigureAwait(false);
            return;
        }

        if (!_busyKinds.TryAdd(task.Kind, task.Id))
        {
            string other = _busyKinds.TryGetValue(task.Kind, out string? o) ? o : "?";
            await ReportAsync(task, null, $"another {task.Kind} task ({other}) is running on this host").ConfigureAwait(false);
            return;
        }

        _running[task.Id] = task;
        byte[]? result = null;
        string? failure = null;
        try
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"orac agent: task {task.Id}: {Describe(task)}"));
            result = await Task.Factory.StartNew(() => Execute(task), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OracException e)
        {
            failure = e.Message;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failure = e.Message;
        }
        finally
        {
            _busyKinds.TryRemove(task.Kind, out _);
        }

        if (_stop.IsCancellationRequested && failure is null && result is null)
        {
            failure = "the agent stopped during the task";
        }

        try
        {
            await ReportAsync(task, result, failure).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(task.Id, out _);
        }
    }

    /// <summary>Why the agent will not run <paramref name="task"/>, or null when it will.</summary>
    internal string? Refusal(AgentTask task)
    {
        if (!TaskKinds.All.Contains(task.Kind))
        {
            return "not in the catalogue";
        }

        if (task.DurationMs < MinDuration.TotalMilliseconds || task.DurationMs > MaxDuration.TotalMilliseconds)
        {
            return string.Create(CultureInfo.InvariantCulture, $"duration {task.DurationMs} ms is outside the catalogue's 1 s – 10 min");
        }

        switch (task.Kind)
        {
            case TaskKinds.Profile:
                if (task.Hz is < 1 or > 1000)
                {
                    return $"hz {task.Hz} is outside the catalogue's 1–1000";
                }

                return _capabilities.Contains(AgentInfoProbe.Capabilities.Sample) ? null : "this host cannot sample CPUs (perf_event_open not permitted: run the agent as root or with CAP_PERFMON)";
            case TaskKinds.Check:
                return _capabilities.Contains(AgentInfoProbe.Capabilities.Check) ? null : "this host has no readable /proc";
            case TaskKinds.Pmc:
                foreach (string e in task.Events)
                {
                    if (!PmcReport.KnownEvents.Contains(e))
                    {
                        return $"unknown counter '{e}' (known: {string.Join(", ", PmcReport.KnownEvents)})";
                    }
                }

                return null;
            case TaskKinds.Trace:
                if (task.Tool is null || TraceCatalogue.Find(task.Tool) is null)
                {
                    return $"trace tool '{task.Tool}' is not in the catalogue ({TraceCatalogue.Names})";
                }

                if (BpftraceRunner.Resolve("bpftrace") is null)
                {
                    return BpftraceRunner.NotInstalled;
                }

                return SelfOverhead.IsRoot ? null : BpftraceRunner.NotPermitted;
            default:
                return "not in the catalogue";
        }
    }

    private static string Describe(AgentTask t) => t.Kind switch
    {
        TaskKinds.Profile => string.Create(CultureInfo.InvariantCulture, $"profile {t.DurationMs / 1000.0:0.###} s at {t.Hz} Hz"),
        TaskKinds.Trace => string.Create(CultureInfo.InvariantCulture, $"trace {t.Tool} {t.DurationMs / 1000.0:0.###} s"),
        TaskKinds.Pmc => string.Create(CultureInfo.InvariantCulture, $"pmc {t.DurationMs / 1000.0:0.###} s{(t.Events.Count > 0 ? " (" + string.Join(", ", t.Events) + ")" : "")}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{t.Kind} {t.DurationMs / 1000.0:0.###} s"),
    };

    /// <summary>Runs the task on this thread; its result body.</summary>
    private byte[] Execute(AgentTask task)
    {
        TimeSpan duration = TimeSpan.FromMilliseconds(task.DurationMs);
        return task.Kind switch
        {
            TaskKinds.Profile => Profile(duration, task.Hz),
            TaskKinds.Check => JsonSerializer.SerializeToUtf8Bytes(Check(duration), CheckJsonContext.Default.CheckReport),
            TaskKinds.Pmc => JsonSerializer.SerializeToUtf8Bytes(PmcReport.CountSystemWide(duration, task.Events.Count > 0 ? task.Events : null, _stop), PmcJsonContext.Default.PmcReport),
            TaskKinds.Trace => JsonSerializer.SerializeToUtf8Bytes(Trace(task.Tool!, duration), TraceJsonContext.Default.TraceReport),
            _ => throw new OracException("not in the catalogue"),
        };
    }

    private byte[] Profile(TimeSpan duration, int hz)
    {
        using PerfSampler sampler = PerfSampler.Open(PerfEventSpec.CpuClock, hz, null);
        var sink = new SampleProfileSink(_symbolizer);
        var watch = Stopwatch.StartNew();
        sampler.Enable();
        while (watch.Elapsed < duration && !_stop.IsCancellationRequested)
        {
            sampler.Poll((int)Math.Clamp((duration - watch.Elapsed).TotalMilliseconds, 0, 250), sink);
        }

        sampler.Stop(sink);
        long periodNs = 1_000_000_000L / hz;
        long lost = sampler.Stats.Lost;
        bool stopped = _stop.IsCancellationRequested;
        string? why = lost > 0 ? $"{lost} samples lost (ring buffer full)" : stopped ? $"the agent stopped after {watch.Elapsed.TotalSeconds:0.0} s" : null;
        ProfileDocument doc = ContinuousProfiler.ToCpuTime(ProfileJson.ToDocument(sink.Build(periodNs), $"orac agent task -F {hz}", why is not null, why), periodNs);
        return ContinuousProfiler.Gzip(doc);
    }

    private CheckReport Check(TimeSpan duration)
    {
        long start = Stopwatch.GetTimestamp();
        Snapshot t0 = Snapshot.Read("/", pageSize: Environment.SystemPageSize);
        bool stopped = _stop.WaitHandle.WaitOne(duration);
        double measured = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Snapshot t1 = Snapshot.Read("/", pageSize: Environment.SystemPageSize);
        CheckReport report = CheckAnalyzer.Compare(t0, t1, measured, Snapshot.ReadKmsg("/"));
        if (stopped)
        {
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"interrupted: the window is {measured:0.0} s instead of {duration.TotalSeconds:0.##} s"));
        }

        return report;
    }

    private TraceReport Trace(string toolName, TimeSpan duration)
    {
        TraceTool tool = TraceCatalogue.Find(toolName) ?? throw new OracException($"trace tool '{toolName}' is not in the catalogue");
        var options = new TraceRunOptions { DurationSeconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds)), Log = TextWriter.Null };
        TraceRun run = BpftraceRunner.Run(tool, options, _stop);
        return TraceRender.Build(tool, run, options).Report;
    }

    /// <summary>Posts the result (or the failure), retrying with backoff until the deadline + 10 min.</summary>
    private async Task ReportAsync(AgentTask task, byte[]? result, string? failure)
    {
        string state = failure is null ? PartStates.Done : PartStates.Failed;
        var query = new List<(string, string)> { ("state", state) };
        if (failure is not null)
        {
            query.Add(("reason", failure.Length > 500 ? failure[..500] : failure));
        }

        string path = AgentHttp.PathWithQuery(
            $"/api/v1/agents/{Uri.EscapeDataString(_agentId)}/tasks/{Uri.EscapeDataString(task.Id)}/result", query);
        DateTimeOffset giveUp = DateTimeOffset.FromUnixTimeMilliseconds(task.DeadlineMs) + ResultGrace;
        var backoff = new Backoff();
        bool stopping = false;
        while (true)
        {
            using var content = new ByteArrayContent(result ?? []);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            HttpAnswer answer = await _http.SendAsync(HttpMethod.Post, path, content, null, CancellationToken.None).ConfigureAwait(false);
            if (answer.Ok)
            {
                Interlocked.Increment(ref failure is null ? ref _done : ref _failed);
                _log.WriteLine(failure is null
                    ? string.Create(CultureInfo.InvariantCulture, $"orac agent: task {task.Id}: result sent ({result?.Length ?? 0:N0} bytes)")
                    : $"orac agent: task {task.Id}: failed: {failure}");
                return;
            }

            if (answer.Status is 400 or 404 or 409 or 413 or 415)
            {
                _log.WriteLine($"orac agent: task {task.Id}: the server refused the result ({answer.Describe()}); dropped");
                return;
            }

            // After a stop: one more try, then the server's deadline marks the part timed out.
            if (stopping || DateTimeOffset.UtcNow > giveUp)
            {
                _log.WriteLine($"orac agent: task {task.Id}: could not deliver the result ({answer.Describe()}); gave up");
                return;
            }

            stopping = _stop.IsCancellationRequested;
            try
            {
                await Task.Delay(backoff.Next(), _stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                stopping = true;
            }
        }
    }
}
