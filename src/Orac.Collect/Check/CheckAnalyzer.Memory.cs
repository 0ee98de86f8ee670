namespace Orac.Collect.Check;

/// <summary>The analysis of memory and paging.</summary>
internal sealed partial class CheckAnalyzer
{
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
}
