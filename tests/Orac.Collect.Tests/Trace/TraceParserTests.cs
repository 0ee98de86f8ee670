using System.Text;
using Orac.Collect.Trace;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Trace;

/// <summary>The bpftrace JSON parser and the tool tables on outputs recorded from bpftrace v0.17 on this VM.</summary>
public class TraceParserTests
{
    private static BpftraceOutput Fixture(string name) =>
        BpftraceOutput.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Data, "trace", name)));

    private static TraceReport Fill(string tool, BpftraceOutput output, out Profile? profile)
    {
        TraceTool t = TraceCatalogue.Find(tool)!;
        var report = new TraceReport { Tool = t.Name, Description = t.Description, DurationSeconds = 2 };
        profile = TraceResults.Fill(t, output, report);
        return report;
    }

    private static string Buckets(TraceHistogram h) =>
        string.Join(" ", h.Buckets.Select(b => $"[{b.Low},{b.High}]={b.Count}"));

    [Fact]
    public void Runqlat_RecordedOutput_GivesExactBuckets()
    {
        BpftraceOutput output = Fixture("runqlat.json");
        TraceReport r = Fill("runqlat", output, out _);

        Assert.Equal(4, output.AttachedProbes);
        Assert.Equal("microseconds", r.Histogram!.Unit);
        Assert.Equal("[1,1]=16 [2,3]=4 [4,7]=10 [8,15]=11 [16,31]=70 [32,63]=9 [64,127]=2", Buckets(r.Histogram));
        Assert.Equal(122, r.Histogram.Count);
        Assert.Equal(0, output.Warnings.Total);
    }

    [Fact]
    public void Biolatency_RecordedOutput_GivesExactBuckets()
    {
        TraceReport r = Fill("biolatency", Fixture("biolatency.json"), out _);

        Assert.Equal("[16,31]=18 [32,63]=1 [64,127]=2 [128,255]=2 [256,511]=2", Buckets(r.Histogram!));
        string text = TraceRender.Render(r);
        Assert.Contains("microseconds: log2 buckets [low, high] inclusive; 25 events", text, StringComparison.Ordinal);
        Assert.Contains("[16, 31]     18  |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Syscount_RecordedOutput_RowsByCountWithNamesAndMicroseconds()
    {
        BpftraceOutput output = Fixture("syscount.json");
        TraceReport r = Fill("syscount", output, out _);
        List<SyscallRow> rows = r.Syscalls!;

        Assert.Equal(44, rows.Count);
        Assert.Equal(("fstat", 5L, 80L, 420L), (rows[0].Name, rows[0].Number, rows[0].Count, rows[0].TotalMicroseconds));
        Assert.Equal(("newfstatat", 262L, 76L), (rows[1].Name, rows[1].Number, rows[1].Count));
        Assert.Contains(rows, x => x.Name == "syscall_-1" && x.Count == 4);
        for (int i = 1; i < rows.Count; i++)
        {
            Assert.True(rows[i].Count <= rows[i - 1].Count);
        }

        Assert.Equal(0, output.Warnings.Total);
    }

    [Fact]
    public void Execsnoop_RecordedOutput_PairsHeaderAndArgs()
    {
        TraceReport r = Fill("execsnoop", Fixture("execsnoop.json"), out _);
        List<ExecRow> rows = r.Execs!;

        Assert.Equal(2, rows.Count);
        Assert.Equal((0.0, 6969, 6925, "bash", "sh -c ls / >/dev/null"), (rows[0].TimeMilliseconds, rows[0].Pid, rows[0].ParentPid, rows[0].Comm, rows[0].Args));
        Assert.Equal((1.444, 6984, 6969, "sh", "ls /"), (rows[1].TimeMilliseconds, rows[1].Pid, rows[1].ParentPid, rows[1].Comm, rows[1].Args));
    }

    [Fact]
    public void Offcpu_RecordedOutput_BuildsProfileRootFirst()
    {
        BpftraceOutput output = Fixture("offcpu.json");
        TraceReport r = Fill("offcpu", output, out Profile? profile);

        Assert.NotNull(profile);
        Assert.Equal(new SampleType("offcpu", "microseconds"), profile.SampleTypes[0]);
        Assert.Equal(301911 + 6 + 10 + 12 + 12, profile.Total());
        Assert.Equal(profile.Total(), r.OffCpuTotalMicroseconds);
        var stacks = Enumerable.Range(0, profile.SampleCount).ToDictionary(i => profile.StackToString(profile.SampleStacks[i]), i => profile.Value(i));
        Assert.Equal(
            301911,
            stacks["sleep;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_clock_nanosleep_[k];common_nsleep_[k];hrtimer_nanosleep_[k];do_nanosleep_[k];schedule_[k];__schedule_[k]"]);
        Assert.Equal(301911, r.OffCpu![0].Microseconds);
        Assert.Equal("sleep", r.OffCpu[0].Comm);
        Assert.StartsWith("do_nanosleep_[k] <- hrtimer_nanosleep_[k]", r.OffCpu[0].Stack, StringComparison.Ordinal);
        Assert.Equal(0, output.Warnings.Total);
    }

    [Fact]
    public void OffcpuKey_CommWithCommasSemicolonAndNewline_KeptWholeAsOneFrame()
    {
        string line = """{"type": "map", "data": {"@usecs": {"\n\tffffffff821f8b58 __schedule+1560\n\tffffffff8220043e do_nanosleep+94\n,a,b;x\nc": 7, ",empty stack": 2, "no stack here": 3}}}""";
        BpftraceOutput output = BpftraceOutput.Parse(Encoding.UTF8.GetBytes(line));
        Fill("offcpu", output, out Profile? profile);

        var stacks = Enumerable.Range(0, profile!.SampleCount).ToDictionary(i => profile.StackToString(profile.SampleStacks[i]), i => profile.Value(i));
        Assert.Equal(7, stacks["a,b:x\nc;do_nanosleep_[k];__schedule_[k]"]);
        Assert.Equal(2, stacks["empty stack;[stack unavailable]"]);
        Assert.Equal(2, stacks.Count);
        Assert.Equal(1, output.Warnings.Total);
    }

    [Fact]
    public void FrameName_PerfFormatLines_SymbolOnly()
    {
        Assert.Equal("schedule", TraceResults.FrameName("ffffffff821f94c3 schedule+35"));
        Assert.Equal("[unknown]", TraceResults.FrameName("7fab2475a3b8 0x7fab2475a3b8 ([unknown])"));
        Assert.Equal("main", TraceResults.FrameName("55d0 main+4 (/usr/bin/x)"));
        Assert.Equal("a:b", TraceResults.FrameName("1 a;b+1"));
    }

    [Theory]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 4, "max": 7, "count": 1}, {"min": 2, "max": 3, "count": 1}]}}""")]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 4, "max": 7, "count": -1}]}}""")]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 9, "max": 7, "count": 1}]}}""")]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 1, "max": 1, "count": 1.5}]}}""")]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 1, "count": 1}, {"min": 2, "max": 3, "count": 1}]}}""")]
    [InlineData("""{"type": "hist", "data": {"@usecs": [{"min": 1, "max": 1, "count": 1}""")]
    [InlineData("""not json at all""")]
    [InlineData("""{"type": "map", "data": {"@calls": {"5": 80.5}}}""")]
    [InlineData("""{"type": "map", "data": {"@calls": {"5": "eighty", "6": 1}}}""")]
    public void HostileLine_SkippedAndCounted_NothingKept(string line)
    {
        BpftraceOutput output = BpftraceOutput.Parse(Encoding.UTF8.GetBytes(line + "\n"));
        TraceReport r = Fill("runqlat", output, out _);

        Assert.Equal(1, output.Warnings.Total);
        Assert.Empty(r.Histogram!.Buckets);
        Assert.Empty(output.Maps);
    }

    [Fact]
    public void InvalidUtf8InString_KeptWithReplacementAndCounted()
    {
        // Found by the fuzz target: JsonElement.GetString threw InvalidOperationException on these bytes.
        byte[] line = [.. "{\"type\": \"printf\", \"data\": \"E\\t1\\t2\\t1\\tb"u8, 0xff, .. "\"}\n"u8];
        BpftraceOutput output = BpftraceOutput.Parse(line);

        Assert.Equal("E\t1\t2\t1\tb\uFFFD", Assert.Single(output.Printfs));
        Assert.Equal(1, output.Warnings.Total);
        TraceFuzz.Run(line);
    }

    [Fact]
    public void StackValuedHelperMap_PrintedOnSigint_IgnoredQuietly()
    {
        BpftraceOutput output = BpftraceOutput.Parse("""
            {"type": "map", "data": {"@kstk": {"14": "\n\tffffffff821f8b58 __schedule+1560\n"}}}
            {"type": "map", "data": {"@calls": {"5": 80}}}
            """u8);

        Assert.Equal(0, output.Warnings.Total);
        Assert.Equal(["@calls"], output.Maps.Keys);
    }

    [Fact]
    public void OpenBuckets_RenderAsInfinity()
    {
        BpftraceOutput output = BpftraceOutput.Parse("""{"type": "hist", "data": {"@usecs": [{"max": -1, "count": 2}, {"min": 0, "max": 0, "count": 1}, {"min": 8, "count": 3}]}}"""u8);
        TraceReport r = Fill("biolatency", output, out _);

        Assert.Equal("[,-1]=2 [0,0]=1 [8,]=3", Buckets(r.Histogram!));
        string text = TraceRender.Render(r);
        Assert.Contains("[-inf, -1]", text, StringComparison.Ordinal);
        Assert.Contains("[8, inf]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Execsnoop_ArgsWithoutHeader_CountedNotShown()
    {
        BpftraceOutput output = BpftraceOutput.Parse("""
            {"type": "printf", "data": "A\t12\tls -l\n"}
            {"type": "printf", "data": "E\t100\t13\t1\tbash\n"}
            {"type": "printf", "data": "garbage"}
            """u8);
        TraceReport r = Fill("execsnoop", output, out _);

        ExecRow row = Assert.Single(r.Execs!);
        Assert.Equal((13, ""), (row.Pid, row.Args));
        Assert.Equal(3, output.Warnings.Total);
    }

    [Fact]
    public void Failure_NotRoot_SaysPrivilegeNeeded()
    {
        string[] stderr = File.ReadAllLines(Path.Combine(TestPaths.Data, "trace", "stderr-not-root.txt"));

        Assert.Equal(BpftraceRunner.NotPermitted, BpftraceRunner.Failure("runqlat", 1, stderr));
    }

    [Fact]
    public void Failure_AttachError_QuotesFirstErrorLine()
    {
        string[] stderr = File.ReadAllLines(Path.Combine(TestPaths.Data, "trace", "stderr-attach-failure.txt"));

        Assert.Equal(
            "trace offcpu: bpftrace could not attach: ERROR: Error attaching probe: 'kprobe:no_such_function_xyz'",
            BpftraceRunner.Failure("offcpu", 255, stderr));
    }

    [Fact]
    public void Catalogue_EveryToolHasItsProgram()
    {
        Assert.Equal(["runqlat", "biolatency", "syscount", "execsnoop", "offcpu"], TraceCatalogue.All.Select(t => t.Name));
        foreach (TraceTool t in TraceCatalogue.All)
        {
            Assert.Contains("interval:s:$1", t.Program, StringComparison.Ordinal);
            Assert.Equal(t.TakesPid, t.Program.Contains("$2", StringComparison.Ordinal));
        }
    }
}
