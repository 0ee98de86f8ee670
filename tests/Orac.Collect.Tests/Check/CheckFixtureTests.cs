using Orac.Collect.Check;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Check;

/// <summary>
/// Each fixture scenario under tests/data/check is two snapshots 10 s apart (written by generate.py
/// there); the figures below are worked out by hand from those counters.
/// </summary>
public class CheckFixtureTests
{
    private static string Dir(string scenario) => Path.Combine(TestPaths.Data, "check", scenario);

    internal static CheckReport Load(string scenario)
    {
        string d = Dir(scenario);
        return CheckAnalyzer.Compare(Snapshot.Read(Path.Combine(d, "t0")), Snapshot.Read(Path.Combine(d, "t1")), 10, Snapshot.ReadKmsg(Path.Combine(d, "t1")));
    }

    private static string[] Rules(CheckReport r) => [.. r.Problems.Select(p => p.Rule).Order(StringComparer.Ordinal)];

    [Fact]
    public void Healthy_ExactFiguresAndNoProblems()
    {
        CheckReport r = Load("healthy");
        Assert.Empty(r.Problems);
        Assert.False(r.Partial, string.Join("; ", r.PartialReasons));
        Assert.Empty(r.Notes);
        Assert.Equal("window", r.Mode);
        Assert.Equal(2, r.Cpus);

        Assert.Equal(12.5, r.CpuAll!.UtilizationPercent);
        Assert.Equal(7.5, r.CpuAll.UserPercent);
        Assert.Equal(5.0, r.CpuAll.SystemPercent);
        Assert.Equal(0.5, r.CpuAll.IowaitPercent);
        Assert.Equal(87.0, r.CpuAll.IdlePercent);
        Assert.Equal([15.0, 10.0], r.PerCpu.Select(c => c.UtilizationPercent));
        Assert.Equal(5.0, r.CpuImbalancePoints);
        Assert.Equal(500.0, r.Load!.ContextSwitchesPerSecond);
        Assert.Equal(2.0, r.Load.ForksPerSecond);
        Assert.Equal(1.0, r.Load.RunQueueTasks);
        Assert.Equal("steady", r.Load.Trend);

        PressureFigures cpu = r.Pressure.Single(p => p.Resource == "cpu");
        Assert.Equal(1.0, cpu.SomeWindowPercent);
        Assert.Equal(0.5, cpu.SomeAvg10Percent);

        Assert.Equal(75.0, r.Memory!.AvailablePercent);
        Assert.Equal(5859.38, r.Memory.AvailableMiB);
        Assert.Equal(0.0, r.Memory.SwapInPagesPerSecond);
        Assert.Equal(100.0, r.Memory.PageInKiBPerSecond);
        Assert.Equal(1.0, r.Memory.MajorFaultsPerSecond);
        Assert.Equal(0, r.Memory.OomKills);

        // sda1 is a partition and loop0 a loop device: only the whole disk is shown.
        DiskFigures sda = Assert.Single(r.Disks);
        Assert.Equal("sda", sda.Name);
        Assert.Equal(10.0, sda.ReadIops);
        Assert.Equal(40.0, sda.WriteIops);
        Assert.Equal(0.1, sda.ReadMiBPerSecond);
        Assert.Equal(1.0, sda.WriteMiBPerSecond);
        Assert.Equal(2.0, sda.AwaitMs);
        Assert.Equal(10.0, sda.UtilizationPercent);
        Assert.Equal(0.1, sda.QueueDepth);

        NetFigures eth0 = Assert.Single(r.Networks); // lo is left out
        Assert.Equal(1.0, eth0.RxMiBPerSecond);
        Assert.Equal(0.5, eth0.TxMiBPerSecond);
        Assert.Equal(1000.0, eth0.RxPacketsPerSecond);
        Assert.Equal(1000, eth0.SpeedMbps);
        Assert.Equal(0.84, eth0.UtilizationPercent);
        Assert.Equal(0UL, eth0.Errors);

        Assert.Equal(0.1, r.Tcp!.RetransmitPercent);
        Assert.Equal(5.0, r.Tcp.ActiveOpensPerSecond);
        Assert.Equal(10.0, r.Tcp.PassiveOpensPerSecond);
        Assert.Equal(2.0, r.Tcp.ResetsSentPerSecond);
        Assert.Equal(1, r.Tcp.EstablishedResets);
        Assert.Equal(2, r.Tcp.AttemptFails);
        Assert.Equal(42, r.Tcp.Established);

        Assert.Equal(2048UL, r.Files!.InUse);
        Assert.Equal(0.2, r.Files.UsedPercent);

        Assert.Equal(["nginx", "postgres"], r.TopCpu.Select(p => p.Command));
        Assert.Equal(5.0, r.TopCpu[0].CpuPercent);
        Assert.Equal(100.0, r.TopMemory[0].RssMiB);

        Assert.True(r.KernelErrors.Readable);
        Assert.Equal(0, r.KernelErrors.Count);
        Assert.All(r.Use, u => Assert.Equal("ok", u.Flag));
    }

