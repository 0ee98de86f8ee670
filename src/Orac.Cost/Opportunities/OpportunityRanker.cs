using Orac.Model.Wire;

namespace Orac.Cost.Opportunities;

/// <summary>Options of a ranking.</summary>
public sealed class OpportunityOptions
{
    /// <summary>The improvement priced in <c>IfImproved</c>, percent.</summary>
    public double ImprovementPercent { get; init; } = 10;

    /// <summary>Entries kept.</summary>
    public int Top { get; init; } = 20;

    /// <summary>Selector of the ranked data, used to build flame-graph links.</summary>
    public string Selector { get; init; } = "{}";
}

/// <summary>The ranked backlog (docs/cost.md "Opportunities"). Owner: the opportunities work.</summary>
public static class OpportunityRanker
{
    /// <summary>Ranks functions, libraries, recognised patterns and GPU stranded time of <paramref name="current"/> by annual cost; trend against <paramref name="previous"/>.</summary>
    public static OpportunitiesDocument Rank(CostResult current, CostResult? previous, OpportunityOptions? options = null) =>
        throw new NotImplementedException("opportunities");
}
