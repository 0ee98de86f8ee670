using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Storage;

/// <summary>
/// Everything one <see cref="IProfileStore.IngestAsync"/> call keeps, already split into series and 10 s buckets and
/// aggregated by stack, with its own small dictionary of strings, frames and stacks. It is both the unit applied to the
/// hot tier and (encoded) one write-ahead-log record, so replay reproduces exactly what was acknowledged.
/// </summary>
internal sealed class WalBatch
{
    private const byte Version = 1;
    private const int MaxCount = 1 << 26;

    public required string[] Strings { get; init; }

    /// <summary>Frame i is (name string, module string).</summary>
    public required int[] FrameNames { get; init; }

    public required int[] FrameModules { get; init; }

    /// <summary>Stack i is (leaf frame, caller stack); the caller is -1 (root) or an earlier stack.</summary>
    public required int[] StackFrames { get; init; }

    public required int[] StackCallers { get; init; }

    public required WalGroup[] Groups { get; init; }

    /// <summary>Number of (stack, value) entries over all groups.</summary>
    public long EntryCount
    {
        get
        {
            long n = 0;
            foreach (var g in Groups)
            {
                n += g.Stacks.Length;
            }

            return n;
        }
    }

    /// <summary>Validates the items (throws before anything is written) and aggregates them.</summary>
    public static WalBatch Build(IReadOnlyList<IngestItem> items)
    {
        foreach (var item in items)
        {
            StoreValidation.Check(item);
        }

        var strings = new List<string>();
        var stringIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var frameNames = new List<int>();
        var frameModules = new List<int>();
        var frameIndex = new Dictionary<long, int>();
        var stackFrames = new List<int>();
        var stackCallers = new List<int>();
        var stackIndex = new Dictionary<long, int>();
        var groups = new Dictionary<(string Org, ProfileTypeId Type, string Labels, long Bucket), (SeriesLabels Labels, Dictionary<int, long> Values)>();
        var chain = new List<StackId>();

        // Within one profile frames and stacks are already unique; the dedup maps matter only across items.
        bool dedup = items.Count > 1;

        int Str(Profile p, StringId id, int[] cache)
        {
            int m = cache[(int)id];
            if (m < 0)
            {
                var s = p.Strings.GetString(id);
                if (!stringIndex.TryGetValue(s, out m))
                {
                    m = strings.Count;
                    strings.Add(s);
                    stringIndex.Add(s, m);
                }

                cache[(int)id] = m;
            }

            return m;
        }

        foreach (var item in items)
        {
            var p = item.Profile;
            var strCache = Filled(p.Strings.Count);
            var frameCache = Filled(p.Frames.Count);
            var stackCache = Filled(p.Stacks.Count);
            var labelCache = new Dictionary<LabelSetId, SeriesLabels>();
            long bucket = Buckets.Floor(item.StartNs);

            int MapStack(StackId s)
            {
                // Iterative so hostile deep stacks cannot overflow the thread's stack.
                chain.Clear();
                var cur = s;
                while (cur != StackId.Root && stackCache[(int)cur] < 0)
                {
                    chain.Add(cur);
                    cur = p.Stacks.Caller(cur);
                }

                int mapped = cur == StackId.Root ? -1 : stackCache[(int)cur];
                for (int i = chain.Count - 1; i >= 0; i--)
                {
                    var f = p.Stacks.Frame(chain[i]);
                    int fm = frameCache[(int)f];
                    if (fm < 0)
                    {
                        int name = Str(p, p.Frames.Name(f), strCache);
                        int module = Str(p, p.Frames.Module(f), strCache);
                        long fk = ((long)module << 32) | (uint)name;
                        if (!dedup || !frameIndex.TryGetValue(fk, out fm))
                        {
                            fm = frameNames.Count;
                            frameNames.Add(name);
                            frameModules.Add(module);
                            if (dedup)
                            {
                                frameIndex.Add(fk, fm);
                            }
                        }

                        frameCache[(int)f] = fm;
                    }

                    long sk = ((long)mapped << 32) | (uint)fm;
                    if (!dedup || !stackIndex.TryGetValue(sk, out int sm))
                    {
                        sm = stackFrames.Count;
                        stackFrames.Add(fm);
                        stackCallers.Add(mapped);
                        if (dedup)
                        {
                            stackIndex.Add(sk, sm);
                        }
                    }

                    stackCache[(int)chain[i]] = sm;
                    mapped = sm;
                }

                return mapped;
            }

            var sampleStacks = p.SampleStacks;
            var sampleLabels = p.SampleLabels;
            Dictionary<int, long>? lastValues = null;
            LabelSetId lastSet = (LabelSetId)(-1);
            for (int r = 0; r < sampleStacks.Length; r++)
            {
                var ls = sampleLabels[r];
                if (lastValues is null || ls != lastSet)
                {
                    if (!labelCache.TryGetValue(ls, out var labels))
                    {
                        labels = ls == LabelSetId.None ? item.Labels : item.Labels.With(SampleLabelPairs(p, ls));
                        labelCache.Add(ls, labels);
                    }

                    var key = (item.Org, item.Type, labels.Key, bucket);
                    if (!groups.TryGetValue(key, out var g))
                    {
                        g = (labels, new Dictionary<int, long>());
                        groups.Add(key, g);
                    }

                    lastValues = g.Values;
                    lastSet = ls;
                }

                int stack = MapStack(sampleStacks[r]);
                long v = p.Value(r, item.ValueIndex);
                lastValues[stack] = lastValues.GetValueOrDefault(stack) + v;
            }
        }

        var result = new WalGroup[groups.Count];
        int gi = 0;
        foreach (var (key, g) in groups)
        {
            var stacks = new int[g.Values.Count];
            var values = new long[g.Values.Count];
            int i = 0;
            foreach (var (s, v) in g.Values)
            {
                stacks[i] = s;
                values[i++] = v;
            }

            result[gi++] = new WalGroup(key.Org, key.Type, g.Labels, key.Bucket, stacks, values);
        }

        return new WalBatch
        {
            Strings = [.. strings],
            FrameNames = [.. frameNames],
            FrameModules = [.. frameModules],
            StackFrames = [.. stackFrames],
            StackCallers = [.. stackCallers],
            Groups = result,
        };
    }

