using System.Globalization;
using Orac.Model;

namespace Orac.Formats.Svg;

/// <summary>
/// The accepted lines of flamegraph.pl input, kept as bytes in one buffer in input order. A line is
/// accepted when it matches <c>^(.*)\s(\d+(?:\.\d*)?)$</c>, optionally twice (two counts: a
/// differential graph). Under <c>--reverse</c> the stack is reversed and the line rebuilt as
/// <c>stack count[ count2]</c> before sorting, as the perl tool does.
/// </summary>
public sealed class FoldedInput
{
    private static readonly System.Buffers.SearchValues<byte> s_space = System.Buffers.SearchValues.Create(" \t\n\v\f\r"u8);
    private byte[] _buf = new byte[1 << 16];
    private int _len;
    private int[] _start = new int[1024];
    private int[] _stackLen = new int[1024];
    private int[] _lineLen = new int[1024];
    private double[] _count = new double[1024];
    private double[] _count2 = new double[1024];
    private bool[] _hasSecond = new bool[1024];
    private int _lines;
    private byte[] _scratch = new byte[256];
    private int[] _table = new int[4096]; // line index + 1 per slot; 0 is empty
    private int[] _hash = new int[1024];

    /// <summary>Number of accepted lines.</summary>
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

    /// <summary>Hard cap on the bytes kept in memory.</summary>
    public long MaxBytes { get; set; } = Array.MaxLength;

    internal byte[] Buffer => _buf;

    internal int Start(int i) => _start[i];

    internal int StackLength(int i) => _stackLen[i];

    internal ReadOnlySpan<byte> Line(int i) => new(_buf, _start[i], _lineLen[i]);

    internal ReadOnlySpan<byte> Stack(int i) => new(_buf, _start[i], _stackLen[i]);

    internal double First(int i) => _count[i];

    internal double Second(int i) => _count2[i];

    internal bool HasSecond(int i) => _hasSecond[i];

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

        int stack2Len = 0;
        int count2Start = 0;
        bool two = Split(line[..stackLen], out stack2Len, out count2Start);
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

        int hash = 0;
        if (MergeDuplicates && !two)
        {
            ReadOnlySpan<byte> key = line[..stackLen];
            hash = StringTable.Hash(key) | 1;
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
                if (_hash[li] == hash && !_hasSecond[li] && Stack(li).SequenceEqual(key))
                {
                    _count[li] += ParseNumber(line[countStart..]);
                    return;
                }

                slot = (slot + 1) & mask;
            }
        }

        if ((long)_len + line.Length > MaxBytes)
        {
            throw new OracException($"input too large: more than {MaxBytes} bytes of distinct stacks");
        }

        EnsureLine(line.Length);
        int at = _len;
        line.CopyTo(_buf.AsSpan(at));
        _len += line.Length;
        _start[_lines] = at;
        _lineLen[_lines] = line.Length;
        double c = ParseNumber(line[countStart..]);
        if (two)
        {
            _stackLen[_lines] = stack2Len;
            _count[_lines] = ParseNumber(line[count2Start..stackLen]);
            _count2[_lines] = c;
            _hasSecond[_lines] = true;
            AnySecond = true;
        }
        else
        {
            _stackLen[_lines] = stackLen;
            _count[_lines] = c;
            _hasSecond[_lines] = false;
        }

        _hash[_lines] = hash;
        if (hash != 0)
        {
            Insert(_lines, hash);
        }

        _lines++;
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
        while (hi >= 0 && stack.Length > 0)
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
        ReadOnlySpan<byte> c1 = secondCountStart < 0 ? line[firstCountStart..] : line[firstCountStart..(secondCountStart - 1)];
        // The first count's text runs to its whitespace; find its exact end.
        if (secondCountStart >= 0)
        {
            c1 = TrimToNumber(line[firstCountStart..]);
        }

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

    private static ReadOnlySpan<byte> TrimToNumber(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && (IsDigit(s[i]) || s[i] == (byte)'.'))
        {
            i++;
        }

        return s[..i];
    }

    private void EnsureLine(int bytes)
    {
        if (_len + bytes > _buf.Length)
        {
            long size = Math.Max((long)_buf.Length * 2, (long)_len + bytes);
            if (size > Array.MaxLength)
            {
                throw new OracException("input too large: more than 2 GiB of stacks");
            }

            Array.Resize(ref _buf, (int)size);
        }

        if (_lines == _start.Length)
        {
            int n = _lines * 2;
            Array.Resize(ref _start, n);
            Array.Resize(ref _stackLen, n);
            Array.Resize(ref _lineLen, n);
            Array.Resize(ref _count, n);
            Array.Resize(ref _count2, n);
            Array.Resize(ref _hasSecond, n);
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
        var order = new int[_lines];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            int c = Line(a).SequenceCompareTo(Line(b));
            return c != 0 ? c : a.CompareTo(b);
        });
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
}
