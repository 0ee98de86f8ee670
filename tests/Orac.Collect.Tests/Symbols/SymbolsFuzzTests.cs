using Orac.Collect.Symbols;
using Orac.Fuzz;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Symbols;

/// <summary>
/// Runs each symbol parser's fuzz target with the mutation fuzzer for a few seconds, seeded from
/// the committed fixtures (and the compiled sample ELF). Only OracException may escape a target.
/// Longer: <c>dotnet run --project fuzz/Orac.Fuzz -c Release -- elf --seconds 600</c>.
/// </summary>
public class SymbolsFuzzTests
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(3);

    public static TheoryData<string> Targets => new() { "elf", "perf-map", "proc-maps", "kallsyms" };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_SurvivesMutations(string target)
    {
        string data = Path.Combine(TestPaths.Data, "symbols");
        (Action<byte[]> run, List<byte[]> seeds) = target switch
        {
            "elf" => ((Action<byte[]>)ElfFuzz.Run, ElfSeeds()),
            "perf-map" => (PerfMapFuzz.Run, [File.ReadAllBytes(Path.Combine(data, "hostile.perf.map"))]),
            "proc-maps" => (ProcMapsFuzz.Run, [File.ReadAllBytes(Path.Combine(data, "sample.maps"))]),
            _ => (KallsymsFuzz.Run, [File.ReadAllBytes(Path.Combine(data, "sample.kallsyms"))]),
        };
        FuzzAssert.SurvivesMutations(target, run, seeds);
    }

    private static List<byte[]> ElfSeeds()
    {
        // The compiled sample when gcc is there; the host's own small ELF executable otherwise.
        string file = NativeSample.SkipReason is null ? NativeSample.NoPie : "/usr/bin/true";
        return [File.ReadAllBytes(file)];
    }
}
