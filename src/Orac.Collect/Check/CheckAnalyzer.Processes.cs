namespace Orac.Collect.Check;

/// <summary>The analysis of file handles, top processes and the kernel log.</summary>
internal sealed partial class CheckAnalyzer
{
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
