using Orac.Collect.Trace;
using Orac.Fuzz;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Trace;

/// <summary>
/// The bpftrace output parser's fuzz target under the deterministic mutation fuzzer for a few seconds,
/// seeded with the recorded outputs. Longer: <c>dotnet run --project fuzz/Orac.Fuzz -c Release -- trace --seconds 600 --seeds tests/data/trace</c>.
/// </summary>
public class TraceFuzzTests
{
    [Fact]
    public void TraceTarget_SurvivesMutations()
    {
        List<byte[]> seeds = MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "trace"));
        FuzzAssert.SurvivesMutations("trace", TraceFuzz.Run, seeds);
    }
}
