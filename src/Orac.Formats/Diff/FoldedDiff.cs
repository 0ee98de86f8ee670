using System.Buffers;
using System.Buffers.Text;
using Orac.Model;

namespace Orac.Formats.Diff;

/// <summary>Options of <see cref="FoldedDiff"/> (difffolded.pl's flags).</summary>
public readonly record struct FoldedDiffOptions
{
    /// <summary><c>-n</c>: scale the first file's counts to the second file's total (see <see cref="DiffMath.Scale"/>).</summary>
    public bool Normalize { get; init; }

    /// <summary><c>-s</c>: replace every <c>0x</c> followed by hex digits in a stack with <c>0x...</c> before comparing.</summary>
    public bool StripHex { get; init; }
}

/// <summary>
/// difffolded.pl, streaming: reads two folded files line by line, interns each whole stack once
/// (a byte arena plus an open-addressing table, no per-line allocation), sums the counts per
/// stack and side, and writes <c>stack count1 count2</c> lines sorted bytewise (as
/// <c>LC_ALL=C sort</c>). Memory is proportional to the distinct stacks, not to the input size.
/// See docs/diff.md for the exact rules.
/// </summary>
public sealed class FoldedDiff
{
    /// <summary>Kind used for lines that have no trailing count.</summary>
    public const string InvalidLine = "diff input lines without a trailing count skipped";

    /// <summary>Kind used for counts that do not fit in 64 bits.</summary>
    public const string BadCount = "diff input lines with a count too large for 64 bits skipped";

    /// <summary>Kind used for lines over the line cap.</summary>
    public const string LongLine = "diff input lines longer than the line cap skipped";

    /// <summary>Most distinct stacks held (a hard cap at ingest).</summary>
    public const int MaxStacks = 1 << 27;

    private static readonly byte[] s_hexMark = "0x"u8.ToArray();

    private byte[] _arena = new byte[1 << 16];
    private long _arenaUsed;
    private long[] _starts = new long[1024];
    private int[] _lengths = new int[1024];
    private long[] _counts = new long[2048]; // [2*i] first file, [2*i+1] second file
    private int _count;
    private int[] _slots = new int[2048];    // stack index + 1; 0 = empty
    private int[] _hashes = new int[2048];
    private int _mask = 2047;
    private byte[] _scratch = new byte[4096];
    private readonly long[] _totals = new long[2];

    /// <summary>Number of distinct stacks seen so far.</summary>
    public int StackCount => _count;

    /// <summary>Sum of all counts read for side 0 (first file) or 1 (second file), before normalisation.</summary>
    public long Total(int side) => _totals[side];

    /// <summary>Runs a whole diff: reads both inputs and writes the three-column lines to <paramref name="output"/>.</summary>
    public static void Run(Stream before, string beforeName, Stream after, string afterName, Stream output, FoldedDiffOptions options, ParseWarnings warnings)
    {
        var diff = new FoldedDiff();
        diff.Read(before, beforeName, 0, options, warnings);
        diff.Read(after, afterName, 1, options, warnings);
        diff.Write(output, options.Normalize);
    }

    /// <summary>Reads one folded input into side <paramref name="side"/> (0 = before, 1 = after).</summary>
    public void Read(Stream input, string name, int side, FoldedDiffOptions options, ParseWarnings warnings)
    {
        var reader = new LineReader(input);
        long invalid = 0;
        long firstInvalid = 0;
        long badCount = 0;
        long firstBad = 0;
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                continue;
            }

            int r = SplitCount(line, out ReadOnlySpan<byte> stack, out long count);
            if (r != 0)
            {
                if (r == 1)
                {
                    if (invalid++ == 0)
                    {
                        firstInvalid = reader.LineNumber;
                    }
                }
                else if (badCount++ == 0)
                {
                    firstBad = reader.LineNumber;
                }

                continue;
            }

            if (options.StripHex)
            {
                stack = StripHex(stack);
            }

