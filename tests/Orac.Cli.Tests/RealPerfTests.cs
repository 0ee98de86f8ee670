using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// End to end with the real thing: record a small workload with Linux perf, then run the built
/// <c>orac</c> binary on <c>perf script</c>'s output. Skips, saying why, where perf is missing or
/// not permitted (test.sh installs linux-perf; CI runs as root).
/// </summary>
public partial class RealPerfTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-perf-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    [GeneratedRegex(@"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+(?:\[\d+\]\s+)?\d+\.\d+:\s+(\d+)\s+([^\s:]+)", RegexOptions.Multiline)]
    private static partial Regex EventLine();

    private static (int Code, string Out, string Err) Exec(string file, string args, string? stdinFile = null, string? stdoutFile = null)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdinFile is not null,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Task copy;
        string output = "";
        if (stdoutFile is not null)
        {
            var fs = File.Create(stdoutFile);
            copy = p.StandardOutput.BaseStream.CopyToAsync(fs).ContinueWith(_ => fs.Dispose(), TaskScheduler.Default);
        }
        else
        {
            Task<string> o = p.StandardOutput.ReadToEndAsync();
            copy = o.ContinueWith(t => output = t.Result, TaskScheduler.Default);
        }

        if (stdinFile is not null)
        {
            using (var input = File.OpenRead(stdinFile))
            {
                input.CopyTo(p.StandardInput.BaseStream);
            }

            p.StandardInput.Close();
        }

        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {args} did not finish in 120 s");
        }

        copy.Wait(TimeSpan.FromSeconds(30));
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>Records a busy shell loop with perf and returns the perf script text path, or skips.</summary>
    private string RecordWorkload()
    {
        Skip.If(!File.Exists("/usr/bin/perf"), "SKIPPED: linux-perf is not installed (test.sh installs it)");
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: orac is not built (test.sh builds it first)");
        string data = Path.Combine(_dir, "perf.data");
        var rec = Exec("/usr/bin/perf", $"record -F 499 -g -o {data} -- sh -c \"i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done\"");
        Skip.If(rec.Code != 0, "SKIPPED: perf record is not permitted here: " + rec.Err.Trim());
        string script = Path.Combine(_dir, "perf.txt");
        var s = Exec("/usr/bin/perf", $"script -i {data}", stdoutFile: script);
        Assert.True(s.Code == 0, "perf script failed: " + s.Err);
        return script;
    }

    [SkippableFact]
    public void CollapsePerf_RealRecording_KeepsEveryPeriod()
    {
        string script = RecordWorkload();
        string text = File.ReadAllText(script);

        // Independent count of what perf recorded: every sample's period, for the first event seen.
        MatchCollection events = EventLine().Matches(text);
        Assert.NotEmpty(events);
        string firstEvent = events[0].Groups[5].Value;
        long expected = 0;
        int samples = 0;
        foreach (Match m in events)
        {
            if (m.Groups[5].Value == firstEvent)
            {
                expected += long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                samples++;
            }
        }

        var r = Exec(TestPaths.OracBinary, $"collapse perf {script}");
        Assert.True(r.Code == 0, r.Err);
        long total = 0;
        bool sawShell = false;
        foreach (string line in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int sp = line.LastIndexOf(' ');
            total += long.Parse(line.AsSpan(sp + 1), CultureInfo.InvariantCulture);
            sawShell |= line.StartsWith("sh;", StringComparison.Ordinal) || line.StartsWith("sh ", StringComparison.Ordinal);
        }

        Assert.True(samples > 10, $"only {samples} samples recorded");
        Assert.Equal(expected, total);
        Assert.True(sawShell, "the recorded shell loop ('sh') is not a root frame:\n" + r.Out[..Math.Min(2000, r.Out.Length)]);
    }

    [SkippableFact]
    public void Flamegraph_FromPerfScriptOnStdin_IsValidSvgWithTheWorkload()
    {
        string script = RecordWorkload();
        var r = Exec(TestPaths.OracBinary, "flamegraph -", stdinFile: script);
        Assert.True(r.Code == 0, r.Err);
        var doc = new System.Xml.XmlDocument { XmlResolver = null };
        doc.LoadXml(r.Out);
        Assert.Contains("<title>sh (", r.Out, StringComparison.Ordinal);
        Assert.Contains("<title>all (", r.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Top_FromPerfScript_ShowsUnits()
    {
        string script = RecordWorkload();
        var r = Exec(TestPaths.OracBinary, $"top -n 5 {script}");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("sh", r.Out, StringComparison.Ordinal);
        Assert.Matches("(?i)measured", r.Out);
    }
}
