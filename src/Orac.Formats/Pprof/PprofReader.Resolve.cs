using System.Globalization;
using System.Text;
using Orac.Model;

namespace Orac.Formats.Pprof;

public static partial class PprofReader
{
    /// <summary>Turns the tables into frames and the samples into stacks; every cross reference is checked here.</summary>
    private static Profile Resolve(ReadOnlySpan<byte> data, string name, Tables t, ParseWarnings? warnings)
    {
        var strings = new StringResolver(t.Strings, name);
        var types = new SampleType[t.SampleTypes.Count];
        for (int i = 0; i < types.Length; i++)
        {
            (Ref type, Ref unit) = t.SampleTypes[i];
            types[i] = new SampleType(strings.Text(data, type, "Profile.sample_type.type"), strings.Text(data, unit, "Profile.sample_type.unit"));
        }

        var builder = new ProfileBuilder(types.Length == 0 ? [SampleType.Samples] : types);
        if (types.Length == 0 && t.Samples.Count > 0)
        {
            ProtoReader.Throw(name, t.Samples[0].Offset, "Profile.sample", "samples present but the profile declares no sample_type");
        }

        SampleType periodType = default;
        if (t.PeriodType is (Ref pt, Ref pu))
        {
            periodType = new SampleType(strings.Text(data, pt, "Profile.period_type.type"), strings.Text(data, pu, "Profile.period_type.unit"));
        }

        long end = 0;
        if (t.TimeNanos > 0 && t.DurationNanos > 0 && t.TimeNanos <= long.MaxValue - t.DurationNanos)
        {
            end = t.TimeNanos + t.DurationNanos;
        }

        builder.Metadata = new ProfileMetadata
        {
            Period = t.Period,
            PeriodType = periodType,
            StartNs = Math.Max(0, t.TimeNanos),
            EndNs = end,
        };

        // Modules: one per mapping (basename of the mapped file).
        var mappingIndex = new Dictionary<ulong, int>(t.Mappings.Count);
        var mappingModule = new StringId[t.Mappings.Count];
        for (int i = 0; i < t.Mappings.Count; i++)
        {
            MappingRow m = t.Mappings[i];
            mappingIndex[m.Id] = i;
            ReadOnlySpan<byte> file = strings.Bytes(data, m.File, "Profile.mapping.filename");
            int slash = file.LastIndexOf((byte)'/');
            mappingModule[i] = file.IsEmpty ? StringId.Empty : builder.Intern(file[(slash + 1)..]);
        }

        var functionIndex = new Dictionary<ulong, int>(t.Functions.Count);
        var functionName = new StringId[t.Functions.Count];
        for (int i = 0; i < t.Functions.Count; i++)
        {
            FunctionRow f = t.Functions[i];
            functionIndex[f.Id] = i;
            functionName[i] = builder.Intern(strings.Bytes(data, f.Name, "Profile.function.name"));
        }

        // Frames of each location, outermost (caller) first: pprof lists the innermost inlined line first.
        var locationIndex = new Dictionary<ulong, int>(t.Locations.Count);
        var frameStart = new int[t.Locations.Count + 1];
        var frames = new List<FrameId>(t.Locations.Count);
        for (int i = 0; i < t.Locations.Count; i++)
        {
            LocationRow loc = t.Locations[i];
            if (loc.Id == 0)
            {
                ProtoReader.Throw(name, loc.At, "Profile.location.id", "location id 0 (ids must be non-zero)");
            }

            locationIndex[loc.Id] = i;
            StringId module = StringId.Empty;
            if (loc.MappingId != 0)
            {
                if (!mappingIndex.TryGetValue(loc.MappingId, out int mi))
                {
                    ProtoReader.Throw(name, loc.At, "Profile.location.mapping_id", $"unknown mapping id {loc.MappingId} in location {loc.Id}");
                }

                module = mappingModule[mi];
            }

            frameStart[i] = frames.Count;
            if (loc.LineCount == 0)
            {
                frames.Add(builder.Frame(builder.Intern("0x" + loc.Address.ToString("x", CultureInfo.InvariantCulture)), module));
            }

            for (int l = loc.FirstLine + loc.LineCount - 1; l >= loc.FirstLine; l--)
            {
                LineRow line = t.Lines[l];
                StringId fname;
                if (line.FunctionId == 0)
                {
                    fname = builder.Intern("0x" + loc.Address.ToString("x", CultureInfo.InvariantCulture));
                }
                else if (functionIndex.TryGetValue(line.FunctionId, out int fi))
                {
                    fname = functionName[fi];
                }
                else
                {
                    ProtoReader.Throw(name, line.At, "Profile.location.line.function_id", $"unknown function id {line.FunctionId} in location {loc.Id}");
                    return null!;
                }

                frames.Add(builder.Frame(fname, module));
            }
        }

        frameStart[t.Locations.Count] = frames.Count;
        ReadSamples(data, name, t, builder, strings, locationIndex, frameStart, frames, warnings);
        return builder.Build();
    }

