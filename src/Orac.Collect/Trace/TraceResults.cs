using System.Globalization;
using Orac.Model;

namespace Orac.Collect.Trace;

/// <summary>
/// Turns a catalogue tool's parsed bpftrace output into Orac's tables, histograms and (offcpu) a
/// <see cref="Profile"/>. Input that does not fit the tool's shape is skipped and counted in the
/// output's warnings; nothing here throws on input.
/// </summary>
public static class TraceResults
{
    /// <summary>Maximum frames kept per stack.</summary>
    public const int MaxFrames = 256;

    /// <summary>Largest off-CPU value accepted per stack (about 11.6 days); with at most 1e6 entries the sum cannot overflow.</summary>
    public const long MaxMicroseconds = 1_000_000_000_000;

    /// <summary>Fills <paramref name="report"/> from <paramref name="output"/>; returns the offcpu profile, else null.</summary>
    public static Profile? Fill(TraceTool tool, BpftraceOutput output, TraceReport report)
    {
        switch (tool.Output)
        {
            case TraceOutputKind.LatencyHistogram:
                report.Histogram = Histogram(output, "@usecs", "microseconds");
                return null;
            case TraceOutputKind.SyscallTable:
                report.Syscalls = Syscalls(output);
                return null;
            case TraceOutputKind.ExecEvents:
                report.Execs = Execs(output);
                return null;
            default:
                Profile profile = OffCpuProfile(output);
                report.OffCpu = OffCpuTop(profile, 20);
                report.OffCpuTotalMicroseconds = Total(profile);
                return profile;
        }
    }

    /// <summary>The histogram <paramref name="name"/> (empty when bpftrace printed none: no events).</summary>
    public static TraceHistogram Histogram(BpftraceOutput output, string name, string unit)
    {
        var buckets = new List<TraceBucket>();
        long total = 0;
        if (output.Histograms.TryGetValue(name, out List<HistogramBucket>? raw))
        {
            foreach (HistogramBucket b in raw)
            {
                buckets.Add(new TraceBucket { Low = b.Low, High = b.High, Count = b.Count });
                total = total > long.MaxValue - b.Count ? long.MaxValue : total + b.Count;
            }
        }

        return new TraceHistogram { Unit = unit, Buckets = buckets, Count = total };
    }

    /// <summary>syscount's rows by count descending, then time descending, then number.</summary>
    public static List<SyscallRow> Syscalls(BpftraceOutput output)
    {
        var counts = new Dictionary<long, long>();
        var nsecs = new Dictionary<long, long>();
        ReadNumberKeyed(output, "@calls", counts);
        ReadNumberKeyed(output, "@nsecs", nsecs);
        var rows = new List<SyscallRow>(counts.Count);
        foreach ((long number, long count) in counts)
        {
            rows.Add(new SyscallRow
            {
                Number = number,
                Name = SyscallNames.Name(number),
                Count = count,
                TotalMicroseconds = nsecs.TryGetValue(number, out long ns) ? ns / 1000 : 0,
            });
        }

        rows.Sort((a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count)
            : a.TotalMicroseconds != b.TotalMicroseconds ? b.TotalMicroseconds.CompareTo(a.TotalMicroseconds)
            : a.Number.CompareTo(b.Number));
        return rows;
    }

