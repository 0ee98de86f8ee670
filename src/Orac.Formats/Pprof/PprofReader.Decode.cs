using System.Text;
using Orac.Model;

namespace Orac.Formats.Pprof;

public static partial class PprofReader
{
    private readonly record struct Ref(long Index, int At);

    private readonly record struct MappingRow(ulong Id, Ref File);

    private readonly record struct FunctionRow(ulong Id, Ref Name);

    private readonly record struct LocationRow(ulong Id, ulong MappingId, ulong Address, int FirstLine, int LineCount, int At);

    private readonly record struct LineRow(ulong FunctionId, int At);

    private readonly record struct Span(int Offset, int Length);

    /// <summary>Everything read from the top-level message before samples are resolved.</summary>
    private sealed class Tables
    {
        public readonly List<Span> Strings = [];
        public readonly List<(Ref Type, Ref Unit)> SampleTypes = [];
        public readonly List<MappingRow> Mappings = [];
        public readonly List<FunctionRow> Functions = [];
        public readonly List<LocationRow> Locations = [];
        public readonly List<LineRow> Lines = [];
        public readonly List<Span> Samples = [];
        public (Ref Type, Ref Unit)? PeriodType;
        public long Period;
        public long TimeNanos;
        public long DurationNanos;
    }

    private static Profile Decode(ReadOnlySpan<byte> data, string name, ParseWarnings? warnings)
    {
        RejectLegacy(data, name);
        Tables t = ReadTables(data, name);
        return Resolve(data, name, t, warnings);
    }

    private static void RejectLegacy(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length >= 8 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0)
        {
            throw new OracException($"{name}: pprof: this looks like a legacy binary CPU profile (starts with zero words), not a pprof protobuf; convert it with `go tool pprof -proto`");
        }

