using Orac.Model.Wire;

namespace Orac.Ask.Tests;

/// <summary>
/// The fixed test context the planner tests and the phrasing corpus share (docs/ask.md "Reading questions"):
/// a fixed clock, a small inventory and the "mem" set of memories.
/// </summary>
public static class AskFixture
{
    /// <summary>2026-11-25T14:30:00Z, a Wednesday; the zone is UTC.</summary>
    public static DateTimeOffset Now { get; } = new(2026, 11, 25, 14, 30, 0, TimeSpan.Zero);

    /// <summary>Services, hosts and labels the planner recognises.</summary>
    public static Inventory Inventory { get; } = new()
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

    /// <summary>The "mem" set: m1 gpu-price, m2 owner, m3 alias, m4 scope (facts parsed by <see cref="MemoryFacts.Parse"/>).</summary>
    public static IReadOnlyList<MemoryItem> Memories { get; } =
    [
        Item("m1", "our H100s cost $2.10 an hour"),
        Item("m2", "service api belongs to the search org"),
        Item("m3", "frontends means {host=~\"web-.*\"}"),
        Item("m4", "I work on the inference service"),
    ];

    /// <summary>The context for one question: the fixed clock and inventory, the memories when asked for, and the previous plan of a chat.</summary>
    public static PlanContext Context(bool memories = false, Plan? previous = null) => new()
    {
        Now = Now,
        Zone = TimeZoneInfo.Utc,
        Inventory = Inventory,
        Memories = memories ? Memories : [],
        Previous = previous,
    };

    /// <summary>Unix ns of a UTC instant.</summary>
    public static long Ns(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * 1_000_000;

    private static MemoryItem Item(string id, string text) => new()
    {
        Id = id,
        Text = text,
        Source = "cli",
        CreatedMs = 1_764_000_000_000,
        Fact = MemoryFacts.Parse(text),
    };
}
