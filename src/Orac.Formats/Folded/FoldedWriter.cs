using System.Buffers;
using System.Buffers.Text;
using Orac.Model;

namespace Orac.Formats.Folded;

/// <summary>
/// Writes a profile as folded stacks: one line per distinct stack, <c>root;…;leaf COUNT</c>,
/// sorted bytewise (as <c>LC_ALL=C sort</c>), which is what stackcollapse-perf.pl prints.
/// Rows with the same stack (different labels or timestamps) are summed; stacks whose total is 0
/// are still written when they had a row, as the perl tools do.
/// </summary>
public static class FoldedWriter
{
    /// <summary>Writes folded lines for value column <paramref name="type"/>.</summary>
    public static void Write(Profile profile, Stream output, int type = 0)
    {
        var lines = BuildLines(profile, type);
        lines.WriteSorted(output);
    }

    /// <summary>
    /// Builds every folded line (without sorting) into one buffer. Used by the writer and by
    /// renderers that need the lines in the perl tools' order.
    /// </summary>
    public static FoldedLines BuildLines(Profile profile, int type = 0)
    {
        // Sum rows per stack: stack ids are dense, so an array indexed by stack id does it.
        int stackCount = profile.Stacks.Count;
        var totals = new long[stackCount + 1]; // slot 0 is StackId.Root (a sample with no frames)
        var seen = new bool[stackCount + 1];
        ReadOnlySpan<StackId> stacks = profile.SampleStacks;
        int width = profile.SampleTypes.Count;
        ReadOnlySpan<long> values = profile.Values;
        for (int r = 0; r < stacks.Length; r++)
        {
            int s = (int)stacks[r] + 1;
            totals[s] += values[(r * width) + type];
            seen[s] = true;
        }

        var lines = new FoldedLines();
        var frames = new FrameId[64];
        for (int s = 0; s <= stackCount; s++)
        {
            if (!seen[s])
            {
                continue;
            }

            var stack = (StackId)(s - 1);
            int depth = profile.Stacks.Depth(stack);
            if (frames.Length < depth)
            {
                frames = new FrameId[Math.Max(depth, frames.Length * 2)];
            }

            profile.Stacks.CopyFrames(stack, frames);
            lines.BeginLine();
            for (int i = 0; i < depth; i++)
            {
                if (i > 0)
                {
                    lines.Append((byte)';');
                }

                lines.Append(profile.FrameNameBytes(frames[i]));
            }

            lines.EndLine(totals[s]);
        }

        return lines;
    }
}

/// <summary>Folded lines packed in one byte buffer: each line is its stack text, a space and its count (no newline).</summary>
public sealed class FoldedLines
{
    private byte[] _buf = new byte[1 << 16];
    private int _len;
    private int[] _starts = new int[1024];
    private int[] _stackEnds = new int[1024];
    private long[] _counts = new long[1024];
    private int _count;
    private int _lineStart;

    /// <summary>Number of lines.</summary>
    public int Count => _count;

    /// <summary>The stack text of line <paramref name="i"/> (frames joined by ';').</summary>
    public ReadOnlySpan<byte> Stack(int i) => new(_buf, _starts[i], _stackEnds[i] - _starts[i]);

    /// <summary>The count of line <paramref name="i"/>.</summary>
    public long CountOf(int i) => _counts[i];

    internal void BeginLine() => _lineStart = _len;

    internal void Append(byte b)
    {
        if (_len == _buf.Length)
        {
            Grow(1);
        }

        _buf[_len++] = b;
    }

    internal void Append(ReadOnlySpan<byte> bytes)
    {
        if (_len + bytes.Length > _buf.Length)
        {
            Grow(bytes.Length);
        }

        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    internal void EndLine(long count)
    {
        if (_count == _starts.Length)
        {
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _stackEnds, _count * 2);
            Array.Resize(ref _counts, _count * 2);
        }

        _starts[_count] = _lineStart;
        _stackEnds[_count] = _len;
        _counts[_count] = count;
        _count++;
    }

    private void Grow(int need)
    {
        long size = Math.Max((long)_buf.Length * 2, (long)_len + need);
        if (size > Array.MaxLength)
        {
            throw new OracException("folded output exceeds 2 GiB in memory");
        }

        Array.Resize(ref _buf, (int)size);
    }

    /// <summary>
    /// Line indices in bytewise order of the whole line <c>stack + ' ' + count</c>, as
    /// <c>LC_ALL=C sort</c> orders them (a stack that is a prefix of another sorts by the byte after it vs ' ').
    /// </summary>
    public int[] SortedOrder()
    {
        var order = new int[_count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, CompareLines);
        return order;
    }

    private int CompareLines(int a, int b)
    {
        ReadOnlySpan<byte> sa = Stack(a);
        ReadOnlySpan<byte> sb = Stack(b);
        int common = sa.CommonPrefixLength(sb);
        if (common < sa.Length && common < sb.Length)
        {
            return sa[common].CompareTo(sb[common]);
        }

        if (sa.Length == sb.Length)
        {
            // Same stack twice cannot come from one profile; compare counts as text for a stable order.
            Span<byte> ca = stackalloc byte[24];
            Span<byte> cb = stackalloc byte[24];
            Utf8Formatter.TryFormat(_counts[a], ca, out int la);
            Utf8Formatter.TryFormat(_counts[b], cb, out int lb);
            return ca[..la].SequenceCompareTo(cb[..lb]);
        }

        // One stack is a prefix of the other: the shorter line continues with ' ', the longer with its next byte.
        return sa.Length < sb.Length ? ((byte)' ').CompareTo(sb[common]) : sa[common].CompareTo((byte)' ');
    }

    /// <summary>Writes all lines sorted bytewise, each as <c>stack count\n</c>.</summary>
    public void WriteSorted(Stream output)
    {
        int[] order = SortedOrder();
        var writer = new ArrayBufferWriter<byte>(1 << 16);
        foreach (int i in order)
        {
            ReadOnlySpan<byte> stack = Stack(i);
            Span<byte> dst = writer.GetSpan(stack.Length + 24);
            stack.CopyTo(dst);
            dst[stack.Length] = (byte)' ';
            Utf8Formatter.TryFormat(_counts[i], dst[(stack.Length + 1)..], out int n);
            dst[stack.Length + 1 + n] = (byte)'\n';
            writer.Advance(stack.Length + n + 2);
            if (writer.WrittenCount >= 1 << 16)
            {
                output.Write(writer.WrittenSpan);
                writer.ResetWrittenCount();
            }
        }

        output.Write(writer.WrittenSpan);
        output.Flush();
    }
}
