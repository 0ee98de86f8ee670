using Orac.Collect.Check;

namespace Orac.Collect.Tests.Check;

/// <summary>The live /proc of the machine running the tests, over a 1-second window: figures in range.</summary>
public class CheckLiveTests
{
    [SkippableFact]
    public void LiveProc_OneSecondWindow_FiguresInRange()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/proc/stat"), "needs a Linux /proc");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        Snapshot t0 = Snapshot.Read("/", pageSize: Environment.SystemPageSize);
        Thread.Sleep(1000);
        double seconds = Snapshot.Seconds(start);
        Snapshot t1 = Snapshot.Read("/", pageSize: Environment.SystemPageSize);
        CheckReport r = CheckAnalyzer.Compare(t0, t1, seconds, Snapshot.ReadKmsg("/"));

        // Only PSI may be missing (kernels without CONFIG_PSI); everything else is readable here.
        Assert.All(r.PartialReasons, p => Assert.Contains("/proc/pressure/", p, StringComparison.Ordinal));
        Assert.Equal(Environment.ProcessorCount, r.Cpus);
        Assert.InRange(r.WindowSeconds, 1.0, 5.0);
        foreach (CpuFigures c in r.PerCpu.Append(r.CpuAll!))
        {
            foreach (double v in new[] { c.UtilizationPercent, c.UserPercent, c.SystemPercent, c.IowaitPercent, c.IrqPercent, c.StealPercent, c.IdlePercent })
            {
                Assert.InRange(v, 0, 100);
            }

            Assert.InRange(c.UtilizationPercent + c.IdlePercent + c.IowaitPercent, 99.9, 100.1);
        }

        Assert.True(r.Load!.RunQueueTasks >= 1, "procs_running counts the reader itself");
        Assert.True(r.Load.ContextSwitchesPerSecond > 0);
        Assert.InRange(r.Memory!.AvailablePercent!.Value, 0.01, 100);
        Assert.True(r.Memory.TotalMiB > 64);
        Assert.InRange(r.Files!.UsedPercent, 0, 100);
        Assert.All(r.Disks, d =>
        {
            Assert.InRange(d.UtilizationPercent, 0, 100);
            Assert.True(d.ReadIops >= 0 && d.WriteIops >= 0 && (d.AwaitMs ?? 0) >= 0);
            Assert.False(d.Name.StartsWith("loop", StringComparison.Ordinal));
        });
        Assert.DoesNotContain(r.Networks, n => n.Name == "lo");
        Assert.NotEmpty(r.TopMemory);
        Assert.All(r.TopCpu, p => Assert.InRange(p.CpuPercent, 0, 100.0 * Environment.ProcessorCount * 1.1));
        Assert.All(r.Pressure, p => Assert.InRange(p.SomeWindowPercent ?? 0, 0, 100));
        Assert.Contains(r.Use, u => u.Resource == "CPU");
        Assert.True(r.KernelErrors.Readable || r.KernelErrors.Reason is not null);
    }
}
