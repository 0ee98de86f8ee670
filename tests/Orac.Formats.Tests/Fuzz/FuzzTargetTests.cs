using Orac.Formats.Diff;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Fuzz;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Fuzz;

/// <summary>
/// Runs every parser's fuzz target with the deterministic mutation fuzzer for a few seconds each,
/// seeded from that parser's test inputs. A target may only throw OracException (anticipated user
/// errors) and must finish each input within the hang limit; findings print as byte literals to be
/// turned into regression tests. Longer runs: <c>dotnet run --project fuzz/Orac.Fuzz -c Release -- TARGET --seconds 600</c>.
/// </summary>
public class FuzzTargetTests
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(5);

    public static TheoryData<string> Targets => new() { "perf", "folded", "diff", "profile-json", "pprof", "speedscope" };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_SurvivesMutations(string target)
    {
        (Action<byte[]> run, List<byte[]> seeds) = target switch
        {
            "perf" => ((Action<byte[]>)(d => PerfScriptFuzz.Run(d)), MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "perf"))),
            "folded" => (d => FoldedFuzz.Run(d), MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "flamegraph"))),
            "pprof" => (d => Orac.Formats.Pprof.PprofFuzz.Run(d), [.. PprofReaderTests.Seeds]),
            "speedscope" => (d => Orac.Formats.Speedscope.SpeedscopeFuzz.Run(d), MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "speedscope"))),
            "profile-json" => (d => Orac.Model.Wire.ProfileJsonFuzz.Run(d), MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "profile"))),
            _ => (d => DiffFuzz.Run(d), [.. MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "diff")), .. Diff.DiffFuzzTests.Seeds]),
        };
        FuzzAssert.SurvivesMutations(target, run, seeds, s_budget.TotalSeconds);
    }
}
