using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Cost;
using Orac.Cost.Opportunities;
using Orac.Cost.Reports;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Cost;
using Orac.Server.Ingest;
using Orac.Storage;

namespace Orac.Server;

// Cost, energy and carbon (docs/cost.md "HTTP API"): the cost of a selection, the ranked backlog of opportunities,
// the admin's multi-org report, and flame trees priced in microdollars, milliwatt-hours or milligrams CO2e.
public sealed partial class OracServer
{
    private const long DefaultCostRangeNs = 7 * 24 * 3600 * TimeSpec.NsPerSecond;
    private const long DefaultReportRangeNs = 30 * 24 * 3600 * TimeSpec.NsPerSecond;

    private CostService? _cost;

    /// <summary>Prices the server's data with the model loaded at start (<see cref="ServerOptions.CostModelPath"/>).</summary>
    internal CostService Pricing => _cost ??= new CostService(_store, _fleet, () => Metrics, _costModel ?? CostModel.Defaults);

    private void MapCost(WebApplication app)
    {
        Route(app, "GET", "/api/v1/cost", Access.Read, CostAsync);
        Route(app, "GET", "/api/v1/opportunities", Access.Read, OpportunitiesAsync);
        Route(app, "GET", "/api/v1/report/orgs", Access.Admin, OrgReportAsync);
    }

    /// <summary>
    /// The model of <see cref="ServerOptions.CostModelPath"/>, or null for the built-in defaults. A bad file throws
    /// <see cref="OracException"/> (usage) with the model's one-line error, so startup stops before anything listens.
    /// </summary>
    public static CostModel? LoadCostModel(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CostModelPath is null)
        {
            return null;
        }

