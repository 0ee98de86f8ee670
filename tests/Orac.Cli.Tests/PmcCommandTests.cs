using System.Globalization;
using System.Text.RegularExpressions;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

public sealed partial class PmcCommandTests
{
    [GeneratedRegex(@"^(\S+)\s+([\d,.]+)\s+(ms|count)\s", RegexOptions.Multiline)]
    private static partial Regex Row();

    private static Dictionary<string, double> Rows(string output)
    {
        var rows = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in Row().Matches(output))
        {
            rows[m.Groups[1].Value] = double.Parse(m.Groups[2].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        }

        return rows;
    }

    [SkippableFact]
    public void Pmc_BusyCommand_SoftwareCountersMeasured()
    {
        Skip.If(!Environment.IsPrivilegedProcess, RecordCommandTests.NeedsRoot);

        var r = RecordCommandTests.Orac("pmc", "--", "sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exit 4");

        Assert.True(r.Code == 0, r.Err);
        Dictionary<string, double> rows = Rows(r.Out);
        Assert.True(rows.GetValueOrDefault("task-clock") > 20, r.Out);
        Assert.True(rows.GetValueOrDefault("page-faults") > 0, r.Out);
        Assert.True(rows.ContainsKey("context-switches") && rows.ContainsKey("cpu-migrations"), r.Out);
        Assert.Contains("measured", r.Out, StringComparison.Ordinal);
        Assert.Contains("command exited with code 4", r.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Pmc_HardwareCounters_ShownOnlyWhereThePmuExists()
    {
        Skip.If(!Environment.IsPrivilegedProcess, RecordCommandTests.NeedsRoot);

        var r = RecordCommandTests.Orac("pmc", "-a", "-d", "300ms");

        Assert.True(r.Code == 0, r.Err);
        Dictionary<string, double> rows = Rows(r.Out);
        Assert.True(rows.GetValueOrDefault("task-clock") > 0, r.Out);
        bool pmu = Directory.Exists("/sys/bus/event_source/devices/cpu") || Directory.Exists("/sys/bus/event_source/devices/cpu_core");
        if (!pmu)
        {
            Assert.Contains(PmcCommand.NoPmuLine, r.Out, StringComparison.Ordinal);
            Assert.False(rows.ContainsKey("cycles"), "cycles printed without a PMU:\n" + r.Out);
            Assert.False(rows.ContainsKey("instructions"), r.Out);
        }
        else
        {
            Assert.DoesNotContain(PmcCommand.NoPmuLine, r.Out, StringComparison.Ordinal);
            Assert.True(rows.GetValueOrDefault("cycles") > 0, r.Out);
        }
    }

    [SkippableFact]
    public void Pmc_Unprivileged_OneLineSaysWhy()
    {
        Skip.If(!Environment.IsPrivilegedProcess, "SKIPPED: dropping to an unprivileged user needs root");
        Skip.If(!File.Exists("/usr/bin/setpriv"), "SKIPPED: setpriv (util-linux) is not installed");
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: the orac build is missing");
        Skip.If(File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim() is "-1" or "0", "SKIPPED: kernel.perf_event_paranoid lets unprivileged users count system-wide");

        var r = RecordCommandTests.Exec("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.OracBinary, "pmc", "-a", "-d", "100ms");

        Assert.Equal(1, r.Code);
        Assert.Contains("not permitted to open perf events", Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public void Pmc_NoTarget_UsageError()
    {
        var r = RecordCommandTests.Orac("pmc");

        Assert.Equal(2, r.Code);
        Assert.Contains("give exactly one of", r.Err, StringComparison.Ordinal);
    }
}
