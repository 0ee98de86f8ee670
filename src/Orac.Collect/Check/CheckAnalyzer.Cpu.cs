namespace Orac.Collect.Check;

/// <summary>The analysis of CPU, run queue, load and pressure.</summary>
internal sealed partial class CheckAnalyzer
{
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
}