    private static void ReadSamples(
        ReadOnlySpan<byte> data, string name, Tables t, ProfileBuilder builder, StringResolver strings,
        Dictionary<ulong, int> locationIndex, int[] frameStart, List<FrameId> frames, ParseWarnings? warnings)
    {
        int width = builder.Width;
        var locIds = new List<ulong>(64);
        var rawValues = new List<ulong>(width);
        var values = new long[width];
        var absTotals = new long[width];
        var steps = new Dictionary<long, StackId>();
        long expanded = 0;
        var labels = new List<Label>();
        var labelCache = new Dictionary<ulong, (Label[] Labels, LabelSetId Id)>();
        long numericLabels = 0;
        for (int si = 0; si < t.Samples.Count; si++)
        {
            Span sp = t.Samples[si];
            var r = new ProtoReader(data.Slice(sp.Offset, sp.Length), sp.Offset, name);
            locIds.Clear();
            rawValues.Clear();
            labels.Clear();
            while (r.TryReadTag("Profile.sample", out int f, out WireType w))
            {
                switch (f)
                {
                    case 1:
                        r.ReadRepeatedVarint(w, "Profile.sample.location_id", locIds);
                        break;
                    case 2:
                        r.ReadRepeatedVarint(w, "Profile.sample.value", rawValues);
                        break;
                    case 3:
                        {
                            ProtoReader l = r.ReadMessage(w, "Profile.sample.label");
                            Ref key = new(0, l.Base), str = new(0, l.Base);
                            while (l.TryReadTag("Profile.sample.label", out int lf, out WireType lw))
                            {
                                int at = l.Offset;
                                switch (lf)
                                {
                                    case 1: key = new((long)l.ReadScalar(lw, "Profile.sample.label.key"), at); break;
                                    case 2: str = new((long)l.ReadScalar(lw, "Profile.sample.label.str"), at); break;
                                    default: l.Skip(lw, "Profile.sample.label"); break;
                                }
                            }

                            if (str.Index != 0)
                            {
                                labels.Add(new Label(strings.Id(data, builder, key, "Profile.sample.label.key"), strings.Id(data, builder, str, "Profile.sample.label.str")));
                            }
                            else
                            {
                                strings.Id(data, builder, key, "Profile.sample.label.key");
                                numericLabels++;
                            }

                            break;
                        }

                    default:
                        r.Skip(w, "Profile.sample");
                        break;
                }
            }

            if (rawValues.Count != width)
            {
                ProtoReader.Throw(name, sp.Offset, $"Profile.sample[{si}].value", $"{rawValues.Count} values where the profile declares {width} sample types");
            }

            for (int i = 0; i < width; i++)
            {
                long v = (long)rawValues[i];
                values[i] = v;
                if (v == long.MinValue || (absTotals[i] += Math.Abs(v)) < 0)
                {
                    ProtoReader.Throw(name, sp.Offset, $"Profile.sample[{si}].value", "sample values overflow a 64-bit total");
                }
            }

            // pprof lists the leaf location first; Orac stacks are root first. Each (caller stack,
            // location) step is expanded into frames once and remembered, so a sample costs one
            // lookup per location however many inlined frames the locations carry.
            StackId stack = StackId.Root;
            for (int i = locIds.Count - 1; i >= 0; i--)
            {
                if (!locationIndex.TryGetValue(locIds[i], out int li))
                {
                    ProtoReader.Throw(name, sp.Offset, $"Profile.sample[{si}].location_id", $"unknown location id {locIds[i]}");
                }

                long key = ((long)(int)stack << 32) | (uint)li;
                if (!steps.TryGetValue(key, out StackId next))
                {
                    int from = frameStart[li], to = frameStart[li + 1];
                    if (builder.Stacks.Depth(stack) + (to - from) > MaxStackDepth)
                    {
                        ProtoReader.Throw(name, sp.Offset, $"Profile.sample[{si}].location_id", $"stack deeper than {MaxStackDepth} frames");
                    }

                    expanded += to - from;
                    if (expanded > MaxExpandedFrames)
                    {
                        ProtoReader.Throw(name, sp.Offset, $"Profile.sample[{si}].location_id", $"stacks expand to more than {MaxExpandedFrames} distinct frames");
                    }

                    next = stack;
                    for (int k = from; k < to; k++)
                    {
                        next = builder.Push(next, frames[k]);
                    }

                    steps[key] = next;
                }

                stack = next;
            }

            StackId s = stack;
            LabelSetId set = labels.Count == 0 ? LabelSetId.None : InternLabels(builder, labels, labelCache);
            builder.Add(s, values, set);
        }

        warnings?.AddCount(NumericLabelsSkipped, numericLabels);
    }

