using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Ingest;

namespace Orac.Server.Fleet;

/// <summary>One host's result as the server keeps it: the bytes to store and, for profiles, the profile.</summary>
/// <param name="Stored">Bytes kept on disk (profiles decompressed, JSON reports as sent).</param>
/// <param name="Profile">For profile tasks: the host's CPU time in nanoseconds, one value column.</param>
internal sealed record ParsedResult(byte[] Stored, Profile? Profile);

/// <summary>
/// Checks what an agent sends as a task result. Profile results are Orac profile JSON (<see cref="ProfileDocument"/>),
/// optionally gzip-compressed, with a <c>cpu</c>/<c>nanoseconds</c> column (the only one kept); check, pmc and trace
/// results must be one JSON object and are kept as sent. Anything else is an <see cref="OracException"/> (400).
/// </summary>
internal static class TaskResults
{
    /// <summary>The value column of profile results.</summary>
    public static readonly SampleType CpuNs = new("cpu", "nanoseconds");

    /// <summary>
    /// Parses a result body of a task of kind <paramref name="kind"/>; <paramref name="maxBytes"/> caps the decompressed
    /// size of a profile, <paramref name="maxJsonBytes"/> that of a check, pmc or trace report (413 beyond).
    /// </summary>
    public static ParsedResult Parse(string kind, ReadOnlyMemory<byte> body, long maxBytes, long maxJsonBytes)
    {
        if (body.IsEmpty)
        {
            throw new OracException("empty result body (send the result, or state=failed with a reason)", OracException.Usage);
        }

        ReadOnlyMemory<byte> bytes = IngestParser.Gunzip(body, maxBytes);
        if (kind == TaskKinds.Profile)
        {
            Profile read = ProfileJson.Read(new MemoryStream(bytes.ToArray(), writable: false), "result");
            return new ParsedResult(bytes.ToArray(), CpuColumn(read));
        }

        if (bytes.Length > maxJsonBytes)
        {
            throw new ApiException(413, $"a {kind} result is larger than {maxJsonBytes} bytes once decompressed");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OracException($"a {kind} result must be a JSON object, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}", OracException.Usage);
            }
        }
        catch (JsonException e)
        {
            throw new OracException($"a {kind} result must be a JSON object: {e.Message} (byte offset {JsonOffsets.ByteOffset(bytes.Span, e.LineNumber, e.BytePositionInLine)})", OracException.Usage);
        }

        return new ParsedResult(bytes.ToArray(), null);
    }

    /// <summary>The <c>cpu</c>/<c>nanoseconds</c> column of <paramref name="p"/> as a one-column profile.</summary>
    public static Profile CpuColumn(Profile p)
    {
        int col = -1;
        for (int i = 0; i < p.SampleTypes.Count; i++)
        {
            if (p.SampleTypes[i] == CpuNs)
            {
                col = i;
                break;
            }
        }

        if (col < 0)
        {
            throw new OracException($"a profile result needs a cpu/nanoseconds column (it has {string.Join(", ", p.SampleTypes)})", OracException.Usage);
        }

        if (p.SampleTypes.Count == 1)
        {
            return p;
        }

        var builder = new ProfileBuilder(CpuNs) { Metadata = p.Metadata };
        var map = new ProfileRemapper(p, builder);
        map.MapAllStacks();
        int width = p.SampleTypes.Count;
        ReadOnlySpan<long> values = p.Values;
        for (int r = 0; r < p.SampleCount; r++)
        {
            builder.Add(map.Stack(p.SampleStacks[r]), values.Slice((r * width) + col, 1), map.Labels(p.SampleLabels[r]));
        }

        return builder.Build();
    }

    /// <summary>
    /// Merges host profiles into one with a <c>host</c> label on every sample (the host's other labels are kept).
    /// Empty input gives an empty cpu/nanoseconds profile.
    /// </summary>
    public static Profile MergeHosts(IReadOnlyList<(string Host, Profile Profile)> hosts)
    {
        var builder = new ProfileBuilder(CpuNs);
        StringId hostKey = builder.Intern("host");
        foreach ((string host, Profile p) in hosts)
        {
            var map = new ProfileRemapper(p, builder);
            map.MapAllStacks();
            StringId hostValue = builder.Intern(host);
            var labelCache = new Dictionary<LabelSetId, LabelSetId>();
            ReadOnlySpan<long> values = p.Values;
            for (int r = 0; r < p.SampleCount; r++)
            {
                LabelSetId source = p.SampleLabels[r];
                if (!labelCache.TryGetValue(source, out LabelSetId target))
                {
                    ReadOnlySpan<Label> own = p.LabelSets.Get(source);
                    var labels = new List<Label>(own.Length + 1);
                    foreach (Label l in own)
                    {
                        StringId k = map.String(l.Key);
                        if (k != hostKey)
                        {
                            labels.Add(new Label(k, map.String(l.Value)));
                        }
                    }

                    labels.Add(new Label(hostKey, hostValue));
                    target = builder.Labels(labels.ToArray());
                    labelCache[source] = target;
                }

                builder.Add(map.Stack(p.SampleStacks[r]), values.Slice(r, 1), target, p.HasTimestamps ? p.Timestamps[r] : null);
            }
        }

        return builder.Build();
    }
}

/// <summary>
/// Fuzz target <c>task-result</c>: bytes through the task-result parsing path (<see cref="TaskResults.Parse"/>) and,
/// for profiles, the host merge and the hosts comparison. The first byte picks the kind. Bad input may only be refused
/// with <see cref="OracException"/> or a 413 <see cref="ApiException"/> (decompressed body too large).
/// </summary>
public static class TaskResultFuzz
{
    /// <summary>Runs one input.</summary>
    public static void Run(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0)
        {
            return;
        }

        string kind = TaskKinds.All[data[0] % TaskKinds.All.Count];
        try
        {
            ParsedResult r = TaskResults.Parse(kind, data.AsMemory(1), 1 << 22, 1 << 20);
            if (r.Profile is { } p)
            {
                Profile merged = TaskResults.MergeHosts([("a", p), ("b", p)]);
                _ = HostComparison.Compare([("a", p), ("b", merged)]);
            }
        }
        catch (OracException)
        {
        }
        catch (ApiException e) when (e.Status == 413)
        {
        }
    }
}
