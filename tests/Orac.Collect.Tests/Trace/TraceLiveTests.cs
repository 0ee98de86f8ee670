using System.Diagnostics;
using Orac.Collect.Trace;
using Orac.Model;

namespace Orac.Collect.Tests.Trace;

/// <summary>
/// Every catalogue tool run for real through bpftrace (root), each with a workload the test starts
/// once bpftrace says its probes are attached. Skipped, saying why, without bpftrace or root.
/// </summary>
public class TraceLiveTests
{
    private static void SkipUnlessBpftrace()
    {
        Skip.If(BpftraceRunner.Resolve("bpftrace") is null, "SKIPPED: bpftrace is not installed (apt-get install bpftrace)");
        Skip.If(Environment.UserName != "root", "SKIPPED: not running as root; bpftrace needs root or CAP_BPF+CAP_PERFMON");
    }

    private static (TraceReport Report, Profile? Profile, TraceRun Run) Trace(string tool, int seconds, int pid, Action? onAttached, CancellationToken cancel = default)
    {
        TraceTool t = TraceCatalogue.Find(tool)!;
        var options = new TraceRunOptions { DurationSeconds = seconds, Pid = pid, OnAttached = onAttached };
        TraceRun run = BpftraceRunner.Run(t, options, cancel);
        (TraceReport report, Profile? profile) = TraceRender.Build(t, run, options);
        return (report, profile, run);
    }

    private static void Spawn(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })!;
        p.WaitForExit();
    }

    private static void AssertWellFormed(TraceHistogram h)
    {
        Assert.Equal("microseconds", h.Unit);
        Assert.True(h.Count > 0, "no events in the histogram");
        Assert.Equal(h.Count, h.Buckets.Sum(b => b.Count));
        for (int i = 1; i < h.Buckets.Count; i++)
        {
            Assert.True(h.Buckets[i].Low > h.Buckets[i - 1].High, $"bucket {i} overlaps the one before");
        }
    }

    [SkippableFact]
    public void Runqlat_WithForkLoop_GivesHistogram()
    {
        SkipUnlessBpftrace();

        (TraceReport r, _, TraceRun run) = Trace("runqlat", 1, 0, () => Spawn("/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"));

        Assert.True(run.Output.AttachedProbes > 0);
        AssertWellFormed(r.Histogram!);
        Assert.Contains("microseconds: log2 buckets [low, high] inclusive", TraceRender.Render(r), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Biolatency_WithDirectWrites_GivesHistogram()
    {
        SkipUnlessBpftrace();
        string file = Path.Combine("/var/tmp", $"orac-biolatency-{Environment.ProcessId}");
        try
        {
            (TraceReport r, _, _) = Trace("biolatency", 1, 0, () =>
                Spawn("/bin/dd", "if=/dev/zero", $"of={file}", "bs=4k", "count=64", "oflag=direct,sync", "status=none"));

            Skip.If(r.Histogram!.Count == 0, "SKIPPED: no block request completed during the run: /var/tmp is not on a block device with block_rq tracepoints here");
            AssertWellFormed(r.Histogram);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void Syscount_FilteredToAShell_GivesItsSyscalls()
    {
        SkipUnlessBpftrace();
        using var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "i=0; while [ $i -lt 600 ]; do /bin/true; sleep 0.05; i=$((i+1)); done"]) { UseShellExecute = false })!;
        try
        {
            (TraceReport r, _, _) = Trace("syscount", 1, shell.Id, null);

            List<SyscallRow> rows = r.Syscalls!;
            Assert.NotEmpty(rows);
            Assert.Contains(rows, x => x.Name is "wait4" or "clone" or "clone3" or "vfork" or "fork");
            Assert.All(rows, x => Assert.True(x.Count > 0 && x.TotalMicroseconds >= 0 && x.Name.Length > 0));
            Assert.Equal(shell.Id, r.Pid);
        }
        finally
        {
            shell.Kill();
            shell.WaitForExit();
        }
    }

    [SkippableFact]
    public void Execsnoop_ChildrenOfThisProcess_ShowsTheMarkerExec()
    {
        SkipUnlessBpftrace();
        string marker = $"orac-trace-{Guid.NewGuid():N}"[..24];

        (TraceReport r, _, _) = Trace("execsnoop", 1, Environment.ProcessId, () => Spawn("/bin/echo", marker));

        ExecRow row = Assert.Single(r.Execs!, x => x.Args.Contains(marker, StringComparison.Ordinal));
        Assert.Equal(Environment.ProcessId, row.ParentPid);
        Assert.Equal("/bin/echo " + marker, row.Args);
        Assert.All(r.Execs!, x => Assert.Equal(Environment.ProcessId, x.ParentPid));
    }

    [SkippableFact]
    public void Offcpu_WithSleep_ChargesTheSleepToItsStack()
    {
        SkipUnlessBpftrace();

        (TraceReport r, Profile? profile, _) = Trace("offcpu", 2, 0, () => Spawn("/bin/sleep", "0.3"));

        Assert.NotNull(profile);
        Assert.Equal("offcpu/microseconds", profile.SampleTypes[0].ToString());
        long sleep = 0;
        for (int i = 0; i < profile.SampleCount; i++)
        {
            string stack = profile.StackToString(profile.SampleStacks[i]);
            if (stack.StartsWith("sleep;", StringComparison.Ordinal) && stack.Contains("nanosleep", StringComparison.Ordinal))
            {
                sleep += profile.Value(i);
            }
        }

        Assert.InRange(sleep, 250_000, 2_000_000);
        Assert.NotEmpty(r.OffCpu!);
        Assert.Equal(profile.Total(), r.OffCpuTotalMicroseconds);
    }

    [SkippableFact]
    public void Interrupted_AfterAttach_StopsEarlyAndIsPartial()
    {
        SkipUnlessBpftrace();
        using var cts = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();

        (TraceReport r, _, TraceRun run) = Trace("runqlat", 60, 0, cts.Cancel, cts.Token);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.True(run.Interrupted);
        Assert.True(r.Partial);
        Assert.Contains(r.Notes, n => n.Contains("interrupted", StringComparison.Ordinal));
        Assert.NotNull(r.Histogram);
    }

    [Fact]
    public void MissingBpftrace_OneClearLine()
    {
        TraceTool t = TraceCatalogue.Find("runqlat")!;

        var e = Assert.Throws<OracException>(() => BpftraceRunner.Run(t, new TraceRunOptions { Bpftrace = "/nonexistent/bpftrace" }, default));

        Assert.Equal("bpftrace is not installed: apt-get install bpftrace", e.Message);
        Assert.Equal(OracException.Failure, e.ExitCode);
    }
}