            int i = Intern(stack);
            _counts[(2 * i) + side] += count;
            _totals[side] += count;
        }

        if (invalid > 0)
        {
            warnings.Add(InvalidLine, $"{name}:{firstInvalid}");
            warnings.AddCount(InvalidLine, invalid - 1);
        }

        if (badCount > 0)
        {
            warnings.Add(BadCount, $"{name}:{firstBad}");
            warnings.AddCount(BadCount, badCount - 1);
        }

        foreach (long ln in reader.LongLinesSkipped)
        {
            warnings.Add(LongLine, $"{name}:{ln}");
        }
    }

    /// <summary>
    /// Splits <c>stack&lt;ws&gt;count</c> as perl's <c>^(.*)\s+?(\d+(?:\.\d*)?)$</c> does: the count is
    /// the trailing digits (an optional fraction is dropped, truncating), preceded by one whitespace
    /// byte that is removed; the stack is everything before it (possibly empty). Returns 0 on success,
    /// 1 when the line has no count, 2 when the count does not fit in 64 bits.
    /// </summary>
    public static int SplitCount(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> stack, out long count)
    {
        stack = default;
        count = 0;
        int end = line.Length;
        int i = end;
        while (i > 0 && IsDigit(line[i - 1]))
        {
            i--;
        }

        int intEnd = end;
        if (i > 0 && line[i - 1] == (byte)'.')
        {
            // digits '.' digits*: the integer part ends at the dot.
            int dot = i - 1;
            int k = dot;
            while (k > 0 && IsDigit(line[k - 1]))
            {
                k--;
            }

            if (k == dot)
            {
                return 1;
            }

            intEnd = dot;
            i = k;
        }
        else if (i == end)
        {
            return 1;
        }

        if (i == 0 || !IsSpace(line[i - 1]))
        {
            return 1;
        }

        stack = line[..(i - 1)];
        long v = 0;
        for (int d = i; d < intEnd; d++)
        {
            int digit = line[d] - '0';
            if (v > (long.MaxValue - digit) / 10)
            {
                return 2;
            }

            v = (v * 10) + digit;
        }

        count = v;
        return 0;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    // perl's \s: space, \t, \n, \v, \f, \r.
    private static bool IsSpace(byte b) => b == (byte)' ' || (uint)(b - 9) <= 4;

    private static bool IsHex(byte b) => (uint)(b - '0') <= 9 || (uint)((b | 0x20) - 'a') <= 5;

    /// <summary>perl's <c>s/0x[0-9a-fA-F]+/0x.../g</c>; returns the input itself when nothing matches.</summary>
    private ReadOnlySpan<byte> StripHex(ReadOnlySpan<byte> stack)
    {
        int at = stack.IndexOf(s_hexMark);
        if (at < 0)
        {
            return stack;
        }

        // "0x" + hex digits becomes 5 bytes, so the result is at most 1.5x the input.
        int need = stack.Length + (stack.Length / 2) + 8;
        if (_scratch.Length < need)
        {
            _scratch = new byte[need];
        }

        Span<byte> dst = _scratch;
        int o = 0;
        while (at >= 0)
        {
            int j = at + 2;
            if (j < stack.Length && IsHex(stack[j]))
            {
                stack[..at].CopyTo(dst[o..]);
                o += at;
                "0x..."u8.CopyTo(dst[o..]);
                o += 5;
                while (j < stack.Length && IsHex(stack[j]))
                {
                    j++;
                }
            }
            else
            {
                // "0x" without hex digits stays; continue after the '0' (the 'x' cannot start a match).
                stack[..j].CopyTo(dst[o..]);
                o += j;
            }

            stack = stack[j..];
            at = stack.IndexOf(s_hexMark);
        }

        stack.CopyTo(dst[o..]);
        o += stack.Length;
        return dst[..o];
    }

    private ReadOnlySpan<byte> StackBytes(int i) => new(_arena, (int)_starts[i], _lengths[i]);

    private int Intern(ReadOnlySpan<byte> stack)
    {
        int hash = StringTable.Hash(stack);
        int slot = hash & _mask;
        while (true)
        {
            int v = _slots[slot];
            if (v == 0)
            {
                break;
            }

            if (_hashes[slot] == hash && StackBytes(v - 1).SequenceEqual(stack))
            {
                return v - 1;
            }

            slot = (slot + 1) & _mask;
        }

        int id = Add(stack);
        _slots[slot] = id + 1;
        _hashes[slot] = hash;
        if (_count * 2 > _mask)
        {
            Rehash();
        }

        return id;
    }

    private int Add(ReadOnlySpan<byte> stack)
    {
        if (_count >= MaxStacks)
        {
            throw new OracException($"diff: more than {MaxStacks} distinct stacks; refusing to hold them in memory");
        }

        if (_arenaUsed + stack.Length > _arena.Length)
        {
            long size = Math.Max((long)_arena.Length * 2, _arenaUsed + stack.Length);
            if (size > Array.MaxLength)
            {
                throw new OracException("diff: distinct stacks exceed 2 GiB of text");
            }

            Array.Resize(ref _arena, (int)size);
        }

        stack.CopyTo(_arena.AsSpan((int)_arenaUsed));
        if (_count == _lengths.Length)
        {
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _lengths, _count * 2);
            Array.Resize(ref _counts, _count * 4);
        }

        _starts[_count] = _arenaUsed;
        _lengths[_count] = stack.Length;
        _arenaUsed += stack.Length;
        return _count++;
    }

    private void Rehash()
    {
        int size = _slots.Length * 2;
        var slots = new int[size];
        var hashes = new int[size];
        int mask = size - 1;
        for (int j = 0; j < _slots.Length; j++)
        {
            if (_slots[j] != 0)
            {
                int i = _hashes[j] & mask;
                while (slots[i] != 0)
                {
                    i = (i + 1) & mask;
                }

                slots[i] = _slots[j];
                hashes[i] = _hashes[j];
            }
        }

        _slots = slots;
        _hashes = hashes;
        _mask = mask;
    }

    /// <summary>
    /// Writes every stack as <c>stack count1 count2\n</c> in bytewise order of the whole line.
    /// With <paramref name="normalize"/>, count1 is scaled to the second total (<see cref="DiffMath.Scale"/>).
    /// </summary>
    public void Write(Stream output, bool normalize)
    {
        var order = new int[_count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, new LineComparer(this));
        long t1 = _totals[0];
        long t2 = _totals[1];
        byte[] buf = ArrayPool<byte>.Shared.Rent(1 << 16);
        int used = 0;
        foreach (int i in order)
        {
            ReadOnlySpan<byte> stack = StackBytes(i);
            int need = stack.Length + 48;
            if (used + need > buf.Length)
            {
                output.Write(buf, 0, used);
                used = 0;
                if (need > buf.Length)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    buf = ArrayPool<byte>.Shared.Rent(need);
                }
            }

            Span<byte> dst = buf.AsSpan(used);
            stack.CopyTo(dst);
            int o = stack.Length;
            long c1 = _counts[2 * i];
            if (normalize)
            {
                c1 = DiffMath.Scale(c1, t1, t2);
            }

            dst[o++] = (byte)' ';
            Utf8Formatter.TryFormat(c1, dst[o..], out int n);
            o += n;
            dst[o++] = (byte)' ';
            Utf8Formatter.TryFormat(_counts[(2 * i) + 1], dst[o..], out n);
            o += n;
            dst[o++] = (byte)'\n';
            used += o;
        }

        output.Write(buf, 0, used);
        ArrayPool<byte>.Shared.Return(buf);
        output.Flush();
    }

    // Orders lines as LC_ALL=C sort orders "stack c1 c2": stacks are unique, so only a stack that is a
    // prefix of another needs care: the shorter line continues with ' '.
    private sealed class LineComparer(FoldedDiff diff) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            ReadOnlySpan<byte> sa = diff.StackBytes(a);
            ReadOnlySpan<byte> sb = diff.StackBytes(b);
            int common = sa.CommonPrefixLength(sb);
            if (common < sa.Length && common < sb.Length)
            {
                return sa[common].CompareTo(sb[common]);
            }

            int c = sa.Length == sb.Length ? 0
                : sa.Length < sb.Length ? ((byte)' ').CompareTo(sb[common]) : sa[common].CompareTo((byte)' ');

            // Equal so far only when the longer stack continues with ' ': any fixed order keeps the output deterministic.
            return c != 0 ? c : a.CompareTo(b);
        }
    }
}
