using Orac.Model;
using static Orac.Collect.Check.ProcText;

namespace Orac.Collect.Check;

/// <summary>/proc/loadavg: 1, 5 and 15 minute load averages (runnable + uninterruptible tasks) and the runnable/total task counts.</summary>
internal readonly record struct LoadAvg(double Load1, double Load5, double Load15, long Runnable, long Tasks);

/// <summary>One CPU line of /proc/stat, in USER_HZ ticks since boot. <c>User</c> already includes guest time.</summary>
internal readonly record struct CpuTicks(ulong User, ulong Nice, ulong System, ulong Idle, ulong Iowait, ulong Irq, ulong SoftIrq, ulong Steal)
{
    /// <summary>All ticks (guest is inside user, so it is not added again).</summary>
    public ulong Total => User + Nice + System + Idle + Iowait + Irq + SoftIrq + Steal;
}

/// <summary>/proc/stat: the aggregate and per-CPU tick counters, context switches and the run queue.</summary>
internal sealed class StatInfo
{
    /// <summary>The "cpu" line.</summary>
    public CpuTicks All { get; set; }

    /// <summary>"cpuN" lines by N (offline CPUs have no line and are absent).</summary>
    public SortedDictionary<int, CpuTicks> PerCpu { get; } = [];

    /// <summary>Context switches since boot.</summary>
    public ulong Ctxt { get; set; }

    /// <summary>Runnable tasks now (procs_running), including the reader itself.</summary>
    public ulong ProcsRunning { get; set; }

    /// <summary>Tasks blocked on I/O now (procs_blocked).</summary>
    public ulong ProcsBlocked { get; set; }

    /// <summary>Forks since boot (processes).</summary>
    public ulong Forks { get; set; }
}

/// <summary>One line of a /proc/pressure file: avg10/60/300 in percent, total stall time in microseconds.</summary>
internal readonly record struct PressureLine(double Avg10, double Avg60, double Avg300, ulong TotalUs);

/// <summary>A /proc/pressure/{cpu,memory,io} file. <c>Full</c> is absent for cpu on older kernels.</summary>
internal readonly record struct Pressure(PressureLine Some, PressureLine? Full);

/// <summary>One whole disk's /proc/diskstats counters (ms, sectors of 512 bytes, completed I/Os).</summary>
internal readonly record struct DiskCounters(
    string Name, ulong Reads, ulong SectorsRead, ulong MsReading, ulong Writes, ulong SectorsWritten, ulong MsWriting,
    ulong InFlight, ulong IoTicksMs, ulong WeightedMs);

/// <summary>One interface's /proc/net/dev counters since the interface came up.</summary>
internal readonly record struct NetCounters(
    string Name, ulong RxBytes, ulong RxPackets, ulong RxErrors, ulong RxDrops, ulong TxBytes, ulong TxPackets, ulong TxErrors, ulong TxDrops);

/// <summary>/proc/sys/fs/file-nr: allocated file handles, free among them, and the maximum.</summary>
internal readonly record struct FileNr(ulong Allocated, ulong Free, ulong Max);

/// <summary>The fields Orac uses from /proc/[pid]/stat (times in USER_HZ ticks, start in ticks after boot).</summary>
internal readonly record struct PidStat(int Pid, string Comm, char State, ulong UTime, ulong STime, ulong StartTime);

/// <summary>One /dev/kmsg record: syslog priority (0 emerg .. 7 debug), microseconds after boot, the message.</summary>
internal readonly record struct KmsgRecord(int Priority, ulong Microseconds, string Message);

/// <summary>
/// One small parser per /proc file. Each takes the file's bytes and the name used in messages, and
/// throws <see cref="OracException"/> naming file and line for content it cannot read; none returns a
/// wrong number for damaged input.
/// </summary>
internal static class ProcParsers
{
    /// <summary>The shape of every parser: bytes and the file name used in messages.</summary>
    public delegate T Parser<out T>(ReadOnlySpan<byte> data, string file);

    /// <summary>Parses /proc/loadavg: <c>0.50 0.40 0.30 2/345 12345</c>.</summary>
    public static LoadAvg LoadAvg(ReadOnlySpan<byte> data, string file)
    {
        ReadOnlySpan<byte> rest = data;
        NextLine(ref rest, out ReadOnlySpan<byte> line);
        ReadOnlySpan<byte> f = line;
        double[] loads = new double[3];
        for (int i = 0; i < 3; i++)
        {
            if (!NextField(ref f, out ReadOnlySpan<byte> x))
            {
                Throw(file, 1, "too few fields", line);
            }

            loads[i] = Dbl(x, file, 1, line);
        }

        if (!NextField(ref f, out ReadOnlySpan<byte> tasks))
        {
            Throw(file, 1, "missing runnable/total", line);
        }

        int slash = tasks.IndexOf((byte)'/');
        if (slash < 0)
        {
            Throw(file, 1, "expected runnable/total", line);
        }

        long runnable = I64(tasks[..slash], file, 1, line);
        long total = I64(tasks[(slash + 1)..], file, 1, line);
        return new LoadAvg(loads[0], loads[1], loads[2], runnable, total);
    }

