using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Orac.Formats.Folded;
using Orac.Formats.Pprof;
using Orac.Formats.Speedscope;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Storage;

namespace Orac.Server.Ingest;

/// <summary>Which ingest route a body came in on: they differ in parameters, not in how bodies are read.</summary>
public enum IngestRoute
{
    /// <summary><c>POST /ingest</c>: Pyroscope's parameters (<c>name=app.cpu{k=v}</c>, <c>sampleRate</c>, …).</summary>
    Pyroscope,

    /// <summary><c>POST /api/v1/profiles</c>: Orac's parameters (<c>service</c>, <c>label=k=v</c>, <c>type</c>).</summary>
    Native,
}

/// <summary>
/// Turns one ingest request (query parameters, content type, body bytes) into the items to store, or refuses it:
/// <see cref="OracException"/> for bad input (→ 400, saying what and where) and <see cref="ApiException"/> for other
/// refusals (413 too large once decompressed, 415 format not supported). Nothing here touches the store, so a refused
/// request has stored nothing. The HTTP endpoints and the <c>ingest-http</c> fuzz target both call <see cref="Parse"/>.
/// </summary>
public static class IngestParser
{
    /// <summary>Most value columns one profile may carry.</summary>
    public const int MaxColumns = 64;

    private const int MaxParts = 16;

    /// <summary>Parses a request into items for org <paramref name="org"/>.</summary>
    /// <param name="route">Which parameters apply.</param>
    /// <param name="org">Org the items belong to (already authorised).</param>
    /// <param name="query">Query parameters.</param>
    /// <param name="contentType">The Content-Type header, or null.</param>
    /// <param name="body">The whole body (at most the server's body limit).</param>
    /// <param name="nowNs">Current time, Unix ns (for <c>now-1h</c> forms and defaults).</param>
    /// <param name="maxBytes">Largest body accepted after gzip decompression, bytes.</param>
    public static IReadOnlyList<IngestItem> Parse(IngestRoute route, string org, IQueryCollection query, string? contentType, ReadOnlyMemory<byte> body, long nowNs, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? format = One(query, "format")?.ToLowerInvariant();
        (long start, long end) = Times(query, nowNs);
        SampleTypeConfig? config = null;
        if (contentType is not null && contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            Dictionary<string, ReadOnlyMemory<byte>> parts = ReadMultipart(contentType, body, maxBytes);
            if (!parts.TryGetValue("profile", out body))
            {
                throw new OracException("multipart body without a 'profile' part (parts: profile, prev_profile, sample_type_config)", OracException.Usage);
            }

            if (parts.TryGetValue("sample_type_config", out ReadOnlyMemory<byte> cfg))
            {
                config = SampleTypeConfig.Parse(cfg);
            }
        }

        body = Gunzip(body, maxBytes);
        return route == IngestRoute.Pyroscope
            ? ParsePyroscope(org, query, body, format, start, end, config)
            : ParseNative(org, query, body, format, start, end, config);
    }

    private static List<IngestItem> ParsePyroscope(string org, IQueryCollection query, ReadOnlyMemory<byte> body, string? format, long start, long end, SampleTypeConfig? config)
    {
        PyroscopeName name = PyroscopeName.Parse(One(query, "name"));
        var pairs = new List<KeyValuePair<string, string>>(name.Labels) { new("service_name", name.Service) };
        string? spy = One(query, "spyName");
        if (spy is not null)
        {
            pairs.Add(new("pyroscope_spy", spy));
        }

        SeriesLabels labels = SeriesLabels.Create(pairs);
        long? rate = null;
        string? rateText = One(query, "sampleRate");
        if (rateText is not null)
        {
            if (!long.TryParse(rateText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long r) || r is < 1 or > 1_000_000_000)
            {
                throw new OracException($"bad sampleRate '{AuthEscape(rateText)}': expected a whole number of Hz between 1 and 1000000000", OracException.Usage);
            }

            rate = r;
        }

        string? units = One(query, "units");
        string? aggregation = One(query, "aggregationType");
        if (aggregation is not null and not ("sum" or "average"))
        {
            throw new OracException($"bad aggregationType '{AuthEscape(aggregation)}': expected sum or average", OracException.Usage);
        }

        format ??= Sniff(body.Span, native: false);
        switch (format)
        {
            case "folded":
            case "collapsed":
            case "lines":
                {
                    // Plain counts: the app-name suffix says what they count; with a sample rate they become nanoseconds.
                    ProfileTypeId type = ProfileTypes.FromSuffix(name.Suffix, units, rate.HasValue);
                    Profile p = format == "lines" ? ReadLines(body) : ReadFolded(body, "body", rate.HasValue ? SampleType.Samples : type.Value);
                    if (rate is long hz)
                    {
                        p = ToNanoseconds(p, hz, type.Value);
                    }

                    return [new IngestItem(org, type, labels, start, end, p)];
                }

            case "pprof":
            case "speedscope":
                return Columns(org, labels, start, end, ReadNamed(format, body), null, name.Suffix, config);

            default:
                throw Unsupported(format);
        }
    }

