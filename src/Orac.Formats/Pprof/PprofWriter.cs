using System.IO.Compression;
using System.Text;
using Orac.Model;

namespace Orac.Formats.Pprof;

/// <summary>
/// Writes a <see cref="Profile"/> as a pprof protobuf (google/pprof <c>proto/profile.proto</c>),
/// gzip-compressed by default as pprof tools expect. The string table starts with "", each frame
/// becomes one function and one location with one line (ids are frame id + 1), each frame module
/// becomes a mapping whose filename is the module, samples list location ids leaf first, label
/// sets become string labels, and period, period type, time and duration are kept.
/// Timestamps are not representable in pprof: timestamped rows are written as ordinary samples.
/// </summary>
public static class PprofWriter
{
    /// <summary>Writes <paramref name="profile"/> to <paramref name="output"/> (which stays open).</summary>
    public static void Write(Profile profile, Stream output, bool gzip = true)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        byte[] bytes = Encode(profile);
        if (gzip)
        {
            using var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
            gz.Write(bytes);
        }
        else
        {
            output.Write(bytes);
        }
    }

    private static byte[] Encode(Profile profile)
    {
        var strings = new Dictionary<string, long>(StringComparer.Ordinal) { [""] = 0 };
        var table = new List<string> { "" };
        long Str(string s)
        {
            if (!strings.TryGetValue(s, out long i))
            {
                i = table.Count;
                strings[s] = i;
                table.Add(s);
            }

            return i;
        }

        // Orac string ids map to pprof string indices lazily.
        var byId = new long[profile.Strings.Count];
        Array.Fill(byId, -1);
        long Sid(StringId id)
        {
            if (byId[(int)id] < 0)
            {
                byId[(int)id] = Str(profile.Strings.GetString(id));
            }

            return byId[(int)id];
        }

        var top = new ProtoWriter();
        var msg = new ProtoWriter();
        var inner = new ProtoWriter();
        var scratch = new ProtoWriter();

        foreach (SampleType t in profile.SampleTypes)
        {
            msg.Clear();
            msg.Field(1, Str(t.Type));
            msg.Field(2, Str(t.Unit));
            top.Bytes(1, msg.WrittenSpan);
        }

        // Samples: location ids leaf first.
        int width = profile.SampleTypes.Count;
        var locs = new List<long>(64);
        var vals = new long[width];
        for (int row = 0; row < profile.SampleCount; row++)
        {
            locs.Clear();
            for (StackId s = profile.SampleStacks[row]; s != StackId.Root; s = profile.Stacks.Caller(s))
            {
                locs.Add((long)(int)profile.Stacks.Frame(s) + 1);
            }

            profile.Values.Slice(row * width, width).CopyTo(vals);
            msg.Clear();
            msg.Packed(1, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(locs), scratch);
            msg.Packed(2, vals, scratch);
            foreach (Label l in profile.LabelSets.Get(profile.SampleLabels[row]))
            {
                inner.Clear();
                inner.Field(1, Sid(l.Key));
                inner.Field(2, Sid(l.Value));
                msg.Bytes(3, inner.WrittenSpan);
            }

            top.Bytes(2, msg.WrittenSpan);
        }

        // Mappings: one per distinct module.
        var mappingOf = new Dictionary<StringId, long>();
        for (int f = 0; f < profile.Frames.Count; f++)
        {
            StringId module = profile.Frames.Module((FrameId)f);
            if (module != StringId.Empty && !mappingOf.ContainsKey(module))
            {
                long id = mappingOf.Count + 1;
                mappingOf[module] = id;
                msg.Clear();
                msg.Field(1, id);
                msg.Field(5, Sid(module));
                top.Bytes(3, msg.WrittenSpan);
            }
        }

        for (int f = 0; f < profile.Frames.Count; f++)
        {
            StringId module = profile.Frames.Module((FrameId)f);
            msg.Clear();
            msg.Field(1, f + 1);
            msg.Field(2, module == StringId.Empty ? 0 : mappingOf[module]);
            inner.Clear();
            inner.Field(1, f + 1);
            msg.Bytes(4, inner.WrittenSpan);
            top.Bytes(4, msg.WrittenSpan);
        }

        for (int f = 0; f < profile.Frames.Count; f++)
        {
            long nameIndex = Sid(profile.Frames.Name((FrameId)f));
            msg.Clear();
            msg.Field(1, f + 1);
            msg.Field(2, nameIndex);
            msg.Field(3, nameIndex);
            top.Bytes(5, msg.WrittenSpan);
        }

        ProfileMetadata meta = profile.Metadata;
        long periodType = -1, periodUnit = -1;
        if (meta.PeriodType.Type is not null)
        {
            periodType = Str(meta.PeriodType.Type);
            periodUnit = Str(meta.PeriodType.Unit ?? "");
        }

        foreach (string s in table)
        {
            top.Bytes(6, Encoding.UTF8.GetBytes(s));
        }

        top.Field(9, meta.StartNs);
        if (meta.StartNs > 0 && meta.EndNs > meta.StartNs)
        {
            top.Field(10, meta.EndNs - meta.StartNs);
        }

        if (periodType >= 0)
        {
            msg.Clear();
            msg.Field(1, periodType);
            msg.Field(2, periodUnit);
            top.Bytes(11, msg.WrittenSpan);
        }

        top.Field(12, meta.Period);
        return top.WrittenSpan.ToArray();
    }
}