    [Fact]
    public void CpuSaturated_FlagsUtilizationRunQueuePressureAndKernelError()
    {
        CheckReport r = Load("cpu-saturated");
        Assert.Equal(["cpu-pressure", "cpu-runqueue", "cpu-util", "kernel-errors"], Rules(r));
        Assert.Equal(4, r.Cpus);
        Assert.Equal(99.0, r.CpuAll!.UtilizationPercent);
        Assert.Equal(10.0, r.Load!.RunQueueTasks);
        Assert.Equal("rising", r.Load.Trend);
        Assert.Equal(30.0, r.Pressure.Single(p => p.Resource == "cpu").SomeWindowPercent);

        // The command holds spaces and parentheses; 3000 ticks in 10 s is three CPUs.
        ProcessFigures top = r.TopCpu[0];
        Assert.Equal((4242, "my (app) x", 300.0, 200.0), (top.Pid, top.Command, top.CpuPercent, top.RssMiB));

        // One err message 5 s ago; the err one 4000 s ago is outside the hour and the warning is below err.
        Assert.Equal(1, r.KernelErrors.Count);
        KernelMessage m = Assert.Single(r.KernelErrors.Recent);
        Assert.Equal(5.0, m.AgeSeconds);
        Assert.Equal("err", m.Priority);
        Assert.StartsWith("mce: [Hardware Error]", m.Message, StringComparison.Ordinal);
        Assert.Equal("PROBLEM", r.Use.Single(u => u.Resource == "CPU").Flag);
    }

    [Fact]
    public void CpuImbalance_FlagsOneHotCpuAndSteal()
    {
        CheckReport r = Load("cpu-imbalance");
        Assert.Equal(["cpu-imbalance", "cpu-steal"], Rules(r));
        Assert.Equal(42.5, r.CpuAll!.UtilizationPercent);
        Assert.Equal(11.25, r.CpuAll.StealPercent);
        Assert.Equal([95.0, 25.0, 25.0, 25.0], r.PerCpu.Select(c => c.UtilizationPercent));
        Assert.Equal(70.0, r.CpuImbalancePoints);
        Assert.Equal((777, 95.0), (r.TopCpu[0].Pid, r.TopCpu[0].CpuPercent));
    }

    [Fact]
    public void KernelLog_Missing_IsNotApplicableWithTheReason()
    {
        string d = Dir("healthy");
        CheckReport r = CheckAnalyzer.Compare(Snapshot.Read(Path.Combine(d, "t0")), Snapshot.Read(Path.Combine(d, "t1")), 10, Snapshot.ReadKmsg(Path.Combine(TestPaths.Data, "check")));
        Assert.False(r.KernelErrors.Readable);
        Assert.EndsWith("dev/kmsg: not present", r.KernelErrors.Reason, StringComparison.Ordinal);
        Assert.Equal("n/a", r.Use.Single(u => u.Resource == "kernel log").Flag);
        Assert.Contains("kernel log: not read (", CheckText.Render(r), StringComparison.Ordinal);
    }

    [Fact]
    public void Swapping_FlagsAvailableSwapInPressureAndOomKill()
    {
        CheckReport r = Load("swapping");
        Assert.Equal(["memory-available", "memory-oom", "memory-pressure", "memory-swapin"], Rules(r));
        MemoryFigures m = r.Memory!;
        Assert.Equal(5.0, m.AvailablePercent);
        Assert.Equal(1024.0, m.SwapUsedMiB);
        Assert.Equal(500.0, m.SwapInPagesPerSecond);
        Assert.Equal(200.0, m.SwapOutPagesPerSecond);
        Assert.Equal(300.0, m.MajorFaultsPerSecond);
        Assert.Equal(1, m.OomKills);
        PressureFigures p = r.Pressure.Single(p => p.Resource == "memory");
        Assert.Equal(25.0, p.SomeWindowPercent);
        Assert.Equal(10.0, p.FullWindowPercent);
    }

    [Fact]
    public void DiskSaturated_FlagsUtilizationAwaitAndIoPressure()
    {
        CheckReport r = Load("disk-saturated");
        Assert.Equal(["disk-await", "disk-util", "io-pressure"], Rules(r));
        DiskFigures d = Assert.Single(r.Disks);
        Assert.Equal(200.0, d.ReadIops);
        Assert.Equal(300.0, d.WriteIops);
        Assert.Equal(20.0, d.ReadMiBPerSecond);
        Assert.Equal(30.0, d.WriteMiBPerSecond);
        Assert.Equal(100.0, d.AwaitMs);
        Assert.Equal(95.0, d.UtilizationPercent);
        Assert.Equal(50.0, d.QueueDepth);
        Assert.Equal(5.0, r.Load!.BlockedTasks);
        Assert.Equal(60.0, r.CpuAll!.IowaitPercent);
        Assert.Equal(15.0, r.CpuAll.UtilizationPercent);
        Assert.Equal(40.0, r.Pressure.Single(p => p.Resource == "io").SomeWindowPercent);
    }

