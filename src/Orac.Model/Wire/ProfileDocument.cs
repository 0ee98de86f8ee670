using System.Text.Json;

namespace Orac.Model.Wire;

/// <summary>
/// Orac's native profile file (<c>.json</c>): what a <see cref="Profile"/> holds, self-describing
/// (sample types with units, provenance, partial or not), frames named once and stacks as root-first
/// frame indices. <see cref="ProfileJson"/> writes and reads it.
/// </summary>
public sealed class ProfileDocument
{
    /// <summary>Always <c>orac-profile</c>.</summary>
    public string Format { get; init; } = ProfileJson.FormatName;

    /// <summary>Document version; readers refuse versions they do not know.</summary>
    public int Version { get; init; } = ProfileJson.CurrentVersion;

    /// <summary>What made it, e.g. <c>orac record -a -F 99</c>.</summary>
    public string Source { get; init; } = "";

    /// <summary><c>measured</c> or <c>estimated</c>.</summary>
    public string Provenance { get; init; } = "measured";

    /// <summary>True when the collection stopped early or lost data.</summary>
    public bool Partial { get; init; }

    /// <summary>Why it is partial, when it is.</summary>
    public string? PartialReason { get; init; }

    /// <summary>Value columns, in order.</summary>
    public IReadOnlyList<ProfileSampleType> SampleTypes { get; init; } = [];

    /// <summary>Sampling period (in <see cref="PeriodUnit"/>), 0 when not sampled at a fixed period.</summary>
    public long Period { get; init; }

    /// <summary>Unit of <see cref="Period"/>.</summary>
    public string PeriodUnit { get; init; } = "";

    /// <summary>What <see cref="Period"/> measures, e.g. <c>cpu</c> (absent in older files: <c>cpu</c> is assumed for nanoseconds).</summary>
    public string? PeriodType { get; init; }

    /// <summary>Host the profile was taken on, when known.</summary>
    public string? Host { get; init; }

    /// <summary>Start of the recording, Unix ns; 0 when unknown.</summary>
    public long StartNs { get; init; }

    /// <summary>End of the recording, Unix ns; 0 when unknown.</summary>
    public long EndNs { get; init; }

    /// <summary>Frame names; stacks refer to them by index.</summary>
    public IReadOnlyList<string> Frames { get; init; } = [];

    /// <summary>One entry per distinct stack.</summary>
    public IReadOnlyList<ProfileSample> Samples { get; init; } = [];
}

/// <summary>A value column: what it measures and in which unit.</summary>
public sealed class ProfileSampleType
{
    /// <summary>e.g. <c>cpu</c>.</summary>
    public required string Type { get; init; }

    /// <summary>e.g. <c>samples</c> or <c>nanoseconds</c>.</summary>
    public required string Unit { get; init; }
}

/// <summary>One stack and its values (one per sample type).</summary>
public sealed class ProfileSample
{
    /// <summary>Indices into <see cref="ProfileDocument.Frames"/>, root first.</summary>
    public required IReadOnlyList<int> Stack { get; init; }

    /// <summary>One value per sample type.</summary>
    public required IReadOnlyList<long> Values { get; init; }
}

/// <summary>Writes and reads <see cref="ProfileDocument"/>s.</summary>
public static class ProfileJson
{
    /// <summary>The <see cref="ProfileDocument.Format"/> marker.</summary>
    public const string FormatName = "orac-profile";

    /// <summary>The version this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The document for <paramref name="profile"/>; samples with the same stack are summed.</summary>
    public static ProfileDocument ToDocument(Profile profile, string source, bool partial = false, string? partialReason = null, ProfileMetadata? metadata = null)
    {
        metadata ??= profile.Metadata;
        var frameIndex = new Dictionary<FrameId, int>();
        var frames = new List<string>();
        var byStack = new Dictionary<StackId, int>();
        var samples = new List<(List<int> Stack, long[] Values)>();
        int width = profile.SampleTypes.Count;
        var buffer = new FrameId[64];
        for (int row = 0; row < profile.SampleCount; row++)
        {
            StackId stack = profile.SampleStacks[row];
            if (!byStack.TryGetValue(stack, out int at))
            {
                int depth = profile.Stacks.Depth(stack);
                if (buffer.Length < depth)
                {
                    buffer = new FrameId[depth * 2];
                }

                int n = profile.Stacks.CopyFrames(stack, buffer);
                var indices = new List<int>(n);
                for (int i = 0; i < n; i++)
                {
                    if (!frameIndex.TryGetValue(buffer[i], out int fi))
                    {
                        fi = frames.Count;
                        frameIndex[buffer[i]] = fi;
                        frames.Add(profile.FrameName(buffer[i]));
                    }

                    indices.Add(fi);
                }

                at = samples.Count;
                byStack[stack] = at;
                samples.Add((indices, new long[width]));
            }

            for (int t = 0; t < width; t++)
            {
                samples[at].Values[t] += profile.Value(row, t);
            }
        }

        return new ProfileDocument
        {
            Source = source,
            Partial = partial,
            PartialReason = partialReason,
            SampleTypes = [.. profile.SampleTypes.Select(t => new ProfileSampleType { Type = t.Type, Unit = t.Unit })],
            Period = metadata.Period,
            PeriodUnit = metadata.PeriodType.Unit ?? "",
            PeriodType = metadata.Period > 0 && !string.IsNullOrEmpty(metadata.PeriodType.Type) ? metadata.PeriodType.Type : null,
            Host = metadata.Host.Length > 0 ? metadata.Host : null,
            StartNs = metadata.StartNs > 0 && metadata.EndNs > metadata.StartNs ? metadata.StartNs : 0,
            EndNs = metadata.StartNs > 0 && metadata.EndNs > metadata.StartNs ? metadata.EndNs : 0,
            Frames = frames,
            Samples = [.. samples.Select(s => new ProfileSample { Stack = s.Stack, Values = s.Values })],
        };
    }

