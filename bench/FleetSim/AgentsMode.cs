using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model.Wire;
using Orac.Sim;

namespace Orac.Bench.FleetSim;

/// <summary>
/// <c>fleetsim agents</c>: N simulated agents (tests/Shared/Fleet, the real protocol without sampling) against a running
/// <c>orac serve</c> for a while, a fleet-wide profile task every few seconds, one settings change halfway; prints the
/// heartbeat, task and settings latencies it measured (TSV, like the other modes). Issue #5.
/// </summary>
internal static class AgentsMode
{
    private static readonly OracJsonContext s_json = OracJsonContext.Default;

    private sealed class Outcome
    {
        public int Created;
        public int Done;
        public int Partial;
        public int PartsDone;
        public int PartsExpected;
        public int TotalMismatches;
        public long CompleteMaxMs;
        public readonly ConcurrentBag<double> Delivery = [];
    }

    public static async Task<int> Run(HttpClient control, Options o)
    {
        using HttpClient http = SimFleet.CreateHttpClient(new Uri(o.Server), o.Agents);
        await using var fleet = new SimFleet(http, o.Token, o.Agents, new SimAgentOptions { ContinuousUploads = o.Uploads });
        var clock = Stopwatch.StartNew();
        await fleet.StartAsync(parallel: 32);
        double registerS = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fleetsim: {o.Agents} agents registered in {registerS:0.0} s"));

        var outcome = new Outcome();
        var watchers = new List<Task>();
        long rssMaxKb = 0;
        double maxAge = 0;
        int onlineMin = int.MaxValue;
        double settingsApplyMs = -1;
        var run = Stopwatch.StartNew();
        long nextTask = 2000;
        long nextLook = 0;
        bool settingsDone = false;
        while (run.ElapsedMilliseconds < o.DurationSeconds * 1000L)
        {
            if (o.TaskEverySeconds > 0 && run.ElapsedMilliseconds >= nextTask)
            {
                nextTask += o.TaskEverySeconds * 1000L;
                TaskDocument? t = await CreateTask(control, o);
                if (t is not null)
                {
                    outcome.Created++;
                    watchers.Add(Watch(control, fleet, t, o, outcome));
                }
            }

            if (!settingsDone && run.ElapsedMilliseconds >= o.DurationSeconds * 500L)
            {
                settingsDone = true;
                settingsApplyMs = await ChangeSettings(control, o.Agents);
            }

            if (run.ElapsedMilliseconds >= nextLook)
            {
                nextLook += 5000;
                (int online, double age) = await Look(control);
                onlineMin = Math.Min(onlineMin, online);
                maxAge = Math.Max(maxAge, age);
                rssMaxKb = Math.Max(rssMaxKb, Rss(o.Pid, "VmRSS:"));
            }

            await Task.Delay(100);
        }

        await Task.WhenAll(watchers);
        await fleet.StopAsync();

        SimStats s = fleet.Stats;
        double[] late = s.HeartbeatLateMs();
        double[] delivery = [.. outcome.Delivery.Order()];
        Program.Emit("agents", o.Agents, "count");
        Program.Emit("register_s", registerS, "s (all agents, 32 at a time)");
        Program.Emit("online_min", onlineMin == int.MaxValue ? 0 : onlineMin, "count (fewest online seen in GET /api/v1/agents, every 5 s)");
        Program.Emit("lastseen_max_age_ms", maxAge, "ms (oldest lastSeen seen)");
        Program.Emit("heartbeats", s.Heartbeats, "count (answered)");
        Program.Emit("heartbeat_errors", s.HeartbeatErrors, "count");
        double[] early = s.EarlyMs();
        Program.Emit("heartbeat_early", s.EarlyAnswers, "count (empty answers more than 50 ms before the hold ended)");
        Program.Emit("heartbeat_early_max_ms", early.Length == 0 ? 0 : early[^1], "ms (how early the earliest came)");
        Program.Emit("reregistrations", s.Reregistrations, "count");
        // Only empty answers after a full hold measure lateness; a task or settings change ends the hold early on purpose.
        Program.Emit("heartbeats_held", late.Length, "count (empty answers after a full 20 s hold)");
        Program.Emit("heartbeat_late_p50_ms", late.Length == 0 ? -1 : SimStats.Percentile(late, 0.50), "ms (answer after the 20 s hold; -1: no full hold, tasks came faster)");
        Program.Emit("heartbeat_late_p99_ms", late.Length == 0 ? -1 : SimStats.Percentile(late, 0.99), "ms");
        Program.Emit("heartbeat_late_max_ms", late.Length == 0 ? -1 : late[^1], "ms");
        Program.Emit("tasks_created", outcome.Created, "count");
        Program.Emit("tasks_done", outcome.Done, "count");
        Program.Emit("tasks_partial", outcome.Partial, "count");
        Program.Emit("tasks_not_done", outcome.Created - outcome.Done, "count");
        Program.Emit("task_parts_done", outcome.PartsDone, "count");
        Program.Emit("task_parts_expected", outcome.PartsExpected, "count");
        Program.Emit("task_total_mismatches", outcome.TotalMismatches, "count (merged total != sum sent)");
        Program.Emit("task_complete_max_ms", outcome.CompleteMaxMs, string.Create(CultureInfo.InvariantCulture, $"ms (creation to last result; duration {o.TaskDurationMs} ms, deadline {o.TaskDeadlineMs} ms)"));
        Program.Emit("task_delivery_p50_ms", SimStats.Percentile(delivery, 0.50), "ms (creation to agent has it)");
        Program.Emit("task_delivery_p99_ms", SimStats.Percentile(delivery, 0.99), "ms");
        Program.Emit("task_delivery_max_ms", delivery.Length == 0 ? 0 : delivery[^1], "ms");
        Program.Emit("result_errors", s.ResultErrors, "count");
        Program.Emit("settings_apply_ms", settingsApplyMs, "ms (POST to every agent's applied version shown by the server; -1 not reached)");
        if (o.Uploads)
        {
            Program.Emit("uploads", s.Uploads, "count");
            Program.Emit("upload_errors", s.UploadErrors, "count");
        }

        if (o.Pid > 0)
        {
            Program.Emit("server_rss_end_mb", Rss(o.Pid, "VmRSS:") / 1024.0, "MB (VmRSS after the run)");
            Program.Emit("server_rss_peak_mb", Math.Max(rssMaxKb, Rss(o.Pid, "VmHWM:")) / 1024.0, "MB (VmHWM, or the largest VmRSS seen every 5 s when the kernel's HWM lags)");
        }

        foreach (string e in s.Errors)
        {
            Console.Error.WriteLine("fleetsim: " + e);
        }

        return s.HeartbeatErrors == 0 && outcome.Done == outcome.Created ? 0 : 1;
    }

