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

    // Distinct stacks ("entries"): the node of their leaf frame, the hash of their text, and counts per side.
    private int[] _entryNode = new int[1024];
    private int[] _entryHash = new int[1024];
    private long[] _counts = new long[2048]; // [2*i] first file, [2*i+1] second file
    private int _count;

    // Whole-line table: hash of the stack text -> entry + 1 (0 = empty). Hits are verified against the trie.
    private int[] _slots = new int[2048];
    private int[] _hashes = new int[2048];
    private int _mask = 2047;

    // Frame names, interned once: a byte arena plus an open-addressing table.
    private byte[] _frameArena = new byte[1 << 16];
    private int _frameUsed;
    private int[] _frameStart = new int[1024];
    private int[] _frameLength = new int[1024];
    private int _frameCount;
    private int[] _frameSlots = new int[2048];
    private int[] _frameHashes = new int[2048];
    private int _frameMask = 2047;

    // Prefix trie of stacks: node = (frame, parent node; -1 for a root frame), with the entry ending there or -1.
    private int[] _nodeFrame = new int[1024];
    private int[] _nodeParent = new int[1024];
    private int[] _nodeEntry = new int[1024];
    private int _nodeCount;

    // Trie edges: open addressing over node ids (id + 1; 0 = empty); the key (parent, frame) is read
    // back from the node arrays, so a slot costs 4 bytes.
    private int[] _edgeSlots = new int[4096];
    private int _edgeMask = 4095;

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
        // 256 KiB reads keep the copy cost low without holding megabytes per input (RSS budget).
        var reader = new LineReader(input, bufferSize: 1 << 18);
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

            // Counts are non-negative, so a stack's sum never exceeds its side's total: checking the total suffices.
            long total = _totals[side] + count;
            if (total < 0)
            {
                ThrowTotalOverflow(name, reader.LineNumber);
            }

            int i = Intern(stack);
            _counts[(2 * i) + side] += count;
            _totals[side] = total;
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

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTotalOverflow(string name, long line) =>
        throw new OracException($"{name}:{line}: the counts add up to more than 2^63-1; orac diff keeps exact 64-bit totals");

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

    private ReadOnlySpan<byte> FrameBytes(int f) => new(_frameArena, _frameStart[f], _frameLength[f]);

    // Stacks are stored as paths in a prefix trie (frame names once, 12 bytes per node plus a 4-byte edge
    // table), so memory follows the distinct call paths rather than the bytes of the distinct lines.
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

            if (_entryHash[v - 1] == hash && Matches(stack, _entryNode[v - 1]))
            {
                return v - 1;
            }

            slot = (slot + 1) & _mask;
        }

        int node = InsertPath(stack);
        int id = AddEntry(node, hash);
        _slots[slot] = id + 1;
        _hashes[slot] = hash;
        if (_count * 2 > _mask)
        {
            Rehash();
        }

        return id;
    }

    // True when the stack text equals the path from the root to `node`, frames joined by ';'.
    private bool Matches(ReadOnlySpan<byte> stack, int node)
    {
        int end = stack.Length;
        while (true)
        {
            ReadOnlySpan<byte> name = FrameBytes(_nodeFrame[node]);
            int start = end - name.Length;
            if (start < 0 || !stack.Slice(start, name.Length).SequenceEqual(name))
            {
                return false;
            }

            node = _nodeParent[node];
            if (node < 0)
            {
                return start == 0;
            }

            if (start == 0 || stack[start - 1] != (byte)';')
            {
                return false;
            }

            end = start - 1;
        }
    }

    // The last inserted stack, with the trie node of each of its frames.
    private readonly Folded.PreviousStack _prev = new();

    private int InsertPath(ReadOnlySpan<byte> stack)
    {
        int depth = _prev.Shared(stack, out int pos);
        int node = depth == 0 ? -1 : _prev.Value(depth - 1);
        if (pos > stack.Length)
        {
            // The new stack is exactly a prefix of the previous one.
            return node;
        }

        _prev.Replace(stack, depth);
        while (true)
        {
            int semi = stack[pos..].IndexOf((byte)';');
            int end = semi < 0 ? stack.Length : pos + semi;
            int before = _nodeCount;
            node = FindOrAddChild(node, InternFrame(stack[pos..end]));
            _prev.Add(end, node);
            if (semi < 0)
            {
                return node;
            }

            pos = end + 1;
            if (_nodeCount != before)
            {
                // A new node has no children yet, so the rest of the path is new too.
                return AddFreshPath(stack, pos, node);
            }
        }
    }

    private int[] _freshFrames = new int[64];
    private int[] _freshSlots = new int[64];

    /// <summary>
    /// Adds the frames of <paramref name="stack"/> from <paramref name="pos"/> on as a chain of new nodes
    /// below the new node <paramref name="parent"/>; their ids are consecutive. Each edge goes to a
    /// random slot of a table far larger than the cache, so the slots are all loaded first, in one pass
    /// of independent loads the CPU overlaps, rather than one dependent cache miss per frame.
    /// </summary>
    private int AddFreshPath(ReadOnlySpan<byte> stack, int pos, int parent)
    {
        int n = 0;
        while (true)
        {
            int semi = stack[pos..].IndexOf((byte)';');
            int end = semi < 0 ? stack.Length : pos + semi;
            if (n == _freshFrames.Length)
            {
                Array.Resize(ref _freshFrames, n * 2);
                Array.Resize(ref _freshSlots, n * 2);
            }

            _freshFrames[n++] = InternFrame(stack[pos..end]);
            _prev.Add(end, _nodeCount + n - 1);
            if (semi < 0)
            {
                break;
            }

            pos = end + 1;
        }

        while ((_nodeCount + n) * 2 > _edgeMask)
        {
            GrowEdges();
        }

        int first = _nodeCount;
        int touched = 0;
        for (int k = 0; k < n; k++)
        {
            int slot = EdgeHash(k == 0 ? parent : first + k - 1, _freshFrames[k]) & _edgeMask;
            _freshSlots[k] = slot;
            touched |= _edgeSlots[slot];
        }

        _touched = touched;
        int node = parent;
        for (int k = 0; k < n; k++)
        {
            int i = _freshSlots[k];
            while (_edgeSlots[i] != 0)
            {
                i = (i + 1) & _edgeMask;
            }

            AddNode(_freshFrames[k], node);
            node = _nodeCount - 1;
            _edgeSlots[i] = node + 1;
        }

        return node;
    }

    // Keeps the loads of AddFreshPath's first pass from being optimised away.
    private int _touched;

    private static int EdgeHash(int parent, int frame)
    {
        ulong h = ((ulong)(uint)(parent + 1) << 32 | (uint)frame) * 0x9E3779B97F4A7C15UL;
        return (int)(h >> 32) ^ (int)h;
    }

    private int FindOrAddChild(int parent, int frame)
    {
        int i = EdgeHash(parent, frame) & _edgeMask;
        while (true)
        {
            int v = _edgeSlots[i];
            if (v == 0)
            {
                break;
            }

            if (_nodeFrame[v - 1] == frame && _nodeParent[v - 1] == parent)
            {
                return v - 1;
            }

            i = (i + 1) & _edgeMask;
        }

        return InsertEdge(i, parent, frame);
    }

    private int InsertEdge(int i, int parent, int frame)
    {
        int id = _nodeCount;
        AddNode(frame, parent);
        _edgeSlots[i] = id + 1;
        if (_nodeCount * 2 > _edgeMask)
        {
            GrowEdges();
        }

        return id;
    }

    private void GrowEdges()
    {
        var slots = new int[_edgeSlots.Length * 2];
        int mask = slots.Length - 1;
        for (int n = 0; n < _nodeCount; n++)
        {
            int j = EdgeHash(_nodeParent[n], _nodeFrame[n]) & mask;
            while (slots[j] != 0)
            {
                j = (j + 1) & mask;
            }

            slots[j] = n + 1;
        }

        _edgeSlots = slots;
        _edgeMask = mask;
    }

    private void AddNode(int frame, int parent)
    {
        if (_nodeCount == _nodeFrame.Length)
        {
            int n = _nodeCount * 2;
            Array.Resize(ref _nodeFrame, n);
            Array.Resize(ref _nodeParent, n);
            Array.Resize(ref _nodeEntry, n);
        }

        _nodeFrame[_nodeCount] = frame;
        _nodeParent[_nodeCount] = parent;
        _nodeEntry[_nodeCount] = -1;
        _nodeCount++;
    }

    private int AddEntry(int node, int hash)
    {
        if (_count >= MaxStacks)
        {
            throw new OracException($"diff: more than {MaxStacks} distinct stacks; refusing to hold them in memory");
        }

        if (_count == _entryNode.Length)
        {
            Array.Resize(ref _entryNode, _count * 2);
            Array.Resize(ref _entryHash, _count * 2);
            Array.Resize(ref _counts, _count * 4);
        }

        _entryNode[_count] = node;
        _entryHash[_count] = hash;
        _nodeEntry[node] = _count;
        return _count++;
    }

    private int InternFrame(ReadOnlySpan<byte> name)
    {
        int hash = StringTable.Hash(name);
        int slot = hash & _frameMask;
        while (true)
        {
            int v = _frameSlots[slot];
            if (v == 0)
            {
                break;
            }

            if (_frameHashes[slot] == hash && FrameBytes(v - 1).SequenceEqual(name))
            {
                return v - 1;
            }

            slot = (slot + 1) & _frameMask;
        }

        if (_frameUsed + name.Length > _frameArena.Length)
        {
            long size = Math.Max((long)_frameArena.Length * 2, (long)_frameUsed + name.Length);
            if (size > Array.MaxLength)
            {
                throw new OracException("diff: distinct frame names exceed 2 GiB");
            }

            Array.Resize(ref _frameArena, (int)size);
        }

        if (_frameCount == _frameStart.Length)
        {
            Array.Resize(ref _frameStart, _frameCount * 2);
            Array.Resize(ref _frameLength, _frameCount * 2);
        }

        name.CopyTo(_frameArena.AsSpan(_frameUsed));
        _frameStart[_frameCount] = _frameUsed;
        _frameLength[_frameCount] = name.Length;
        _frameUsed += name.Length;
        int id = _frameCount++;
        _frameSlots[slot] = id + 1;
        _frameHashes[slot] = hash;
        if (_frameCount * 2 > _frameMask)
        {
            (_frameSlots, _frameHashes, _frameMask) = Grow(_frameSlots, _frameHashes);
        }

        return id;
    }

    private void Rehash() => (_slots, _hashes, _mask) = Grow(_slots, _hashes);

    private static (int[] Slots, int[] Hashes, int Mask) Grow(int[] oldSlots, int[] oldHashes)
    {
        int size = oldSlots.Length * 2;
        var slots = new int[size];
        var hashes = new int[size];
        int mask = size - 1;
        for (int j = 0; j < oldSlots.Length; j++)
        {
            if (oldSlots[j] != 0)
            {
                int i = oldHashes[j] & mask;
                while (slots[i] != 0)
                {
                    i = (i + 1) & mask;
                }

                slots[i] = oldSlots[j];
                hashes[i] = oldHashes[j];
            }
        }

        return (slots, hashes, mask);
    }

    /// <summary>
    /// Writes every stack as <c>stack count1 count2\n</c> in bytewise order of the whole line (as
    /// <c>LC_ALL=C sort</c>). With <paramref name="normalize"/>, count1 is scaled to the second total
    /// (<see cref="DiffMath.Scale"/>).
    /// </summary>
    /// <remarks>
    /// The order comes from a walk of the trie, not from sorting whole lines: below each node, every
    /// child contributes up to two groups, its own line (key: name, ' ', counts) and the lines that
    /// continue through it (key: name, ';'). Every line of a group starts with the group's key and no
    /// two keys are prefix-related except a line that is a prefix of another (which sorts first), so
    /// ordering the groups by key and walking them depth-first gives exactly the sorted order.
    /// </remarks>
    public void Write(Stream output, bool normalize)
    {
        var writer = new LineWriter(output, this, normalize);
        int nodes = _nodeCount;

        // Children grouped by parent (counting sort); the roots are the children of the virtual node -1.
        var childStart = new int[nodes + 2];
        for (int n = 0; n < nodes; n++)
        {
            childStart[_nodeParent[n] + 2]++;
        }

        for (int i = 1; i < childStart.Length; i++)
        {
            childStart[i] += childStart[i - 1];
        }

        var children = new int[nodes];
        var fill = (int[])childStart.Clone();
        for (int n = 0; n < nodes; n++)
        {
            children[fill[_nodeParent[n] + 1]++] = n;
        }

        // Iterative depth-first walk: each frame of the walk holds the sorted groups of one node and the
        // length of the text of the path to it ("a;b;"), which the writer keeps as one growing prefix.
        var walk = new Stack<(int[] Groups, int Next, int Prefix)>();
        walk.Push((Groups(-1, childStart, children, writer), 0, 0));
        while (walk.Count > 0)
        {
            (int[] groups, int next, int prefix) = walk.Pop();
            if (next >= groups.Length)
            {
                continue;
            }

            walk.Push((groups, next + 1, prefix));
            int g = groups[next];
            int child = g >> 1;
            if ((g & 1) == 0)
            {
                writer.WriteLine(prefix, child);
            }
            else
            {
                walk.Push((Groups(child, childStart, children, writer), 0, writer.Descend(prefix, child)));
            }
        }

        writer.Flush();
    }

    // Groups below `node` (-1 = roots), sorted: child*2 for the child's own line, child*2+1 for the lines through it.
    private int[] Groups(int node, int[] childStart, int[] children, LineWriter writer)
    {
        int from = childStart[node + 1];
        int to = childStart[node + 2];
        int n = 0;
        for (int i = from; i < to; i++)
        {
            int c = children[i];
            n += _nodeEntry[c] >= 0 ? 1 : 0;
            n += childStart[c + 2] > childStart[c + 1] ? 1 : 0;
        }

        var groups = new int[n];
        n = 0;
        for (int i = from; i < to; i++)
        {
            int c = children[i];
            if (_nodeEntry[c] >= 0)
            {
                groups[n++] = c << 1;
            }

            if (childStart[c + 2] > childStart[c + 1])
            {
                groups[n++] = (c << 1) | 1;
            }
        }

        if (groups.Length > 1)
        {
            Array.Sort(groups, writer);
        }

        return groups;
    }

    // Formats lines and compares group keys (name + ' ' + counts, or name + ';').
    private sealed class LineWriter(Stream output, FoldedDiff diff, bool normalize) : IComparer<int>
    {
        private byte[] _buf = new byte[1 << 16];
        private int _used;
        private readonly byte[] _suffixA = new byte[48];
        private readonly byte[] _suffixB = new byte[48];

        private long First(int entry)
        {
            long c1 = diff._counts[2 * entry];
            return normalize ? DiffMath.Scale(c1, diff._totals[0], diff._totals[1]) : c1;
        }

        // " c1 c2" for an entry; ";" for a pass-through group.
        private int Suffix(int group, Span<byte> dst)
        {
            if ((group & 1) == 1)
            {
                dst[0] = (byte)';';
                return 1;
            }

            int entry = diff._nodeEntry[group >> 1];
            int o = 0;
            dst[o++] = (byte)' ';
            Utf8Formatter.TryFormat(First(entry), dst[o..], out int n);
            o += n;
            dst[o++] = (byte)' ';
            Utf8Formatter.TryFormat(diff._counts[(2 * entry) + 1], dst[o..], out n);
            return o + n;
        }

        public int Compare(int a, int b)
        {
            if (a == b)
            {
                return 0;
            }

            ReadOnlySpan<byte> na = diff.FrameBytes(diff._nodeFrame[a >> 1]);
            ReadOnlySpan<byte> nb = diff.FrameBytes(diff._nodeFrame[b >> 1]);
            int la = Suffix(a, _suffixA);
            int lb = Suffix(b, _suffixB);
            int c = CompareConcat(na, _suffixA.AsSpan(0, la), nb, _suffixB.AsSpan(0, lb));
            return c != 0 ? c : a.CompareTo(b);
        }

        // Compares x1+x2 with y1+y2 bytewise; a prefix sorts first.
        private static int CompareConcat(ReadOnlySpan<byte> x1, ReadOnlySpan<byte> x2, ReadOnlySpan<byte> y1, ReadOnlySpan<byte> y2)
        {
            int lx = x1.Length + x2.Length;
            int ly = y1.Length + y2.Length;
            int common = x1.CommonPrefixLength(y1);
            if (common < x1.Length && common < y1.Length)
            {
                return x1[common].CompareTo(y1[common]);
            }

            for (int i = common; i < Math.Min(lx, ly); i++)
            {
                byte bx = i < x1.Length ? x1[i] : x2[i - x1.Length];
                byte by = i < y1.Length ? y1[i] : y2[i - y1.Length];
                if (bx != by)
                {
                    return bx.CompareTo(by);
                }
            }

            return lx.CompareTo(ly);
        }

        private byte[] _prefix = new byte[4096];

        /// <summary>Sets the path text to its first <paramref name="prefix"/> bytes plus <paramref name="node"/>'s name and ';'; returns its length.</summary>
        public int Descend(int prefix, int node)
        {
            ReadOnlySpan<byte> name = diff.FrameBytes(diff._nodeFrame[node]);
            int length = prefix + name.Length + 1;
            if (length > _prefix.Length)
            {
                Array.Resize(ref _prefix, Math.Max(length, _prefix.Length * 2));
            }

            name.CopyTo(_prefix.AsSpan(prefix));
            _prefix[length - 1] = (byte)';';
            return length;
        }

        /// <summary>Writes the line of <paramref name="node"/>: the path text to its parent, its name, its counts.</summary>
        public void WriteLine(int prefix, int node)
        {
            ReadOnlySpan<byte> name = diff.FrameBytes(diff._nodeFrame[node]);
            Ensure(prefix + name.Length + 48);
            _prefix.AsSpan(0, prefix).CopyTo(_buf.AsSpan(_used));
            _used += prefix;
            name.CopyTo(_buf.AsSpan(_used));
            _used += name.Length;
            _used += Suffix(node << 1, _buf.AsSpan(_used));
            _buf[_used++] = (byte)'\n';
        }

        private void Ensure(int n)
        {
            if (_used + n > _buf.Length)
            {
                output.Write(_buf, 0, _used);
                _used = 0;
                if (n > _buf.Length)
                {
                    _buf = new byte[n];
                }
            }
        }

        public void Flush()
        {
            output.Write(_buf, 0, _used);
            _used = 0;
            output.Flush();
        }
    }
}