    private static List<IngestItem> ParseNative(string org, IQueryCollection query, ReadOnlyMemory<byte> body, string? format, long start, long end, SampleTypeConfig? config)
    {
        string service = One(query, "service") ?? throw new OracException("missing service (e.g. service=api)", OracException.Usage);
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (string? l in query["label"])
        {
            int eq = l?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            if (l is null || eq <= 0)
            {
                throw new OracException($"bad label '{AuthEscape(l ?? "")}': expected label=name=value", OracException.Usage);
            }

            pairs.Add(new(l[..eq], l[(eq + 1)..]));
        }

        pairs.Add(new("service_name", service));
        SeriesLabels labels = SeriesLabels.Create(pairs);
        string? typeText = One(query, "type");
        ProfileTypeId? type = typeText is null ? null : ProfileTypeId.Parse(typeText);
        format ??= Sniff(body.Span, native: true);
        switch (format)
        {
            case "folded":
            case "collapsed":
            case "lines":
                {
                    ProfileTypeId t = type ?? ProfileTypeId.ProcessCpuSamples;
                    Profile p = format == "lines" ? ReadLines(body) : ReadFolded(body, "body", t.Value);
                    return [new IngestItem(org, t, labels, start, end, p)];
                }

            case "json":
            case "pprof":
            case "speedscope":
                return Columns(org, labels, start, end, ReadNamed(format, body), type, null, config);

            default:
                throw Unsupported(format);
        }
    }

    /// <summary>Formats whose profiles name their sample types (one stored profile per column).</summary>
    private static Profile ReadNamed(string format, ReadOnlyMemory<byte> body) => format switch
    {
        "json" => ProfileJson.Read(AsStream(body), "body"),
        "pprof" => PprofReader.Read(body.Span, "body"),
        "speedscope" => SpeedscopeReader.Read(AsStream(body), "body"),
        _ => throw new ApiException(415, $"format {format} is not supported"),
    };

    /// <summary>One stack per line, each line one sample.</summary>
    private static Profile ReadLines(ReadOnlyMemory<byte> body) => LinesReader.Read(AsStream(body), "body");

    /// <summary>One item per value column of <paramref name="p"/> (or only the column <paramref name="explicitType"/> names).</summary>
    private static List<IngestItem> Columns(string org, SeriesLabels labels, long start, long end, Profile p, ProfileTypeId? explicitType, string? suffix, SampleTypeConfig? config)
    {
        int n = p.SampleTypes.Count;
        if (n > MaxColumns)
        {
            throw new OracException($"the profile has {n} sample types (at most {MaxColumns})", OracException.Usage);
        }

        if (explicitType is ProfileTypeId t)
        {
            if (n == 1)
            {
                return [new IngestItem(org, t, labels, start, end, p)];
            }

            for (int i = 0; i < n; i++)
            {
                if (p.SampleTypes[i].Type == t.SampleType && p.SampleTypes[i].Unit == t.SampleUnit)
                {
                    return [new IngestItem(org, t, labels, start, end, p, i)];
                }
            }

            throw new OracException($"type {t} names sample type {t.SampleType}/{t.SampleUnit}, which the profile does not have (it has {string.Join(", ", p.SampleTypes)})", OracException.Usage);
        }

        var items = new List<IngestItem>(n);
        var seen = new HashSet<ProfileTypeId>();
        for (int i = 0; i < n; i++)
        {
            SampleType st = config?.Apply(p.SampleTypes[i]) ?? p.SampleTypes[i];
            ProfileTypeId id = ProfileTypes.FromSampleType(st, p.Metadata.PeriodType, suffix);
            if (!seen.Add(id))
            {
                throw new OracException($"two sample types of the profile map to the same profile type {id}", OracException.Usage);
            }

            items.Add(new IngestItem(org, id, labels, start, end, p, i));
        }

        return items;
    }

