using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Formats.Folded;
using Orac.Formats.Pprof;
using Orac.Formats.Svg;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Ingest;
using Orac.Storage;

namespace Orac.Server;

public sealed partial class OracServer
{
    private const long DefaultRangeNs = 3600 * TimeSpec.NsPerSecond;
    private const int MaxSeriesPoints = 11_000;

    private void MapQueries(WebApplication app)
    {
        Route(app, "GET", "/api/v1/query", Access.Read, QueryAsync);
        Route(app, "GET", "/api/v1/query/top", Access.Read, TopAsync);
        Route(app, "GET", "/api/v1/query/diff", Access.Read, DiffAsync);
        Route(app, "GET", "/api/v1/query/series", Access.Read, SeriesAsync);
        Route(app, "GET", "/api/v1/query/labels", Access.Read, LabelsAsync);
        Route(app, "GET", "/api/v1/query/types", Access.Read, TypesAsync);
        Route(app, "GET", "/api/v1/query/export", Access.Read, ExportAsync);
        Route(app, "GET", "/api/v1/status", Access.Read, StatusAsync);
        Route(app, "GET", "/healthz", Access.Public, (ctx, _) => WriteJson(ctx, new HealthDocument { Status = "ok" }, Json.HealthDocument));
    }

    private async Task QueryAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        if (IngestParser.One(ctx.Request.Query, "unit") is string unit)
        {
            await PricedQueryAsync(ctx, who!, q, unit).ConfigureAwait(false);
            return;
        }

