using Orac.Fuzz;

namespace Orac.Tests.Shared;

/// <summary>The one way a test runs a fuzz target: the mutation fuzzer for a few seconds, no findings allowed.</summary>
public static class FuzzAssert
{
    /// <summary>
    /// Runs <paramref name="run"/> on mutations of <paramref name="seeds"/> for <paramref name="seconds"/>;
    /// fails listing each finding as a byte literal to turn into a regression test.
    /// </summary>
    public static void SurvivesMutations(string target, Action<byte[]> run, IReadOnlyList<byte[]> seeds, double seconds = 3)
    {
        Assert.NotEmpty(seeds);
        FuzzReport report = MutationFuzzer.Run(target, run, [.. seeds], TimeSpan.FromSeconds(seconds), hangLimit: TimeSpan.FromSeconds(20));
        Assert.True(report.Executions > seeds.Count, $"{target}: only {report.Executions} executions");
        Assert.True(
            report.Findings.Count == 0,
            $"{target}: {report.Findings.Count} findings after {report.Executions} executions:\n"
            + string.Join("\n", report.Findings.Take(5).Select(f => $"  {f.What}\n    {f.AsCSharpLiteral()}")));
    }
}
