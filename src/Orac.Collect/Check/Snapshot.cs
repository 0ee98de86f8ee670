using System.Diagnostics;
using Orac.Model;

namespace Orac.Collect.Check;

/// <summary>One process as seen in a snapshot: CPU ticks so far and resident memory.</summary>
internal readonly record struct ProcessSample(PidStat Stat, ulong RssBytes);

/// <summary>
/// Everything <c>orac check</c> reads at one instant, from a root directory (<c>/</c> on a live host,
/// a fixture tree in tests). A file that cannot be read or parsed leaves its part null and adds a line
/// to <see cref="Partial"/> saying which file and why; the rest of the snapshot stands.
/// </summary>
internal sealed class Snapshot
{
    /// <summary>Seconds since boot (/proc/uptime).</summary>
    public double? Uptime { get; set; }

    /// <summary>/proc/loadavg.</summary>
    public LoadAvg? Load { get; set; }

    /// <summary>/proc/stat.</summary>
    public StatInfo? Stat { get; set; }

    /// <summary>/proc/pressure/{cpu,memory,io}, by resource name; absent entries were unreadable.</summary>
    public Dictionary<string, Pressure> Pressure { get; } = new(StringComparer.Ordinal);

    /// <summary>/proc/meminfo (kB).</summary>
    public Dictionary<string, ulong>? MemInfo { get; set; }

    /// <summary>/proc/vmstat.</summary>
    public Dictionary<string, ulong>? VmStat { get; set; }

    /// <summary>Whole disks from /proc/diskstats.</summary>
    public List<DiskCounters>? Disks { get; set; }

    /// <summary>Interfaces from /proc/net/dev.</summary>
    public List<NetCounters>? Nets { get; set; }

    /// <summary>Link speed in Mb/s by interface, where /sys/class/net/IF/speed gives one.</summary>
    public Dictionary<string, long> NetSpeedMbps { get; } = new(StringComparer.Ordinal);

    /// <summary>The Tcp: counters of /proc/net/snmp.</summary>
    public Dictionary<string, long>? Tcp { get; set; }

    /// <summary>/proc/sys/fs/file-nr.</summary>
    public FileNr? Files { get; set; }

    /// <summary>Processes by pid.</summary>
    public Dictionary<int, ProcessSample>? Processes { get; set; }

    /// <summary>Processes skipped because their files were malformed (exited ones are not counted).</summary>
    public int ProcessesSkipped { get; set; }

    /// <summary>Files that could not be read or parsed: "FILE: why".</summary>
    public List<string> Partial { get; } = [];

    /// <summary>Reads a snapshot under <paramref name="root"/> (page size for statm in bytes).</summary>
    public static Snapshot Read(string root, bool withProcesses = true, int pageSize = 4096)
    {
        var s = new Snapshot();
        string proc = Path.Combine(root, "proc");
        s.Uptime = s.Try(Path.Combine(proc, "uptime"), ProcParsers.Uptime);
        s.Load = s.Try(Path.Combine(proc, "loadavg"), ProcParsers.LoadAvg);
        s.Stat = s.TryRef(Path.Combine(proc, "stat"), ProcParsers.Stat);
        foreach (string r in (string[])["cpu", "memory", "io"])
        {
            Pressure? p = s.Try(Path.Combine(proc, "pressure", r), ProcParsers.Pressure);
            if (p is not null)
            {
                s.Pressure[r] = p.Value;
            }
        }

        s.MemInfo = s.TryRef(Path.Combine(proc, "meminfo"), ProcParsers.KeyValues);
        s.VmStat = s.TryRef(Path.Combine(proc, "vmstat"), ProcParsers.KeyValues);
        string sysBlock = Path.Combine(root, "sys", "block");
        bool haveSysBlock = Directory.Exists(sysBlock);
        s.Disks = s.TryRef(Path.Combine(proc, "diskstats"), (d, f) => ProcParsers.DiskStats(d, f, name => IsWholeDisk(name, sysBlock, haveSysBlock)));
        s.Nets = s.TryRef(Path.Combine(proc, "net", "dev"), ProcParsers.NetDev);
        if (s.Nets is not null)
        {
            foreach (NetCounters n in s.Nets)
            {
                s.ReadSpeed(Path.Combine(root, "sys", "class", "net", n.Name, "speed"), n.Name);
            }
        }

        s.Tcp = s.TryRef(Path.Combine(proc, "net", "snmp"), ProcParsers.SnmpTcp);
        s.Files = s.Try(Path.Combine(proc, "sys", "fs", "file-nr"), ProcParsers.FileNr);
        if (withProcesses)
        {
            s.ReadProcesses(proc, pageSize);
        }

        return s;
    }

