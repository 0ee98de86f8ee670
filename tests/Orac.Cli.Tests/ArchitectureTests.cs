using System.Reflection;
using Orac.Formats.Folded;
using Orac.Model;

namespace Orac.Cli.Tests;

/// <summary>Checks each assembly's references against DESIGN.md's project table.</summary>
public class ArchitectureTests
{
    // DESIGN.md: Model → BCL only; Formats → Model; Collect → Model, Formats; Storage → Model, DuckDB; Cost → Model; Server → Model, Formats, Storage, Cost, ASP.NET Core; Agent → Model, Formats, Collect, Cost; Cli → all. Nothing references Cli, Server or Agent.
    public static TheoryData<string, string[]> Allowed() => new()
    {
        { "Orac.Model", [] },
        { "Orac.Formats", ["Orac.Model"] },
        { "Orac.Collect", ["Orac.Model", "Orac.Formats"] },
        { "Orac.Storage", ["Orac.Model", "DuckDB.NET.Data", "DuckDB.NET.Bindings"] },
        { "Orac.Cost", ["Orac.Model"] },
        { "Orac.Server", ["Orac.Model", "Orac.Formats", "Orac.Storage", "Orac.Cost", "Orac.Ask", "Orac.Client", "Orac.Mcp", "ModelContextProtocol", "ModelContextProtocol.*", "Microsoft.AspNetCore", "Microsoft.AspNetCore.*", "Microsoft.Extensions.*", "Microsoft.Net.Http.Headers"] },
        { "Orac.Agent", ["Orac.Model", "Orac.Formats", "Orac.Collect", "Orac.Cost"] },
        { "Orac.Ask", ["Orac.Model"] },
        { "Orac.Client", ["Orac.Model"] },
        { "Orac.Mcp", ["Orac.Model", "Orac.Ask", "Orac.Client", "ModelContextProtocol", "ModelContextProtocol.*", "Microsoft.Extensions.*", "Microsoft.AspNetCore.*"] },
        { "orac", ["Orac.Model", "Orac.Formats", "Orac.Collect", "Orac.Storage", "Orac.Cost", "Orac.Server", "Orac.Agent", "Orac.Ask", "Orac.Client", "Orac.Mcp", "ModelContextProtocol", "ModelContextProtocol.*", "Microsoft.Extensions.*", "OpenAI"] },
    };

    private static Assembly Load(string name) => name switch
    {
        "Orac.Model" => typeof(Profile).Assembly,
        "Orac.Formats" => typeof(FoldedReader).Assembly,
        "Orac.Collect" => typeof(Orac.Collect.Symbols.ISymbolResolver).Assembly,
        "Orac.Storage" => typeof(Orac.Storage.IProfileStore).Assembly,
        "Orac.Cost" => Assembly.Load("Orac.Cost"),
        "Orac.Server" => Assembly.Load("Orac.Server"),
        "Orac.Agent" => typeof(Orac.Agent.FleetAgent).Assembly,
        "Orac.Ask" or "Orac.Client" or "Orac.Mcp" => Assembly.Load(name),
        "orac" => typeof(Program).Assembly,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static bool IsBcl(string name) =>
        name is "mscorlib" or "netstandard" || name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32.", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Allowed))]
    public void AssemblyReferences_FollowDesignTable(string assembly, string[] allowed)
    {
        foreach (AssemblyName r in Load(assembly).GetReferencedAssemblies())
        {
            string n = r.Name ?? "";
            if (IsBcl(n))
            {
                continue;
            }

            Assert.True(allowed.Any(a => a == n || (a.EndsWith(".*", StringComparison.Ordinal) && n.StartsWith(a[..^1], StringComparison.Ordinal))), $"{assembly} references {n}, which DESIGN.md does not allow (allowed: BCL{(allowed.Length > 0 ? ", " + string.Join(", ", allowed) : " only")})");
        }
    }

    [Fact]
    public void NothingReferencesTheCli()
    {
        foreach (string a in new[] { "Orac.Model", "Orac.Formats", "Orac.Collect", "Orac.Storage", "Orac.Cost", "Orac.Server", "Orac.Agent", "Orac.Ask", "Orac.Client", "Orac.Mcp" })
        {
            foreach (AssemblyName r in Load(a).GetReferencedAssemblies())
            {
                Assert.NotEqual("orac", r.Name);
                Assert.False(r.Name is "Orac.Cli" || (r.Name == "Orac.Agent" && a != "Orac.Agent") || (r.Name == "Orac.Server" && a != "Orac.Server"), $"{a} references {r.Name}");
            }
        }
    }
}
