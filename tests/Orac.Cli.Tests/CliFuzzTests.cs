using Orac.Fuzz;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// The CLI's own parsers (config file, server answers, format sniffing) under the mutation fuzzer. They are not in
/// fuzz/Orac.Fuzz's table because that would make the fuzz host reference the CLI (DESIGN.md: nothing references it).
/// </summary>
public class CliFuzzTests
{
    [Fact]
    public void Config_SurvivesMutations() =>
        FuzzAssert.SurvivesMutations("cli-config", CliFuzz.Config, [File.ReadAllBytes(Path.Combine(TestPaths.Data, "cli", "config.json"))]);

    [Fact]
    public void ServerAnswers_SurviveMutations() =>
        FuzzAssert.SurvivesMutations("cli-server-answers", CliFuzz.ServerAnswers, MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "cli")));

    [Fact]
    public void FleetAnswers_SurviveMutations() =>
        FuzzAssert.SurvivesMutations("cli-fleet-answers", CliFuzz.FleetAnswers, MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "cli-fleet")));

    [Fact]
    public void CostAnswers_SurviveMutations() =>
        FuzzAssert.SurvivesMutations("cli-cost-answers", CliFuzz.CostAnswers, MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "cli-cost")));
}
