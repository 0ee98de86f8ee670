using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

public class CheckCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new MemoryStream();
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = stdout, Error = err };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), err.ToString());
    }

    private static string Scenario(string name) => Path.Combine(TestPaths.Data, "check", name);

    [SkippableFact]
    public void Check_OneSecond_PrintsTheUseTable()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs a Linux /proc");
        (int code, string output, string err) = Run("check", "-d", "1");
        Assert.Equal(0, code);
        Assert.Contains("sampling for 1 s", err, StringComparison.Ordinal);
        string[] lines = output.Split('\n');
        Assert.StartsWith($"orac check: {Environment.ProcessorCount} CPUs; rates and percentages over a ", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("resource ", StringComparison.Ordinal) && l.Contains("utilization", StringComparison.Ordinal) && l.TrimEnd().EndsWith("flag", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("CPU ", StringComparison.Ordinal) && l.Contains("% busy", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("memory ", StringComparison.Ordinal) && l.Contains("MiB available", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void CheckJson_OneSecond_ParsesBack()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs a Linux /proc");
        (int code, string output, _) = Run("check", "--json", "-d", "1s");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal("window", root.GetProperty("mode").GetString());
        Assert.InRange(root.GetProperty("windowSeconds").GetDouble(), 1.0, 5.0);
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("cpus").GetInt32());
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("perCpu").GetArrayLength());
        Assert.InRange(root.GetProperty("cpuAll").GetProperty("utilizationPercent").GetDouble(), 0, 100);
        Assert.True(root.GetProperty("memory").GetProperty("totalMiB").GetDouble() > 0);
        Assert.Contains(root.GetProperty("use").EnumerateArray(), u => u.GetProperty("resource").GetString() == "CPU");
    }

    [Fact]
    public void CheckJson_Replay_GivesTheFixtureFiguresAndProblems()
    {
        (int code, string output, string err) = Run("check", "--json", "--replay", Scenario("network"), "-d", "10");
        Assert.Equal(0, code); // problems flagged are not a failure of the check
        Assert.Equal("", err);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        JsonElement eth0 = root.GetProperty("networks")[0];
        Assert.Equal("eth0", eth0.GetProperty("name").GetString());
        Assert.Equal(90.0, eth0.GetProperty("utilizationPercent").GetDouble());
        Assert.Equal(3, eth0.GetProperty("errors").GetInt32());
        Assert.Equal(2.5, root.GetProperty("tcp").GetProperty("retransmitPercent").GetDouble());
        string[] rules = [.. root.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("rule").GetString()!).Order(StringComparer.Ordinal)];
        Assert.Equal(["fd-util", "net-drops", "net-errors", "net-util", "tcp-retransmits"], rules);
    }

    [Fact]
    public void CheckNow_Replay_IsAUsageError()
    {
        (int code, _, string err) = Run("check", "--now", "--replay", Scenario("healthy"));
        Assert.Equal(2, code);
        Assert.Contains("--replay needs the window", err, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void CheckNow_GivesSinceBootFigures()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs a Linux /proc");
        (int code, string output, string err) = Run("check", "--now", "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal("since-boot", doc.RootElement.GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData("-d", "banana", "-d needs a duration like 10, 10s, 2m or 500ms (at most 7 days), got 'banana'")]
    [InlineData("-d", "-5", "-d needs a duration")]
    [InlineData("-d", "2h", "-d must be 0 (since boot) or between 0.1 s and 3600 s")]
    [InlineData("-d", "61m", "-d must be 0 (since boot) or between 0.1 s and 3600 s")]
    public void Check_BadDuration_IsUsageError(string opt, string value, string message)
    {
        (int code, _, string err) = Run("check", opt, value);
        Assert.Equal(2, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckDuration_AcceptsUnits()
    {
        ArgParser p = CheckCommand.Create();
        Assert.Equal(10, CheckCommand.ParseDuration(p, "10"));
        Assert.Equal(10, CheckCommand.ParseDuration(p, "10s"));
        Assert.Equal(90, CheckCommand.ParseDuration(p, "1.5m"));
        Assert.Equal(0.5, CheckCommand.ParseDuration(p, "500ms"));
        Assert.Equal(0, CheckCommand.ParseDuration(p, "0"));
        Assert.Equal(CheckCommand.DefaultSeconds, CheckCommand.ParseDuration(p, null));
    }

    [Fact]
    public void Check_RootWithoutProc_FailsWithOneLine()
    {
        (int code, _, string err) = Run("check", "--root", "/nonexistent-orac-root", "-d", "1");
        Assert.Equal(1, code);
        Assert.Equal("orac: check: /nonexistent-orac-root/proc not found: this verb reads a Linux /proc\n", err);
    }

    [SkippableFact]
    public void PublishedBinary_ReplayJson_MatchesInProcess()
    {
        Skip.IfNot(File.Exists(TestPaths.PublishedBinary), $"SKIPPED: {TestPaths.PublishedBinary} not built (run ./orac version)");
        string[] args = ["check", "--json", "--replay", Scenario("cpu-saturated"), "-d", "10"];
        (_, string expected, _) = Run(args);
        var psi = new ProcessStartInfo(TestPaths.PublishedBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process proc = Process.Start(psi)!;
        string actual = proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        Assert.Equal(0, proc.ExitCode);
        Assert.Equal(expected, actual);
    }
}
