using System.Diagnostics;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// The binary users run through <c>./orac</c> is a Native AOT (trimmed, no JIT) build, compiled
/// differently from the JIT build the other tests exercise. Every verb must give the same bytes,
/// the same stderr and the same exit code from both, on inputs that pass and inputs that fail.
/// </summary>
public class PublishedBinaryTests
{
    public static TheoryData<string> Commands()
    {
        string d = TestPaths.Data;
        return new TheoryData<string>
        {
            $"collapse perf {d}/perf/java-inline.txt",
            $"collapse perf --all --pid {d}/perf/jit-annotation.txt",
            $"collapse perf --threads 2 --kernel {d}/perf/kernel-annotation.txt",
            $"collapse perf {d}/perf/garbage-comm.txt",
            $"flamegraph {d}/flamegraph/basic.folded",
            $"flamegraph --colors=java --title=T --minwidth=1% {d}/flamegraph/annotated.folded",
            $"flamegraph {d}/flamegraph/hostile.folded",
            $"flamegraph {d}/flamegraph/diff.folded",
            $"flamegraph {d}/perf/period-weighting.txt",
            $"diff {d}/diff/basic.before.folded {d}/diff/basic.after.folded",
            $"diff -n -s {d}/diff/duplicates-summed.before.folded {d}/diff/duplicates-summed.after.folded",
            $"top {d}/top/by-total.folded",
            $"top --json -n 3 {d}/top/json.folded",
            $"top {d}/no-such-file.folded",
            $"check --replay {d}/check/network -d 10",
            $"check --json --replay {d}/check/damaged -d 10",
            "check -d banana",
            "trace",
            "trace no-such-tool",
            "record -F 0 -a",
            "pmc --bogus",
            "flamegraph --width=banana",
            "push",
            $"push {d}/push/two-stacks.folded --service s --label bad",
            "query --diff",
            "query --top 0",
            "up --listen nonsense",
            "no-such-verb",
            "version",
        };
    }

    [SkippableTheory]
    [MemberData(nameof(Commands))]
    public void PublishedBinary_MatchesJitBuild(string args)
    {
        Skip.If(!File.Exists(TestPaths.PublishedBinary), "SKIPPED: ./orac has not built artifacts/publish/orac/orac (test.sh runs `./orac version` first)");
        Skip.If(!File.Exists(TestPaths.OracBinary), "SKIPPED: orac is not built (test.sh builds it first)");
        var published = Run(TestPaths.PublishedBinary, args);
        var jit = Run(TestPaths.OracBinary, args);
        Assert.Equal(jit.Code, published.Code);
        Assert.Equal(jit.Err, published.Err);
        Assert.True(jit.Out.AsSpan().SequenceEqual(published.Out), $"stdout differs for `orac {args}` ({jit.Out.Length} vs {published.Out.Length} bytes)");
    }

    private static (int Code, byte[] Out, string Err) Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        Task copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {args} did not finish in 60 s");
        }

        copy.Wait(TimeSpan.FromSeconds(30));
        return (p.ExitCode, stdout.ToArray(), err.Result);
    }
}