    private static IEnumerable<KeyValuePair<string, string>> SampleLabelPairs(Profile p, LabelSetId ls)
    {
        var set = p.LabelSets.Get(ls).ToArray();
        foreach (var l in set)
        {
            yield return new KeyValuePair<string, string>(p.Strings.GetString(l.Key), p.Strings.GetString(l.Value));
        }
    }

    private static int[] Filled(int n)
    {
        var a = new int[n];
        Array.Fill(a, -1);
        return a;
    }

    /// <summary>The compact binary form (varints; see docs/storage.md).</summary>
    public byte[] Encode()
    {
        var w = new ArrayBufferWriter<byte>(4096);
        w.GetSpan(1)[0] = Version;
        w.Advance(1);
        WriteVar(w, (ulong)Strings.Length);
        foreach (var s in Strings)
        {
            WriteString(w, s);
        }

        WriteVar(w, (ulong)FrameNames.Length);
        for (int i = 0; i < FrameNames.Length; i++)
        {
            WriteVar(w, (ulong)FrameNames[i]);
            WriteVar(w, (ulong)FrameModules[i]);
        }

        WriteVar(w, (ulong)StackFrames.Length);
        for (int i = 0; i < StackFrames.Length; i++)
        {
            WriteVar(w, (ulong)StackFrames[i]);
            WriteVar(w, (ulong)(StackCallers[i] + 1));
        }

        WriteVar(w, (ulong)Groups.Length);
        foreach (var g in Groups)
        {
            WriteString(w, g.Org);
            WriteString(w, g.Type.ToString());
            WriteLabels(w, g.Labels);
            WriteVar(w, ZigZag(g.BucketNs));
            WriteVar(w, (ulong)g.Stacks.Length);
            for (int i = 0; i < g.Stacks.Length; i++)
            {
                WriteVar(w, (ulong)g.Stacks[i]);
                WriteVar(w, ZigZag(g.Values[i]));
            }
        }

        return w.WrittenSpan.ToArray();
    }

    /// <summary>Series labels in the same encoding (count, then name/value pairs); used for the cold series table too.</summary>
    public static byte[] EncodeLabels(SeriesLabels labels)
    {
        var w = new ArrayBufferWriter<byte>(256);
        WriteLabels(w, labels);
        return w.WrittenSpan.ToArray();
    }

    public static SeriesLabels DecodeLabels(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        var labels = r.Labels();
        r.ExpectEnd();
        return labels;
    }

