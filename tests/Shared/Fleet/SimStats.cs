using System.Globalization;

namespace Orac.Sim;

/// <summary>
/// What a fleet of <see cref="SimAgent"/>s measured, shared by all agents of one process (thread-safe). Times are
/// milliseconds, measured by the agents with the wall clock (<c>DateTime.UtcNow</c>, sub-millisecond) or a
/// <see cref="System.Diagnostics.Stopwatch"/>; the server stamps tasks with whole Unix milliseconds, so delivery
/// latencies carry ±1 ms.
/// </summary>
public sealed class SimStats
{
    private readonly Lock _gate = new();
    private readonly List<double> _heartbeatLateMs = [];
    private readonly List<double> _earlyMs = [];
    private readonly Dictionary<string, int> _heldPerAgent = [];
    private readonly Dictionary<string, List<double>> _taskReceivedMs = [];
    private readonly Dictionary<string, TaskSent> _taskSent = [];
    private readonly Dictionary<string, (long Version, double AtMs)> _settings = [];
    private readonly List<string> _errors = [];
    private long _heartbeats;
    private long _heartbeatErrors;
    private long _earlyAnswers;
    private long _reregistrations;
    private long _resultErrors;
    private long _uploads;
    private long _uploadErrors;
    private long _uploadDuplicates;

    /// <summary>
    /// How early an empty heartbeat answer may come and still count as a full hold, ms: the server times the hold with a
    /// coarse monotonic clock (Linux <c>Environment.TickCount64</c> ticks every few ms) from when it has read the request.
    /// </summary>
    public const double ClockSlackMs = 50;

    /// <summary>Heartbeats answered 2xx, held or not.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>Heartbeats that failed: network error, timeout, or a status other than 2xx and 404.</summary>
    public long HeartbeatErrors => Interlocked.Read(ref _heartbeatErrors);

    /// <summary>Empty heartbeat answers (no task, no settings) that came more than <see cref="ClockSlackMs"/> before the expected hold was over.</summary>
    public long EarlyAnswers => Interlocked.Read(ref _earlyAnswers);

    /// <summary>Times an agent registered again because its heartbeat got 404.</summary>
    public long Reregistrations => Interlocked.Read(ref _reregistrations);

    /// <summary>Task results the server did not take (network error or non-2xx).</summary>
    public long ResultErrors => Interlocked.Read(ref _resultErrors);

    /// <summary>Continuous-profiling uploads acknowledged (2xx).</summary>
    public long Uploads => Interlocked.Read(ref _uploads);

    /// <summary>Continuous-profiling uploads that failed.</summary>
    public long UploadErrors => Interlocked.Read(ref _uploadErrors);

    /// <summary>Uploads the server answered with <c>"duplicate": true</c>.</summary>
    public long UploadDuplicates => Interlocked.Read(ref _uploadDuplicates);