    /// <summary>Parses /proc/uptime: seconds since boot (first field).</summary>
    public static double Uptime(ReadOnlySpan<byte> data, string file)
    {
        ReadOnlySpan<byte> rest = data;
        NextLine(ref rest, out ReadOnlySpan<byte> line);
        ReadOnlySpan<byte> f = line;
        if (!NextField(ref f, out ReadOnlySpan<byte> x))
        {
            Throw(file, 1, "empty", line);
        }

        return Dbl(x, file, 1, line);
    }

    /// <summary>Parses /proc/stat: cpu lines, ctxt, processes, procs_running, procs_blocked.</summary>
    public static StatInfo Stat(ReadOnlySpan<byte> data, string file)
    {
        var s = new StatInfo();
        bool sawAll = false;
        ReadOnlySpan<byte> rest = data;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            ReadOnlySpan<byte> f = line;
            if (!NextField(ref f, out ReadOnlySpan<byte> key))
            {
                continue;
            }

            if (key.StartsWith("cpu"u8))
            {
                var t = new CpuTicks(
                    NextU64(ref f, file, n, line), NextU64(ref f, file, n, line), NextU64(ref f, file, n, line), NextU64(ref f, file, n, line),
                    NextU64(ref f, file, n, line), NextU64(ref f, file, n, line), NextU64(ref f, file, n, line), NextU64(ref f, file, n, line));
                if (key.Length == 3)
                {
                    s.All = t;
                    sawAll = true;
                }
                else
                {
                    ulong id = U64(key[3..], file, n, line);
                    if (id > 65535 || !s.PerCpu.TryAdd((int)id, t))
                    {
                        Throw(file, n, "bad or repeated cpu number", line);
                    }
                }
            }
            else if (key.SequenceEqual("ctxt"u8))
            {
                s.Ctxt = NextU64(ref f, file, n, line);
            }
            else if (key.SequenceEqual("processes"u8))
            {
                s.Forks = NextU64(ref f, file, n, line);
            }
            else if (key.SequenceEqual("procs_running"u8))
            {
                s.ProcsRunning = NextU64(ref f, file, n, line);
            }
            else if (key.SequenceEqual("procs_blocked"u8))
            {
                s.ProcsBlocked = NextU64(ref f, file, n, line);
            }
        }

        if (!sawAll || s.PerCpu.Count == 0)
        {
            Throw(file, n, "no cpu lines", default);
        }

