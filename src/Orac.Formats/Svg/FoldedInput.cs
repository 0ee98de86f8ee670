using System.Globalization;
using Orac.Model;

namespace Orac.Formats.Svg;

/// <summary>
/// The accepted lines of flamegraph.pl input, in input order, each kept as a sequence of interned
/// frame names plus its tail (the whitespace and count text), so memory follows the number of
/// distinct frames and stacks rather than the input's size. A line is
/// accepted when it matches <c>^(.*)\s(\d+(?:\.\d*)?)$</c>, optionally twice (two counts: a
/// differential graph). Under <c>--reverse</c> the stack is reversed and the line rebuilt as
/// <c>stack count[ count2]</c> before sorting, as the perl tool does.
/// </summary>
public sealed class FoldedInput
{
    private static readonly System.Buffers.SearchValues<byte> s_space = System.Buffers.SearchValues.Create(" \t\n\v\f\r"u8);

    // Only the builder's string table is used: it is the public way to intern bytes.
    private readonly ProfileBuilder _names = new();
    private readonly StringId _empty;
    // Frame ids live in fixed-size chunks (a line never straddles two), so growing never copies or
    // doubles the largest structure.
    private const int ChunkInts = 1 << 16;
    private readonly List<int[]> _chunks = [new int[ChunkInts]];
    private int _poolLen; // used ints in the last chunk
    private int[] _lineChunk = new int[1024];
    private byte[] _tails = new byte[1 << 14];
    private int _tailsLen;
    private int[] _poolStart = new int[1024];
    private int[] _depth = new int[1024];
    private int[] _tailStart = new int[1024];
    private double[] _count = new double[1024];
    private double[]? _count2; // second counts, allocated at the first two-count line
    private bool[]? _hasSecond;
    private int[] _hash = new int[1024];
    private int[] _table = new int[4096]; // line index + 1 per slot; 0 is empty
    private int _lines;
    private byte[] _scratch = new byte[256];
    private byte[] _cmpA = new byte[256];
    private byte[] _cmpB = new byte[256];

    /// <summary>Creates an empty input.</summary>
    public FoldedInput() => _empty = _names.Intern(ReadOnlySpan<byte>.Empty);

    /// <summary>Number of accepted (distinct, when merging) lines.</summary>
    public int Count => _lines;

    /// <summary>Lines that did not match the input rule.</summary>
    public long Ignored { get; private set; }

    /// <summary>True when any line had two counts.</summary>
    public bool AnySecond { get; private set; }

    /// <summary>Bytes read.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Merge one-count lines whose stacks are byte-identical into one line (counts summed), so memory
    /// grows with distinct stacks, not input size. Sorting then merging gives the same frames as
    /// keeping every copy (copies sort next to each other); leave it off for flame charts, where
    /// input order matters.
    /// </summary>
    public bool MergeDuplicates { get; set; } = true;

    /// <summary>Interned frame names.</summary>
    public StringTable Names => _names.Strings;

    /// <summary>The id of the empty name (the root's name).</summary>
    public StringId EmptyName => _empty;

    internal ReadOnlySpan<int> Frames(int i) => new(_chunks[_lineChunk[i]], _poolStart[i], _depth[i]);

    internal double First(int i) => _count[i];

    internal double Second(int i) => _count2 is null ? 0 : _count2[i];

    internal bool HasSecond(int i) => _hasSecond is not null && _hasSecond[i];

    // Tails are appended in line order, so each ends where the next begins.
    private int TailLength(int i) => (i + 1 < _lines ? _tailStart[i + 1] : _tailsLen) - _tailStart[i];

    internal StringId Intern(ReadOnlySpan<byte> name) => _names.Intern(name);

    /// <summary>Reads every line of <paramref name="input"/>.</summary>
    public void Read(Stream input, bool reverse)
    {
        var reader = new LineReader(input);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            Add(line, reverse);
        }

