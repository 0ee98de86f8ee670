using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Orac.Model;

namespace Orac.Formats.Speedscope;

/// <summary>
/// Reads speedscope's own file format (https://www.speedscope.app/file-format-schema.json) into a
/// <see cref="Profile"/>: <c>shared.frames</c> become frames (by name), and every profile in the
/// file is merged. <c>sampled</c> profiles add each stack (root first) with its weight;
/// <c>evented</c> profiles turn properly nested open/close events into self time per stack.
/// Units: nanoseconds, microseconds, milliseconds and seconds become <c>cpu/nanoseconds</c>
/// (scaled, rounded to whole ns); <c>none</c> becomes <c>samples/count</c> and <c>bytes</c>
/// <c>space/bytes</c>. Profiles with different kinds of unit land in separate value columns.
/// Bad input throws <see cref="OracException"/> with the JSON path (and event or sample index).
/// </summary>
public static class SpeedscopeReader
{
    /// <summary>Largest input read (256 MiB).</summary>
    public const long MaxBytes = 256 << 20;

    /// <summary>Reads a speedscope JSON file from <paramref name="input"/>.</summary>
    public static Profile Read(Stream input, string name)
    {
        ArgumentNullException.ThrowIfNull(input);
        byte[] bytes = ReadCapped(input, name);

        // JsonDocument only checks UTF-8 inside strings when they are decoded; check it all up front.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new OracException($"{name}: speedscope: not valid UTF-8 at byte {FirstInvalidUtf8(bytes)}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new OracException($"{name}: speedscope: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the line: {FirstLine(e.Message)}", e);
        }

