namespace Orac.Collect.Check;

/// <summary>The analysis of disks.</summary>
internal sealed partial class CheckAnalyzer
{
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
}