    [Fact]
    public void Network_FlagsLinkErrorsDropsRetransmitsAndFileHandles_AndSkipsAWrappedCounter()
    {
        CheckReport r = Load("network");
        Assert.Equal(["fd-util", "net-drops", "net-errors", "net-util", "tcp-retransmits"], Rules(r));
        NetFigures eth0 = Assert.Single(r.Networks);
        Assert.Equal("eth0", eth0.Name);
        Assert.Equal(3UL, eth0.Errors);
        Assert.Equal(7UL, eth0.Drops);
        Assert.Equal(90.0, eth0.UtilizationPercent);
        Assert.Equal(10.73, eth0.TxMiBPerSecond);
        Assert.Equal(2.5, r.Tcp!.RetransmitPercent);
        Assert.Equal(89.0, r.Files!.UsedPercent);

        // eth1's rx_bytes went from 4294967000 to 1000: no negative rate, a note instead.
        Assert.Contains(r.Notes, n => n.Contains("eth1", StringComparison.Ordinal) && n.Contains("backwards", StringComparison.Ordinal));
    }

    [Fact]
    public void Damaged_IsPartialWithFileAndLine_AndNeverNegative()
    {
        CheckReport r = Load("damaged");
        Assert.True(r.Partial);
        Assert.Contains(r.PartialReasons, p => p.EndsWith("diskstats:4: expected an unsigned number in '   8       0 sda 12 x\\xff 3'", StringComparison.Ordinal));
        Assert.Contains(r.PartialReasons, p => p.Contains("net/snmp: not present", StringComparison.Ordinal));
        Assert.Contains(r.PartialReasons, p => p.Contains("pressure/cpu: not present", StringComparison.Ordinal));
        Assert.Empty(r.Disks);
        Assert.Equal("n/a", r.Use.Single(u => u.Resource == "disks (all)").Flag);
        Assert.Null(r.Tcp);
        Assert.Empty(r.Pressure);

        Assert.Null(r.Memory!.SwapInPagesPerSecond);
        Assert.Contains(r.Notes, n => n.Contains("pswpin went backwards", StringComparison.Ordinal));
        Assert.Contains("1 process entries skipped: malformed /proc/PID/stat or statm", r.Notes);
        Assert.Contains("3 kernel log records skipped: malformed", r.Notes);
        Assert.Equal(1, r.KernelErrors.Count);

        string text = CheckText.Render(r);
        Assert.StartsWith("orac check: 2 CPUs", text, StringComparison.Ordinal);
        Assert.Contains("PARTIAL: some files could not be read:", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MemInfoUnreadable_PagingAndOomKillsStillReported()
    {
        string d = Dir("swapping");
        Snapshot t1 = Snapshot.Read(Path.Combine(d, "t1"));
        t1.MemInfo = null;
        CheckReport r = CheckAnalyzer.Compare(Snapshot.Read(Path.Combine(d, "t0")), t1, 10, (null, 0, "not read"));
        Assert.Null(r.Memory!.AvailablePercent);
        Assert.Equal(500.0, r.Memory.SwapInPagesPerSecond);
        Assert.Equal(1, r.Memory.OomKills);
        Assert.Equal(["memory-oom", "memory-pressure", "memory-swapin"], Rules(r));
        Assert.Contains("memory: n/a MiB available", CheckText.Render(r), StringComparison.Ordinal);
    }

    [Fact]
    public void SinceBoot_DividesCountersByUptime()
    {
        Snapshot t1 = Snapshot.Read(Path.Combine(Dir("healthy"), "t1"));
        CheckReport r = CheckAnalyzer.Compare(null, t1, t1.Uptime!.Value, Snapshot.ReadKmsg(Path.Combine(Dir("healthy"), "t1")));
        Assert.Equal("since-boot", r.Mode);
        Assert.Equal(1010.0, r.WindowSeconds);
        Assert.Equal(Math.Round(905000 / 1010.0, 2), r.Load!.ContextSwitchesPerSecond);

        // cpu all since boot: user+nice 90150+200, system 41100, idle 811740, iowait 1910, softirq 900.
        double total = 90150 + 200 + 41100 + 811740 + 1910 + 900;
        Assert.Equal(Math.Round(100.0 * (total - 811740 - 1910) / total, 2), r.CpuAll!.UtilizationPercent);
        Assert.Contains("since boot", CheckText.Render(r), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu-saturated")]
    [InlineData("network")]
    [InlineData("damaged")]
    public void TextReport_MatchesGolden(string scenario)
    {
        // The damaged scenario's partial reasons carry the fixture path; make it relative to the repo.
        string text = CheckText.Render(Load(scenario)).Replace(TestPaths.RepoRoot + "/", "", StringComparison.Ordinal);
        Golden.AssertMatches(Path.Combine(TestPaths.Data, "check", scenario + ".expected.txt"), text);
    }

    [Fact]
    public void Compare_RejectsANonPositiveWindow()
    {
        Snapshot t1 = Snapshot.Read(Path.Combine(Dir("healthy"), "t1"));
        Assert.Throws<Orac.Model.OracException>(() => CheckAnalyzer.Compare(t1, t1, 0, (null, 0, "none")));
    }
}