        using (doc)
        {
            return Convert(doc.RootElement, name);
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out int used) != System.Buffers.OperationStatus.Done)
            {
                return at;
            }

            at += used;
        }

        return at;
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? s : s[..nl];
    }

    private static byte[] ReadCapped(Stream input, string name)
    {
        var ms = new MemoryStream();
        byte[] buffer = new byte[81920];
        int n;
        while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (ms.Length + n > MaxBytes)
            {
                throw new OracException($"{name}: speedscope: input exceeds the {MaxBytes}-byte cap");
            }

            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }

    private enum UnitKind
    {
        Time,
        Count,
        Bytes,
    }

    private static Profile Convert(JsonElement root, string name)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            Fail(name, "$", "expected a JSON object (is this a speedscope file?)");
        }

        if (!root.TryGetProperty("profiles", out JsonElement profiles) || profiles.ValueKind != JsonValueKind.Array)
        {
            Fail(name, "$.profiles", "missing or not an array (is this a speedscope file?)");
        }

        if (!root.TryGetProperty("shared", out JsonElement shared) || shared.ValueKind != JsonValueKind.Object
            || !shared.TryGetProperty("frames", out JsonElement frames) || frames.ValueKind != JsonValueKind.Array)
        {
            Fail(name, "$.shared.frames", "missing or not an array");
            return null!;
        }

        // First pass: which value columns the merged profile needs, and each profile's scale.
        int count = profiles.GetArrayLength();
        var kinds = new UnitKind[count];
        var scales = new double[count];
        var columns = new List<UnitKind>();
        int p = 0;
        foreach (JsonElement prof in profiles.EnumerateArray())
        {
            if (prof.ValueKind != JsonValueKind.Object)
            {
                Fail(name, $"$.profiles[{p}]", "expected an object");
            }

            string unit = prof.TryGetProperty("unit", out JsonElement u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "none";
            (kinds[p], scales[p]) = unit switch
            {
                "nanoseconds" => (UnitKind.Time, 1.0),
                "microseconds" => (UnitKind.Time, 1e3),
                "milliseconds" => (UnitKind.Time, 1e6),
                "seconds" => (UnitKind.Time, 1e9),
                "none" => (UnitKind.Count, 1.0),
                "bytes" => (UnitKind.Bytes, 1.0),
                _ => Fail<(UnitKind, double)>(name, $"$.profiles[{p}].unit", $"unknown unit \"{unit}\" (expected none, nanoseconds, microseconds, milliseconds, seconds or bytes)"),
            };
            if (!columns.Contains(kinds[p]))
            {
                columns.Add(kinds[p]);
            }

            p++;
        }

        var types = new SampleType[Math.Max(1, columns.Count)];
        if (columns.Count == 0)
        {
            types[0] = SampleType.Samples;
        }

        for (int i = 0; i < columns.Count; i++)
        {
            types[i] = columns[i] switch
            {
                UnitKind.Time => new SampleType("cpu", "nanoseconds"),
                UnitKind.Bytes => new SampleType("space", "bytes"),
                _ => SampleType.Samples,
            };
        }

        var builder = new ProfileBuilder(types);
        var frameIds = new FrameId[frames.GetArrayLength()];
        int fi = 0;
        foreach (JsonElement f in frames.EnumerateArray())
        {
            JsonElement n = default;
            if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("name", out n) || n.ValueKind != JsonValueKind.String)
            {
                Fail(name, $"$.shared.frames[{fi}]", "expected an object with a string \"name\"");
            }

            frameIds[fi++] = builder.Frame(n.GetString()!);
        }

        var ctx = new Context(name, builder, frameIds, new long[types.Length], new long[types.Length]);
        p = 0;
        foreach (JsonElement prof in profiles.EnumerateArray())
        {
            ctx.Column = columns.IndexOf(kinds[p]);
            ctx.Scale = scales[p];
            string type = prof.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            switch (type)
            {
                case "sampled":
                    ReadSampled(ctx, prof, p);
                    break;
                case "evented":
                    ReadEvented(ctx, prof, p);
                    break;
                default:
                    Fail(name, $"$.profiles[{p}].type", $"unknown profile type \"{type}\" (expected sampled or evented)");
                    break;
            }

            p++;
        }

        return builder.Build();
    }

    private sealed class Context(string name, ProfileBuilder builder, FrameId[] frames, long[] values, long[] totals)
    {
        public string Name { get; } = name;

        public ProfileBuilder Builder { get; } = builder;

        public FrameId[] Frames { get; } = frames;

        public long[] Values { get; } = values;

        public long[] Totals { get; } = totals;

        public int Column { get; set; }

        public double Scale { get; set; }

        public void Add(StackId stack, long value, Where where)
        {
            if (value == 0)
            {
                return;
            }

            long t = Totals[Column];
            if (value > long.MaxValue - t)
            {
                Fail(Name, where, "values overflow a 64-bit total");
            }

            Totals[Column] = t + value;
            Array.Clear(Values);
            Values[Column] = value;
            Builder.Add(stack, Values);
        }

        public FrameId Frame(JsonElement index, Where where)
        {
            int i = -1;
            if (index.ValueKind != JsonValueKind.Number || !index.TryGetInt32(out i) || (uint)i >= (uint)Frames.Length)
            {
                Fail(Name, where, $"frame index {Raw(index)} is not an index into shared.frames ({Frames.Length} frames)");
            }

            return Frames[i];
        }

        /// <summary>Scales a non-negative finite value in the profile's unit to a whole number in the column's unit.</summary>
        public long Scaled(JsonElement v, Where where)
        {
            double d = 0;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out d) || !double.IsFinite(d))
            {
                Fail(Name, where, $"expected a number, got {Raw(v)}");
            }

            double s = Math.Round(d * Scale);
            if (s is >= 9.2e18 or <= -9.2e18)
            {
                Fail(Name, where, $"value {Raw(v)} is too large");
            }

            return (long)s;
        }
    }

    private static void ReadSampled(Context ctx, JsonElement prof, int p)
    {
        if (!prof.TryGetProperty("samples", out JsonElement samples) || samples.ValueKind != JsonValueKind.Array)
        {
            Fail(ctx.Name, $"$.profiles[{p}].samples", "missing or not an array");
        }

        if (!prof.TryGetProperty("weights", out JsonElement weights) || weights.ValueKind != JsonValueKind.Array)
        {
            Fail(ctx.Name, $"$.profiles[{p}].weights", "missing or not an array");
        }

        if (weights.GetArrayLength() != samples.GetArrayLength())
        {
            Fail(ctx.Name, $"$.profiles[{p}].weights", $"{weights.GetArrayLength()} weights for {samples.GetArrayLength()} samples");
        }

        var stack = new List<FrameId>(64);
        int i = 0;
        using JsonElement.ArrayEnumerator w = weights.EnumerateArray();
        foreach (JsonElement sample in samples.EnumerateArray())
        {
            w.MoveNext();
            if (sample.ValueKind != JsonValueKind.Array)
            {
                Fail(ctx.Name, $"$.profiles[{p}].samples[{i}]", "expected an array of frame indices");
            }

            stack.Clear();
            foreach (JsonElement f in sample.EnumerateArray())
            {
                stack.Add(ctx.Frame(f, new Where(p, "samples", i)));
            }

            long weight = ctx.Scaled(w.Current, new Where(p, "weights", i));
            if (weight < 0)
            {
                Fail(ctx.Name, $"$.profiles[{p}].weights[{i}]", $"negative weight {Raw(w.Current)}");
            }

            StackId s = ctx.Builder.Stack(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack));
            ctx.Add(s, weight, new Where(p, "weights", i));
            i++;
        }
    }

    private static void ReadEvented(Context ctx, JsonElement prof, int p)
    {
        if (!prof.TryGetProperty("events", out JsonElement events) || events.ValueKind != JsonValueKind.Array)
        {
            Fail(ctx.Name, $"$.profiles[{p}].events", "missing or not an array");
        }

        // Open frames, root first, with the index of the event that opened each.
        var open = new List<(FrameId Frame, int Event)>();
        StackId current = StackId.Root;
        long last = 0;
        int i = 0;
        foreach (JsonElement e in events.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object
                || !e.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String
                || !e.TryGetProperty("at", out JsonElement at)
                || !e.TryGetProperty("frame", out JsonElement frame))
            {
                Fail(ctx.Name, $"$.profiles[{p}].events[{i}]", "expected an object with \"type\", \"at\" and \"frame\"");
                return;
            }

            // Scaling the absolute time and differencing keeps the total exact: it telescopes.
            long now = ctx.Scaled(at, new Where(p, "events", i, ".at"));
            FrameId f = ctx.Frame(frame, new Where(p, "events", i, ".frame"));
            if (i > 0 && now < last)
            {
                Fail(ctx.Name, $"$.profiles[{p}].events[{i}]", $"event time {Raw(at)} goes backwards");
            }

            if (open.Count > 0)
            {
                ctx.Add(current, now - last, new Where(p, "events", i));
            }

            last = now;
            if (type.ValueEquals("O"u8))
            {
                open.Add((f, i));
                current = ctx.Builder.Push(current, f);
            }
            else if (type.ValueEquals("C"u8))
            {
                if (open.Count == 0)
                {
                    Fail(ctx.Name, $"$.profiles[{p}].events[{i}]", $"closes frame {Raw(frame)} but no frame is open (unbalanced events)");
                }

                if (open[^1].Frame != f)
                {
                    Fail(ctx.Name, $"$.profiles[{p}].events[{i}]", $"closes frame {Raw(frame)} but the innermost open frame is {ctx.Builder.Strings.GetString(ctx.Builder.Frames.Name(open[^1].Frame))} (opened by event {open[^1].Event}; events must nest)");
                }

                open.RemoveAt(open.Count - 1);
                current = ctx.Builder.Stacks.Caller(current);
            }
            else
            {
                Fail(ctx.Name, $"$.profiles[{p}].events[{i}].type", $"unknown event type {Raw(type)} (expected \"O\" or \"C\")");
            }

            i++;
        }

        if (open.Count > 0)
        {
            Fail(ctx.Name, $"$.profiles[{p}].events", $"{open.Count} frame(s) never closed (unbalanced events; the innermost was opened by event {open[^1].Event})");
        }
    }

    private static string Raw(JsonElement e)
    {
        string s = e.GetRawText();
        return s.Length > 40 ? s[..40] + "…" : s;
    }

    /// <summary>A JSON path <c>$.profiles[P].ARRAY[I]SUFFIX</c>, formatted only when an error needs it.</summary>
    private readonly record struct Where(int Profile, string Array, int Index, string Suffix = "")
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"$.profiles[{Profile}].{Array}[{Index}]{Suffix}");
    }

    [DoesNotReturn]
    private static void Fail(string name, Where where, string problem) => Fail(name, where.ToString(), problem);

    [DoesNotReturn]
    private static void Fail(string name, string where, string problem) =>
        throw new OracException($"{name}: speedscope: {problem} at {where}");

    [DoesNotReturn]
    private static T Fail<T>(string name, string where, string problem) =>
        throw new OracException($"{name}: speedscope: {problem} at {where}");
}
