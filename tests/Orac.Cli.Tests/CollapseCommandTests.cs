using System.Text;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

public class CollapseCommandTests
{
    private static readonly byte[] s_perf =
        "java 10 [000] 1.0: 5 cycles: \n\tffffffff81000001 do_syscall_64+0x10 ([kernel.kallsyms])\n\t7f00 Ljava/lang/Thread;::run+0x4 (/tmp/perf-10.map)\n\nsh 11/12 [001] 1.1: 7 cycles: \n\t400 main (/bin/sh)\n\n"u8.ToArray();

    private static (int Code, string Out, string Err) Run(byte[] stdin, params string[] args)
    {
        var output = new MemoryStream();
        var error = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(stdin), StdOut = output, Error = error };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(output.ToArray()), error.ToString());
    }

    [Fact]
    public void CollapsePerf_ReadsStdin_WritesFolded()
    {
        var (code, output, err) = Run(s_perf, "collapse", "perf");
        Assert.Equal(0, code);
        Assert.Equal("java;java/lang/Thread:::run;do_syscall_64 5\nsh;main 7\n", output);
        Assert.Equal("", err);
    }

    [Fact]
    public void CollapsePerf_Options_MatchThePerlFlags()
    {
        var (code, output, _) = Run(s_perf, "collapse", "perf", "--all", "--tid", "--threads", "1", "-");
        Assert.Equal(0, code);
        Assert.Equal("java-?/10;java/lang/Thread:::run_[j];do_syscall_64_[k] 5\nsh-11/12;main 7\n", output);
        (code, output, _) = Run(s_perf, "collapse", "perf", "-pid", "--event-filter=nothing");
        Assert.Equal(0, code);
        Assert.Equal("", output);
    }

    [Fact]
    public void CollapsePerf_WritesOutputFile_AndReportsWarnings()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orac-collapse-{Environment.ProcessId}.folded");
        try
        {
            byte[] input = [.. s_perf, .. "junk line\nsh 11 [001] 1.2: 1 cycles: \n\t400 main (/bin/sh)\n"u8];
            var (code, output, err) = Run(input, "collapse", "perf", "-o", path);
            Assert.Equal(0, code);
            Assert.Equal("", output);
            Assert.Equal("java;java/lang/Thread:::run;do_syscall_64 5\nsh;main 7\n", File.ReadAllText(path));
            Assert.Contains("orac: warning: 1 lines that are not perf script ignored (first at <stdin>:8)", err, StringComparison.Ordinal);
            Assert.Contains("incomplete last sample dropped", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { "collapse" }, "missing input format")]
    [InlineData(new[] { "collapse", "dtrace" }, "unknown input format 'dtrace'")]
    [InlineData(new[] { "collapse", "perf", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "collapse", "perf", "--threads", "x" }, "needs an integer")]
    public void Collapse_UsageErrors_Exit2(string[] args, string message)
    {
        var (code, output, err) = Run([], args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void CollapsePerf_MissingFile_IsOneLineFailure()
    {
        var (code, _, err) = Run([], "collapse", "perf", "/nonexistent/perf.txt");
        Assert.Equal(1, code);
        Assert.Equal("orac: /nonexistent/perf.txt: no such file or directory\n", err.Replace("\r", "", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void CollapsePerf_GzipCorpusFile_MatchesPerl()
    {
        Skip.If(TestPaths.Corpus is null, TestPaths.CorpusMissing);
        string corpus = TestPaths.Corpus!;
        var (code, output, _) = Run([], "collapse", "perf", "--all", Path.Combine(corpus, "FlameGraph", "example-perf-stacks.txt.gz"));
        Assert.Equal(0, code);
        Assert.Equal(File.ReadAllText(Path.Combine(corpus, "generated", "FlameGraph-41fee1f", "collapse-perf", "example-perf-stacks-collapsed-all.txt")), output);
    }
}
