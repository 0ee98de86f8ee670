using Orac.Model.Wire;

namespace Orac.Cost.Reports;

/// <summary>The multi-org report (docs/cost.md "Org report"). Owner: the opportunities work.</summary>
public static class OrgReport
{
    /// <summary>Builds the report from one cost answer per org for this and the previous period.</summary>
    public static OrgReportDocument Build(IReadOnlyDictionary<string, CostResult> current, IReadOnlyDictionary<string, CostResult> previous, long fromMs, long untilMs) =>
        throw new NotImplementedException("opportunities");

    /// <summary>Renders as <c>md</c>, <c>csv</c>, <c>json</c> or <c>html</c> (self-contained, no script).</summary>
    public static string Render(OrgReportDocument report, string format) => throw new NotImplementedException("opportunities");
}