    private static void ReadNumberKeyed(BpftraceOutput output, string map, Dictionary<long, long> into)
    {
        if (!output.Maps.TryGetValue(map, out List<KeyValuePair<string, long>>? entries))
        {
            return;
        }

        foreach ((string key, long value) in entries)
        {
            if (!long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) || value < 0)
            {
                output.Warnings.Add($"{map} entries with a key that is not a syscall number skipped", Escape(key));
                continue;
            }

            if (!into.TryAdd(n, value))
            {
                output.Warnings.Add($"{map} entries with a repeated syscall number skipped (the first is kept)", Escape(key));
            }
        }
    }

    /// <summary>execsnoop's rows: each header line (E) joined with the argument line (A) of the same pid.</summary>
    public static List<ExecRow> Execs(BpftraceOutput output)
    {
        var rows = new List<ExecRow>();
        var pending = new Dictionary<int, (long Ns, int Ppid, string Comm)>();
        long firstNs = -1;
        foreach (string raw in output.Printfs)
        {
            string line = raw.EndsWith('\n') ? raw[..^1] : raw;
            if (line.StartsWith("E\t", StringComparison.Ordinal))
            {
                string[] f = line.Split('\t', 5);
                if (f.Length == 5
                    && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ns)
                    && int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid))
                {
                    if (pending.Remove(pid, out var orphan))
                    {
                        rows.Add(Row(orphan.Ns, pid, orphan.Ppid, orphan.Comm, "", ref firstNs));
                        output.Warnings.Add("execsnoop events without an argument line (shown with empty args)", pid.ToString(CultureInfo.InvariantCulture));
                    }

                    pending[pid] = (ns, ppid, f[4]);
                    continue;
                }
            }
            else if (line.StartsWith("A\t", StringComparison.Ordinal))
            {
                string[] f = line.Split('\t', 3);
                if (f.Length == 3 && int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    if (pending.Remove(pid, out var head))
                    {
                        rows.Add(Row(head.Ns, pid, head.Ppid, head.Comm, f[2].TrimEnd(' '), ref firstNs));
                    }
                    else
                    {
                        output.Warnings.Add("execsnoop argument lines without their event skipped", pid.ToString(CultureInfo.InvariantCulture));
                    }

                    continue;
                }
            }

            output.Warnings.Add("execsnoop lines of an unexpected shape skipped", Escape(line));
        }

        foreach ((int pid, var head) in pending)
        {
            rows.Add(Row(head.Ns, pid, head.Ppid, head.Comm, "", ref firstNs));
            output.Warnings.Add("execsnoop events without an argument line (shown with empty args)", pid.ToString(CultureInfo.InvariantCulture));
        }

        rows.Sort((a, b) => a.TimeMilliseconds.CompareTo(b.TimeMilliseconds));
        if (rows.Count > 0)
        {
            // Times were taken relative to the first row built; rebase on the earliest.
            double min = rows[0].TimeMilliseconds;
            for (int i = 0; i < rows.Count; i++)
            {
                ExecRow r = rows[i];
                rows[i] = new ExecRow { TimeMilliseconds = Math.Round(r.TimeMilliseconds - min, 3), Pid = r.Pid, ParentPid = r.ParentPid, Comm = r.Comm, Args = r.Args };
            }
        }

        return rows;
    }

    private static ExecRow Row(long ns, int pid, int ppid, string comm, string args, ref long firstNs)
    {
        if (firstNs < 0)
        {
            firstNs = ns;
        }

        return new ExecRow { TimeMilliseconds = (ns - (double)firstNs) / 1e6, Pid = pid, ParentPid = ppid, Comm = comm, Args = args };
    }

    /// <summary>
    /// offcpu's profile: sample type offcpu/microseconds; each stack root first is
    /// comm;kernel frames (outermost first, suffixed <c>_[k]</c>), from keys "kernel stack,comm".
    /// </summary>
    public static Profile OffCpuProfile(BpftraceOutput output)
    {
        var builder = new ProfileBuilder(new SampleType("offcpu", "microseconds"));
        if (!output.Maps.TryGetValue("@usecs", out List<KeyValuePair<string, long>>? entries))
        {
            return builder.Build();
        }

        var kernel = new List<string>();
        var frames = new List<FrameId>();
        foreach ((string key, long value) in entries)
        {
            kernel.Clear();
            int pos = 0;
            if (value < 0 || value > MaxMicroseconds || !ReadStack(key, ref pos, kernel) || !Expect(key, ref pos, ','))
            {
                output.Warnings.Add("offcpu entries that are not (kernel stack, comm) = microseconds skipped", Escape(key));
                continue;
            }

            if (value == 0)
            {
                continue;
            }

            // ';' separates frames in folded output; a comm is chosen by the process.
            string comm = key[pos..].Replace(';', ':');
            frames.Clear();
            frames.Add(builder.Frame(comm.Length == 0 ? "[unknown comm]" : comm));
            for (int i = kernel.Count - 1; i >= 0 && frames.Count < MaxFrames; i--)
            {
                frames.Add(builder.Frame(kernel[i] + "_[k]"));
            }

            if (kernel.Count == 0)
            {
                frames.Add(builder.Frame("[stack unavailable]"));
            }

            builder.Add(builder.Stack(frames.ToArray()), value);
        }

        return builder.Build();
    }

    // A perf-format stack is empty, or '\n' followed by frame lines "\t<hex> <symbol>\n".
    private static bool ReadStack(string key, ref int pos, List<string> frames)
    {
        if (pos >= key.Length || key[pos] != '\n')
        {
            return true;
        }

        pos++;
        while (pos < key.Length && key[pos] == '\t')
        {
            int end = key.IndexOf('\n', pos);
            if (end < 0)
            {
                return false;
            }

            if (frames.Count < MaxFrames)
            {
                frames.Add(FrameName(key.AsSpan(pos + 1, end - pos - 1)));
            }

            pos = end + 1;
        }

        return true;
    }

    private static bool Expect(string key, ref int pos, char c)
    {
        if (pos < key.Length && key[pos] == c)
        {
            pos++;
            return true;
        }

        return false;
    }

    /// <summary>"ffffffff821f94c3 schedule+35" → "schedule"; "7f.. 0x7f.. ([unknown])" → "[unknown]"; "addr sym+4 (/lib/x.so)" → "sym".</summary>
    internal static string FrameName(ReadOnlySpan<char> line)
    {
        int space = line.IndexOf(' ');
        ReadOnlySpan<char> sym = space < 0 ? line : line[(space + 1)..];
        if (sym.EndsWith("([unknown])", StringComparison.Ordinal) || sym.IsEmpty)
        {
            return "[unknown]";
        }

        if (sym.EndsWith(')'))
        {
            int open = sym.LastIndexOf(" (", StringComparison.Ordinal);
            if (open > 0)
            {
                sym = sym[..open];
            }
        }

        int plus = sym.LastIndexOf('+');
        if (plus > 0 && plus < sym.Length - 1 && IsDigits(sym[(plus + 1)..]))
        {
            sym = sym[..plus];
        }

        if (sym.StartsWith("0x", StringComparison.Ordinal))
        {
            return "[unknown]";
        }

        // ';' separates frames in folded output.
        return sym.Length > 512 ? sym[..512].ToString().Replace(';', ':') : sym.ToString().Replace(';', ':');
    }

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The <paramref name="n"/> stacks with the most off-CPU time.</summary>
    public static List<OffCpuRow> OffCpuTop(Profile profile, int n)
    {
        var rows = new List<(StackId Stack, long Value)>();
        for (int i = 0; i < profile.SampleCount; i++)
        {
            rows.Add((profile.SampleStacks[i], profile.Value(i)));
        }

        rows.Sort((a, b) => b.Value.CompareTo(a.Value));
        var result = new List<OffCpuRow>(Math.Min(n, rows.Count));
        for (int i = 0; i < rows.Count && i < n; i++)
        {
            FrameId[] frames = profile.Stacks.GetFrames(rows[i].Stack);
            string comm = frames.Length > 0 ? profile.FrameName(frames[0]) : "";
            var leafFirst = new List<string>();
            for (int j = frames.Length - 1; j >= 1 && leafFirst.Count < 6; j--)
            {
                string name = profile.FrameName(frames[j]);

                // Every off-CPU stack ends in the scheduler; the table shows why the thread blocked.
                if (leafFirst.Count == 0 && j > 1 && name is "__schedule_[k]" or "schedule_[k]" or "schedule_idle_[k]")
                {
                    continue;
                }

                leafFirst.Add(name);
            }

            result.Add(new OffCpuRow { Comm = comm, Stack = string.Join(" <- ", leafFirst), Microseconds = rows[i].Value });
        }

        return result;
    }

    private static long Total(Profile profile) => profile.Total();

    private static string Escape(string s) => BpftraceOutput.Escape(System.Text.Encoding.UTF8.GetBytes(s.Length > 80 ? s[..80] : s));
}