        BytesRead += reader.Offset;
        Ignored += reader.LongLinesSkipped.Count;
    }

    /// <summary>
    /// Adds a profile's stacks (value column <paramref name="type"/>) as folded lines, for inputs parsed
    /// by other readers (perf script, pprof). Stacks are added in the bytewise order of their lines.
    /// </summary>
    public void AddProfile(Profile profile, bool reverse, int type = 0)
    {
        Folded.FoldedLines lines = Folded.FoldedWriter.BuildLines(profile, type);
        byte[] tmp = new byte[256];
        foreach (int i in lines.SortedOrder())
        {
            ReadOnlySpan<byte> stack = lines.Stack(i);
            if (tmp.Length < stack.Length + 24)
            {
                tmp = new byte[stack.Length + 24];
            }

            stack.CopyTo(tmp);
            tmp[stack.Length] = (byte)' ';
            System.Buffers.Text.Utf8Formatter.TryFormat(lines.CountOf(i), tmp.AsSpan(stack.Length + 1), out int n);
            Add(tmp.AsSpan(0, stack.Length + 1 + n), reverse);
        }
    }

    /// <summary>Adds one line (without its newline).</summary>
    public void Add(ReadOnlySpan<byte> line, bool reverse)
    {
        if (!Split(line, out int stackLen, out int countStart))
        {
            Ignored++;
            return;
        }

        bool two = Split(line[..stackLen], out int stack2Len, out int count2Start);
        if (reverse)
        {
            line = Reversed(line, two ? stack2Len : stackLen, two ? count2Start : countStart, two ? countStart : -1);
            if (!Split(line, out stackLen, out countStart))
            {
                Ignored++;
                return;
            }

            two = Split(line[..stackLen], out stack2Len, out count2Start);
        }

        ReadOnlySpan<byte> stack = line[..(two ? stack2Len : stackLen)];
        ReadOnlySpan<byte> tail = line[stack.Length..];
        double c = ParseNumber(line[countStart..]);

        // Repeated stacks are found by their bytes before any frame is interned: the common case costs one hash.
        int hash = 0;
        if (MergeDuplicates && !two)
        {
            var h = default(HashCode);
            h.AddBytes(stack);
            hash = h.ToHashCode() | 1;
            int mask = _table.Length - 1;
            int slot = hash & mask;
            while (true)
            {
                int e = _table[slot];
                if (e == 0)
                {
                    break;
                }

                int li = e - 1;
                if (_hash[li] == hash && StackEquals(li, stack))
                {
                    _count[li] += c;
                    return;
                }

                slot = (slot + 1) & mask;
            }
        }

        else if (!two && _lines > 0 && !HasSecond(_lines - 1) && StackEquals(_lines - 1, stack))
        {
            // In input order only a repeat of the line just before can merge, and it merges exactly:
            // the perl tool opens and closes nothing for it and just advances the time.
            _count[_lines - 1] += c;
            return;
        }

        int depth = stack.IsEmpty ? 0 : SplitFrames(stack);
        ReadOnlySpan<int> ids = _prev.Values(depth);
        EnsureLine(depth, tail.Length);
        ids.CopyTo(_chunks[^1].AsSpan(_poolLen));
        _lineChunk[_lines] = _chunks.Count - 1;
        _poolStart[_lines] = _poolLen;
        _depth[_lines] = depth;
        _poolLen += depth;
        tail.CopyTo(_tails.AsSpan(_tailsLen));
        _tailStart[_lines] = _tailsLen;
        _tailsLen += tail.Length;
        if (two)
        {
            _count[_lines] = ParseNumber(line[count2Start..stackLen]);
            _count2 ??= new double[_count.Length];
            _hasSecond ??= new bool[_count.Length];
            _count2[_lines] = c;
            _hasSecond[_lines] = true;
            AnySecond = true;
        }
        else
        {
            _count[_lines] = c;
            if (_hasSecond is not null)
            {
                _count2![_lines] = 0;
                _hasSecond[_lines] = false;
            }
        }

        _hash[_lines] = hash;
        if (hash != 0)
        {
            Insert(_lines, hash);
        }

        _lines++;
    }

    private readonly Folded.PreviousStack _prev = new();

    /// <summary>Interns the frames of a non-empty stack; their ids are then <c>_prev.Values(depth)</c>. Returns their number.</summary>
    private int SplitFrames(ReadOnlySpan<byte> stack)
    {
        int depth = _prev.Shared(stack, out int pos);
        if (pos > stack.Length)
        {
            // The stack is exactly the first `depth` frames of the previous one.
            return depth;
        }

        _prev.Replace(stack, depth);
        while (true)
        {
            int semi = stack[pos..].IndexOf((byte)';');
            int end = semi < 0 ? stack.Length : pos + semi;
            _prev.Add(end, (int)_names.Intern(stack[pos..end]));
            depth++;
            if (semi < 0)
            {
                return depth;
            }

            pos = end + 1;
        }
    }

    private bool StackEquals(int line, ReadOnlySpan<byte> stack)
    {
        ReadOnlySpan<int> frames = Frames(line);
        if (frames.Length == 0)
        {
            return stack.IsEmpty;
        }

        for (int f = 0; f < frames.Length; f++)
        {
            ReadOnlySpan<byte> name = Names.GetBytes((StringId)frames[f]);
            if (!stack.StartsWith(name))
            {
                return false;
            }

            stack = stack[name.Length..];
            if (f < frames.Length - 1)
            {
                if (stack.IsEmpty || stack[0] != (byte)';')
                {
                    return false;
                }

                stack = stack[1..];
            }
        }

        return stack.IsEmpty;
    }

    private void Insert(int line, int hash)
    {
        if ((_lines + 1) * 2 > _table.Length)
        {
            var bigger = new int[_table.Length * 2];
            int m = bigger.Length - 1;
            for (int i = 0; i < _lines; i++)
            {
                if (_hash[i] != 0)
                {
                    int sl = _hash[i] & m;
                    while (bigger[sl] != 0)
                    {
                        sl = (sl + 1) & m;
                    }

                    bigger[sl] = i + 1;
                }
            }

            _table = bigger;
        }

        int mask = _table.Length - 1;
        int slot = hash & mask;
        while (_table[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }

        _table[slot] = line + 1;
    }

    private ReadOnlySpan<byte> Reversed(ReadOnlySpan<byte> line, int stackLen, int firstCountStart, int secondCountStart)
    {
        ReadOnlySpan<byte> stack = line[..stackLen];
        int need = line.Length + 2;
        if (_scratch.Length < need)
        {
            _scratch = new byte[Math.Max(need, _scratch.Length * 2)];
        }

        // perl's split(";") drops trailing empty fields; join puts the survivors back in reverse order.
        int end = stack.Length;
        while (end > 0 && stack[end - 1] == (byte)';')
        {
            end--;
        }

        stack = stack[..end];
        int w = 0;
        int hi = stack.Length;
        bool first = true;
        while (stack.Length > 0)
        {
            int semi = stack[..hi].LastIndexOf((byte)';');
            ReadOnlySpan<byte> f = stack[(semi + 1)..hi];
            if (!first)
            {
                _scratch[w++] = (byte)';';
            }

            first = false;
            f.CopyTo(_scratch.AsSpan(w));
            w += f.Length;
            if (semi < 0)
            {
                break;
            }

            hi = semi;
        }

        _scratch[w++] = (byte)' ';
        ReadOnlySpan<byte> c1 = secondCountStart < 0 ? line[firstCountStart..] : TrimToNumber(line[firstCountStart..]);
        c1.CopyTo(_scratch.AsSpan(w));
        w += c1.Length;
        if (secondCountStart >= 0)
        {
            _scratch[w++] = (byte)' ';
            ReadOnlySpan<byte> c2 = line[secondCountStart..];
            c2.CopyTo(_scratch.AsSpan(w));
            w += c2.Length;
        }

        return _scratch.AsSpan(0, w);
    }

    private static ReadOnlySpan<byte> TrimToNumber(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && (IsDigit(s[i]) || s[i] == (byte)'.'))
        {
            i++;
        }

        return s[..i];
    }

    private void EnsureLine(int depth, int tailLen)
    {
        if (_poolLen + depth > _chunks[^1].Length)
        {
            _chunks.Add(new int[Math.Max(ChunkInts, depth)]);
            _poolLen = 0;
        }

        if (_tailsLen + tailLen > _tails.Length)
        {
            long size = Math.Max((long)_tails.Length * 2, (long)_tailsLen + tailLen);
            if (size > Array.MaxLength)
            {
                throw new OracException("input too large");
            }

            Array.Resize(ref _tails, (int)size);
        }

        if (_lines == _poolStart.Length)
        {
            int n = _lines * 2;
            Array.Resize(ref _poolStart, n);
            Array.Resize(ref _depth, n);
            Array.Resize(ref _lineChunk, n);
            Array.Resize(ref _tailStart, n);
            Array.Resize(ref _count, n);
            if (_hasSecond is not null)
            {
                Array.Resize(ref _count2, n);
                Array.Resize(ref _hasSecond, n);
            }
            Array.Resize(ref _hash, n);
        }
    }

    /// <summary>
    /// Matches <c>^(.*)\s+?(\d+(?:\.\d*)?)$</c>: the count is what follows the last whitespace byte
    /// and must be digits with an optional fraction; the stack is everything before that byte.
    /// </summary>
    internal static bool Split(ReadOnlySpan<byte> line, out int stackLen, out int countStart)
    {
        stackLen = 0;
        countStart = 0;
        int ws = line.LastIndexOfAny(s_space);
        if (ws < 0)
        {
            return false;
        }

        ReadOnlySpan<byte> num = line[(ws + 1)..];
        int i = 0;
        while (i < num.Length && IsDigit(num[i]))
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        if (i < num.Length)
        {
            if (num[i] != (byte)'.')
            {
                return false;
            }

            i++;
            while (i < num.Length && IsDigit(num[i]))
            {
                i++;
            }

            if (i < num.Length)
            {
                return false;
            }
        }

        stackLen = ws;
        countStart = ws + 1;
        return true;
    }

    private static double ParseNumber(ReadOnlySpan<byte> s)
    {
        // Fast path: integers up to 15 digits are exact in a double.
        if (s.Length <= 15)
        {
            long v = 0;
            int i = 0;
            for (; i < s.Length && IsDigit(s[i]); i++)
            {
                v = (v * 10) + (s[i] - '0');
            }

            if (i == s.Length)
            {
                return v;
            }
        }

        return double.Parse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    /// <summary>Line indices in bytewise order of the whole line (<c>LC_ALL=C sort</c>), ties in input order.</summary>
    public int[] SortedOrder()
    {
        int[] order = InputOrder();
        Array.Sort(order, CompareLines);
        return order;
    }

    /// <summary>Line indices in input order.</summary>
    public int[] InputOrder()
    {
        var order = new int[_lines];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        return order;
    }

    /// <summary>The bytes of line <paramref name="i"/> as read (after --reverse), for tests and slow comparisons.</summary>
    internal int MaterializeLine(int i, ref byte[] buf)
    {
        ReadOnlySpan<int> frames = Frames(i);
        int w = 0;
        for (int f = 0; f < frames.Length; f++)
        {
            ReadOnlySpan<byte> name = Names.GetBytes((StringId)frames[f]);
            if (buf.Length < w + name.Length + 1)
            {
                Array.Resize(ref buf, Math.Max(buf.Length * 2, w + name.Length + 1));
            }

            if (f > 0)
            {
                buf[w++] = (byte)';';
            }

            name.CopyTo(buf.AsSpan(w));
            w += name.Length;
        }

        ReadOnlySpan<byte> tail = new(_tails, _tailStart[i], TailLength(i));
        if (buf.Length < w + tail.Length)
        {
            Array.Resize(ref buf, Math.Max(buf.Length * 2, w + tail.Length));
        }

        tail.CopyTo(buf.AsSpan(w));
        return w + tail.Length;
    }

    private int CompareLines(int a, int b)
    {
        int c = CompareFast(a, b);
        if (c == int.MinValue)
        {
            int la = MaterializeLine(a, ref _cmpA);
            int lb = MaterializeLine(b, ref _cmpB);
            c = _cmpA.AsSpan(0, la).SequenceCompareTo(_cmpB.AsSpan(0, lb));
        }

        return c != 0 ? c : a.CompareTo(b);
    }

    /// <summary>Bytewise comparison on interned frames; int.MinValue when only the bytes can decide.</summary>
    private int CompareFast(int a, int b)
    {
        ReadOnlySpan<int> fa = Frames(a);
        ReadOnlySpan<int> fb = Frames(b);
        int n = Math.Min(fa.Length, fb.Length);
        int i = 0;
        while (i < n && fa[i] == fb[i])
        {
            i++;
        }

        if (i < n)
        {
            ReadOnlySpan<byte> na = Names.GetBytes((StringId)fa[i]);
            ReadOnlySpan<byte> nb = Names.GetBytes((StringId)fb[i]);
            int common = na.CommonPrefixLength(nb);
            if (common < na.Length && common < nb.Length)
            {
                return na[common].CompareTo(nb[common]);
            }

            // One name is a prefix of the other: what follows the shorter decides.
            byte nextA = common < na.Length ? na[common] : i + 1 < fa.Length ? (byte)';' : _tails[_tailStart[a]];
            byte nextB = common < nb.Length ? nb[common] : i + 1 < fb.Length ? (byte)';' : _tails[_tailStart[b]];
            return nextA != nextB ? nextA.CompareTo(nextB) : int.MinValue;
        }

        if (fa.Length == fb.Length)
        {
            return new ReadOnlySpan<byte>(_tails, _tailStart[a], TailLength(a)).SequenceCompareTo(new ReadOnlySpan<byte>(_tails, _tailStart[b], TailLength(b)));
        }

        if (fa.Length == 0 || fb.Length == 0)
        {
            return int.MinValue;
        }

        // One stack is a prefix of the other: the shorter continues with its tail (whitespace), the longer with ';'.
        return fa.Length < fb.Length ? _tails[_tailStart[a]].CompareTo((byte)';') : ((byte)';').CompareTo(_tails[_tailStart[b]]);
    }
}