        return s;
    }

    /// <summary>Parses a PSI file: <c>some avg10=.. avg60=.. avg300=.. total=..</c> and an optional <c>full</c> line.</summary>
    public static Pressure Pressure(ReadOnlySpan<byte> data, string file)
    {
        PressureLine? some = null;
        PressureLine? full = null;
        ReadOnlySpan<byte> rest = data;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            ReadOnlySpan<byte> f = line;
            if (!NextField(ref f, out ReadOnlySpan<byte> kind))
            {
                continue;
            }

            double a10 = Dbl(Value(ref f, "avg10="u8, file, n, line), file, n, line);
            double a60 = Dbl(Value(ref f, "avg60="u8, file, n, line), file, n, line);
            double a300 = Dbl(Value(ref f, "avg300="u8, file, n, line), file, n, line);
            ulong total = U64(Value(ref f, "total="u8, file, n, line), file, n, line);
            if (a10 > 100 || a60 > 100 || a300 > 100)
            {
                Throw(file, n, "pressure above 100%", line);
            }

            var p = new PressureLine(a10, a60, a300, total);
            if (kind.SequenceEqual("some"u8))
            {
                some = p;
            }
            else if (kind.SequenceEqual("full"u8))
            {
                full = p;
            }
            else
            {
                Throw(file, n, "expected 'some' or 'full'", line);
            }
        }

        if (some is null)
        {
            Throw(file, n, "no 'some' line", default);
        }

        return new Pressure(some.Value, full);
    }

    private static ReadOnlySpan<byte> Value(ref ReadOnlySpan<byte> f, ReadOnlySpan<byte> prefix, string file, int n, ReadOnlySpan<byte> line)
    {
        if (!NextField(ref f, out ReadOnlySpan<byte> x) || !x.StartsWith(prefix))
        {
            Throw(file, n, $"expected {System.Text.Encoding.ASCII.GetString(prefix)}", line);
        }

        return x[prefix.Length..];
    }

    /// <summary>
    /// Parses "key value [unit]" files: /proc/meminfo (<c>MemTotal:  123 kB</c>, values in kB) and
    /// /proc/vmstat (<c>pswpin 12</c>). Repeated keys keep the first value.
    /// </summary>
    public static Dictionary<string, ulong> KeyValues(ReadOnlySpan<byte> data, string file)
    {
        var d = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ReadOnlySpan<byte> rest = data;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            ReadOnlySpan<byte> f = line;
            if (!NextField(ref f, out ReadOnlySpan<byte> key))
            {
                continue;
            }

            if (key[^1] == (byte)':')
            {
                key = key[..^1];
            }

            ulong v = NextU64(ref f, file, n, line);
            if (NextField(ref f, out ReadOnlySpan<byte> unit) && !unit.SequenceEqual("kB"u8))
            {
                Throw(file, n, "unexpected unit", line);
            }

            d.TryAdd(Name(key), v);
        }

        return d;
    }

    /// <summary>
    /// Parses /proc/diskstats (14 or more fields a line). Keeps lines whose name <paramref name="isWholeDisk"/>
    /// accepts; partitions, ram and loop devices are left out by the caller's predicate.
    /// </summary>
    public static List<DiskCounters> DiskStats(ReadOnlySpan<byte> data, string file, Func<string, bool> isWholeDisk)
    {
        var list = new List<DiskCounters>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Span<ulong> v = stackalloc ulong[11];
        ReadOnlySpan<byte> rest = data;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            ReadOnlySpan<byte> f = line;
            if (!NextField(ref f, out _))
            {
                continue;
            }

            NextU64(ref f, file, n, line);
            if (!NextField(ref f, out ReadOnlySpan<byte> nameBytes))
            {
                Throw(file, n, "missing device name", line);
            }

            for (int i = 0; i < v.Length; i++)
            {
                v[i] = NextU64(ref f, file, n, line);
            }

            string name = Name(nameBytes);
            if (!seen.Add(name))
            {
                Throw(file, n, "device listed twice", line);
            }

            if (!isWholeDisk(name))
            {
                continue;
            }

            list.Add(new DiskCounters(name, v[0], v[2], v[3], v[4], v[6], v[7], v[8], v[9], v[10]));
        }

        return list;
    }

    /// <summary>Parses /proc/net/dev (two header lines, then <c>name: 16 counters</c>).</summary>
    public static List<NetCounters> NetDev(ReadOnlySpan<byte> data, string file)
    {
        var list = new List<NetCounters>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Span<ulong> v = stackalloc ulong[16];
        ReadOnlySpan<byte> rest = data;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            int colon = line.IndexOf((byte)':');
            if (n <= 2)
            {
                if (colon >= 0 || !line.Contains((byte)'|'))
                {
                    Throw(file, n, "expected the header line", line);
                }

                continue;
            }

            if (line.Trim(" \t"u8).IsEmpty)
            {
                continue;
            }

            if (colon < 0)
            {
                Throw(file, n, "expected 'interface:'", line);
            }

            ReadOnlySpan<byte> nameBytes = line[..colon].Trim(" \t"u8);
            ReadOnlySpan<byte> f = line[(colon + 1)..];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = NextU64(ref f, file, n, line);
            }

            string name = Name(nameBytes);
            if (name.Length == 0 || !seen.Add(name))
            {
                Throw(file, n, "empty or repeated interface name", line);
            }

            list.Add(new NetCounters(name, v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]));
        }

        return list;
    }

    /// <summary>Parses the <c>Tcp:</c> header/value line pair of /proc/net/snmp into name → value.</summary>
    public static Dictionary<string, long> SnmpTcp(ReadOnlySpan<byte> data, string file)
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        ReadOnlySpan<byte> rest = data;
        byte[] header = [];
        int headerLine = 0;
        int n = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            n++;
            if (!line.StartsWith("Tcp:"u8))
            {
                continue;
            }

            if (headerLine == 0)
            {
                header = line["Tcp:"u8.Length..].ToArray();
                headerLine = n;
                continue;
            }

            ReadOnlySpan<byte> values = line["Tcp:"u8.Length..];
            ReadOnlySpan<byte> names = header;
            while (NextField(ref names, out ReadOnlySpan<byte> name))
            {
                if (!NextField(ref values, out ReadOnlySpan<byte> value))
                {
                    Throw(file, n, "fewer values than names", line);
                }

                d.TryAdd(Name(name), I64(value, file, n, line));
            }

            if (NextField(ref values, out _))
            {
                Throw(file, n, "more values than names", line);
            }

            return d;
        }

        Throw(file, n, headerLine == 0 ? "no Tcp: lines" : "Tcp: names without values", default);
        return d;
    }

    /// <summary>Parses /proc/sys/fs/file-nr: <c>allocated free max</c>.</summary>
    public static FileNr FileNr(ReadOnlySpan<byte> data, string file)
    {
        ReadOnlySpan<byte> rest = data;
        NextLine(ref rest, out ReadOnlySpan<byte> line);
        ReadOnlySpan<byte> f = line;
        var r = new FileNr(NextU64(ref f, file, 1, line), NextU64(ref f, file, 1, line), NextU64(ref f, file, 1, line));
        if (r.Free > r.Allocated)
        {
            Throw(file, 1, "more free handles than allocated", line);
        }

        return r;
    }

    /// <summary>
    /// Parses /proc/[pid]/stat. The command sits in parentheses and may itself hold spaces and
    /// parentheses, so it ends at the last ')'.
    /// </summary>
    public static PidStat PidStat(ReadOnlySpan<byte> data, string file)
    {
        ReadOnlySpan<byte> rest = data;
        NextLine(ref rest, out ReadOnlySpan<byte> line);
        int open = line.IndexOf((byte)'(');
        int close = line.LastIndexOf((byte)')');
        if (open < 1 || close < open)
        {
            Throw(file, 1, "expected 'pid (comm) ...'", line);
        }

        ulong pid = U64(line[..open].Trim((byte)' '), file, 1, line);
        if (pid == 0 || pid > int.MaxValue)
        {
            Throw(file, 1, "bad pid", line);
        }

        string comm = Name(line[(open + 1)..close]);
        ReadOnlySpan<byte> f = line[(close + 1)..];
        if (!NextField(ref f, out ReadOnlySpan<byte> state) || state.Length != 1)
        {
            Throw(file, 1, "bad state field", line);
        }

        // Fields after the state, 1-based from field 4 (ppid): utime is field 14, stime 15, starttime 22.
        ulong utime = 0, stime = 0, start = 0;
        for (int field = 4; field <= 22; field++)
        {
            if (!NextField(ref f, out ReadOnlySpan<byte> x))
            {
                Throw(file, 1, "too few fields", line);
            }

            switch (field)
            {
                case 14: utime = U64(x, file, 1, line); break;
                case 15: stime = U64(x, file, 1, line); break;
                case 22: start = U64(x, file, 1, line); break;
                default: break;
            }
        }

        return new PidStat((int)pid, comm, (char)state[0], utime, stime, start);
    }

    /// <summary>Parses /proc/[pid]/statm and returns the resident set in pages (second field).</summary>
    public static ulong StatmResidentPages(ReadOnlySpan<byte> data, string file)
    {
        ReadOnlySpan<byte> rest = data;
        NextLine(ref rest, out ReadOnlySpan<byte> line);
        ReadOnlySpan<byte> f = line;
        ulong size = NextU64(ref f, file, 1, line);
        ulong resident = NextU64(ref f, file, 1, line);
        if (resident > size && size != 0)
        {
            Throw(file, 1, "resident above size", line);
        }

        return resident;
    }

    /// <summary>
    /// Parses /dev/kmsg records, one a line: <c>prio,seq,usec,flags;message</c>; continuation lines
    /// (starting with a space: KEY=value) are ignored. Records that do not parse are counted in
    /// <paramref name="skipped"/>, not fatal: one damaged record must not hide the others.
    /// </summary>
    public static List<KmsgRecord> Kmsg(ReadOnlySpan<byte> data, out int skipped)
    {
        var list = new List<KmsgRecord>();
        skipped = 0;
        ReadOnlySpan<byte> rest = data;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty || line[0] == (byte)' ')
            {
                continue;
            }

            int semi = line.IndexOf((byte)';');
            if (semi < 0)
            {
                skipped++;
                continue;
            }

            ReadOnlySpan<byte> head = line[..semi];
            int c1 = head.IndexOf((byte)',');
            int c2 = c1 < 0 ? -1 : head[(c1 + 1)..].IndexOf((byte)',') + c1 + 1;
            int c3 = c2 <= c1 ? -1 : head[(c2 + 1)..].IndexOf((byte)',') + c2 + 1;
            if (c1 < 0 || c2 <= c1 || c3 <= c2
                || !System.Buffers.Text.Utf8Parser.TryParse(head[..c1], out ulong pri, out int u1) || u1 != c1
                || !System.Buffers.Text.Utf8Parser.TryParse(head[(c1 + 1)..c2], out ulong _, out int u2) || u2 != c2 - c1 - 1
                || !System.Buffers.Text.Utf8Parser.TryParse(head[(c2 + 1)..c3], out ulong usec, out int u3) || u3 != c3 - c2 - 1)
            {
                skipped++;
                continue;
            }

            list.Add(new KmsgRecord((int)(pri & 7), usec, Escape(line[(semi + 1)..], 200)));
        }

        return list;
    }
}
