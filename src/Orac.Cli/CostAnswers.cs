using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// Reads the server's cost answers (docs/cost.md "HTTP API") defensively: not JSON, a missing list or figure, a null
/// name, or a number that is not finite is one <see cref="OracException"/> naming the route's answer and what is wrong,
/// never a crash in the rendering.
/// </summary>
public static class CostAnswers
{
    /// <summary><c>GET /api/v1/cost</c>.</summary>
    public static CostDocument Cost(byte[] bytes, Uri server)
    {
        const string What = "the cost query";
        CostDocument d = Read(bytes, OracJsonContext.Default.CostDocument, server, What);
        Check(d.Selection is not null && d.Model is not null && d.Notes is not null && !d.Notes.Contains(null!), server, What, "lacks selection, model or notes");
        Figures(d.Total, server, What, "total");
        Figures(d.Idle, server, What, "idle");
        Figures(d.ProjectedPerYear, server, What, "projectedPerYear");
        Rows(d.Functions, server, What, "functions");
        Rows(d.Services, server, What, "services");
        Rows(d.Hosts, server, What, "hosts");
        Rows(d.HostIdle, server, What, "hostIdle");
        Rows(d.Orgs, server, What, "orgs");
        Check(d.Gpus is not null, server, What, "has no 'gpus' list");
        foreach (GpuCostRow g in d.Gpus)
        {
            Check(g is not null && g.Host is not null && g.Model is not null && double.IsFinite(g.ObservedSeconds) && double.IsFinite(g.UtilPercent)
                && (g.SmActivePercent is null || double.IsFinite(g.SmActivePercent.Value)) && double.IsFinite(g.StrandedIdleUsd) && double.IsFinite(g.StrandedTrapUsd),
                server, What, "has a GPU row without host or model, or with a figure that is not a number");
            Figures(g.Figures, server, What, "gpus[].figures");
        }

        return d;
    }

    /// <summary><c>GET /api/v1/opportunities</c>.</summary>
    public static OpportunitiesDocument Opportunities(byte[] bytes, Uri server)
    {
        const string What = "the opportunities query";
        OpportunitiesDocument d = Read(bytes, OracJsonContext.Default.OpportunitiesDocument, server, What);
        Check(d.Selection is not null && d.Items is not null && d.Notes is not null && !d.Notes.Contains(null!) && double.IsFinite(d.ImprovementPercent),
            server, What, "lacks selection, items or notes");
        Savings(d.TotalPerYear, server, What, "totalPerYear");
        foreach (Opportunity o in d.Items)
        {
            Item(o, server, What);
        }

        return d;
    }

    /// <summary><c>GET /api/v1/report/orgs?format=json</c>.</summary>
    public static OrgReportDocument OrgReport(byte[] bytes, Uri server)
    {
        const string What = "the org report";
        OrgReportDocument d = Read(bytes, OracJsonContext.Default.OrgReportDocument, server, What);
        Check(d.Orgs is not null && d.Notes is not null && !d.Notes.Contains(null!) && (d.ChangePercent is null || double.IsFinite(d.ChangePercent.Value)),
            server, What, "lacks orgs or notes");
        Figures(d.Total, server, What, "total");
        foreach (OrgReportRow r in d.Orgs)
        {
            Check(r is not null && r.Org is not null && r.Top is not null && (r.ChangePercent is null || double.IsFinite(r.ChangePercent.Value)),
                server, What, "has an org without name or top opportunities");
            Figures(r.Figures, server, What, $"orgs[{r.Org}].figures");
            foreach (Opportunity o in r.Top)
            {
                Item(o, server, What);
            }
        }

        return d;
    }

    private static void Item(Opportunity o, Uri server, string what)
    {
        Check(o is not null && o.Kind is not null && o.Name is not null && o.Advice is not null && o.Link is not null && o.Owners is not null
            && (o.TrendPercent is null || double.IsFinite(o.TrendPercent.Value)), server, what, "has an opportunity without kind, name, advice, link or owners");
        Savings(o.Annual, server, what, $"'{o.Name}'.annual");
        Savings(o.IfImproved, server, what, $"'{o.Name}'.ifImproved");
        Savings(o.IfEliminated, server, what, $"'{o.Name}'.ifEliminated");
        foreach (OwnerShare s in o.Owners)
        {
            Check(s is not null && s.Org is not null && s.Service is not null && double.IsFinite(s.Percent), server, what, $"has an owner of '{o.Name}' without org, service or share");
        }
    }

    private static void Rows(List<CostRow>? rows, Uri server, string what, string field)
    {
        Check(rows is not null, server, what, $"has no '{field}' list");
        foreach (CostRow r in rows)
        {
            Check(r is not null && r.Name is not null && double.IsFinite(r.CpuPercent), server, what, $"has a row of '{field}' without name or CPU share");
            Figures(r.Figures, server, what, $"{field}[{r.Name}].figures");
        }
    }

    private static void Figures([NotNull] CostFigures? f, Uri server, string what, string field)
    {
        Check(f is not null && f.EnergyBasis is not null, server, what, $"lacks '{field}' or its energy basis");
        Check(double.IsFinite(f.CpuSeconds) && double.IsFinite(f.GpuSeconds) && double.IsFinite(f.Usd) && double.IsFinite(f.Kwh)
            && double.IsFinite(f.KgCo2e) && double.IsFinite(f.EmbodiedKgCo2e), server, what, $"has a figure of '{field}' that is not a number");
    }

    private static void Savings([NotNull] Savings? s, Uri server, string what, string field) =>
        Check(s is not null && double.IsFinite(s.Usd) && double.IsFinite(s.Kwh) && double.IsFinite(s.KgCo2e), server, what, $"lacks '{field}' or has a figure of it that is not a number");

    private static T Read<T>(byte[] bytes, JsonTypeInfo<T> info, Uri server, string what)
        where T : class => ServerAnswer.Read(bytes, info, server, what, "docs/cost.md");

    private static void Check([DoesNotReturnIf(false)] bool ok, Uri server, string what, string problem) =>
        ServerAnswer.Check(ok, server, what, problem);
}
