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
        FuzzAssert.SurvivesMutations("check", CheckFuzz.Run, seeds);
    }
}