        try
        {
            return CostModel.Load(options.CostModelPath);
        }
        catch (CostModelException e)
        {
            throw new OracException(e.Message, e, OracException.Usage);
        }
    }

    private async Task CostAsync(HttpContext ctx, Principal? who)
    {
        (IReadOnlyList<string> orgs, Selector selector, long from, long until) = CostSelection(ctx, who!, DefaultCostRangeNs);
        int top = IntParam(ctx, "top", 20, 1, 10_000);
        List<MemoryItem> memories = CostMemories(ctx, who!, out string? memoryNote);
        CostResult result = await Task.Run(() => Pricing.Compute(orgs, selector, from, until, top, memories: memories)).ConfigureAwait(false);
        CostDocument doc = memoryNote is null ? result.Document : result.Document.WithNotes([memoryNote], [], partial: false);
        await WriteJson(ctx, doc, Json.CostDocument).ConfigureAwait(false);
    }

    private async Task OpportunitiesAsync(HttpContext ctx, Principal? who)
    {
        (IReadOnlyList<string> orgs, Selector selector, long from, long until) = CostSelection(ctx, who!, DefaultCostRangeNs);
        int top = IntParam(ctx, "top", 20, 1, 10_000);
        double improve = PercentParam(ctx, "improve", 10);
        List<MemoryItem> memories = CostMemories(ctx, who!, out string? memoryNote);
        OpportunitiesDocument doc = await Task.Run(() =>
        {
            CostResult current = Pricing.Compute(orgs, selector, from, until, memories: memories);
            CostResult previous = Pricing.Compute(orgs, selector, from - (until - from), from, memories: memories);
            bool hadData = previous.Document.Hosts.Count > 0;
            var options = new OpportunityOptions { ImprovementPercent = improve, Top = top, Selector = new Selector(selector.Matchers).ToString() };
            OpportunitiesDocument ranked = OpportunityRanker.Rank(current, hadData ? previous : null, options);
            return WithMemories(ranked, current.Document.MemoriesUsed, memoryNote);
        }).ConfigureAwait(false);
        await WriteJson(ctx, doc, Json.OpportunitiesDocument).ConfigureAwait(false);
    }

    private async Task OrgReportAsync(HttpContext ctx, Principal? who)
    {
        string format = IngestParser.One(ctx.Request.Query, "format") ?? "json";
        string contentType = format switch
        {
            "json" => "application/json; charset=utf-8",
            "md" => "text/markdown; charset=utf-8",
            "csv" => "text/csv; charset=utf-8",
            "html" => "text/html; charset=utf-8",
            _ => throw new ApiException(400, $"bad format '{AuthStore.Escape(format)}': expected json, md, csv or html"),
        };
        (long from, long until) = CostRange(ctx, DefaultReportRangeNs);
        IReadOnlyList<string> orgs = Auth.Orgs();
        OrgReportDocument report = await Task.Run(() =>
        {
            var current = new Dictionary<string, CostResult>(StringComparer.Ordinal);
            var previous = new Dictionary<string, CostResult>(StringComparer.Ordinal);
            foreach (string org in orgs)
            {
                current[org] = Pricing.Compute([org], Selector.All, from, until);
                previous[org] = Pricing.Compute([org], Selector.All, from - (until - from), from);
            }

            return OrgReport.Build(current, previous, from / 1_000_000, until / 1_000_000);
        }).ConfigureAwait(false);
        if (format == "json")
        {
            await WriteJson(ctx, report, Json.OrgReportDocument).ConfigureAwait(false);
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(OrgReport.Render(report, format));
        ctx.Response.ContentType = contentType;
        if (format == "html")
        {
            // The report is one self-contained page without script; its inline style needs its own policy.
            ctx.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
        }

        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /api/v1/query?unit=usd|kwh|co2e</c>: the CPU flame tree with each host's CPU nanoseconds priced at that
    /// host's attributed cost per CPU nanosecond (Kepler: the same for every function on a host).
    /// </summary>
    private async Task PricedQueryAsync(HttpContext ctx, Principal who, ProfileQuery q, string unitText)
    {
        CostUnit unit = CostUnit.Parse(unitText)
            ?? throw new ApiException(400, $"bad unit '{AuthStore.Escape(unitText)}': expected usd, kwh or co2e");
        if (q.Type != ProfileTypeId.ProcessCpu)
        {
            throw new ApiException(400, $"unit={unit.Name} prices CPU time: the type must be {ProfileTypeId.ProcessCpu}, not {q.Type}");
        }

        int maxNodes = IntParam(ctx, "maxNodes", FlameTreeBuilder.DefaultMaxNodes, 1, FlameTreeBuilder.DefaultMaxNodes);
        var selector = new Selector(q.Selector.Matchers);
        List<MemoryItem> memories = CostMemories(ctx, who, out _);
        FlameTree tree = await Task.Run(() =>
        {
            CostResult priced = Pricing.Compute(q.Orgs, selector, q.StartNs, q.EndNs, gpus: false, memories: memories);
            Profile profile = Pricing.Priced(q.Orgs, selector, q.StartNs, q.EndNs, unit, priced);
            return FlameTreeBuilder.Build(profile, q.Type, q.StartNs, q.EndNs, maxNodes, unit: unit.Unit, provenance: Basis.Estimated, partial: priced.Document.Partial);
        }).ConfigureAwait(false);
        await WriteJson(ctx, tree, Json.FlameTree).ConfigureAwait(false);
    }

    // The ranker copies the cost answer's notes; the memories it was priced with ride along.
    private static OpportunitiesDocument WithMemories(OpportunitiesDocument d, List<MemoryItem> used, string? note) =>
        used.Count == 0 && note is null ? d : new OpportunitiesDocument
        {
            From = d.From,
            Until = d.Until,
            Selection = d.Selection,
            ImprovementPercent = d.ImprovementPercent,
            Items = d.Items,
            TotalPerYear = d.TotalPerYear,
            Partial = d.Partial,
            Notes = note is null ? d.Notes : [note, .. d.Notes],
            MemoriesUsed = used,
        };

    /// <summary>
    /// The selection of a cost route: orgs (the token's own; an admin token without <c>org=</c> or <c>X-Scope-OrgID</c>
    /// spans every org), <c>query</c> and the range (default the last <paramref name="defaultRangeNs"/>).
    /// </summary>
    private (IReadOnlyList<string> Orgs, Selector Selector, long From, long Until) CostSelection(HttpContext ctx, Principal who, long defaultRangeNs)
    {
        bool named = !string.IsNullOrEmpty(ctx.Request.Headers["X-Scope-OrgID"]) || ctx.Request.Query.ContainsKey("org");
        IReadOnlyList<string> orgs = who.Role == Role.Admin && !named ? Auth.Orgs() : Orgs(ctx, who, single: false);
        Selector selector = Selector.Parse(IngestParser.One(ctx.Request.Query, "query"));
        CostService.CheckSelector(selector);
        (long from, long until) = CostRange(ctx, defaultRangeNs);
        return (orgs, selector, from, until);
    }

    private (long From, long Until) CostRange(HttpContext ctx, long defaultRangeNs)
    {
        long now = TimeSpec.NowNs();
        string? from = IngestParser.One(ctx.Request.Query, "from");
        string? until = IngestParser.One(ctx.Request.Query, "until");
        long end = until is null ? now : TimeSpec.Parse(until, now, "until");
        long start = from is null ? end - defaultRangeNs : TimeSpec.Parse(from, now, "from");
        return CheckRange(start, end);
    }

    private static double PercentParam(HttpContext ctx, string name, double fallback)
    {
        string? text = IngestParser.One(ctx.Request.Query, name);
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v <= 0 || v > 100)
        {
            throw new ApiException(400, $"bad {name} '{AuthStore.Escape(text)}': expected a percentage above 0 and at most 100");
        }

        return v;
    }
}