    /// <summary>
    /// A whole disk is one /sys/block lists (partitions are not there), other than ram and loop
    /// devices; without /sys/block (a bare fixture) only the ram/loop rule applies.
    /// </summary>
    internal static bool IsWholeDisk(string name, string sysBlock, bool haveSysBlock)
    {
        if (name.StartsWith("ram", StringComparison.Ordinal) || name.StartsWith("loop", StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        return !haveSysBlock || Directory.Exists(Path.Combine(sysBlock, name));
    }

    private void ReadSpeed(string path, string name)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            // Virtual and down interfaces answer EINVAL or -1: no speed, so no utilization, which is not a problem to report.
            byte[] b = ProcText.ReadFile(path, 64);
            if (System.Buffers.Text.Utf8Parser.TryParse(b.AsSpan().TrimEnd("\n "u8), out long mbps, out int used) && used == b.AsSpan().TrimEnd("\n "u8).Length && mbps > 0)
            {
                NetSpeedMbps[name] = mbps;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
        }
    }

    private void ReadProcesses(string proc, int pageSize)
    {
        var map = new Dictionary<int, ProcessSample>();
        IEnumerable<string> dirs;
        try
        {
            dirs = Directory.EnumerateDirectories(proc);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Partial.Add($"{proc}: cannot list processes: {e.Message}");
            return;
        }

        foreach (string dir in dirs)
        {
            string name = Path.GetFileName(dir);
            if (name.Length == 0 || name.Length > 10 || !name.All(char.IsAsciiDigit) || map.Count >= 1_000_000)
            {
                continue;
            }

            try
            {
                PidStat st = ProcParsers.PidStat(ProcText.ReadFile(Path.Combine(dir, "stat"), 64 * 1024), Path.Combine(dir, "stat"));
                ulong pages = ProcParsers.StatmResidentPages(ProcText.ReadFile(Path.Combine(dir, "statm"), 64 * 1024), Path.Combine(dir, "statm"));
                map[st.Pid] = new ProcessSample(st, pages * (ulong)pageSize);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited between listing and reading: not a problem.
            }
            catch (OracException)
            {
                ProcessesSkipped++;
            }
        }

        Processes = map;
    }

    private T? Try<T>(string path, ProcParsers.Parser<T> parse)
        where T : struct
    {
        try
        {
            return parse(ProcText.ReadFile(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
            Partial.Add(Why(path, e));
            return null;
        }
    }

    private T? TryRef<T>(string path, ProcParsers.Parser<T> parse)
        where T : class
    {
        try
        {
            return parse(ProcText.ReadFile(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
            Partial.Add(Why(path, e));
            return null;
        }
    }

    private static string Why(string path, Exception e) => e switch
    {
        OracException => e.Message,
        FileNotFoundException or DirectoryNotFoundException => $"{path}: not present",
        UnauthorizedAccessException => $"{path}: permission denied",
        _ => $"{path}: cannot read: {e.Message}",
    };

    /// <summary>Reads kernel log records: /dev/kmsg without blocking on a live root, or the fixture file under another root.</summary>
    public static (List<KmsgRecord>? Records, int Skipped, string? Unreadable) ReadKmsg(string root)
    {
        string path = Path.Combine(root, "dev", "kmsg");
        try
        {
            byte[] bytes = Path.GetFullPath(root) == "/" ? Kmsg.ReadAll(path) : ProcText.ReadFile(path);
            List<KmsgRecord> records = ProcParsers.Kmsg(bytes, out int skipped);
            return (records, skipped, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
            return (null, 0, Why(path, e));
        }
    }

    /// <summary>Elapsed-time helper so the window is measured, not assumed.</summary>
    public static double Seconds(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
}
