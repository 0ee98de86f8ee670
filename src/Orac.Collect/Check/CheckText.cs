using System.Globalization;
using System.Text;

namespace Orac.Collect.Check;

/// <summary>Renders a <see cref="CheckReport"/> as text: a header, the USE table, the problems, then detail sections.</summary>
internal static class CheckText
{
    /// <summary>The whole text report.</summary>
    public static string Render(CheckReport r)
    {
        var sb = new StringBuilder();
        string window = r.Mode == "window"
            ? $"rates and percentages over a {F(r.WindowSeconds)} s window"
            : $"rates and percentages averaged since boot ({F(r.WindowSeconds)} s ago)";
        sb.Append(CultureInfo.InvariantCulture, $"orac check: {r.Cpus} CPUs; {window}; memory, load averages and counts of things now are at the end\n");
        if (r.Partial)
        {
            sb.Append("PARTIAL: some files could not be read:\n");
            foreach (string p in r.PartialReasons)
            {
                sb.Append("  ").Append(p).Append('\n');
            }
        }

        sb.Append('\n');
        Table(sb, ["resource", "utilization", "saturation", "errors", "flag"], r.Use.Select(u => new[] { u.Resource, u.Utilization, u.Saturation, u.Errors, u.Flag }));
        sb.Append('\n');
        if (r.Problems.Count == 0)
        {
            sb.Append("no problems flagged\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Problems.Count} problem(s):\n");
            foreach (Problem p in r.Problems)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  [{p.Resource}, {p.Kind}] {p.Message}\n");
            }
        }