    private static async Task<TaskDocument?> CreateTask(HttpClient control, Options o)
    {
        var request = new TaskRequest { Kind = TaskKinds.Profile, Selector = "sim", DurationMs = o.TaskDurationMs, DeadlineMs = o.TaskDeadlineMs };
        using var content = new StringContent(JsonSerializer.Serialize(request, s_json.TaskRequest), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using HttpResponseMessage r = await control.PostAsync("/api/v1/tasks", content);
        string body = await r.Content.ReadAsStringAsync();
        if ((int)r.StatusCode != 201)
        {
            Console.Error.WriteLine($"fleetsim: POST /api/v1/tasks answered {(int)r.StatusCode}: {body}");
            return null;
        }

        return JsonSerializer.Deserialize(body, s_json.TaskDocument);
    }

    /// <summary>Waits for the task to finish and checks its state, parts and merged total against what the agents sent.</summary>
    private static async Task Watch(HttpClient control, SimFleet fleet, TaskDocument created, Options o, Outcome outcome)
    {
        using HttpResponseMessage r = await control.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/api/v1/tasks/{created.Id}?wait={o.TaskDeadlineMs + 5000}"));
        string body = await r.Content.ReadAsStringAsync();
        TaskDocument? t = r.IsSuccessStatusCode ? JsonSerializer.Deserialize(body, s_json.TaskDocument) : null;
        if (t is null)
        {
            Console.Error.WriteLine($"fleetsim: task {created.Id}: {(int)r.StatusCode} {body}");
            return;
        }

        foreach (double d in fleet.Stats.DeliveryMs(t.Id, t.CreatedMs))
        {
            outcome.Delivery.Add(d);
        }

        // The server may release the wait before the last agents have read its answer to their result.
        int partsDone = t.Parts.Count(p => p.State == PartStates.Done);
        TaskSent sent = fleet.Stats.Sent(t.Id);
        for (var grace = Stopwatch.StartNew(); sent.Results < partsDone && grace.ElapsedMilliseconds < 2000; sent = fleet.Stats.Sent(t.Id))
        {
            await Task.Delay(20);
        }

        long total = -1;
        using (HttpResponseMessage top = await control.GetAsync($"/api/v1/tasks/{t.Id}/top?limit=1"))
        {
            if (top.IsSuccessStatusCode)
            {
                total = JsonSerializer.Deserialize(await top.Content.ReadAsStringAsync(), s_json.TopReport)?.ProfileTotal ?? -1;
            }
        }

        long complete = t.Parts.Count > 0 && t.Parts.All(p => p.FinishedMs is not null) ? t.Parts.Max(p => p.FinishedMs!.Value) - t.CreatedMs : -1;
        lock (outcome)
        {
            outcome.Done += t.State == "done" ? 1 : 0;
            outcome.Partial += t.Partial ? 1 : 0;
            outcome.PartsDone += partsDone;
            outcome.PartsExpected += t.Parts.Count;
            outcome.TotalMismatches += total == sent.Total ? 0 : 1;
            outcome.CompleteMaxMs = Math.Max(outcome.CompleteMaxMs, complete);
        }

        if (t.State != "done" || total != sent.Total)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fleetsim: task {t.Id}: {t.State}, {partsDone}/{t.Parts.Count} parts done, merged total {total} vs {sent.Total} sent; missing: {string.Join(", ", t.Missing.Take(5))}"));
        }
    }

