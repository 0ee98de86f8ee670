using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>
/// The agent's own cost, measured from /proc/self: CPU as a percentage of one core from the utime+stime
/// delta (clock ticks, <c>sysconf(_SC_CLK_TCK)</c>) over wall time, RSS from /proc/self/statm × page size.
/// The CPU figure covers at least <see cref="MinWindow"/>; a shorter interval reports the previous figure.
/// </summary>
public sealed partial class SelfOverhead
{
    /// <summary>Shortest window a CPU figure is computed over (heartbeats may come milliseconds apart).</summary>
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(5);

    private readonly long _ticksPerSecond;
    private long _lastTicks;
    private long _lastTimestamp;
    private double _cpuPercent;

    /// <summary>Starts measuring now.</summary>
    public SelfOverhead()
    {
        long hz = SysConf(ScClkTck);
        _ticksPerSecond = hz > 0 ? hz : 100;
        _lastTicks = CpuTicks() ?? 0;
        _lastTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>CPU % of one core since the last window closed, and RSS now (both measured).</summary>
    public AgentOverhead Measure()
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(_lastTimestamp);
        if (elapsed >= MinWindow && CpuTicks() is long ticks)
        {
            double cpuSeconds = (double)(ticks - _lastTicks) / _ticksPerSecond;
            _cpuPercent = Math.Round(100.0 * cpuSeconds / elapsed.TotalSeconds, 3);
            _lastTicks = ticks;
            _lastTimestamp = Stopwatch.GetTimestamp();
        }

        return new AgentOverhead { CpuPercent = _cpuPercent, RssBytes = RssBytes() };
    }

    /// <summary>utime + stime of this process, clock ticks (fields 14 and 15 of /proc/self/stat), or null.</summary>
    public static long? CpuTicks()
    {
        string stat;
        try
        {
            stat = File.ReadAllText("/proc/self/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseCpuTicks(stat);
    }

    /// <summary>utime + stime from a /proc/PID/stat line (the command name may hold spaces and parentheses).</summary>
    public static long? ParseCpuTicks(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        string[] f = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // After "(comm)": state is field 3, so utime (14) and stime (15) are at 11 and 12.
        if (f.Length < 13
            || !long.TryParse(f[11], NumberStyles.None, CultureInfo.InvariantCulture, out long utime)
            || !long.TryParse(f[12], NumberStyles.None, CultureInfo.InvariantCulture, out long stime))
        {
            return null;
        }

        return utime + stime;
    }

    /// <summary>Resident set size of this process, bytes (second field of /proc/self/statm × page size), 0 when unreadable.</summary>
    public static long RssBytes()
    {
        try
        {
            string[] f = File.ReadAllText("/proc/self/statm").Split(' ');
            return f.Length > 1 && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages) ? pages * Environment.SystemPageSize : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>True when the process runs as root (effective uid 0).</summary>
    public static bool IsRoot => GetEuid() == 0;

    private const int ScClkTck = 2;

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
