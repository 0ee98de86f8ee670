using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// <c>orac record</c> against real workloads: a C program with known hot functions, a .NET child with
/// perf maps, and the real <c>perf record</c> on the same workload. Needs root (CI runs as root).
/// </summary>
public sealed class RecordCommandTests : IDisposable
{
    internal const string NeedsRoot = "SKIPPED: perf_event_open for kernel+user stacks needs root here (CI runs as root)";

    private readonly string _dir = Directory.CreateTempSubdirectory("orac-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int Code, string Out, string Err) Orac(params string[] args)
    {
        var err = new StringWriter();
        var output = new MemoryStream();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = output, Error = err };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(output.ToArray()), err.ToString());
    }

    internal static (int Code, string Out, string Err) Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        Task<string> o = p.StandardOutput.ReadToEndAsync();
        Task<string> e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 60 s");
        }

        return (p.ExitCode, o.Result, e.Result);
    }

    private string BuildHot()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        Skip.If(!File.Exists("/usr/bin/gcc"), "SKIPPED: gcc is not installed (needed to build tests/data/record/hot.c)");
        string exe = Path.Combine(_dir, "hot");
        var cc = Exec("/usr/bin/gcc", "-O1", "-fno-omit-frame-pointer", "-o", exe, Path.Combine(TestPaths.Data, "record", "hot.c"));
        Assert.True(cc.Code == 0, "gcc failed: " + cc.Err);
        return exe;
    }

    /// <summary>Self share (percent of all samples) per function, for the top 10 by self.</summary>
    private static Dictionary<string, double> TopSelfShares(Profile profile)
    {
        TopFunctions top = TopFunctions.Compute(profile, TopOrder.Self);
        var shares = new Dictionary<string, double>(StringComparer.Ordinal);
        ReadOnlySpan<TopFunction> rows = top.Rows;
        for (int i = 0; i < Math.Min(10, rows.Length); i++)
        {
            shares[profile.FrameName(rows[i].Frame)] = 100.0 * rows[i].Self / top.ProfileTotal;
        }

        return shares;
    }

    private static Profile ReadFolded(string path)
    {
        using FileStream s = File.OpenRead(path);
        return FoldedReader.Read(s, path, new ParseWarnings());
    }

    [SkippableFact]
    public void Record_CWorkload_HotFunctionDominates()
    {
        string hot = BuildHot();
        string folded = Path.Combine(_dir, "hot.folded");

        var r = Orac("record", "-F", "499", "-o", folded, "--", hot, "1.5");

        Assert.True(r.Code == 0, r.Err);
        Profile profile = ReadFolded(folded);
        Dictionary<string, double> shares = TopSelfShares(profile);
        Assert.True(profile.Total() >= 100, $"only {profile.Total()} samples");
        Assert.True(shares.GetValueOrDefault("hot_spin") > 60, "hot_spin self share: " + shares.GetValueOrDefault("hot_spin") + "\n" + r.Out);
        Assert.True(shares.GetValueOrDefault("warm_spin") > 5, "warm_spin self share: " + shares.GetValueOrDefault("warm_spin") + "\n" + r.Out);
        // Root first with the command name as the root frame; main is on the stack (work may not be:
        // the leaf's frame pointer is not set up at the sampled instruction, as perf shows too).
        Assert.Contains(File.ReadLines(folded), l => l.StartsWith("hot;", StringComparison.Ordinal) && l.Contains(";main;", StringComparison.Ordinal) && l.Contains("hot_spin ", StringComparison.Ordinal));
        Assert.Contains("samples (measured)", r.Out, StringComparison.Ordinal);
        Assert.Contains("command exited with code 0", r.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nhot_spin\s+\d+", r.Out);
    }

    [SkippableFact]
    public void Record_JsonOutput_IsOracProfileWithSameStacks()
    {
        string hot = BuildHot();
        string json = Path.Combine(_dir, "hot.json");

        // 2 s of work: at 499 Hz that is ~1,000 samples on an idle machine and still well over 50 on a loaded one.
        var r = Orac("record", "-F", "499", "-o", json, "--", hot, "2");

        Assert.True(r.Code == 0, r.Err);
        Profile profile;
        using (FileStream s = File.OpenRead(json))
        {
            profile = global::Orac.Model.Wire.ProfileJson.Read(s, json);
        }

        Assert.Equal("cpu", profile.SampleTypes[0].Type);
        Assert.Equal("samples", profile.SampleTypes[0].Unit);
        Assert.True(profile.Total() >= 50, $"only {profile.Total()} samples");
        Assert.True(TopSelfShares(profile).GetValueOrDefault("hot_spin") > 50, r.Out);
        Assert.Contains("\"partial\": false", File.ReadAllText(json), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Record_SameWorkloadAsPerfRecord_TopFunctionsAgree()
    {
        string hot = BuildHot();
        Skip.If(!File.Exists("/usr/bin/perf"), "SKIPPED: linux-perf is not installed (test.sh installs it)");
        string folded = Path.Combine(_dir, "orac.folded");
        string data = Path.Combine(_dir, "perf.data");

        // Both record the same running process at the same time, so they see the same execution: two runs one after
        // the other on a loaded machine can differ by more than the 5 points allowed below.
        // The workload outlives both recordings by far (it is killed below): a target that exits while perf is
        // attached makes perf record fail on a loaded machine.
        using var work = Process.Start(new ProcessStartInfo(hot, "20") { UseShellExecute = false })!;
        (int Code, string Out, string Err) r, p;
        try
        {
            string pid = work.Id.ToString(CultureInfo.InvariantCulture);
            Thread.Sleep(200);
            Task<(int, string, string)> oursRun = Task.Run(() => Orac("record", "-F", "499", "-d", "2", "-p", pid, "-o", folded));
            Task<(int, string, string)> perfRun = Task.Run(() => Exec("/usr/bin/perf", "record", "-F", "499", "-g", "-p", pid, "-o", data, "--", "sleep", "2"));
            r = oursRun.GetAwaiter().GetResult();
            p = perfRun.GetAwaiter().GetResult();
        }
        finally
        {
            if (!work.HasExited)
            {
                work.Kill();
            }

            work.WaitForExit();
        }

        Assert.True(r.Code == 0, r.Err);
        Assert.True(p.Code == 0, "perf record failed: " + p.Err);
        var script = Exec("/usr/bin/perf", "script", "-i", data);
        Assert.True(script.Code == 0, "perf script failed: " + script.Err);
        Profile perfProfile = PerfScriptCollapser.Read(new MemoryStream(Encoding.UTF8.GetBytes(script.Out)), "perf", new PerfCollapseOptions(), new ParseWarnings());

        Dictionary<string, double> ours = TopSelfShares(ReadFolded(folded));
        Dictionary<string, double> theirs = TopSelfShares(perfProfile);

        // Same names among the functions that matter (≥ 2 % self in either), shares within 5 points.
        string report = "orac: " + Show(ours) + "\nperf: " + Show(theirs);
        foreach (string name in ours.Keys.Union(theirs.Keys).Where(n => ours.GetValueOrDefault(n) >= 2 || theirs.GetValueOrDefault(n) >= 2))
        {
            Assert.True(ours.ContainsKey(name) && theirs.ContainsKey(name), $"'{name}' is in one top 10 only\n{report}");
            Assert.True(Math.Abs(ours[name] - theirs[name]) <= 5, $"'{name}' differs by more than 5 points\n{report}");
        }

        Assert.True(ours.GetValueOrDefault("hot_spin") > 50, report);
    }

    private static string Show(Dictionary<string, double> shares) =>
        string.Join(", ", shares.Select(kv => kv.Key + "=" + kv.Value.ToString("0.0", CultureInfo.InvariantCulture)));

    [SkippableFact]
    public void Record_DotnetChildWithPerfMap_FindsJitMethodNames()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: the orac JIT build is missing (dotnet build builds it)");

        // The JIT build of orac itself is the .NET child: its flame graph code runs jitted, not ahead of time.
        string input = Path.Combine(_dir, "in.folded");
        var rng = new Random(7);
        var sb = new StringBuilder();
        for (int i = 0; i < 120_000; i++)
        {
            int depth = rng.Next(3, 16);
            for (int d = 0; d < depth; d++)
            {
                sb.Append(d == 0 ? "" : ";").Append("fn").Append(rng.Next(2000));
            }

            sb.Append(' ').Append(rng.Next(1, 100)).Append('\n');
        }

        File.WriteAllText(input, sb.ToString());
        string folded = Path.Combine(_dir, "jit.folded");

        var r = Orac("record", "-F", "499", "-o", folded, "--", "env", "DOTNET_PerfMapEnabled=1", TestPaths.OracBinary, "flamegraph", input, "-o", Path.Combine(_dir, "in.svg"));

        Assert.True(r.Code == 0, r.Err);
        string text = File.ReadAllText(folded);
        Assert.Contains("[Orac.Formats] Orac.Formats.", text, StringComparison.Ordinal);
        Assert.Contains("[Optimized]", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Record_Unprivileged_OneLineSaysWhyAndHowToFix()
    {
        Skip.If(!Environment.IsPrivilegedProcess, "SKIPPED: dropping to an unprivileged user needs root");
        Skip.If(!File.Exists("/usr/bin/setpriv"), "SKIPPED: setpriv (util-linux) is not installed");
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: the orac build is missing");
        string paranoid = File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim();
        Skip.If(int.Parse(paranoid, CultureInfo.InvariantCulture) < 0, "SKIPPED: kernel.perf_event_paranoid is -1, so an unprivileged user may sample everything");

        var r = Exec("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.OracBinary, "record", "-a", "-d", "1", "-o", "/dev/null.svg");

        Assert.Equal(1, r.Code);
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string line = Assert.Single(lines);
        Assert.Contains("not permitted to open perf events", line, StringComparison.Ordinal);
        Assert.Contains($"perf_event_paranoid is {paranoid}", line, StringComparison.Ordinal);
        Assert.Contains("CAP_PERFMON", line, StringComparison.Ordinal);
        Assert.Equal("", r.Out);
    }

    [SkippableFact]
    public void Record_SystemWideWithDuration_WritesSvgAndStops()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        string svg = Path.Combine(_dir, "all.svg");
        var watch = Stopwatch.StartNew();

        var r = Orac("record", "-a", "-F", "199", "-d", "700ms", "-o", svg);

        Assert.True(r.Code == 0, r.Err);
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.6, 10);
        Assert.StartsWith("<?xml", File.ReadAllText(svg), StringComparison.Ordinal);
        Assert.Matches(@"recorded [\d,]+ samples \(measured\) of cpu-clock at 199 Hz on \d+ CPUs", r.Out);
        Assert.DoesNotContain("recorded 0 samples", r.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Record_CtrlC_StopsAndStillWritesEverythingMarkedPartial()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        string folded = Path.Combine(_dir, "int.folded");
        var err = new StringWriter();
        var output = new MemoryStream();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = output, Error = err };

        // Program.Main cancels Interrupt on the first SIGINT while StopsGracefully is set; do the same.
        var run = Task.Run(() => Program.Run(["record", "-a", "-F", "199", "-o", folded], ctx));
        var watch = Stopwatch.StartNew();
        while (!ctx.StopsGracefully && !run.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(10);
        }

        Assert.True(ctx.StopsGracefully, "record never started sampling: " + err);
        Thread.Sleep(700);
        ctx.Interrupt.Cancel();
        Assert.True(run.Wait(TimeSpan.FromSeconds(20)), "record did not stop after the interrupt");

        string text = Encoding.UTF8.GetString(output.ToArray());
        Assert.True(run.Result == 0, err.ToString());
        Assert.Contains("stopped by Ctrl-C after", text, StringComparison.Ordinal);
        Assert.Contains("(partial)", text, StringComparison.Ordinal);
        Assert.NotEmpty(File.ReadAllLines(folded));
    }

    [SkippableFact]
    public void Record_RunningPid_SampledUntilDuration()
    {
        string hot = BuildHot();
        using var target = Process.Start(new ProcessStartInfo(hot, "5") { UseShellExecute = false })!;
        try
        {
            string folded = Path.Combine(_dir, "pid.folded");

            var r = Orac("record", "-p", target.Id.ToString(CultureInfo.InvariantCulture), "-F", "499", "-d", "1", "-o", folded);

            Assert.True(r.Code == 0, r.Err);
            Assert.True(TopSelfShares(ReadFolded(folded)).GetValueOrDefault("hot_spin") > 50, r.Out);
        }
        finally
        {
            target.Kill();
            target.WaitForExit(5000);
        }
    }

    [SkippableFact]
    public void Record_RunningPid_SamplesThreadsItAlreadyHad()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        Skip.If(!File.Exists("/usr/bin/gcc"), "SKIPPED: gcc is not installed (needed to build tests/data/record/threaded.c)");
        string exe = Path.Combine(_dir, "threaded");
        var cc = Exec("/usr/bin/gcc", "-O1", "-fno-omit-frame-pointer", "-pthread", "-o", exe, Path.Combine(TestPaths.Data, "record", "threaded.c"));
        Assert.True(cc.Code == 0, "gcc failed: " + cc.Err);
        using var target = Process.Start(new ProcessStartInfo(exe, "10") { UseShellExecute = false })!;
        try
        {
            Thread.Sleep(300); // the worker thread exists before orac attaches
            string folded = Path.Combine(_dir, "threads.folded");

            var r = Orac("record", "-p", target.Id.ToString(CultureInfo.InvariantCulture), "-F", "499", "-d", "1", "-o", folded);

            Assert.True(r.Code == 0, r.Err);
            Assert.True(TopSelfShares(ReadFolded(folded)).GetValueOrDefault("spin_in_worker_thread") > 50, r.Out);
        }
        finally
        {
            target.Kill();
            target.WaitForExit(5000);
        }
    }

    [SkippableFact]
    public void Record_HardwareEventWithoutPmu_OneLineFailure()
    {
        Skip.If(!Environment.IsPrivilegedProcess, NeedsRoot);
        Skip.If(Directory.Exists("/sys/bus/event_source/devices/cpu") || Directory.Exists("/sys/bus/event_source/devices/cpu_core"), "SKIPPED: this machine has a hardware PMU");

        var r = Orac("record", "-a", "-e", "cycles", "-d", "100ms", "-o", Path.Combine(_dir, "c.svg"));

        Assert.Equal(1, r.Code);
        Assert.Equal("orac: event 'cycles' is not available: no hardware PMU on this machine (use the default cpu-clock)\n", r.Err);
    }

    [Theory]
    [InlineData(new[] { "record", "-F", "99" }, "give exactly one of -a, -p PID or -- COMMAND")]
    [InlineData(new[] { "record", "-a", "-p", "1" }, "give exactly one of")]
    [InlineData(new[] { "record", "-a", "-d", "soon" }, "-d needs a duration")]
    [InlineData(new[] { "record", "-a", "-o", "x.png" }, "the extension chooses the format")]
    [InlineData(new[] { "record", "-a", "-F", "0" }, "-F needs a frequency")]
    [InlineData(new[] { "record", "-p", "12x" }, "-p needs process ids")]
    [InlineData(new[] { "record", "-a", "-e", "bogus" }, "unknown event 'bogus'")]
    public void Record_BadOptions_UsageError(string[] args, string message)
    {
        var r = Orac(args);

        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_MissingCommand_OneLineFailure()
    {
        var r = Orac("record", "--", "/nonexistent/orac-no-such-command");

        Assert.Equal(1, r.Code);
        Assert.Equal("orac: command not found: /nonexistent/orac-no-such-command\n", r.Err);
    }
}
