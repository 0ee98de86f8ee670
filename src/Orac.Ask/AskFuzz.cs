using System.Text;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Ask;

/// <summary>
/// Fuzz targets <c>ask-planner</c> and <c>memory-fact</c>: any bytes (read as UTF-8) plan without throwing to a plan
/// whose canonical form is one line, whose selectors parse back to themselves, whose ranges run forwards and whose
/// counts and seconds stay in bounds; and read as a memory fact of a known kind without throwing.
/// </summary>
public static class AskFuzz
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 25, 14, 30, 0, TimeSpan.Zero);

    private static readonly Inventory s_inventory = new()
    {
        Services = ["api", "inference", "search-indexer", "checkout", "batch-etl"],
        Hosts = ["web-1", "web-2", "web-3", "gpu-node-7", "gpu-node-8", "db-1"],
        Labels = new Dictionary<string, IReadOnlyList<string>>
        {
            ["version"] = ["1.4.2", "1.5.0"],
            ["env"] = ["prod", "staging"],
            ["region"] = ["us-east-1", "eu-west-1"],
        },
    };

    private static readonly IReadOnlyList<MemoryItem> s_memories =
    [
        Item("m1", "our H100s cost $2.10 an hour"),
        Item("m2", "service api belongs to the search org"),
        Item("m3", "frontends means {host=~\"web-.*\"}"),
        Item("m4", "I work on the inference service"),
    ];

    /// <summary>Runs one input through the planner, with and without memories, alone and as a follow-up.</summary>
    public static void Planner(ReadOnlySpan<byte> data)
    {
        var question = Encoding.UTF8.GetString(data);
        var first = Check(Orac.Ask.Planner.Plan(question, new PlanContext { Now = s_now, Inventory = s_inventory }));
        Check(Orac.Ask.Planner.Plan(question, new PlanContext { Now = s_now, Inventory = s_inventory, Memories = s_memories, Previous = first }));
        var previous = new Plan { Kind = PlanKind.Diff, Selector = "{host=\"web-1\"}", BaseSelector = "{host=\"web-2\"}", FromNs = 1, UntilNs = 2, BaseFromNs = 1, BaseUntilNs = 2 };
        Check(Orac.Ask.Planner.Plan(question, new PlanContext { Now = s_now, Inventory = s_inventory, Memories = s_memories, Previous = previous }));
    }

    /// <summary>Runs one input through <see cref="MemoryFacts.Parse"/>.</summary>
    public static void MemoryFact(ReadOnlySpan<byte> data)
    {
        var fact = MemoryFacts.Parse(Encoding.UTF8.GetString(data));
        Require(fact.Kind is MemoryFacts.GpuPrice or MemoryFacts.VcpuPrice or MemoryFacts.Owner or MemoryFacts.Alias or MemoryFacts.Scope or MemoryFacts.Note, "unknown kind " + fact.Kind);
        if (fact.UsdPerHour is { } usd)
        {
            Require(double.IsFinite(usd) && usd >= 0, "price not a finite non-negative number");
        }

        if (fact.Kind is MemoryFacts.Alias or MemoryFacts.Scope)
        {
            Require(fact.Value is not null && MemoryFacts.CanonicalSelector(fact.Value) == fact.Value, "selector value not canonical: " + fact.Value);
        }
    }

    private static Plan Check(Plan p)
    {
        var text = p.ToString();
        Require(text.Length > 0 && !text.Contains('\n', StringComparison.Ordinal) && text.StartsWith(Plan.KindWord(p.Kind), StringComparison.Ordinal), "canonical form: " + text);
        Require(p.Suggestions.Count <= 3, "more than 3 suggestions");
        if (p.Kind is PlanKind.Top or PlanKind.Opportunities or PlanKind.Diff or PlanKind.FunctionCost or PlanKind.Outliers or PlanKind.GpuIdle)
        {
            Require(p.FromNs < p.UntilNs, "range runs backwards: " + text);
            Require(p.Top is >= 1 and <= Orac.Ask.Planner.MaxTop, "n out of bounds: " + text);
            SelectorRoundTrips(p.Selector);
        }

        if (p.Kind == PlanKind.Diff)
        {
            Require(p.BaseFromNs < p.BaseUntilNs, "base range runs backwards: " + text);
            SelectorRoundTrips(p.BaseSelector ?? "{}");
        }

        if (p.Kind is PlanKind.Slow or PlanKind.Profile)
        {
            Require(p.Seconds is >= 1 and <= 300, "seconds out of bounds: " + text);
            SelectorRoundTrips(p.Selector);
        }

        return p;
    }

    private static void SelectorRoundTrips(string selector)
    {
        try
        {
            Require(MemoryFacts.Canonical(Selector.Parse(selector)) == selector, "selector not canonical: " + selector);
        }
        catch (OracException e)
        {
            throw new InvalidOperationException("ask-planner fuzz: selector does not parse: " + selector + ": " + e.Message);
        }
    }

    private static void Require(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException("ask fuzz: " + what);
        }
    }

    private static MemoryItem Item(string id, string text) =>
        new() { Id = id, Text = text, Source = "cli", CreatedMs = 0, Fact = MemoryFacts.Parse(text) };
}
