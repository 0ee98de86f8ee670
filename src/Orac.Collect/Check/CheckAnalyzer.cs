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
internal sealed class CheckAnalyzer
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

    private void Cpu()
    {
        var row = new UseRow { Resource = "CPU" };
        _r.Use.Add(row);
        StatInfo? s1 = _t1.Stat;
        StatInfo? s0 = _t0?.Stat;
        if (s1 is null || (_t0 is not null && s0 is null))
        {
            row.Flag = "n/a";
            row.Utilization = "n/a (/proc/stat unreadable)";
        }
        else
        {
            _r.Cpus = s1.PerCpu.Count;
            _r.CpuAll = CpuShare("all", s0?.All ?? default, s1.All);
            double min = double.MaxValue, max = double.MinValue;
            foreach (KeyValuePair<int, CpuTicks> kv in s1.PerCpu)
            {
                CpuTicks c0 = default;
                if (s0 is not null && !s0.PerCpu.TryGetValue(kv.Key, out c0))
                {
                    _r.Notes.Add($"cpu{kv.Key} came online during the window; not shown");
                    continue;
                }

                CpuFigures? f = CpuShare($"cpu{kv.Key}", c0, kv.Value);
                if (f is not null)
                {
                    _r.PerCpu.Add(f);
                    min = Math.Min(min, f.UtilizationPercent);
                    max = Math.Max(max, f.UtilizationPercent);
                }
            }

            if (_r.PerCpu.Count > 0)
            {
                _r.CpuImbalancePoints = R(max - min);
            }

            CpuFigures? all = _r.CpuAll;
            if (all is not null)
            {
                row.Utilization = $"{F(all.UtilizationPercent)}% busy (usr {F(all.UserPercent)}%, sys {F(all.SystemPercent)}%, irq {F(all.IrqPercent)}%, iowait {F(all.IowaitPercent)}%, steal {F(all.StealPercent)}%)";
                if (all.UtilizationPercent > Thresholds.CpuUtilPercent)
                {
                    Flag(row, "utilization", "cpu-util", $"CPUs {F(all.UtilizationPercent)}% busy {Window} (> {Thresholds.CpuUtilPercent}%): little headroom; see the top processes by CPU");
                }
                else if (_r.PerCpu.Count > 1 && max > Thresholds.CpuUtilPercent && all.UtilizationPercent < Thresholds.ImbalanceMeanPercent)
                {
                    Flag(row, "utilization", "cpu-imbalance", $"one CPU {F(max)}% busy while the mean is {F(all.UtilizationPercent)}%: a single hot thread or interrupt; more CPUs will not help it");
                }

                if (all.StealPercent > Thresholds.StealPercent)
                {
                    Flag(row, "saturation", "cpu-steal", $"steal {F(all.StealPercent)}% (> {Thresholds.StealPercent}%): the hypervisor is giving this guest's CPU time to others");
                }
            }
            else
            {
                row.Utilization = "n/a (counters went backwards)";
            }
        }

        var sat = new List<string>();
        if (s1 is not null)
        {
            double runq = s0 is null ? s1.ProcsRunning : (s0.ProcsRunning + s1.ProcsRunning) / 2.0;
            double blocked = s0 is null ? s1.ProcsBlocked : (s0.ProcsBlocked + s1.ProcsBlocked) / 2.0;
            _r.Load ??= new LoadFigures();
            _r.Load.RunQueueTasks = R(runq);
            _r.Load.BlockedTasks = R(blocked);
            _r.Load.ContextSwitchesPerSecond = Rate(s0?.Ctxt ?? 0, s1.Ctxt, "/proc/stat ctxt");
            _r.Load.ForksPerSecond = Rate(s0?.Forks ?? 0, s1.Forks, "/proc/stat processes");
            sat.Add($"run queue {F(runq)} tasks on {_r.Cpus} CPUs");
            if (_r.Cpus > 0 && runq > Thresholds.RunQueuePerCpu * _r.Cpus)
            {
                Flag(row, "saturation", "cpu-runqueue", $"run queue {F(runq)} tasks > {Thresholds.RunQueuePerCpu} x {_r.Cpus} CPUs: runnable threads wait for a CPU");
            }
        }

        if (_t1.Load is LoadAvg l)
        {
            _r.Load ??= new LoadFigures();
            _r.Load.Load1 = l.Load1;
            _r.Load.Load5 = l.Load5;
            _r.Load.Load15 = l.Load15;
            _r.Load.Trend = l.Load1 > 1.25 * l.Load15 && l.Load1 - l.Load15 >= 0.5 ? "rising"
                : l.Load1 < 0.8 * l.Load15 && l.Load15 - l.Load1 >= 0.5 ? "falling" : "steady";
            sat.Add($"load {l.Load1:0.00}/{l.Load5:0.00}/{l.Load15:0.00} tasks ({_r.Load.Trend})");
        }

        PressureRow(row, "cpu", sat);
        row.Saturation = sat.Count == 0 ? "n/a" : string.Join("; ", sat);
    }

    private CpuFigures? CpuShare(string name, CpuTicks t0, CpuTicks t1)
    {
        if (t1.User < t0.User || t1.Nice < t0.Nice || t1.System < t0.System || t1.Idle < t0.Idle || t1.Iowait < t0.Iowait
            || t1.Irq < t0.Irq || t1.SoftIrq < t0.SoftIrq || t1.Steal < t0.Steal)
        {
            _r.Notes.Add($"/proc/stat {name} ticks went backwards; not shown");
            return null;
        }

        // Sums in double: hostile counters near 2^64 must not wrap into a small, wrong total.
        double total = (double)(t1.User - t0.User) + (t1.Nice - t0.Nice) + (t1.System - t0.System) + (t1.Idle - t0.Idle)
            + (t1.Iowait - t0.Iowait) + (t1.Irq - t0.Irq) + (t1.SoftIrq - t0.SoftIrq) + (t1.Steal - t0.Steal);
        if (total <= 0)
        {
            _r.Notes.Add($"/proc/stat {name}: no ticks in the window; not shown");
            return null;
        }

        double P(ulong a, ulong b) => R(100.0 * (b - a) / total);
        double idle = P(t0.Idle, t1.Idle);
        double iowait = P(t0.Iowait, t1.Iowait);
        return new CpuFigures
        {
            Cpu = name,
            UserPercent = R(100.0 * ((double)(t1.User - t0.User) + (t1.Nice - t0.Nice)) / total),
            SystemPercent = P(t0.System, t1.System),
            IowaitPercent = iowait,
            IrqPercent = R(100.0 * ((double)(t1.Irq - t0.Irq) + (t1.SoftIrq - t0.SoftIrq)) / total),
            StealPercent = P(t0.Steal, t1.Steal),
            IdlePercent = idle,
            UtilizationPercent = R(Math.Max(0, 100.0 * (total - (t1.Idle - t0.Idle) - (t1.Iowait - t0.Iowait)) / total)),
        };
    }

    private void PressureRow(UseRow row, string resource, List<string> sat)
    {
        if (!_t1.Pressure.TryGetValue(resource, out Pressure p1))
        {
            return;
        }

        var f = new PressureFigures
        {
            Resource = resource,
            SomeAvg10Percent = p1.Some.Avg10,
            SomeAvg60Percent = p1.Some.Avg60,
            SomeAvg300Percent = p1.Some.Avg300,
        };
        double us = _seconds * 1e6;
        Pressure? p0 = null;
        if (_t0 is not null && _t0.Pressure.TryGetValue(resource, out Pressure q))
        {
            p0 = q;
        }

        if (_t0 is null || p0 is not null)
        {
            ulong? some = Delta(p0?.Some.TotalUs ?? 0, p1.Some.TotalUs, $"/proc/pressure/{resource} some total");
            f.SomeWindowPercent = some is ulong s ? R(Math.Min(100, 100.0 * s / us)) : null;
            if (p1.Full is PressureLine full1)
            {
                ulong? full = Delta(p0?.Full?.TotalUs ?? 0, full1.TotalUs, $"/proc/pressure/{resource} full total");
                f.FullWindowPercent = full is ulong x ? R(Math.Min(100, 100.0 * x / us)) : null;
            }
        }

        _r.Pressure.Add(f);
        double measure = f.SomeWindowPercent ?? f.SomeAvg10Percent;
        string what = f.SomeWindowPercent is null ? "avg10" : Window;
        sat.Add($"PSI some {F(measure)}% {what}");
        if (measure > Thresholds.PressurePercent)
        {
            string meaning = resource switch
            {
                "cpu" => "tasks waited for a CPU",
                "memory" => "tasks stalled reclaiming or faulting memory",
                _ => "tasks stalled waiting for I/O",
            };
            Flag(row, "saturation", $"{resource}-pressure", $"{resource} pressure: some task stalled {F(measure)}% of the time ({what}, > {Thresholds.PressurePercent}%): {meaning}");
        }
    }

    private void Memory()
    {
        var row = new UseRow { Resource = "memory" };
        _r.Use.Add(row);
        Dictionary<string, ulong>? m = _t1.MemInfo;
        var f = new MemoryFigures();
        if (m is not null && m.TryGetValue("MemTotal", out ulong total) && total > 0 && m.TryGetValue("MemAvailable", out ulong avail))
        {
            if (avail > total)
            {
                _r.Notes.Add($"/proc/meminfo MemAvailable {avail} kB above MemTotal {total} kB; taken as MemTotal");
                avail = total;
            }

            m.TryGetValue("SwapTotal", out ulong swapTotal);
            m.TryGetValue("SwapFree", out ulong swapFree);
            f.TotalMiB = R(total / 1024.0);
            f.AvailableMiB = R(avail / 1024.0);
            f.AvailablePercent = R(100.0 * avail / total);
            f.SwapTotalMiB = R(swapTotal / 1024.0);
            f.SwapUsedMiB = R(swapFree > swapTotal ? 0 : (swapTotal - swapFree) / 1024.0);
            row.Utilization = $"{F(100 - f.AvailablePercent.Value)}% used ({F(f.AvailableMiB.Value)} of {F(f.TotalMiB.Value)} MiB available); swap {F(f.SwapUsedMiB.Value)} of {F(f.SwapTotalMiB.Value)} MiB used";
        }
        else
        {
            row.Flag = "n/a";
            row.Utilization = "n/a (/proc/meminfo unreadable or without MemAvailable)";
        }

        Dictionary<string, ulong>? v0 = _t0?.VmStat;
        Dictionary<string, ulong>? v1 = _t1.VmStat;
        f.SwapInPagesPerSecond = Rate(v0, v1, "pswpin", "/proc/vmstat");
        f.SwapOutPagesPerSecond = Rate(v0, v1, "pswpout", "/proc/vmstat");
        f.PageInKiBPerSecond = Rate(v0, v1, "pgpgin", "/proc/vmstat");
        f.MajorFaultsPerSecond = Rate(v0, v1, "pgmajfault", "/proc/vmstat");
        if (v1 is not null && v1.TryGetValue("oom_kill", out ulong oom1))
        {
            ulong oom0 = 0;
            if (_t0 is null || (v0 is not null && v0.TryGetValue("oom_kill", out oom0)))
            {
                f.OomKills = Delta(oom0, oom1, "/proc/vmstat oom_kill") is ulong d ? (long)Math.Min(d, long.MaxValue) : null;
            }
        }

        _r.Memory = f;
        var sat = new List<string>();
        if (f.SwapInPagesPerSecond is double si)
        {
            sat.Add($"swap-in {F(si)} pages/s, swap-out {F(f.SwapOutPagesPerSecond ?? 0)} pages/s");
        }

        if (f.MajorFaultsPerSecond is double mf)
        {
            sat.Add($"major faults {F(mf)}/s");
        }

        if (f.AvailablePercent < Thresholds.MemoryAvailablePercent)
        {
            Flag(row, "utilization", "memory-available", $"only {F(f.AvailablePercent.Value)}% of memory available (< {Thresholds.MemoryAvailablePercent}%): the page cache is squeezed and reclaim or the OOM killer is near");
        }

        if (f.SwapInPagesPerSecond > 0)
        {
            Flag(row, "saturation", "memory-swapin", $"swapping in {F(f.SwapInPagesPerSecond.Value)} pages/s {Window}: the working set does not fit in memory; tasks wait on disk for their pages");
        }

        PressureRow(row, "memory", sat);
        row.Saturation = sat.Count == 0 ? "-" : string.Join("; ", sat);
        row.Errors = f.OomKills is long k ? $"{k} OOM kills {Window}" : "n/a";
        if (f.OomKills > 0)
        {
            Flag(row, "errors", "memory-oom", $"{f.OomKills} OOM kills {Window}: the kernel killed processes to free memory (see the kernel log)");
        }
    }

    private void Disks()
    {
        var summary = new UseRow { Resource = "disks (all)" };
        _r.Use.Add(summary);
        List<DiskCounters>? d1 = _t1.Disks;
        List<DiskCounters>? d0 = _t0?.Disks;
        if (d1 is null || (_t0 is not null && d0 is null))
        {
            summary.Flag = "n/a";
            summary.Utilization = "n/a (/proc/diskstats unreadable)";
        }
        else
        {
            double ms = _seconds * 1000;
            foreach (DiskCounters c1 in d1)
            {
                DiskCounters c0 = new(c1.Name, 0, 0, 0, 0, 0, 0, 0, 0, 0);
                if (d0 is not null)
                {
                    int i = d0.FindIndex(x => x.Name == c1.Name);
                    if (i < 0)
                    {
                        _r.Notes.Add($"disk {c1.Name} appeared during the window; not shown");
                        continue;
                    }

                    c0 = d0[i];
                }

                if (c1.Reads < c0.Reads || c1.SectorsRead < c0.SectorsRead || c1.MsReading < c0.MsReading || c1.Writes < c0.Writes
                    || c1.SectorsWritten < c0.SectorsWritten || c1.MsWriting < c0.MsWriting || c1.IoTicksMs < c0.IoTicksMs || c1.WeightedMs < c0.WeightedMs)
                {
                    _r.Notes.Add($"/proc/diskstats {c1.Name} counters went backwards (device reset or wrapped); not shown");
                    continue;
                }

                double ios = (double)(c1.Reads - c0.Reads) + (c1.Writes - c0.Writes);
                var f = new DiskFigures
                {
                    Name = c1.Name,
                    ReadIops = R((c1.Reads - c0.Reads) / _seconds),
                    WriteIops = R((c1.Writes - c0.Writes) / _seconds),
                    ReadMiBPerSecond = R((c1.SectorsRead - c0.SectorsRead) * 512.0 / 1048576 / _seconds),
                    WriteMiBPerSecond = R((c1.SectorsWritten - c0.SectorsWritten) * 512.0 / 1048576 / _seconds),
                    AwaitMs = ios == 0 ? null : R(((double)(c1.MsReading - c0.MsReading) + (c1.MsWriting - c0.MsWriting)) / ios),
                    UtilizationPercent = R(Math.Min(100, 100.0 * (c1.IoTicksMs - c0.IoTicksMs) / ms)),
                    QueueDepth = R((c1.WeightedMs - c0.WeightedMs) / ms),
                };
                _r.Disks.Add(f);
                var row = new UseRow
                {
                    Resource = $"disk {f.Name}",
                    Utilization = $"{F(f.UtilizationPercent)}% busy; {F(f.ReadIops + f.WriteIops)} IOPS, {F(f.ReadMiBPerSecond + f.WriteMiBPerSecond)} MiB/s",
                    Saturation = $"queue {f.QueueDepth:0.00}; await {(f.AwaitMs is double a ? F(a) + " ms" : "- (no I/O)")}",
                };
                _r.Use.Add(row);
                if (f.UtilizationPercent > Thresholds.DiskUtilPercent)
                {
                    Flag(row, "utilization", "disk-util", $"{f.Name} busy {F(f.UtilizationPercent)}% of the time (> {Thresholds.DiskUtilPercent}%): near its limit for a single-queue device (SSDs and arrays may take more)");
                }

                if (f.AwaitMs > Thresholds.DiskAwaitMs)
                {
                    Flag(row, "saturation", "disk-await", $"{f.Name} I/Os take {F(f.AwaitMs.Value)} ms on average (> {Thresholds.DiskAwaitMs} ms): requests queue or the device is slow");
                }
            }

            double maxUtil = 0;
            foreach (DiskFigures f in _r.Disks)
            {
                maxUtil = Math.Max(maxUtil, f.UtilizationPercent);
            }

            summary.Utilization = _r.Disks.Count == 0 ? "no disks" : $"busiest disk {F(maxUtil)}% busy";
        }

        var sat = new List<string>();
        if (_r.Load?.BlockedTasks is double b)
        {
            sat.Add($"{F(b)} tasks blocked on I/O");
        }

        PressureRow(summary, "io", sat);
        summary.Saturation = sat.Count == 0 ? "-" : string.Join("; ", sat);
    }

    private void Nets()
    {
        List<NetCounters>? n1 = _t1.Nets;
        List<NetCounters>? n0 = _t0?.Nets;
        if (n1 is null || (_t0 is not null && n0 is null))
        {
            _r.Use.Add(new UseRow { Resource = "network", Utilization = "n/a (/proc/net/dev unreadable)", Flag = "n/a" });
            return;
        }

        foreach (NetCounters c1 in n1)
        {
            if (c1.Name == "lo")
            {
                continue;
            }

            NetCounters c0 = new(c1.Name, 0, 0, 0, 0, 0, 0, 0, 0);
            if (n0 is not null)
            {
                int i = n0.FindIndex(x => x.Name == c1.Name);
                if (i < 0)
                {
                    _r.Notes.Add($"interface {c1.Name} appeared during the window; not shown");
                    continue;
                }

                c0 = n0[i];
            }

            if (c1.RxBytes < c0.RxBytes || c1.RxPackets < c0.RxPackets || c1.RxErrors < c0.RxErrors || c1.RxDrops < c0.RxDrops
                || c1.TxBytes < c0.TxBytes || c1.TxPackets < c0.TxPackets || c1.TxErrors < c0.TxErrors || c1.TxDrops < c0.TxDrops)
            {
                _r.Notes.Add($"/proc/net/dev {c1.Name} counters went backwards (interface reset or 32-bit wrap); not shown");
                continue;
            }

            var f = new NetFigures
            {
                Name = c1.Name,
                RxMiBPerSecond = R((c1.RxBytes - c0.RxBytes) / 1048576.0 / _seconds),
                TxMiBPerSecond = R((c1.TxBytes - c0.TxBytes) / 1048576.0 / _seconds),
                RxPacketsPerSecond = R((c1.RxPackets - c0.RxPackets) / _seconds),
                TxPacketsPerSecond = R((c1.TxPackets - c0.TxPackets) / _seconds),
                Errors = SatAdd(c1.RxErrors - c0.RxErrors, c1.TxErrors - c0.TxErrors),
                Drops = SatAdd(c1.RxDrops - c0.RxDrops, c1.TxDrops - c0.TxDrops),
            };
            if (_t1.NetSpeedMbps.TryGetValue(c1.Name, out long mbps))
            {
                f.SpeedMbps = mbps;
                double bits = Math.Max(c1.RxBytes - c0.RxBytes, c1.TxBytes - c0.TxBytes) * 8.0 / _seconds;
                f.UtilizationPercent = R(Math.Min(100, 100.0 * bits / (mbps * 1e6)));
            }

            _r.Networks.Add(f);
            var row = new UseRow
            {
                Resource = $"net {f.Name}",
                Utilization = (f.UtilizationPercent is double u ? $"{F(u)}% of {mbps} Mb/s; " : "") + $"rx {f.RxMiBPerSecond:0.00} MiB/s, tx {f.TxMiBPerSecond:0.00} MiB/s",
                Saturation = $"{f.Drops} drops {Window}",
                Errors = $"{f.Errors} errors {Window}",
            };
            _r.Use.Add(row);
            if (f.UtilizationPercent > Thresholds.NetUtilPercent)
            {
                Flag(row, "utilization", "net-util", $"{f.Name} at {F(f.UtilizationPercent.Value)}% of its {mbps} Mb/s link (> {Thresholds.NetUtilPercent}%): the link is nearly full");
            }

            if (f.Drops > 0)
            {
                Flag(row, "saturation", "net-drops", $"{f.Name} dropped {f.Drops} packets {Window}: queues or buffers overflowed (or unwanted traffic was discarded)");
            }

            if (f.Errors > 0)
            {
                Flag(row, "errors", "net-errors", $"{f.Name} had {f.Errors} errors {Window}: check cabling, driver and NIC counters (ethtool -S)");
            }
        }
    }

    private static ulong SatAdd(ulong a, ulong b) => a + b < a ? ulong.MaxValue : a + b;

    private long? Count(Dictionary<string, long>? d0, Dictionary<string, long> d1, string key)
    {
        if (!d1.TryGetValue(key, out long v1))
        {
            return null;
        }

        long v0 = 0;
        if (_t0 is not null && (d0 is null || !d0.TryGetValue(key, out v0)))
        {
            return null;
        }

        if (v1 < v0 || v0 < 0)
        {
            _r.Notes.Add($"/proc/net/snmp Tcp {key} went backwards ({v0} -> {v1}); not shown");
            return null;
        }

        return v1 - v0;
    }

    private void Tcp()
    {
        var row = new UseRow { Resource = "TCP" };
        _r.Use.Add(row);
        Dictionary<string, long>? t1 = _t1.Tcp;
        Dictionary<string, long>? t0 = _t0?.Tcp;
        if (t1 is null || (_t0 is not null && t0 is null))
        {
            row.Flag = "n/a";
            row.Utilization = "n/a (/proc/net/snmp unreadable)";
            return;
        }

        double? PerSec(long? c) => c is long x ? R(x / _seconds) : null;
        long? outSegs = Count(t0, t1, "OutSegs");
        long? retrans = Count(t0, t1, "RetransSegs");
        var f = new TcpFigures
        {
            ActiveOpensPerSecond = PerSec(Count(t0, t1, "ActiveOpens")),
            PassiveOpensPerSecond = PerSec(Count(t0, t1, "PassiveOpens")),
            OutSegmentsPerSecond = PerSec(outSegs),
            RetransmitsPerSecond = PerSec(retrans),
            RetransmitPercent = outSegs > 0 && retrans is long rt ? R(100.0 * rt / outSegs.Value) : null,
            ResetsSentPerSecond = PerSec(Count(t0, t1, "OutRsts")),
            EstablishedResets = Count(t0, t1, "EstabResets"),
            AttemptFails = Count(t0, t1, "AttemptFails"),
            Established = t1.TryGetValue("CurrEstab", out long est) ? est : null,
        };
        _r.Tcp = f;
        row.Utilization = $"{f.Established?.ToString(CultureInfo.InvariantCulture) ?? "?"} established; {F(f.ActiveOpensPerSecond ?? 0)} active + {F(f.PassiveOpensPerSecond ?? 0)} passive opens/s";
        row.Saturation = $"{F(f.ResetsSentPerSecond ?? 0)} resets sent/s; {f.EstablishedResets ?? 0} established resets, {f.AttemptFails ?? 0} failed attempts {Window}";
        row.Errors = f.RetransmitPercent is double p ? $"retransmits {F(p)}% of segments ({F(f.RetransmitsPerSecond ?? 0)}/s)" : "retransmits - (no segments sent)";
        if (f.RetransmitPercent > Thresholds.RetransmitPercent)
        {
            Flag(row, "errors", "tcp-retransmits", $"{F(f.RetransmitPercent.Value)}% of TCP segments retransmitted {Window} (> {Thresholds.RetransmitPercent}%): packet loss or congestion on some path");
        }
    }

    private void Files()
    {
        var row = new UseRow { Resource = "file handles" };
        _r.Use.Add(row);
        if (_t1.Files is not FileNr fn || fn.Max == 0)
        {
            row.Flag = "n/a";
            row.Utilization = "n/a (/proc/sys/fs/file-nr unreadable)";
            return;
        }

        ulong inUse = fn.Allocated - fn.Free;
        var f = new FileFigures { InUse = inUse, Max = fn.Max, UsedPercent = R(100.0 * inUse / fn.Max) };
        _r.Files = f;
        row.Utilization = $"{inUse} of {fn.Max} handles ({f.UsedPercent:0.00}%)";
        if (f.UsedPercent > Thresholds.FileHandlesPercent)
        {
            Flag(row, "utilization", "fd-util", $"{F(f.UsedPercent)}% of fs.file-max file handles in use (> {Thresholds.FileHandlesPercent}%): opens will soon fail with ENFILE");
        }
    }

    private void Processes()
    {
        if (_t1.Processes is not Dictionary<int, ProcessSample> p1)
        {
            return;
        }

        Dictionary<int, ProcessSample>? p0 = _t0?.Processes;
        int skipped = _t1.ProcessesSkipped + (_t0?.ProcessesSkipped ?? 0);
        if (skipped > 0)
        {
            _r.Notes.Add($"{skipped} process entries skipped: malformed /proc/PID/stat or statm");
        }

        var all = new List<ProcessFigures>(p1.Count);
        foreach (KeyValuePair<int, ProcessSample> kv in p1)
        {
            PidStat s1 = kv.Value.Stat;
            double ticks1 = (double)s1.UTime + s1.STime;
            double ticks0 = 0;
            if (p0 is not null)
            {
                if (p0.TryGetValue(kv.Key, out ProcessSample old) && old.Stat.StartTime == s1.StartTime)
                {
                    ticks0 = (double)old.Stat.UTime + old.Stat.STime;
                }
                else if (_t0?.Uptime is double up0 && s1.StartTime / Thresholds.UserHz < up0 - 1)
                {
                    // Existed before the window but was not seen at its start: its CPU time is not all inside the window.
                    continue;
                }
            }

            double cpu = ticks1 < ticks0 ? 0 : R((ticks1 - ticks0) / Thresholds.UserHz / _seconds * 100);
            all.Add(new ProcessFigures { Pid = kv.Key, Command = s1.Comm, CpuPercent = cpu, RssMiB = R(kv.Value.RssBytes / 1048576.0) });
        }

        all.Sort((a, b) => a.CpuPercent != b.CpuPercent ? b.CpuPercent.CompareTo(a.CpuPercent) : a.Pid.CompareTo(b.Pid));
        for (int i = 0; i < all.Count && _r.TopCpu.Count < TopProcesses && all[i].CpuPercent > 0; i++)
        {
            _r.TopCpu.Add(all[i]);
        }

        all.Sort((a, b) => a.RssMiB != b.RssMiB ? b.RssMiB.CompareTo(a.RssMiB) : a.Pid.CompareTo(b.Pid));
        for (int i = 0; i < all.Count && _r.TopMemory.Count < TopProcesses && all[i].RssMiB > 0; i++)
        {
            _r.TopMemory.Add(all[i]);
        }
    }

    private void Kernel((List<KmsgRecord>? Records, int Skipped, string? Unreadable) kmsg)
    {
        var row = new UseRow { Resource = "kernel log" };
        _r.Use.Add(row);
        KernelErrors k = _r.KernelErrors;
        if (kmsg.Records is null || _t1.Uptime is not double uptime)
        {
            k.Readable = false;
            k.Reason = kmsg.Unreadable ?? "/proc/uptime unreadable: message ages unknown";
            row.Flag = "n/a";
            row.Errors = $"n/a ({k.Reason})";
            return;
        }

        k.Readable = true;
        k.LookbackSeconds = Thresholds.KernelLookbackSeconds;
        if (kmsg.Skipped > 0)
        {
            _r.Notes.Add($"{kmsg.Skipped} kernel log records skipped: malformed");
        }

        var recent = new List<KernelMessage>();
        foreach (KmsgRecord m in kmsg.Records)
        {
            double age = uptime - (m.Microseconds / 1e6);
            if (m.Priority > 3 || age > Thresholds.KernelLookbackSeconds)
            {
                continue;
            }

            k.Count++;
            recent.Add(new KernelMessage
            {
                AgeSeconds = R(Math.Max(0, age)),
                Priority = m.Priority switch { 0 => "emerg", 1 => "alert", 2 => "crit", _ => "err" },
                Message = m.Message,
            });
        }

        int from = Math.Max(0, recent.Count - 5);
        k.Recent = recent.GetRange(from, recent.Count - from);
        row.Errors = $"{k.Count} messages of priority err or worse in the last {Thresholds.KernelLookbackSeconds / 60:0} minutes";
        if (k.Count > 0)
        {
            Flag(row, "errors", "kernel-errors", $"{k.Count} kernel messages of priority err or worse in the last hour; latest: {k.Recent[^1].Message}");
        }
    }
}
