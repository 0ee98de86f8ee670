using System.Text;
using Orac.Formats.Perf;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Perf;

/// <summary>
/// One small input per stackcollapse-perf.pl behaviour in tests/data/perf (NAME.txt), with the
/// expected folded output beside it (NAME[.variant].folded). A failing case writes
/// NAME[.variant].received.folded next to the golden file; copy it over the golden file to accept.
/// </summary>
public class PerfBehaviourTests
{
    private static string Dir => Path.Combine(TestPaths.Data, "perf");

    [Theory]
    [InlineData("kernel-annotation", "", "")]
    [InlineData("kernel-annotation", ".kernel", "--kernel")]
    [InlineData("jit-annotation", "", "")]
    [InlineData("jit-annotation", ".jit", "--jit")]
    [InlineData("jit-annotation", ".all", "--all")]
    [InlineData("pid-tid", ".pid", "--pid")]
    [InlineData("pid-tid", ".tid", "--tid")]
    [InlineData("event-filter", "", "")]
    [InlineData("event-filter", ".instructions", "--event-filter=instructions")]
    [InlineData("period-weighting", "", "")]
    [InlineData("no-trailing-blank-line", "", "")]
    [InlineData("frameless-sample", "", "")]
    [InlineData("offsets", "", "")]
    [InlineData("unknown-frames", "", "")]
    [InlineData("unknown-frames", ".addrs", "--addrs")]
    [InlineData("java-inline", "", "")]
    [InlineData("java-inline", ".pid", "--pid")]
    [InlineData("tidy-names", "", "")]
    [InlineData("garbage-comm", "", "")]
    [InlineData("missing-blank-lines", "", "")]
    [InlineData("header-and-junk", "", "")]
    public void Collapse_MatchesGolden(string name, string variant, string args)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(Dir, name + ".txt"));
        string golden = Path.Combine(Dir, name + variant + ".folded");
        PerfCollapseOptions options = PerfTestSupport.Options(ShellWords.Split(args));
        byte[] actual = PerfTestSupport.ViaCollapse(input, options);
        byte[] expected = File.Exists(golden) ? File.ReadAllBytes(golden) : [];
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            string received = Path.Combine(Dir, name + variant + ".received.folded");
            File.WriteAllBytes(received, actual);
            PerfTestSupport.AssertSameBytes(expected, actual, $"{name}{variant} (wrote {received}; copy it to {golden} to accept)");
        }

        // Every thread count, every block size and the library path agree.
        PerfTestSupport.AssertSameBytes(actual, PerfTestSupport.ViaProfile(input, options), "library path");
        // (Blocks stay above twice the longest line: longer lines are skipped by design.)
        PerfTestSupport.AssertSameBytes(actual, PerfTestSupport.ViaCollapse(input, options with { Threads = 2, BlockSize = 600 }), "2 threads, 600-byte blocks");
        PerfTestSupport.AssertSameBytes(actual, PerfTestSupport.ViaCollapse(input, options with { Threads = 3, BlockSize = 1024 }), "3 threads, 1 KiB blocks");
    }

    [Fact]
    public void FirstEventType_IsKept_AndOthersAreCounted()
    {
        var warnings = new ParseWarnings();
        PerfTestSupport.ViaCollapse(File.ReadAllBytes(Path.Combine(Dir, "event-filter.txt")), new PerfCollapseOptions(), warnings);
        Assert.Equal(2, warnings.Total);
        var text = new StringWriter();
        warnings.WriteTo(text);
        Assert.Contains("'cycles'", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("input:4", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LastSampleWithoutBlankLine_IsDroppedWithWarning()
    {
        var warnings = new ParseWarnings();
        byte[] output = PerfTestSupport.ViaCollapse(File.ReadAllBytes(Path.Combine(Dir, "no-trailing-blank-line.txt")), new PerfCollapseOptions(), warnings);
        Assert.Equal("app;kept 10\n", Encoding.UTF8.GetString(output));
        Assert.Equal(1, warnings.Total);
    }

    [Fact]
    public void SeveralFiles_AreOneStream()
    {
        // The first file ends inside a sample and without a newline; perl's <> continues it in the next file.
        byte[] a = "prog 1 [000] 1.0: 5 cycles: \n\t1 leaf (/bin/prog)"u8.ToArray();
        byte[] b = "\t1 root (/bin/prog)\n\nprog 1 [000] 2.0: 5 cycles: \n\t1 other (/bin/prog)\n\n"u8.ToArray();
        foreach (int threads in (int[])[1, 2])
        {
            var o = new MemoryStream();
            PerfScriptCollapser.Collapse([new MemoryStream(a), new MemoryStream(b)], ["a", "b"], new PerfCollapseOptions { Threads = threads }, new ParseWarnings(), o);
            Assert.Equal("prog;other 5\nprog;root;leaf 5\n", Encoding.UTF8.GetString(o.ToArray()));
        }
    }

    [Fact]
    public void Profile_HasCommRootAndPeriodValues()
    {
        Profile p = PerfScriptCollapser.Read(new MemoryStream(File.ReadAllBytes(Path.Combine(Dir, "kernel-annotation.txt"))), "k", new PerfCollapseOptions(), new ParseWarnings());
        Assert.Equal(2, p.SampleCount);
        Assert.Equal(2002002, p.Total());
        Assert.Equal("cpu-clock:ppp", p.SampleTypes[0].Type);
        Assert.Equal("nanoseconds", p.SampleTypes[0].Unit);
        var stacks = new List<string>();
        for (int r = 0; r < p.SampleCount; r++)
        {
            stacks.Add(p.StackToString(p.SampleStacks[r]));
        }

        Assert.Contains("swapper;do_idle;native_safe_halt", stacks);
    }

    [Theory]
    [InlineData("kernel-annotation", true)]
    [InlineData("header-and-junk", true)]
    [InlineData("frameless-sample", true)]
    public void LooksLikePerfScript_AcceptsPerfScript(string name, bool expected)
        => Assert.Equal(expected, PerfScriptCollapser.LooksLikePerfScript(File.ReadAllBytes(Path.Combine(Dir, name + ".txt"))));

    [Fact]
    public void LooksLikePerfScript_RejectsFoldedAndJunk()
    {
        Assert.False(PerfScriptCollapser.LooksLikePerfScript("main;foo;bar 12\nmain;baz 3\n"u8));
        Assert.False(PerfScriptCollapser.LooksLikePerfScript("{\"json\": true}\n"u8));
        Assert.False(PerfScriptCollapser.LooksLikePerfScript(""u8));
    }
}
