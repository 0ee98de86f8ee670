using System.Globalization;

namespace Orac.Collect.Check;

/// <summary>The thresholds of the USE flags (documented in docs/check.md).</summary>
internal static class Thresholds
{
    /// <summary>All CPUs busy above this, percent: CPU utilization problem.</summary>
    public const double CpuUtilPercent = 90;

    /// <summary>One CPU busy above <see cref="CpuUtilPercent"/> while the mean is below this, percent: imbalance (a single hot thread or IRQ).</summary>
    public const double ImbalanceMeanPercent = 50;

    /// <summary>Run queue above this many times the CPU count: CPU saturation.</summary>
    public const double RunQueuePerCpu = 2;

    /// <summary>Steal above this, percent: the hypervisor is taking the CPUs.</summary>
    public const double StealPercent = 10;

    /// <summary>PSI "some" over the window (or avg10) above this, percent: saturation of that resource.</summary>
    public const double PressurePercent = 10;

    /// <summary>MemAvailable below this share of MemTotal, percent.</summary>
    public const double MemoryAvailablePercent = 10;

    /// <summary>Disk busy above this, percent.</summary>
    public const double DiskUtilPercent = 80;

    /// <summary>Mean I/O time above this, ms.</summary>
    public const double DiskAwaitMs = 50;

    /// <summary>NIC busier direction above this share of link speed, percent.</summary>
    public const double NetUtilPercent = 80;

    /// <summary>TCP retransmitted segments above this share of sent segments, percent.</summary>
    public const double RetransmitPercent = 1;

    /// <summary>File handles in use above this share of fs.file-max, percent.</summary>
    public const double FileHandlesPercent = 80;

    /// <summary>Kernel messages counted over this lookback, seconds.</summary>
    public const double KernelLookbackSeconds = 3600;

    /// <summary>USER_HZ: the tick of /proc/stat and /proc/PID/stat times, 100 on every Linux architecture.</summary>
    public const double UserHz = 100;
}

/// <summary>
/// Turns two snapshots (or one, since boot) into a <see cref="CheckReport"/>: rates over the window,
/// percentages, the USE table and the flagged problems. A counter that went backwards between the
/// snapshots (a reset, a wrap, a device replaced) gives no figure and a note, never a negative rate.
/// </summary>
internal sealed partial class CheckAnalyzer
{
    private readonly CheckReport _r = new();
    private readonly Snapshot? _t0;
    private readonly Snapshot _t1;
    private readonly double _seconds;

    private CheckAnalyzer(Snapshot? t0, Snapshot t1, double seconds)
    {
        _t0 = t0;
        _t1 = t1;
        _seconds = seconds;
    }

    /// <summary>How many processes each top list shows.</summary>
    public const int TopProcesses = 5;

    /// <summary>
    /// Compares <paramref name="t0"/> and <paramref name="t1"/> taken <paramref name="seconds"/> apart;
    /// with <paramref name="t0"/> null every counter is taken from zero at boot and
    /// <paramref name="seconds"/> should be the uptime.
    /// </summary>
    public static CheckReport Compare(Snapshot? t0, Snapshot t1, double seconds, (List<KmsgRecord>? Records, int Skipped, string? Unreadable) kmsg)
    {
        if (!(seconds > 0) || !double.IsFinite(seconds))
        {
            throw new Orac.Model.OracException($"check: the window must be a positive number of seconds, got {seconds}");
        }

        var a = new CheckAnalyzer(t0, t1, seconds);
        a.Run(kmsg);
        return a._r;
    }

    private void Run((List<KmsgRecord>? Records, int Skipped, string? Unreadable) kmsg)
    {
        _r.Mode = _t0 is null ? "since-boot" : "window";
        _r.WindowSeconds = R(_seconds);
        foreach (string p in _t1.Partial)
        {
            _r.PartialReasons.Add(p);
        }

        if (_t0 is not null)
        {
            foreach (string p in _t0.Partial)
            {
                if (!_r.PartialReasons.Contains(p))
                {
                    _r.PartialReasons.Add(p);
                }
            }
        }

        Cpu();
        Memory();
        Disks();
        Nets();
        Tcp();
        Files();
        Processes();
        Kernel(kmsg);
        _r.Partial = _r.PartialReasons.Count > 0;
    }

    private static double R(double v) => Math.Round(v, 2, MidpointRounding.AwayFromZero);

    private static string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);

    private string Window => _t0 is null ? "since boot" : "over the window";

    private void Flag(UseRow row, string kind, string rule, string message)
    {
        row.Flag = "PROBLEM";
        _r.Problems.Add(new Problem { Resource = row.Resource, Kind = kind, Rule = rule, Message = message });
    }

    /// <summary>Δ of a counter, or null with a note when it went backwards.</summary>
    private ulong? Delta(ulong v0, ulong v1, string what)
    {
        if (v1 < v0)
        {
            _r.Notes.Add($"{what} went backwards ({v0} -> {v1}: counter reset or wrapped); not shown");
            return null;
        }

        return v1 - v0;
    }

    private double? Rate(ulong v0, ulong v1, string what) => Delta(v0, v1, what) is ulong d ? R(d / _seconds) : null;

    private double? Rate(Dictionary<string, ulong>? d0, Dictionary<string, ulong>? d1, string key, string file)
    {
        if (d1 is null || !d1.TryGetValue(key, out ulong v1))
        {
            return null;
        }

        ulong v0 = 0;
        if (_t0 is not null && (d0 is null || !d0.TryGetValue(key, out v0)))
        {
            return null;
        }

        return Rate(v0, v1, $"{file} {key}");
    }
}
