using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Ingest;
using Orac.Storage;

namespace Orac.Server;

public sealed partial class OracServer
{
    private void MapIngest(WebApplication app)
    {
        Route(app, "POST", "/ingest", Access.Ingest, (ctx, who) => IngestAsync(ctx, who!, IngestRoute.Pyroscope));
        Route(app, "POST", "/api/v1/profiles", Access.Ingest, (ctx, who) => IngestAsync(ctx, who!, IngestRoute.Native));
    }

    /// <summary>Header naming an upload so a replay of it is stored once (docs/fleet.md).</summary>
    public const string UploadIdHeader = "X-Orac-Upload-Id";

    private async Task IngestAsync(HttpContext ctx, Principal who, IngestRoute route)
    {
        string org = Orgs(ctx, who, single: true)[0];
        string? uploadId = UploadId(ctx);
        ReadOnlyMemory<byte> body = await ReadBody(ctx).ConfigureAwait(false);
        IQueryCollection query = ctx.Request.Query;
        string? contentType = ctx.Request.ContentType;

        // Decompression cap: a gzip body may expand to 4× the body limit.
        long maxBytes = _options.MaxBodyBytes * 4;
        IReadOnlyList<IngestItem> items = await Task.Run(() => IngestParser.Parse(route, org, query, contentType, body, TimeSpec.NowNs(), maxBytes)).ConfigureAwait(false);

        if (uploadId is not null && !await _uploads.ReserveAsync(org, uploadId, ctx.RequestAborted).ConfigureAwait(false))
        {
            await WriteJson(ctx, new IngestResult { Ingested = 0, Series = 0, Samples = 0, Duplicate = true }, Json.IngestResult).ConfigureAwait(false);
            return;
        }

        try
        {
            // Not cancelled with the request: the store keeps all items or none, and an answer may already be owed.
            await _store.IngestAsync(items, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            if (uploadId is not null)
            {
                _uploads.Release(org, uploadId);
            }

            throw;
        }

        if (uploadId is not null)
        {
            _uploads.Commit(org, uploadId);
        }

        long samples = 0;
        var series = new HashSet<(ProfileTypeId, string)>();
        foreach (IngestItem item in items)
        {
            samples += item.Profile.SampleCount;
            series.Add((item.Type, item.Labels.Key));
        }

        await WriteJson(ctx, new IngestResult { Ingested = items.Count, Series = series.Count, Samples = samples }, Json.IngestResult).ConfigureAwait(false);
    }

    private static string? UploadId(HttpContext ctx)
    {
        var values = ctx.Request.Headers[UploadIdHeader];
        if (values.Count == 0)
        {
            return null;
        }

        string id = values.Count == 1 ? values[0] ?? "" : "";
        if (!Fleet.UploadLedger.IsValidId(id))
        {
            throw new ApiException(400, $"bad {UploadIdHeader} '{AuthStore.Escape(values.ToString())}': one value of 1 to 128 of letters, digits, '.', '_', ':' and '-'");
        }

        return id;
    }
}