        ReadOnlySpan<byte> head = data[..Math.Min(data.Length, 32)];
        if (head.Length >= 8 && IsText(head)
            && (head.StartsWith("--- "u8) || head.IndexOf(" profile:"u8) >= 0 || head.StartsWith("heap_v2/"u8)))
        {
            throw new OracException($"{name}: pprof: this looks like a legacy text profile (\"{Escape(head[..Math.Min(head.Length, 20)])}…\"), not a pprof protobuf; convert it with `go tool pprof -proto`");
        }
    }

    private static string Escape(ReadOnlySpan<byte> text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (byte b in text)
        {
            sb.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                _ => ((char)b).ToString(),
            });
        }

        return sb.ToString();
    }

    private static bool IsText(ReadOnlySpan<byte> head)
    {
        foreach (byte b in head)
        {
            if (b is not ((>= 0x20 and <= 0x7e) or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Where a length-delimited field's payload lies (kept as offsets, read later); any other wire type is an error.</summary>
    private static Span ReadSpan(ref ProtoReader r, WireType wire, string name, string field)
    {
        if (wire != WireType.Len)
        {
            ProtoReader.Throw(name, r.Offset, field, $"wire type {(int)wire} where 2 (Len) was expected");
        }

        ReadOnlySpan<byte> payload = r.ReadBytes(field, out int at);
        return new Span(at, payload.Length);
    }

    private static Tables ReadTables(ReadOnlySpan<byte> data, string name)
    {
        var t = new Tables();
        var r = new ProtoReader(data, 0, name);
        while (r.TryReadTag("Profile", out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    {
                        ProtoReader m = r.ReadMessage(wire, "Profile.sample_type");
                        if (t.SampleTypes.Count == MaxSampleTypes)
                        {
                            ProtoReader.Throw(name, m.Base, "Profile.sample_type", $"more than {MaxSampleTypes} sample types");
                        }

                        t.SampleTypes.Add(ReadValueType(ref m, "Profile.sample_type"));
                        break;
                    }

                case 2:
                    t.Samples.Add(ReadSpan(ref r, wire, name, "Profile.sample"));
                    break;

                case 3:
                    {
                        ProtoReader m = r.ReadMessage(wire, "Profile.mapping");
                        t.Mappings.Add(ReadMapping(ref m));
                        break;
                    }

                case 4:
                    {
                        ProtoReader m = r.ReadMessage(wire, "Profile.location");
                        t.Locations.Add(ReadLocation(ref m, t.Lines));
                        break;
                    }

                case 5:
                    {
                        ProtoReader m = r.ReadMessage(wire, "Profile.function");
                        t.Functions.Add(ReadFunction(ref m));
                        break;
                    }

                case 6:
                    t.Strings.Add(ReadSpan(ref r, wire, name, "Profile.string_table"));
                    break;

                case 9:
                    t.TimeNanos = (long)r.ReadScalar(wire, "Profile.time_nanos");
                    break;
                case 10:
                    t.DurationNanos = (long)r.ReadScalar(wire, "Profile.duration_nanos");
                    break;
                case 11:
                    {
                        ProtoReader m = r.ReadMessage(wire, "Profile.period_type");
                        t.PeriodType = ReadValueType(ref m, "Profile.period_type");
                        break;
                    }

                case 12:
                    t.Period = (long)r.ReadScalar(wire, "Profile.period");
                    break;
                default:
                    // drop_frames, keep_frames, comment, default_sample_type, doc_url and anything newer.
                    r.Skip(wire, "Profile field " + field.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }

        return t;
    }

    private static (Ref Type, Ref Unit) ReadValueType(ref ProtoReader m, string what)
    {
        Ref type = new(0, m.Base), unit = new(0, m.Base);
        while (m.TryReadTag(what, out int f, out WireType w))
        {
            int at = m.Offset;
            switch (f)
            {
                case 1: type = new((long)m.ReadScalar(w, what + ".type"), at); break;
                case 2: unit = new((long)m.ReadScalar(w, what + ".unit"), at); break;
                default: m.Skip(w, what); break;
            }
        }

        return (type, unit);
    }

    private static MappingRow ReadMapping(ref ProtoReader m)
    {
        ulong id = 0;
        Ref file = new(0, m.Base);
        while (m.TryReadTag("Profile.mapping", out int f, out WireType w))
        {
            int at = m.Offset;
            switch (f)
            {
                case 1: id = m.ReadScalar(w, "Profile.mapping.id"); break;
                case 5: file = new((long)m.ReadScalar(w, "Profile.mapping.filename"), at); break;
                default: m.Skip(w, "Profile.mapping"); break;
            }
        }

        return new MappingRow(id, file);
    }

    private static FunctionRow ReadFunction(ref ProtoReader m)
    {
        ulong id = 0;
        Ref name = new(0, m.Base);
        while (m.TryReadTag("Profile.function", out int f, out WireType w))
        {
            int at = m.Offset;
            switch (f)
            {
                case 1: id = m.ReadScalar(w, "Profile.function.id"); break;
                case 2: name = new((long)m.ReadScalar(w, "Profile.function.name"), at); break;
                default: m.Skip(w, "Profile.function"); break;
            }
        }

        return new FunctionRow(id, name);
    }

    private static LocationRow ReadLocation(ref ProtoReader m, List<LineRow> lines)
    {
        ulong id = 0, mapping = 0, address = 0;
        int at0 = m.Base;
        int first = lines.Count;
        while (m.TryReadTag("Profile.location", out int f, out WireType w))
        {
            switch (f)
            {
                case 1: id = m.ReadScalar(w, "Profile.location.id"); break;
                case 2: mapping = m.ReadScalar(w, "Profile.location.mapping_id"); break;
                case 3: address = m.ReadScalar(w, "Profile.location.address"); break;
                case 4:
                    {
                        ProtoReader l = m.ReadMessage(w, "Profile.location.line");
                        ulong fn = 0;
                        int at = l.Base;
                        while (l.TryReadTag("Profile.location.line", out int lf, out WireType lw))
                        {
                            if (lf == 1)
                            {
                                at = l.Offset;
                                fn = l.ReadScalar(lw, "Profile.location.line.function_id");
                            }
                            else
                            {
                                l.Skip(lw, "Profile.location.line");
                            }
                        }

                        lines.Add(new LineRow(fn, at));
                        break;
                    }

                default: m.Skip(w, "Profile.location"); break;
            }
        }

        return new LocationRow(id, mapping, address, first, lines.Count - first, at0);
    }
}