    /// <summary>Writes <paramref name="document"/> as indented JSON.</summary>
    public static void Write(ProfileDocument document, Stream output) =>
        JsonSerializer.Serialize(output, document, OracJsonContext.Default.ProfileDocument);

    /// <summary>
    /// Reads a document back into a <see cref="Profile"/>. Anything that does not hold together (not
    /// JSON, another format or version, a frame index out of range, a value count that does not match
    /// the sample types, a negative value) is one <see cref="OracException"/> naming <paramref name="name"/>.
    /// </summary>
    public static Profile Read(Stream input, string name)
    {
        ProfileDocument? d;
        try
        {
            d = JsonSerializer.Deserialize(input, OracJsonContext.Default.ProfileDocument);
        }
        catch (JsonException e)
        {
            throw new OracException($"{name}: not an Orac profile: {e.Message}");
        }

        if (d is null || d.Format != FormatName)
        {
            throw new OracException($"{name}: not an Orac profile (format is not '{FormatName}')");
        }

        if (d.Version != CurrentVersion)
        {
            throw new OracException($"{name}: Orac profile version {d.Version} is not supported (this build reads {CurrentVersion})");
        }

        // JSON may say null where a list or object belongs: absent lists are empty, null items are errors.
        IReadOnlyList<ProfileSampleType?> types = d.SampleTypes ?? [];
        IReadOnlyList<string?> names = d.Frames ?? [];
        IReadOnlyList<ProfileSample?> rows = d.Samples ?? [];
        if (types.Count == 0)
        {
            throw new OracException($"{name}: the profile has no sample types");
        }

        var sampleTypes = new SampleType[types.Count];
        for (int t = 0; t < types.Count; t++)
        {
            ProfileSampleType type = types[t] ?? throw new OracException($"{name}: sample type {t} is null");
            sampleTypes[t] = new SampleType(type.Type ?? "", type.Unit ?? "");
        }

        if (d.Period < 0 || d.StartNs < 0 || d.EndNs < 0 || (d.EndNs != 0 && d.EndNs < d.StartNs))
        {
            throw new OracException($"{name}: period, startNs and endNs must not be negative, and endNs must not be before startNs");
        }

        string periodUnit = d.PeriodUnit ?? "";
        var builder = new ProfileBuilder(sampleTypes)
        {
            Metadata = new ProfileMetadata
            {
                Host = d.Host ?? "",
                Period = d.Period,
                PeriodType = d.Period > 0 ? new SampleType(d.PeriodType ?? (periodUnit == "nanoseconds" ? "cpu" : ""), periodUnit) : default,
                StartNs = d.StartNs,
                EndNs = d.EndNs,
            },
        };
        var frameIds = new FrameId[names.Count];
        for (int i = 0; i < frameIds.Length; i++)
        {
            frameIds[i] = builder.Frame(names[i] ?? "");
        }

        var stack = new List<FrameId>();
        for (int s = 0; s < rows.Count; s++)
        {
            ProfileSample sample = rows[s] ?? throw new OracException($"{name}: sample {s} is null");
            if (sample.Values is null || sample.Values.Count != sampleTypes.Length)
            {
                throw new OracException($"{name}: sample {s} has {sample.Values?.Count ?? 0} values for {sampleTypes.Length} sample types");
            }

            stack.Clear();
            foreach (int f in sample.Stack ?? [])
            {
                if ((uint)f >= (uint)frameIds.Length)
                {
                    throw new OracException($"{name}: sample {s} refers to frame {f}, but there are {frameIds.Length} frames");
                }

                stack.Add(frameIds[f]);
            }

            long[] values = [.. sample.Values];
            if (values.Any(v => v < 0))
            {
                throw new OracException($"{name}: sample {s} has a negative value");
            }

            builder.Add(builder.Stack(stack.ToArray()), values);
        }

        return builder.Build();
    }
}

/// <summary>Fuzz target for <see cref="ProfileJson.Read"/>: any bytes either load or give an <see cref="OracException"/>.</summary>
public static class ProfileJsonFuzz
{
    /// <summary>Reads <paramref name="data"/> as a profile document and, when it loads, writes it again.</summary>
    public static void Run(byte[] data)
    {
        try
        {
            Profile p = ProfileJson.Read(new MemoryStream(data), "fuzz.json");
            ProfileJson.Write(ProfileJson.ToDocument(p, "fuzz"), Stream.Null);
        }
        catch (OracException)
        {
        }
    }
}