    /// <summary>Folded stacks, strictly: any line that is not <c>stack count</c> refuses the whole body, naming the line.</summary>
    private static Profile ReadFolded(ReadOnlyMemory<byte> body, string name, SampleType type)
    {
        var warnings = new ParseWarnings { MaxExamples = 1 };
        Profile p = FoldedReader.Read(AsStream(body), name, warnings, type);
        if (warnings.Total > 0)
        {
            using var w = new StringWriter();
            warnings.WriteTo(w);
            string first = w.ToString().Split('\n')[0].Replace("orac: warning: ", "", StringComparison.Ordinal).Trim();
            throw new OracException($"bad folded body: {first}; nothing was stored", OracException.Usage);
        }

        return p;
    }

    /// <summary>Sample counts × 1e9 / rate: nanoseconds of CPU (or wall) time, rounded to the nearest ns.</summary>
    private static Profile ToNanoseconds(Profile counts, long rateHz, SampleType type)
    {
        var b = new ProfileBuilder(type) { Metadata = counts.Metadata with { Period = 1_000_000_000L / rateHz, PeriodType = type } };
        var map = new ProfileRemapper(counts, b);
        for (int r = 0; r < counts.SampleCount; r++)
        {
            Int128 ns = (((Int128)counts.Value(r) * 1_000_000_000) + (rateHz / 2)) / rateHz;
            if (ns > long.MaxValue)
            {
                throw new OracException($"a count times 1e9/sampleRate does not fit in 64 bits (stack '{AuthEscape(counts.StackToString(counts.SampleStacks[r]))}')", OracException.Usage);
            }

            b.Add(map.Stack(counts.SampleStacks[r]), (long)ns);
        }

        return b.Build();
    }

    private static ApiException Unsupported(string format) => format switch
    {
        "trie" or "tree" => new ApiException(415, $"format {format} (Pyroscope's legacy encodings) is not supported; send folded or pprof"),
        _ => new ApiException(400, $"unknown format '{AuthEscape(format)}' (folded, lines, pprof, speedscope; json on /api/v1/profiles)"),
    };

    /// <summary>Tells formats apart by their first bytes: JSON object, protobuf (pprof) or text (folded).</summary>
    internal static string Sniff(ReadOnlySpan<byte> body, bool native)
    {
        ReadOnlySpan<byte> t = body.TrimStart(" \t\r\n"u8);
        if (!t.IsEmpty && t[0] == (byte)'{')
        {
            return native ? "json" : "speedscope";
        }

        // pprof starts with field 1 (sample_type, length-delimited: 0x0a), a length, then the ValueType's field 1 (0x08).
        if (body.Length >= 3 && body[0] == 0x0a && (body[2] == 0x08 || (body[1] & 0x80) != 0))
        {
            return "pprof";
        }

        return body[..Math.Min(body.Length, 512)].Contains((byte)0) ? "pprof" : "folded";
    }