    /// <summary>The first few error messages (for test output and the bench log).</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_gate)
            {
                return [.. _errors];
            }
        }
    }

    internal void Error(string message)
    {
        lock (_gate)
        {
            if (_errors.Count < 10)
            {
                _errors.Add(message);
            }
        }
    }

    internal void HeartbeatFailed(string message)
    {
        Interlocked.Increment(ref _heartbeatErrors);
        Error(message);
    }

    internal void Reregistered() => Interlocked.Increment(ref _reregistrations);

    /// <summary>
    /// An empty answer: <paramref name="lateMs"/> = round trip − expected hold. Up to <see cref="ClockSlackMs"/> early
    /// counts as on time (lateness 0); earlier is an early answer, kept apart.
    /// </summary>
    internal void HeartbeatHeld(string agent, double lateMs)
    {
        Interlocked.Increment(ref _heartbeats);
        if (lateMs < -ClockSlackMs)
        {
            Interlocked.Increment(ref _earlyAnswers);
            lock (_gate)
            {
                _earlyMs.Add(-lateMs);
            }

            return;
        }

        lock (_gate)
        {
            _heartbeatLateMs.Add(Math.Max(0, lateMs));
            _heldPerAgent[agent] = _heldPerAgent.GetValueOrDefault(agent) + 1;
        }
    }

    /// <summary>An answer carrying tasks or settings (answered at once by design: not a hold).</summary>
    internal void HeartbeatAnswered() => Interlocked.Increment(ref _heartbeats);

    internal void TaskReceived(string taskId, double receivedUnixMs)
    {
        lock (_gate)
        {
            if (!_taskReceivedMs.TryGetValue(taskId, out List<double>? list))
            {
                _taskReceivedMs[taskId] = list = [];
            }

            list.Add(receivedUnixMs);
        }
    }

    internal void ResultSent(string taskId, long total, bool late)
    {
        lock (_gate)
        {
            TaskSent s = _taskSent.GetValueOrDefault(taskId);
            _taskSent[taskId] = new TaskSent(s.Results + 1, s.Total + total, s.Late + (late ? 1 : 0));
        }
    }

    internal void ResultFailed(string message)
    {
        Interlocked.Increment(ref _resultErrors);
        Error(message);
    }

    internal void SettingsApplied(string agent, long version, double receivedUnixMs)
    {
        lock (_gate)
        {
            _settings[agent] = (version, receivedUnixMs);
        }
    }

    internal void Uploaded(bool duplicate)
    {
        Interlocked.Increment(ref _uploads);
        if (duplicate)
        {
            Interlocked.Increment(ref _uploadDuplicates);
        }
    }

    internal void UploadFailed(string message)
    {
        Interlocked.Increment(ref _uploadErrors);
        Error(message);
    }

    /// <summary>Heartbeat lateness (answer time − expected hold, ms) of every held answer so far, sorted.</summary>
    public double[] HeartbeatLateMs()
    {
        lock (_gate)
        {
            double[] a = [.. _heartbeatLateMs];
            Array.Sort(a);
            return a;
        }
    }

    /// <summary>How early each early empty answer came, ms, sorted.</summary>
    public double[] EarlyMs()
    {
        lock (_gate)
        {
            double[] a = [.. _earlyMs];
            Array.Sort(a);
            return a;
        }
    }

    /// <summary>Held heartbeat answers per agent id so far.</summary>
    public Dictionary<string, int> HeldPerAgent()
    {
        lock (_gate)
        {
            return new Dictionary<string, int>(_heldPerAgent);
        }
    }

    /// <summary>Task delivery latencies, ms (agent received − <paramref name="createdUnixMs"/>), sorted; one per agent that got it.</summary>
    public double[] DeliveryMs(string taskId, long createdUnixMs)
    {
        lock (_gate)
        {
            if (!_taskReceivedMs.TryGetValue(taskId, out List<double>? list))
            {
                return [];
            }

            double[] a = [.. list.Select(t => Math.Max(0, t - createdUnixMs))];
            Array.Sort(a);
            return a;
        }
    }

    /// <summary>Results the agents posted for a task (accepted by the server), the sum of their totals (CPU ns) and how many the server called late.</summary>
    public TaskSent Sent(string taskId)
    {
        lock (_gate)
        {
            return _taskSent.GetValueOrDefault(taskId);
        }
    }

    /// <summary>Agents that applied settings version ≥ <paramref name="version"/>, with the time each got it (Unix ms).</summary>
    public double[] SettingsReceivedMs(long version)
    {
        lock (_gate)
        {
            return [.. _settings.Values.Where(s => s.Version >= version).Select(s => s.AtMs)];
        }
    }

    /// <summary>The value at fraction <paramref name="p"/> (0–1) of a sorted array (nearest rank); 0 when empty.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary><c>p50 X ms, p99 Y ms, max Z ms (n N)</c> of a sorted array.</summary>
    public static string Summary(double[] sorted) =>
        string.Create(CultureInfo.InvariantCulture,
            $"p50 {Percentile(sorted, 0.50):0.0} ms, p99 {Percentile(sorted, 0.99):0.0} ms, max {(sorted.Length == 0 ? 0 : sorted[^1]):0.0} ms (n {sorted.Length})");

    /// <summary>Current wall clock as Unix milliseconds with a fraction.</summary>
    public static double NowUnixMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;
}

/// <summary>What the agents sent for one task: results accepted, the sum of their totals (CPU ns), results the server called late.</summary>
public readonly record struct TaskSent(int Results, long Total, int Late);
