using System.Globalization;
using System.Text;

namespace Orac.Collect.Trace;

/// <summary>Builds a <see cref="TraceReport"/> from a run and renders it as text tables and histograms.</summary>
public static class TraceRender
{
    private const int BarWidth = 40;

    /// <summary>Syscalls shown in the text table (all are in the JSON).</summary>
    public const int MaxSyscallRows = 30;

    /// <summary>The report for <paramref name="run"/>: figures, and partial with the reasons when it is.</summary>
    public static (TraceReport Report, Orac.Model.Profile? Profile) Build(TraceTool tool, TraceRun run, TraceRunOptions options)
    {
        var report = new TraceReport
        {
            Tool = tool.Name,
            Description = tool.Description,
            DurationSeconds = options.DurationSeconds,
            TracedSeconds = run.TracedSeconds,
            Pid = tool.TakesPid && options.Pid != 0 ? options.Pid : null,
        };
        Orac.Model.Profile? profile = TraceResults.Fill(tool, run.Output, report);
        if (run.Interrupted)
        {
            report.Partial = true;
            report.Notes.Add("partial: interrupted (Ctrl-C) before the duration ended");
        }

        else if (run.TracedSeconds > 0 && run.TracedSeconds < options.DurationSeconds - 0.5)
        {
            report.Partial = true;
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"partial: bpftrace stopped after {run.TracedSeconds:0.0} s of the {options.DurationSeconds} s asked"));
        }

        if (run.TimedOut)
        {
            report.Partial = true;
            report.Notes.Add($"partial: bpftrace overran its deadline ({options.DurationSeconds + BpftraceRunner.GraceSeconds} s) and was stopped");
        }

        if (run.Truncated)
        {
            report.Partial = true;
            report.Notes.Add("partial: bpftrace printed more than 256 MiB; the rest was dropped");
        }

        if (run.Output.LostEvents > 0)
        {
            report.Partial = true;
            report.Notes.Add($"partial: bpftrace lost {run.Output.LostEvents} events");
        }

        if (run.ExitCode != 0 && !run.Interrupted)
        {
            report.Partial = true;
            report.Notes.Add($"partial: bpftrace exited with status {run.ExitCode}");
        }

        int stackFailures = 0;
        foreach (string line in run.Stderr)
        {
            if (BpftraceRunner.IsBenign(line))
            {
                continue;
            }

            if (line.Contains("failed to look up stack id", StringComparison.Ordinal))
            {
                stackFailures++;
                continue;
            }

            report.Partial = true;
            report.Notes.Add("partial: bpftrace warned: " + (line.Length > 200 ? line[..200] + "…" : line.Trim()));
        }

        if (stackFailures > 0)
        {
            report.Notes.Add($"{stackFailures} stacks bpftrace could not read are shown as [stack unavailable]");
        }

        var warnings = new StringWriter();
        run.Output.Warnings.WriteTo(warnings);
        foreach (string w in warnings.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            report.Partial = true;
            report.Notes.Add("partial: " + w.Replace("orac: warning: ", "", StringComparison.Ordinal));
        }

        return (report, profile);
    }

    /// <summary>The report as text: a header line (tool, duration, scope, partial) then its table or histogram.</summary>
    public static string Render(TraceReport r)
    {
        var sb = new StringBuilder();
        string scope = r.Pid is int pid ? $"pid {pid}" : "all processes";
        sb.Append(CultureInfo.InvariantCulture, $"{r.Tool}: {r.Description}\n");
        string traced = r.TracedSeconds > 0 && r.TracedSeconds < r.DurationSeconds - 0.5
            ? $"{r.TracedSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s of the {r.DurationSeconds} s asked"
            : $"{r.DurationSeconds} s";
        sb.Append(CultureInfo.InvariantCulture, $"measured by bpftrace for {traced}, {scope}{(r.Partial ? "; PARTIAL (see notes)" : "")}\n\n");
        if (r.Histogram is TraceHistogram h)
        {
            RenderHistogram(sb, h);
        }

        if (r.Syscalls is List<SyscallRow> sys)
        {
            int shown = Math.Min(sys.Count, MaxSyscallRows);
            Table(sb, ["syscall", "count", "total (µs)", "avg (µs)"], [false, true, true, true], shown, i =>
            [
                sys[i].Name,
                Num(sys[i].Count),
                Num(sys[i].TotalMicroseconds),
                sys[i].Count == 0 ? "-" : (sys[i].TotalMicroseconds / (double)sys[i].Count).ToString("N1", CultureInfo.InvariantCulture),
            ]);
            if (sys.Count > shown)
            {
                sb.Append(CultureInfo.InvariantCulture, $"({sys.Count - shown} more syscalls in --json)\n");
            }

            if (sys.Count == 0)
            {
                sb.Append("(no syscalls seen)\n");
            }
        }

        if (r.Execs is List<ExecRow> ex)
        {
            Table(sb, ["time (ms)", "pid", "ppid", "comm", "args"], [true, true, true, false, false], ex.Count, i =>
            [
                ex[i].TimeMilliseconds.ToString("0.000", CultureInfo.InvariantCulture),
                ex[i].Pid.ToString(CultureInfo.InvariantCulture),
                ex[i].ParentPid.ToString(CultureInfo.InvariantCulture),
                Printable(ex[i].Comm),
                Printable(ex[i].Args),
            ]);
            if (ex.Count == 0)
            {
                sb.Append("(no execs seen)\n");
            }
        }

        if (r.OffCpu is List<OffCpuRow> off)
        {
            sb.Append(CultureInfo.InvariantCulture, $"total off-CPU time {Num(r.OffCpuTotalMicroseconds ?? 0)} µs over all stacks; top {off.Count} stacks:\n");
            Table(sb, ["off-CPU (µs)", "comm", "stack (leaf first)"], [true, false, false], off.Count, i =>
            [
                Num(off[i].Microseconds),
                Printable(off[i].Comm),
                Printable(off[i].Stack),
            ]);
            if (r.FlameGraph is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"flame graph (off-CPU µs): {r.FlameGraph}\n");
            }
        }

        foreach (string note in r.Notes)
        {
            sb.Append("note: ").Append(note).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>A histogram as rows "[low, high]  count |bars|", bounds inclusive, in its unit.</summary>
    public static void RenderHistogram(StringBuilder sb, TraceHistogram h)
    {
        sb.Append(CultureInfo.InvariantCulture, $"{h.Unit}: log2 buckets [low, high] inclusive; {Num(h.Count)} events\n");
        if (h.Buckets.Count == 0)
        {
            sb.Append("(no events)\n");
            return;
        }

        long max = 1;
        int rangeWidth = 0, countWidth = "count".Length;
        var ranges = new string[h.Buckets.Count];
        for (int i = 0; i < h.Buckets.Count; i++)
        {
            TraceBucket b = h.Buckets[i];
            max = Math.Max(max, b.Count);
            ranges[i] = $"[{(b.Low is long lo ? Num(lo) : "-inf")}, {(b.High is long hi ? Num(hi) : "inf")}]";
            rangeWidth = Math.Max(rangeWidth, ranges[i].Length);
            countWidth = Math.Max(countWidth, Num(b.Count).Length);
        }

        sb.Append(h.Unit.PadLeft(rangeWidth)).Append("  ").Append("count".PadLeft(countWidth)).Append("  distribution\n");
        for (int i = 0; i < h.Buckets.Count; i++)
        {
            long c = h.Buckets[i].Count;
            int bars = (int)Math.Round((double)c / max * BarWidth);
            sb.Append(ranges[i].PadLeft(rangeWidth)).Append("  ").Append(Num(c).PadLeft(countWidth)).Append("  |")
                .Append('@', bars).Append(' ', BarWidth - bars).Append("|\n");
        }
    }

    private static void Table(StringBuilder sb, string[] head, bool[] right, int rows, Func<int, string[]> row)
    {
        var cells = new string[rows][];
        int[] width = new int[head.Length];
        for (int c = 0; c < head.Length; c++)
        {
            width[c] = head[c].Length;
        }

        for (int i = 0; i < rows; i++)
        {
            cells[i] = row(i);
            for (int c = 0; c < head.Length; c++)
            {
                width[c] = Math.Max(width[c], cells[i][c].Length);
            }
        }

        Line(sb, head, width, right);
        foreach (string[] r in cells)
        {
            Line(sb, r, width, right);
        }
    }

    private static void Line(StringBuilder sb, string[] cells, int[] width, bool[] right)
    {
        for (int c = 0; c < cells.Length; c++)
        {
            bool last = c == cells.Length - 1;
            string cell = right[c] ? cells[c].PadLeft(width[c]) : last ? cells[c] : cells[c].PadRight(width[c]);
            sb.Append(cell);
            if (!last)
            {
                sb.Append("  ");
            }
        }

        sb.Append('\n');
    }

    // Comm and args are chosen by the traced process: control characters would rewrite the terminal.
    private static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
        {
            if (char.IsControl(ch))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:x2}");
            }
            else
            {
                sb.Append(ch);
            }
        }

        return sb.ToString();
    }

    private static string Num(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