        if (r.Load is LoadFigures l)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nload average (tasks): {l.Load1:0.00} {l.Load5:0.00} {l.Load15:0.00} (1/5/15 min, {l.Trend}); run queue {N(l.RunQueueTasks)} tasks, blocked {N(l.BlockedTasks)} tasks; {N(l.ContextSwitchesPerSecond)} context switches/s, {N(l.ForksPerSecond)} forks/s\n");
        }

        if (r.PerCpu.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nCPU (% of time; imbalance {N(r.CpuImbalancePoints)} points between busiest and idlest)\n");
            IEnumerable<CpuFigures> cpus = r.CpuAll is null ? r.PerCpu : r.PerCpu.Prepend(r.CpuAll);
            Table(sb, ["cpu", "busy %", "usr %", "sys %", "irq %", "iowait %", "steal %", "idle %"], cpus.Select(c => new[]
            {
                c.Cpu, F(c.UtilizationPercent), F(c.UserPercent), F(c.SystemPercent), F(c.IrqPercent), F(c.IowaitPercent), F(c.StealPercent), F(c.IdlePercent),
            }));
        }

        if (r.Pressure.Count > 0)
        {
            sb.Append("\npressure (PSI, % of time some task stalled)\n");
            Table(sb, ["resource", "some window %", "full window %", "some avg10 %", "avg60 %", "avg300 %"], r.Pressure.Select(p => new[]
            {
                p.Resource, N(p.SomeWindowPercent), N(p.FullWindowPercent), F(p.SomeAvg10Percent), F(p.SomeAvg60Percent), F(p.SomeAvg300Percent),
            }));
        }

        if (r.Memory is MemoryFigures m)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nmemory: {N(m.AvailableMiB)} MiB available of {N(m.TotalMiB)} MiB ({N(m.AvailablePercent)}%); swap {N(m.SwapUsedMiB)} of {N(m.SwapTotalMiB)} MiB used\n");
            sb.Append(CultureInfo.InvariantCulture, $"paging: swap-in {N(m.SwapInPagesPerSecond)} pages/s, swap-out {N(m.SwapOutPagesPerSecond)} pages/s, page-in {N(m.PageInKiBPerSecond)} KiB/s, major faults {N(m.MajorFaultsPerSecond)}/s, OOM kills {m.OomKills?.ToString(CultureInfo.InvariantCulture) ?? "n/a"}\n");
        }

        if (r.Disks.Count > 0)
        {
            sb.Append("\ndisks\n");
            Table(sb, ["disk", "r/s", "w/s", "rMiB/s", "wMiB/s", "await ms", "queue", "busy %"], r.Disks.Select(d => new[]
            {
                d.Name, F(d.ReadIops), F(d.WriteIops), F2(d.ReadMiBPerSecond), F2(d.WriteMiBPerSecond), N(d.AwaitMs), F2(d.QueueDepth), F(d.UtilizationPercent),
            }));
        }

        if (r.Networks.Count > 0)
        {
            sb.Append("\nnetwork (errors and drops are counts in the window)\n");
            Table(sb, ["interface", "rx MiB/s", "tx MiB/s", "rx pkt/s", "tx pkt/s", "errors", "drops", "speed Mb/s", "busy %"], r.Networks.Select(n => new[]
            {
                n.Name, F2(n.RxMiBPerSecond), F2(n.TxMiBPerSecond), F(n.RxPacketsPerSecond), F(n.TxPacketsPerSecond),
                n.Errors.ToString(CultureInfo.InvariantCulture), n.Drops.ToString(CultureInfo.InvariantCulture),
                n.SpeedMbps?.ToString(CultureInfo.InvariantCulture) ?? "-", N(n.UtilizationPercent),
            }));
        }

        if (r.Tcp is TcpFigures t)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nTCP: {t.Established?.ToString(CultureInfo.InvariantCulture) ?? "n/a"} established; active opens {N(t.ActiveOpensPerSecond)}/s, passive opens {N(t.PassiveOpensPerSecond)}/s; segments out {N(t.OutSegmentsPerSecond)}/s, retransmits {N(t.RetransmitsPerSecond)}/s ({N(t.RetransmitPercent)}%); resets sent {N(t.ResetsSentPerSecond)}/s; established resets {t.EstablishedResets?.ToString(CultureInfo.InvariantCulture) ?? "n/a"}, failed attempts {t.AttemptFails?.ToString(CultureInfo.InvariantCulture) ?? "n/a"} (counts)\n");
        }

        if (r.Files is FileFigures f)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nfile handles: {f.InUse} in use of {f.Max} ({f.UsedPercent:0.00}%)\n");
        }

        Processes(sb, "\ntop processes by CPU (% of one CPU)\n", r.TopCpu);
        Processes(sb, "\ntop processes by resident memory\n", r.TopMemory);

        KernelErrors k = r.KernelErrors;
        if (!k.Readable)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nkernel log: not read ({k.Reason})\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nkernel log: {k.Count} messages of priority err or worse in the last {k.LookbackSeconds / 60:0} minutes\n");
            foreach (KernelMessage km in k.Recent)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {F(km.AgeSeconds)} s ago [{km.Priority}] {km.Message}\n");
            }
        }

        if (r.Notes.Count > 0)
        {
            sb.Append("\nnotes:\n");
            foreach (string n in r.Notes)
            {
                sb.Append("  ").Append(n).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static void Processes(StringBuilder sb, string title, List<ProcessFigures> list)
    {
        if (list.Count == 0)
        {
            return;
        }

        sb.Append(title);
        Table(sb, ["pid", "command", "cpu %", "rss MiB"], list.Select(p => new[]
        {
            p.Pid.ToString(CultureInfo.InvariantCulture), p.Command, F(p.CpuPercent), F(p.RssMiB),
        }));
    }

    private static string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string F2(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);

    private static string N(double? v) => v is double x ? F(x) : "n/a";

    private static void Table(StringBuilder sb, string[] head, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { head };
        all.AddRange(rows);
        int[] w = new int[head.Length];
        foreach (string[] row in all)
        {
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = Math.Max(w[i], row[i].Length);
            }
        }

        foreach (string[] row in all)
        {
            for (int i = 0; i < w.Length; i++)
            {
                sb.Append(i + 1 < w.Length ? row[i].PadRight(w[i]) + "  " : row[i]);
            }

            sb.Append('\n');
        }
    }
}