    /// <summary>
    /// Interns a sample's label set, remembering the result by the labels as written so that the
    /// usual run of samples sharing labels costs a hash lookup, not a new sorted set each.
    /// </summary>
    private static LabelSetId InternLabels(ProfileBuilder builder, List<Label> labels, Dictionary<ulong, (Label[] Labels, LabelSetId Id)> cache)
    {
        ReadOnlySpan<Label> span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels);
        ulong h = 14695981039346656037;
        foreach (Label l in span)
        {
            h = (h ^ (uint)(int)l.Key) * 1099511628211;
            h = (h ^ (uint)(int)l.Value) * 1099511628211;
        }

        if (cache.TryGetValue(h, out var hit) && span.SequenceEqual(hit.Labels))
        {
            return hit.Id;
        }

        LabelSetId id = builder.Labels(span);
        cache[h] = (span.ToArray(), id);
        return id;
    }

    /// <summary>Resolves string-table indices, checking bounds and interning each entry at most once.</summary>
    private sealed class StringResolver(List<Span> table, string name)
    {
        private readonly int[] _ids = InitIds(table.Count);

        private static int[] InitIds(int n)
        {
            var a = new int[n];
            Array.Fill(a, -1);
            return a;
        }

        public ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> data, Ref r, string field)
        {
            if (r.Index == 0 && table.Count == 0)
            {
                return default;
            }

            if ((ulong)r.Index >= (ulong)table.Count)
            {
                ProtoReader.Throw(name, r.At, field, $"string index {r.Index} out of range (the string table has {table.Count} entries)");
            }

            Span s = table[(int)r.Index];
            return data.Slice(s.Offset, s.Length);
        }

        public string Text(ReadOnlySpan<byte> data, Ref r, string field) => Encoding.UTF8.GetString(Bytes(data, r, field));

        public StringId Id(ReadOnlySpan<byte> data, ProfileBuilder builder, Ref r, string field)
        {
            ReadOnlySpan<byte> bytes = Bytes(data, r, field);
            if (table.Count == 0)
            {
                return StringId.Empty;
            }

            int i = (int)r.Index;
            if (_ids[i] < 0)
            {
                _ids[i] = (int)builder.Intern(bytes);
            }

            return (StringId)_ids[i];
        }
    }
}