        int maxNodes = IntParam(ctx, "maxNodes", FlameTreeBuilder.DefaultMaxNodes, 1, FlameTreeBuilder.DefaultMaxNodes);
        FlameTree tree = await Task.Run(() => FlameTreeBuilder.Build(_store.Select(q), q.Type, q.StartNs, q.EndNs, maxNodes)).ConfigureAwait(false);
        await WriteJson(ctx, tree, Json.FlameTree).ConfigureAwait(false);
    }

    private async Task TopAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        int limit = IntParam(ctx, "limit", 20, 1, 100_000);
        TopOrder order = IngestParser.One(ctx.Request.Query, "order") switch
        {
            null or "self" => TopOrder.Self,
            "total" => TopOrder.Total,
            string other => throw new ApiException(400, $"bad order '{AuthStore.Escape(other)}': expected self or total"),
        };
        TopReport report = await Task.Run(() =>
        {
            Profile p = _store.Select(q);
            return TopReport.From(TopFunctions.Compute(p, order), Describe(q), order, limit);
        }).ConfigureAwait(false);
        await WriteJson(ctx, report, Json.TopReport).ConfigureAwait(false);
    }

    private async Task DiffAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        ProfileQuery b = ParseQuery(ctx, who!, "base", q);
        if (b.Type != q.Type)
        {
            throw new ApiException(400, $"the base selection's type {b.Type} differs from the main one's {q.Type}");
        }

        int maxNodes = IntParam(ctx, "maxNodes", FlameTreeBuilder.DefaultMaxNodes, 1, FlameTreeBuilder.DefaultMaxNodes);
        FlameTree tree = await Task.Run(() =>
        {
            Profile main = _store.Select(q);
            Profile baseline = _store.Select(b);
            Profile diff = Profile.Diff(baseline, main);
            return FlameTreeBuilder.Build(diff, q.Type, q.StartNs, q.EndNs, maxNodes, column: 1, baseColumn: 0);
        }).ConfigureAwait(false);
        await WriteJson(ctx, tree, Json.FlameTree).ConfigureAwait(false);
    }

    private async Task SeriesAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        long range = q.EndNs - q.StartNs;
        string? stepText = IngestParser.One(ctx.Request.Query, "step");
        long step;
        if (stepText is null)
        {
            // About 500 points, in whole 10 s buckets.
            step = Math.Max(Buckets.RawNs, (range / 500 + Buckets.RawNs - 1) / Buckets.RawNs * Buckets.RawNs);
        }
        else if (!TimeSpec.TryParseDuration(stepText, out step) || step < 1_000_000)
        {
            throw new ApiException(400, $"bad step '{AuthStore.Escape(stepText)}': expected a duration of at least 1ms such as 10s, 1m, 1h");
        }

        if (range / step > MaxSeriesPoints)
        {
            throw new ApiException(400, $"step {stepText} gives {range / step} points over the range (at most {MaxSeriesPoints}); use a larger step");
        }

        string? function = IngestParser.One(ctx.Request.Query, "function");
        IReadOnlyList<SeriesPoint> points = await Task.Run(() => _store.Series(q, step, function)).ConfigureAwait(false);
        var doc = new SeriesDocument
        {
            Type = q.Type.ToString(),
            Unit = q.Type.SampleUnit,
            Step = step / 1_000_000,
            Points = [.. points.Select(p => new[] { p.TimeNs / 1_000_000, p.Value })],
        };
        await WriteJson(ctx, doc, Json.SeriesDocument).ConfigureAwait(false);
    }

    private async Task LabelsAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        string? name = IngestParser.One(ctx.Request.Query, "name");
        if (name is not null && !SeriesLabels.IsValidName(name))
        {
            throw new ApiException(400, $"bad label name '{AuthStore.Escape(name)}'");
        }

        IReadOnlyList<string> values = await Task.Run(() => _store.Labels(q, name)).ConfigureAwait(false);
        if (name is null)
        {
            await WriteJson(ctx, new LabelNamesDocument { Names = values }, Json.LabelNamesDocument).ConfigureAwait(false);
        }
        else
        {
            await WriteJson(ctx, new LabelValuesDocument { Name = name, Values = values }, Json.LabelValuesDocument).ConfigureAwait(false);
        }
    }

    private async Task TypesAsync(HttpContext ctx, Principal? who)
    {
        IReadOnlyList<string> orgs = Orgs(ctx, who!, single: false);
        (long start, long end) = Range(ctx, "");
        IReadOnlyList<ProfileTypeId> types = await Task.Run(() => _store.Types(orgs, start, end)).ConfigureAwait(false);
        await WriteJson(ctx, new TypesDocument { Types = [.. types.Select(t => t.ToString())] }, Json.TypesDocument).ConfigureAwait(false);
    }

    private async Task ExportAsync(HttpContext ctx, Principal? who)
    {
        ProfileQuery q = ParseQuery(ctx, who!);
        string format = IngestParser.One(ctx.Request.Query, "format") ?? "folded";
        if (format is not ("folded" or "svg" or "pprof"))
        {
            throw new ApiException(400, $"bad format '{AuthStore.Escape(format)}': expected folded, svg or pprof");
        }

        await WriteExport(ctx, format, "profile.pb.gz", TopReport.UnitWord(q.Type.Value),
            () => (_store.Select(q), $"{q.Type} {Describe(q)} {TimeSpec.Format(q.StartNs)} .. {TimeSpec.Format(q.EndNs)}")).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers an export: <paramref name="make"/> (run off the request thread) gives the profile and the SVG's
    /// subtitle; the profile is written as folded text, gzip pprof (an attachment named <paramref name="pprofName"/>) or an SVG flame graph.
    /// </summary>
    private static async Task WriteExport(HttpContext ctx, string format, string pprofName, string countName, Func<(Profile Profile, string Subtitle)> make)
    {
        byte[] bytes = await Task.Run(() =>
        {
            (Profile p, string subtitle) = make();
            using var ms = new MemoryStream();
            if (format == "folded")
            {
                FoldedWriter.Write(p, ms);
            }
            else if (format == "pprof")
            {
                PprofWriter.Write(p, ms, gzip: true);
            }
            else
            {
                var input = new FoldedInput();
                input.AddProfile(p, reverse: false);
                var options = new FlameGraphOptions { Title = "Flame Graph", Subtitle = subtitle, CountName = countName };
                FlameGraphSvg.Render(input, options, ms, TextWriter.Null);
            }

            return ms.ToArray();
        }).ConfigureAwait(false);
        ctx.Response.ContentType = format switch
        {
            "svg" => "image/svg+xml",
            "pprof" => "application/octet-stream",
            _ => "text/plain; charset=utf-8",
        };
        if (format == "pprof")
        {
            ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"{pprofName}\"";
        }

        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    private async Task StatusAsync(HttpContext ctx, Principal? who)
    {
        _ = Orgs(ctx, who!, single: false);
        StoreStats s = await Task.Run(_store.Stats).ConfigureAwait(false);
        var doc = new StatusDocument
        {
            Version = typeof(OracServer).Assembly.GetName().Version?.ToString() ?? "0",
            Store = new StoreSizes
            {
                HotSamples = s.HotSamples,
                HotBytes = s.HotBytes,
                ColdRows = s.ColdRows,
                ColdBytes = s.ColdBytes,
                WalBytes = s.WalBytes,
                Series = s.Series,
                Stacks = s.Stacks,
            },
        };
        await WriteJson(ctx, doc, Json.StatusDocument).ConfigureAwait(false);
    }

    /// <summary>
    /// The selection of a query route: orgs (see <see cref="Orgs"/>), <c>query</c>, <c>type</c>, <c>from</c>, <c>until</c>.
    /// With a <paramref name="prefix"/> (<c>base</c>), reads <c>baseQuery</c>, <c>baseFrom</c>, <c>baseUntil</c>, each
    /// defaulting to <paramref name="fallback"/>'s.
    /// </summary>
    private ProfileQuery ParseQuery(HttpContext ctx, Principal who, string prefix = "", ProfileQuery? fallback = null)
    {
        IReadOnlyList<string> orgs = fallback?.Orgs ?? Orgs(ctx, who, single: false);
        IQueryCollection query = ctx.Request.Query;
        string? text = IngestParser.One(query, Param(prefix, "query"));
        Selector selector = text is null && fallback is not null ? fallback.Selector : Selector.Parse(text);
        (long start, long end) = fallback is null ? Range(ctx, prefix) : RangeOr(ctx, prefix, fallback);
        string? typeText = IngestParser.One(query, "type");
        ProfileTypeId? param = typeText is null ? null : ProfileTypeId.Parse(typeText);
        if (selector.Type is { } st && param is { } pt && st != pt)
        {
            throw new ApiException(400, $"the query names type {st} but type= says {pt}");
        }

        ProfileTypeId type = selector.Type ?? param ?? fallback?.Type ?? DefaultType(orgs, selector, start, end);
        return new ProfileQuery(orgs, type, selector, start, end);
    }

    /// <summary>
    /// Without a type: the first type that has data for this selection, CPU time first (so <c>{service_name="api"}</c>
    /// finds api's profiles even when another service's type sorts first); with no match at all, the org's first type.
    /// </summary>
    private ProfileTypeId DefaultType(IReadOnlyList<string> orgs, Selector selector, long start, long end)
    {
        IReadOnlyList<ProfileTypeId> types = _store.Types(orgs, start, end);
        IEnumerable<ProfileTypeId> cpuFirst = types.Where(t => t == ProfileTypeId.ProcessCpu).Concat(types.Where(t => t != ProfileTypeId.ProcessCpu));
        foreach (ProfileTypeId t in cpuFirst)
        {
            if (selector.Matchers.Count == 0 || _store.Labels(new ProfileQuery(orgs, t, selector, start, end)).Count > 0)
            {
                return t;
            }
        }

        return types.Count > 0 ? types[0] : ProfileTypeId.ProcessCpu;
    }

    private (long Start, long End) Range(HttpContext ctx, string prefix)
    {
        long now = TimeSpec.NowNs();
        string? from = IngestParser.One(ctx.Request.Query, Param(prefix, "from"));
        string? until = IngestParser.One(ctx.Request.Query, Param(prefix, "until"));
        long end = until is null ? now : TimeSpec.Parse(until, now, Param(prefix, "until"));
        long start = from is null ? end - DefaultRangeNs : TimeSpec.Parse(from, now, Param(prefix, "from"));
        return CheckRange(start, end);
    }

    private (long Start, long End) RangeOr(HttpContext ctx, string prefix, ProfileQuery fallback)
    {
        long now = TimeSpec.NowNs();
        string? from = IngestParser.One(ctx.Request.Query, Param(prefix, "from"));
        string? until = IngestParser.One(ctx.Request.Query, Param(prefix, "until"));
        long start = from is null ? fallback.StartNs : TimeSpec.Parse(from, now, Param(prefix, "from"));
        long end = until is null ? fallback.EndNs : TimeSpec.Parse(until, now, Param(prefix, "until"));
        return CheckRange(start, end);
    }

    private (long, long) CheckRange(long start, long end)
    {
        if (end <= start)
        {
            throw new ApiException(400, $"until ({TimeSpec.Format(end)}) must be after from ({TimeSpec.Format(start)})");
        }

        long maxNs = (long)Math.Min(_options.MaxQueryRange.TotalMilliseconds * 1_000_000, long.MaxValue / 2);
        if (end - start > maxNs)
        {
            throw new ApiException(400, $"time range of {(end - start) / 3_600_000_000_000.0:0.#} h is longer than the limit of {_options.MaxQueryRange.TotalHours:0.#} h");
        }

        return (start, end);
    }

    private static string Param(string prefix, string name) =>
        prefix.Length == 0 ? name : prefix + char.ToUpperInvariant(name[0]) + name[1..];

    private static int IntParam(HttpContext ctx, string name, int fallback, int min, int max)
    {
        string? text = IngestParser.One(ctx.Request.Query, name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
        {
            throw new ApiException(400, $"bad {name} '{AuthStore.Escape(text)}': expected a whole number from {min} to {max}");
        }

        return v;
    }

    private static string Describe(ProfileQuery q) => string.Join(",", q.Orgs) + new Selector(q.Selector.Matchers);
}