    /// <summary>Parses a record payload; throws <see cref="OracException"/> naming the byte offset for anything malformed.</summary>
    public static WalBatch Decode(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (r.Byte() != Version)
        {
            r.Fail(0, "unknown record version");
        }

        var strings = new string[r.Count()];
        for (int i = 0; i < strings.Length; i++)
        {
            strings[i] = r.String();
        }

        int nf = r.Count();
        var names = new int[nf];
        var modules = new int[nf];
        for (int i = 0; i < nf; i++)
        {
            names[i] = r.Index(strings.Length);
            modules[i] = r.Index(strings.Length);
        }

        int ns = r.Count();
        var frames = new int[ns];
        var callers = new int[ns];
        for (int i = 0; i < ns; i++)
        {
            frames[i] = r.Index(nf);
            callers[i] = r.Index(i + 1) - 1;
        }

        var groups = new WalGroup[r.Count()];
        for (int gi = 0; gi < groups.Length; gi++)
        {
            var org = r.String();
            int at = r.Position;
            var typeText = r.String();
            if (!ProfileTypeId.TryParse(typeText, out var type))
            {
                r.Fail(at, "bad profile type");
            }

            var labels = r.Labels();
            long bucket = UnZigZag(r.Var());
            int n = r.Count();
            var stacks = new int[n];
            var values = new long[n];
            for (int i = 0; i < n; i++)
            {
                stacks[i] = r.Index(ns);
                values[i] = UnZigZag(r.Var());
            }

            if (org.Length == 0)
            {
                r.Fail(at, "empty org");
            }

            groups[gi] = new WalGroup(org, type, labels, bucket, stacks, values);
        }

        r.ExpectEnd();
        return new WalBatch { Strings = strings, FrameNames = names, FrameModules = modules, StackFrames = frames, StackCallers = callers, Groups = groups };
    }

    private static void WriteLabels(ArrayBufferWriter<byte> w, SeriesLabels labels)
    {
        WriteVar(w, (ulong)labels.Pairs.Count);
        foreach (var (k, v) in labels.Pairs)
        {
            WriteString(w, k);
            WriteString(w, v);
        }
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static void WriteVar(ArrayBufferWriter<byte> w, ulong v)
    {
        var span = w.GetSpan(10);
        int i = 0;
        while (v >= 0x80)
        {
            span[i++] = (byte)(v | 0x80);
            v >>= 7;
        }

        span[i++] = (byte)v;
        w.Advance(i);
    }

    private static void WriteString(ArrayBufferWriter<byte> w, string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        WriteVar(w, (ulong)n);
        Encoding.UTF8.GetBytes(s, w.GetSpan(n));
        w.Advance(n);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        public byte Byte()
        {
            if (Position >= _data.Length)
            {
                Fail(Position, "record ends early");
            }

            return _data[Position++];
        }

        public ulong Var()
        {
            int start = Position;
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = Byte();
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return v;
                }
            }

            Fail(start, "varint longer than 10 bytes");
            return 0;
        }

        public int Count()
        {
            int at = Position;
            ulong v = Var();
            if (v > MaxCount || v > (ulong)(_data.Length - Position + 1) * 8)
            {
                Fail(at, $"count {v} is larger than the record can hold");
            }

            return (int)v;
        }

        public int Index(int limit)
        {
            int at = Position;
            ulong v = Var();
            if (v >= (ulong)limit)
            {
                Fail(at, $"index {v} out of range (limit {limit})");
            }

            return (int)v;
        }

        public string String()
        {
            int at = Position;
            ulong n = Var();
            if (n > (ulong)(_data.Length - Position))
            {
                Fail(at, $"string of {n} bytes runs past the record end");
            }

            var s = Encoding.UTF8.GetString(_data.Slice(Position, (int)n));
            Position += (int)n;
            return s;
        }

        public SeriesLabels Labels()
        {
            int at = Position;
            int n = Count();
            var pairs = new KeyValuePair<string, string>[n];
            for (int i = 0; i < n; i++)
            {
                pairs[i] = new(String(), String());
            }

            try
            {
                return SeriesLabels.Create(pairs);
            }
            catch (OracException e)
            {
                Fail(at, e.Message);
                return null!;
            }
        }

        public readonly void ExpectEnd()
        {
            if (Position != _data.Length)
            {
                Fail(Position, $"{_data.Length - Position} bytes after the end of the record");
            }
        }

        [DoesNotReturn]
        public readonly void Fail(int offset, string what) =>
            throw new OracException($"bad write-ahead-log record at byte {offset} of {_data.Length}: {what}");
    }
}

/// <summary>One series' share of a batch in one 10 s bucket: batch-local stack indices and summed values.</summary>
internal sealed record WalGroup(string Org, ProfileTypeId Type, SeriesLabels Labels, long BucketNs, int[] Stacks, long[] Values);
