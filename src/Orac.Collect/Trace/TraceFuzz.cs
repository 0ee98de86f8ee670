using Orac.Model;

namespace Orac.Collect.Trace;

/// <summary>
/// Fuzz target for the bpftrace output parser: the bytes are read as bpftrace's stdout and turned into
/// every tool's table, histogram or profile and rendered. Only <see cref="OracException"/> may escape;
/// a broken invariant throws <see cref="InvalidOperationException"/>.
/// </summary>
public static class TraceFuzz
{
    /// <summary>Runs every check on <paramref name="data"/>.</summary>
    public static void Run(byte[] data)
    {
        foreach (TraceTool tool in TraceCatalogue.All)
        {
            BpftraceOutput output = BpftraceOutput.Parse(data);
            var report = new TraceReport { Tool = tool.Name, Description = tool.Description, DurationSeconds = 1 };
            Profile? profile = TraceResults.Fill(tool, output, report);
            _ = TraceRender.Render(report);
            Check(report, profile);
        }

        var stderr = new List<string>(System.Text.Encoding.UTF8.GetString(data).Split('\n'));
        string message = BpftraceRunner.Failure("fuzz", 1, stderr);
        if (message.Contains('\n', StringComparison.Ordinal) || message.Length > 400)
        {
            throw new InvalidOperationException("failure message is not one short line");
        }
    }

    private static void Check(TraceReport report, Profile? profile)
    {
        if (report.Histogram is TraceHistogram h)
        {
            long sum = 0;
            long? previousHigh = null;
            for (int i = 0; i < h.Buckets.Count; i++)
            {
                TraceBucket b = h.Buckets[i];
                if (b.Count < 0 || (b.Low is long lo && b.High is long hi && lo > hi) || (i > 0 && (b.Low is null || previousHigh is null || b.Low <= previousHigh)))
                {
                    throw new InvalidOperationException($"histogram bucket {i} out of order or negative");
                }

                sum = sum > long.MaxValue - b.Count ? long.MaxValue : sum + b.Count;
                previousHigh = b.High;
            }

            if (sum != h.Count)
            {
                throw new InvalidOperationException("histogram count is not the sum of its buckets");
            }
        }

        if (report.Syscalls is List<SyscallRow> rows)
        {
            for (int i = 1; i < rows.Count; i++)
            {
                if (rows[i].Count > rows[i - 1].Count || rows[i].Count < 0 || rows[i].TotalMicroseconds < 0)
                {
                    throw new InvalidOperationException("syscall rows not sorted by count or negative");
                }
            }
        }

        if (profile is not null)
        {
            long total = 0;
            for (int i = 0; i < profile.SampleCount; i++)
            {
                long v = profile.Value(i);
                if (v <= 0)
                {
                    throw new InvalidOperationException("offcpu sample with a non-positive value");
                }

                total += v;
            }

            if (total != report.OffCpuTotalMicroseconds)
            {
                throw new InvalidOperationException("offcpu total differs from the sum of its samples");
            }
        }
    }
}
