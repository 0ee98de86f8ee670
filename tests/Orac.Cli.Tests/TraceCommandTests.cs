using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>The <c>orac trace</c> verb: catalogue, usage errors, missing bpftrace, and two real runs.</summary>
public class TraceCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var err = new StringWriter();
        var stdout = new MemoryStream();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = stdout, Error = err };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), err.ToString());
    }

    private static void SkipUnlessBpftrace()
    {
        Skip.If(Orac.Collect.Trace.BpftraceRunner.Resolve("bpftrace") is null, "SKIPPED: bpftrace is not installed (apt-get install bpftrace)");
        Skip.If(Environment.UserName != "root", "SKIPPED: not running as root; bpftrace needs root or CAP_BPF+CAP_PERFMON");
    }

    [Fact]
    public void NoTool_ListsTheCatalogue()
    {
        (int code, string stdout, _) = Run("trace");

        Assert.Equal(0, code);
        foreach (string tool in new[] { "runqlat", "biolatency", "syscount", "execsnoop", "offcpu" })
        {
            Assert.Contains($"  {tool} ", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnknownTool_IsUsageErrorListingTools()
    {
        (int code, _, string err) = Run("trace", "rm-rf");

        Assert.Equal(2, code);
        Assert.Equal("orac: trace: unknown tool 'rm-rf' (one of runqlat, biolatency, syscount, execsnoop, offcpu) (see 'orac trace --help')\n", err);
    }

    [Theory]
    [InlineData("trace runqlat -d 0", "-d needs whole seconds from 1 to 3600, got 0")]
    [InlineData("trace biolatency -p 12", "biolatency has no process filter")]
    [InlineData("trace runqlat -o x.svg", "-o names the flame graph file, which only offcpu writes")]
    [InlineData("trace syscount -p -3", "-p needs a positive process id, got -3")]
    public void BadOptions_AreUsageErrors(string line, string message)
    {
        (int code, _, string err) = Run(line.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingBpftrace_OneLineExitOne()
    {
        (int code, string stdout, string err) = Run("trace", "runqlat", "--bpftrace", "/nonexistent/bpftrace");

        Assert.Equal(1, code);
        Assert.Equal("orac: bpftrace is not installed: apt-get install bpftrace\n", err);
        Assert.Empty(stdout);
    }

    [SkippableFact]
    public void Runqlat_Json_HasHistogramWithUnit()
    {
        SkipUnlessBpftrace();

        (int code, string stdout, string err) = Run("trace", "runqlat", "-d", "1", "--json");

        Assert.True(code == 0, err);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement h = doc.RootElement.GetProperty("histogram");
        Assert.Equal("runqlat", doc.RootElement.GetProperty("tool").GetString());
        Assert.Equal("microseconds", h.GetProperty("unit").GetString());
        Assert.True(h.GetProperty("count").GetInt64() > 0);
        Assert.True(h.GetProperty("buckets").GetArrayLength() > 0);
    }

    [SkippableFact]
    public void Offcpu_WritesFlameGraphAndTable()
    {
        SkipUnlessBpftrace();
        string svg = Path.Combine(Path.GetTempPath(), $"orac-offcpu-{Environment.ProcessId}.svg");
        try
        {
            (int code, string stdout, string err) = Run("trace", "offcpu", "-d", "1", "-o", svg, "--folded", svg + ".folded");

            Assert.True(code == 0, err);
            Assert.Contains("off-CPU (µs)", stdout, StringComparison.Ordinal);
            Assert.Contains($"flame graph (off-CPU µs): {svg}", stdout, StringComparison.Ordinal);
            string text = File.ReadAllText(svg);
            Assert.StartsWith("<?xml", text, StringComparison.Ordinal);
            Assert.Contains("Off-CPU Time Flame Graph", text, StringComparison.Ordinal);
            Assert.Contains("__schedule", text, StringComparison.Ordinal);
            string[] folded = File.ReadAllLines(svg + ".folded");
            Assert.NotEmpty(folded);
            Assert.All(folded, l => Assert.Matches(@"^[^;]+;.+ [1-9][0-9]*$", l));
        }
        finally
        {
            File.Delete(svg);
            File.Delete(svg + ".folded");
        }
    }

    [SkippableFact]
    public void NotRoot_OneLineExitOne()
    {
        SkipUnlessBpftrace();
        Skip.If(!File.Exists("/usr/bin/setpriv"), "SKIPPED: setpriv (util-linux) is not installed, so the test cannot drop root");
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: orac is not built at " + TestPaths.OracBinary);
        var psi = new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.OracBinary, "trace", "runqlat", "-d", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();

        Skip.If(err.Contains("Permission denied", StringComparison.Ordinal) && !err.StartsWith("orac:", StringComparison.Ordinal), "SKIPPED: user nobody cannot run the orac binary under " + TestPaths.OracBinary + ": " + err.Trim());
        Assert.Equal("orac: bpftrace needs root or CAP_BPF+CAP_PERFMON (run orac trace as root)\n", err);
        Assert.Equal(1, p.ExitCode);
        Assert.Empty(stdout);
    }
}