    internal static ReadOnlyMemory<byte> Gunzip(ReadOnlyMemory<byte> body, long maxBytes)
    {
        ReadOnlySpan<byte> s = body.Span;
        if (s.Length < 2 || s[0] != 0x1f || s[1] != 0x8b)
        {
            return body;
        }

        try
        {
            using var gz = new GZipStream(AsStream(body), CompressionMode.Decompress);
            using var output = new MemoryStream();
            byte[] buf = new byte[81920];
            int n;
            while ((n = gz.Read(buf)) > 0)
            {
                if (output.Length + n > maxBytes)
                {
                    throw new ApiException(413, $"body is larger than {maxBytes} bytes once decompressed");
                }

                output.Write(buf, 0, n);
            }

            // GZipStream stops quietly at a truncated end; the trailer's length (mod 2^32) must match what came out.
            if (s.Length < 18 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body.Span[^4..]) != (uint)output.Length)
            {
                throw new OracException("bad gzip body: truncated or damaged (the trailer's length does not match the data; send one gzip member)", OracException.Usage);
            }

            return output.GetBuffer().AsMemory(0, (int)output.Length);
        }
        catch (InvalidDataException e)
        {
            throw new OracException($"bad gzip body: {e.Message}", OracException.Usage);
        }
    }

    private static Dictionary<string, ReadOnlyMemory<byte>> ReadMultipart(string contentType, ReadOnlyMemory<byte> body, long maxBytes)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? media)
            || HeaderUtilities.RemoveQuotes(media.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            throw new OracException("multipart body without a boundary in Content-Type", OracException.Usage);
        }

        var parts = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        try
        {
            var reader = new MultipartReader(boundary, AsStream(body)) { HeadersCountLimit = 16, HeadersLengthLimit = 16 * 1024, BodyLengthLimit = maxBytes };
            for (int count = 0; ; count++)
            {
                MultipartSection? section = reader.ReadNextSectionAsync().GetAwaiter().GetResult();
                if (section is null)
                {
                    break;
                }

                if (count >= MaxParts)
                {
                    throw new OracException($"multipart body with more than {MaxParts} parts", OracException.Usage);
                }

                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? cd)
                    || HeaderUtilities.RemoveQuotes(cd.Name).Value is not { Length: > 0 } partName)
                {
                    throw new OracException($"multipart part {count + 1} has no Content-Disposition name", OracException.Usage);
                }

                using var ms = new MemoryStream();
                section.Body.CopyTo(ms);
                if (partName is "profile" or "prev_profile" or "sample_type_config" && !parts.TryAdd(partName, ms.ToArray()))
                {
                    throw new OracException($"multipart part '{partName}' given twice", OracException.Usage);
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new OracException($"bad multipart body: {e.Message}", OracException.Usage);
        }

        return parts;
    }

    private static (long Start, long End) Times(IQueryCollection query, long nowNs)
    {
        string? from = One(query, "from");
        string? until = One(query, "until");
        long start = from is null ? nowNs : TimeSpec.Parse(from, nowNs, "from");
        long end = until is null ? Math.Max(start, nowNs) : TimeSpec.Parse(until, nowNs, "until");
        if (end < start)
        {
            throw new OracException($"until ({TimeSpec.Format(end)}) is before from ({TimeSpec.Format(start)})", OracException.Usage);
        }

        return (start, end);
    }

    /// <summary>A parameter given at most once (null when absent or empty).</summary>
    internal static string? One(IQueryCollection query, string name)
    {
        var v = query[name];
        if (v.Count > 1)
        {
            throw new OracException($"parameter '{name}' given {v.Count} times", OracException.Usage);
        }

        return string.IsNullOrEmpty(v.ToString()) ? null : v.ToString();
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> m) =>
        MemoryMarshal.TryGetArray(m, out ArraySegment<byte> seg)
            ? new MemoryStream(seg.Array!, seg.Offset, seg.Count, writable: false)
            : new MemoryStream(m.ToArray(), writable: false);

    private static string AuthEscape(string s) => Auth.AuthStore.Escape(s);

    /// <summary>Pyroscope's <c>sample_type_config</c> part: per sample type name, its units and display name.</summary>
    private sealed class SampleTypeConfig
    {
        private readonly Dictionary<string, (string? Units, string? Name)> _map = new(StringComparer.Ordinal);

        public static SampleTypeConfig Parse(ReadOnlyMemory<byte> json)
        {
            var c = new SampleTypeConfig();

            // JsonDocument parses invalid UTF-8 inside strings and only fails when a string is read (found by fuzzing).
            if (!System.Text.Unicode.Utf8.IsValid(json.Span))
            {
                throw new OracException("bad sample_type_config: not valid UTF-8", OracException.Usage);
            }

            try
            {
                using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new OracException("bad sample_type_config: expected a JSON object of sample type names", OracException.Usage);
                }

                foreach (JsonProperty p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new OracException($"bad sample_type_config: '{AuthEscape(p.Name)}' is not an object", OracException.Usage);
                    }

                    string? units = p.Value.TryGetProperty("units", out JsonElement u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
                    string? display = p.Value.TryGetProperty("display-name", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    c._map[p.Name] = (units, display);
                }
            }
            catch (JsonException e)
            {
                throw new OracException($"bad sample_type_config: {e.Message}", OracException.Usage);
            }

            return c;
        }

        public SampleType Apply(SampleType t)
        {
            if (!_map.TryGetValue(t.Type, out var e))
            {
                return t;
            }

            string unit = e.Units switch
            {
                null or "" => t.Unit,
                "objects" or "goroutines" or "samples" or "lock_samples" => "count",
                "lock_nanoseconds" => "nanoseconds",
                _ => e.Units,
            };
            return new SampleType(string.IsNullOrEmpty(e.Name) ? t.Type : e.Name, unit);
        }
    }
}
