using Orac.Collect.Check;
using Orac.Fuzz;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Check;

/// <summary>
/// Runs the check fuzz target (every /proc parser) with the mutation fuzzer for a few seconds, seeded
/// with the fixture snapshots. Longer: <c>dotnet run --project fuzz/Orac.Fuzz -c Release -- check --seconds 600 --seeds tests/data/check</c>.
/// </summary>
public class CheckFuzzTests
{
    [Fact]
    public void CheckParsers_SurviveMutations()
    {
        List<byte[]> seeds = [.. MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "check", "cpu-saturated", "t1")), .. MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "check", "damaged", "t1"))];
        Assert.NotEmpty(seeds);

        FuzzReport report = MutationFuzzer.Run("check", CheckFuzz.Run, seeds, TimeSpan.FromSeconds(3), hangLimit: TimeSpan.FromSeconds(20));

        Assert.True(report.Executions > seeds.Count, $"only {report.Executions} executions");
        Assert.True(
            report.Findings.Count == 0,
            $"{report.Findings.Count} findings after {report.Executions} executions:\n"
            + string.Join("\n", report.Findings.Select(f => $"  {f.What}\n    {f.AsCSharpLiteral()}")));
    }
}
