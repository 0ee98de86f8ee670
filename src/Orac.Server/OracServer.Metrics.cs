using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Cost.Gpu;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Cost;
using Orac.Server.Fleet;
using Orac.Server.Ingest;

namespace Orac.Server;

public sealed partial class OracServer
{
    /// <summary>Largest metrics body accepted, bytes (or the server's body limit when smaller).</summary>
    public const long MaxMetricsBodyBytes = 8L << 20;

    /// <summary>GPU and RAPL readings per org and host (docs/cost.md "GPUs").</summary>
    internal MetricsStore Metrics { get; }

    private void MapMetrics(WebApplication app)
    {
        Route(app, "POST", "/api/v1/metrics", Access.Ingest, (ctx, who) => IngestMetricsAsync(ctx, who!));
        Route(app, "GET", "/api/v1/metrics", Access.Read, (ctx, who) => GetMetricsAsync(ctx, who!));
    }

    /// <summary><c>POST /api/v1/metrics?host=H[&amp;format=json|nvidia-smi|dcgm][&amp;time=MS]</c>.</summary>
    private async Task IngestMetricsAsync(HttpContext ctx, Principal who)
    {
        string org = Orgs(ctx, who, single: true)[0];
        IQueryCollection query = ctx.Request.Query;
        string? host = IngestParser.One(query, "host");
        string format = IngestParser.One(query, "format") ?? "json";
        if (host is not null && !MetricsStore.IsValidHost(host))
        {
            throw new ApiException(400, $"bad host '{AuthStore.Escape(host)}': 1 to 253 of letters, digits, '.', '_' and '-'");
        }

        long nowMs = TimeSpec.NowNs() / 1_000_000;
        long scrapeMs = nowMs;
        if (IngestParser.One(query, "time") is string t
            && (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out scrapeMs) || scrapeMs <= 0))
        {
            throw new ApiException(400, $"bad time '{AuthStore.Escape(t)}': Unix milliseconds");
        }

        if (format is not ("json" or "nvidia-smi" or "dcgm"))
        {
            throw new ApiException(400, $"bad format '{AuthStore.Escape(format)}': json, nvidia-smi or dcgm");
        }

        if (format != "json" && host is null)
        {
            throw new ApiException(400, $"format={format} needs host=H (the text does not name the host)");
        }

        ReadOnlyMemory<byte> body = await ReadBody(ctx, Math.Min(MaxMetricsBodyBytes, _options.MaxBodyBytes)).ConfigureAwait(false);
        List<GpuReading> gpus;
        List<PowerReading> power = [];
        long skipped = 0;
        string? firstSkip = null;
        if (format == "json")
        {
            MetricsBatch batch;
            try
            {
                batch = JsonSerializer.Deserialize(body.Span, Json.MetricsBatch) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                string where = e.LineNumber is null ? "" : $" at byte {JsonOffsets.ByteOffset(body.Span, e.LineNumber, e.BytePositionInLine)}";
                throw new ApiException(400, $"bad metrics JSON{where}: {e.Message}");
            }

            if (host is not null && batch.Host != host)
            {
                throw new ApiException(400, $"the body's host '{AuthStore.Escape(batch.Host ?? "")}' differs from host={AuthStore.Escape(host)}");
            }

            host = batch.Host;
            if (!MetricsStore.IsValidHost(host))
            {
                throw new ApiException(400, $"bad host '{AuthStore.Escape(host ?? "")}' in the body: 1 to 253 of letters, digits, '.', '_' and '-'");
            }

            gpus = batch.Gpus ?? [];
            power = batch.Power ?? [];
        }
        else
        {
            using var reader = new StreamReader(new MemoryStream(body.ToArray()), Encoding.UTF8);
            GpuParseResult parsed = format == "nvidia-smi"
                ? GpuFormats.ParseNvidiaSmiCsv(reader, "body")
                : GpuFormats.ParseDcgm(reader, "body", scrapeMs);
            gpus = [.. parsed.Readings];
            skipped = parsed.Skipped;
            firstSkip = parsed.FirstSkip;
        }

        MetricsBatch valid = MetricsStore.Validate(host!, gpus, power, nowMs, out long invalid, out string? firstInvalid);
        skipped += invalid;
        firstSkip ??= firstInvalid;
        long kept = valid.Gpus.Count + valid.Power.Count;
        if (kept == 0 && skipped > 0)
        {
            throw new ApiException(400, $"no usable readings ({skipped} skipped); the first: {firstSkip}");
        }

        if (kept > 0)
        {
            Metrics.Add(org, valid);
        }

        await WriteJson(ctx, new MetricsIngestResult { Readings = kept, Skipped = skipped, FirstSkip = firstSkip }, Json.MetricsIngestResult).ConfigureAwait(false);
    }

    /// <summary><c>GET /api/v1/metrics?host=H&amp;from=T&amp;until=T</c>: the host's readings (time order) as a <c>MetricsBatch</c>.</summary>
    private async Task GetMetricsAsync(HttpContext ctx, Principal who)
    {
        string org = Orgs(ctx, who, single: true)[0];
        string host = IngestParser.One(ctx.Request.Query, "host") ?? throw new ApiException(400, "missing host=H");
        (long start, long end) = Range(ctx, "");
        long fromMs = start / 1_000_000, untilMs = end / 1_000_000;
        var batch = new MetricsBatch
        {
            Host = host,
            Gpus = [.. Metrics.Gpus(org, host, fromMs, untilMs)],
            Power = [.. Metrics.Power(org, host, fromMs, untilMs)],
        };
        await WriteJson(ctx, batch, Json.MetricsBatch).ConfigureAwait(false);
    }
}