    /// <summary>Changes every sim agent's rate and waits until the server shows all of them applied; ms, or -1 after 10 s.</summary>
    private static async Task<double> ChangeSettings(HttpClient control, int agents)
    {
        var clock = Stopwatch.StartNew();
        var request = new FleetSetRequest { Selector = "sim", Hz = 29 };
        using var content = new StringContent(JsonSerializer.Serialize(request, s_json.FleetSetRequest), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using HttpResponseMessage r = await control.PostAsync("/api/v1/agents/settings", content);
        string body = await r.Content.ReadAsStringAsync();
        FleetSetResult? set = r.IsSuccessStatusCode ? JsonSerializer.Deserialize(body, s_json.FleetSetResult) : null;
        if (set is null)
        {
            Console.Error.WriteLine($"fleetsim: POST /api/v1/agents/settings answered {(int)r.StatusCode}: {body}");
            return -1;
        }

        var wanted = set.Agents.ToDictionary(a => a.Info.Id, a => a.Settings.Version);
        while (clock.ElapsedMilliseconds < 10_000)
        {
            FleetDocument? fleet = await Fleet(control);
            if (fleet is not null && fleet.Agents.Count(a => wanted.TryGetValue(a.Info.Id, out long v) && a.AppliedVersion >= v) >= Math.Min(agents, wanted.Count))
            {
                return clock.Elapsed.TotalMilliseconds;
            }

            await Task.Delay(50);
        }

        return -1;
    }

    private static async Task<(int Online, double MaxAgeMs)> Look(HttpClient control)
    {
        FleetDocument? fleet = await Fleet(control);
        if (fleet is null)
        {
            return (0, double.MaxValue);
        }

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int online = 0;
        double age = 0;
        foreach (AgentDocument a in fleet.Agents)
        {
            online += a.Status == "online" ? 1 : 0;
            age = Math.Max(age, now - a.LastSeenMs);
        }

        return (online, age);
    }

    private static async Task<FleetDocument?> Fleet(HttpClient control)
    {
        using HttpResponseMessage r = await control.GetAsync("/api/v1/agents?query=sim");
        string body = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"fleetsim: GET /api/v1/agents answered {(int)r.StatusCode}: {body}");
            return null;
        }

        return JsonSerializer.Deserialize(body, s_json.FleetDocument);
    }

    /// <summary>A kB field of /proc/PID/status (VmRSS:, VmHWM:), 0 when unknown.</summary>
    private static long Rss(int pid, string field)
    {
        if (pid <= 0)
        {
            return 0;
        }

        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
