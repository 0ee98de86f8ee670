using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// The collapsed result: distinct stacks with summed weights over one table of frame names.
/// It can write itself as folded text in stackcollapse-perf.pl's order without ever holding the
/// text of all lines (big.perf's folded output is 45 MB; this needs the stacks' frame ids only),
/// or become a <see cref="Profile"/>.
/// </summary>
internal sealed class PerfStacks
{
    private const int End = -1;
    private readonly StackAggregator _stacks;
    private readonly byte[] _nameBytes;
    private readonly int[] _nameStart;
    private readonly int[] _nameLength;

    public PerfStacks(ProfileBuilder names, StackAggregator stacks, SampleType type)
    {
        _stacks = stacks;
        Type = type;
        FrameTable frames = names.Frames;
        StringTable strings = names.Strings;
        _nameStart = new int[frames.Count];
        _nameLength = new int[frames.Count];
        long total = 0;
        for (int f = 0; f < frames.Count; f++)
        {
            total += strings.GetBytes(frames.Name((FrameId)f)).Length;
        }

        if (total > Array.MaxLength)
        {
            throw new OracException("perf collapse: frame names exceed 2 GiB");
        }

        _nameBytes = new byte[total];
        int at = 0;
        for (int f = 0; f < frames.Count; f++)
        {
            ReadOnlySpan<byte> name = strings.GetBytes(frames.Name((FrameId)f));
            name.CopyTo(_nameBytes.AsSpan(at));
            _nameStart[f] = at;
            _nameLength[f] = name.Length;
            at += name.Length;
        }
    }

    /// <summary>What the values measure.</summary>
    public SampleType Type { get; }

    /// <summary>Number of distinct stacks.</summary>
    public int Count => _stacks.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Name(int frame) => new(_nameBytes, _nameStart[frame], _nameLength[frame]);

    /// <summary>
    /// Stack indices in the order of perl's <c>sort keys</c>: bytewise on the joined text
    /// <c>root;…;leaf</c>, a key that is a prefix of another first.
    /// </summary>
    public int[] SortedOrder()
    {
        var order = new int[_stacks.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, new KeyComparer(this));
        return order;
    }

    private sealed class KeyComparer(PerfStacks owner) : IComparer<int>
    {
        public int Compare(int a, int b) => a == b ? 0 : owner.CompareKeys(a, b);
    }

    /// <summary>Compares the joined texts of two stacks without building them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int CompareKeys(int a, int b)
    {
        ReadOnlySpan<int> x = _stacks.Key(a);
        ReadOnlySpan<int> y = _stacks.Key(b);

        // Equal frames have equal text: skip the shared root-first run at once.
        int kx = MemoryMarshal.AsBytes(x).CommonPrefixLength(MemoryMarshal.AsBytes(y)) / sizeof(int);
        if (kx == x.Length || kx == y.Length)
        {
            // One frame list is a prefix of the other: its text ends first (End sorts lowest).
            return x.Length == y.Length ? 0 : x.Length < y.Length ? -1 : 1;
        }

        int ky = kx;
        int ox = 0;
        int oy = 0;
        while (true)
        {
            ReadOnlySpan<byte> nx = Name(x[kx]);
            ReadOnlySpan<byte> ny = Name(y[ky]);
            if (ox == 0 && oy == 0 && x[kx] == y[ky])
            {
                ox = nx.Length;
                oy = ny.Length;
            }
            else
            {
                ReadOnlySpan<byte> rx = nx[ox..];
                ReadOnlySpan<byte> ry = ny[oy..];
                int c = rx.CommonPrefixLength(ry);
                if (c < rx.Length && c < ry.Length)
                {
                    return rx[c] < ry[c] ? -1 : 1;
                }

                ox += c;
                oy += c;
            }

            // At least one side has reached the end of its frame name: compare one byte, where
            // the end of a name reads as ';' before another frame and as End after the last.
            int bx = ox < nx.Length ? nx[ox] : kx < x.Length - 1 ? ';' : End;
            int by = oy < ny.Length ? ny[oy] : ky < y.Length - 1 ? ';' : End;
            if (bx != by)
            {
                return bx < by ? -1 : 1;
            }

            if (bx == End)
            {
                return 0;
            }

            if (ox < nx.Length)
            {
                ox++;
            }
            else
            {
                kx++;
                ox = 0;
            }

            if (oy < ny.Length)
            {
                oy++;
            }
            else
            {
                ky++;
                oy = 0;
            }
        }
    }

    /// <summary>
    /// Writes <c>stack count</c> lines in perl's order. Stacks whose text is equal (possible only
    /// when a comm contains ';') are summed into one line, as perl's hash does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void WriteFolded(Stream output)
    {
        int[] order = SortedOrder();
        var buf = new byte[1 << 16];
        int used = 0;
        for (int n = 0; n < order.Length; n++)
        {
            int s = order[n];
            long value = _stacks.Value(s);
            while (n + 1 < order.Length && CompareKeys(s, order[n + 1]) == 0)
            {
                value += _stacks.Value(order[++n]);
            }

            ReadOnlySpan<int> key = _stacks.Key(s);
            for (int k = 0; k < key.Length; k++)
            {
                ReadOnlySpan<byte> name = Name(key[k]);
                if (used + name.Length + 1 > buf.Length)
                {
                    output.Write(buf, 0, used);
                    used = 0;
                    if (name.Length + 1 > buf.Length)
                    {
                        output.Write(name);
                        name = default;
                    }
                }

                name.CopyTo(buf.AsSpan(used));
                used += name.Length;
                buf[used++] = k < key.Length - 1 ? (byte)';' : (byte)' ';
            }

            if (used + 22 > buf.Length)
            {
                output.Write(buf, 0, used);
                used = 0;
            }

            Utf8Formatter.TryFormat(value, buf.AsSpan(used), out int written);
            used += written;
            buf[used++] = (byte)'\n';
        }

        output.Write(buf, 0, used);
        output.Flush();
    }

    /// <summary>Builds the profile: the comm is the root frame, values are the summed weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Profile ToProfile()
    {
        var builder = new ProfileBuilder(Type);
        var frames = new FrameId[_nameStart.Length];
        for (int f = 0; f < frames.Length; f++)
        {
            frames[f] = builder.Frame(builder.Intern(Name(f)));
        }

        // In sorted order neighbours share long prefixes: push only what differs from the last stack.
        int[] order = SortedOrder();
        var path = new StackId[64];
        var pathFrames = new int[64];
        int pathDepth = 0;
        foreach (int s in order)
        {
            ReadOnlySpan<int> key = _stacks.Key(s);
            int depth = key.Length;
            if (path.Length < depth)
            {
                Array.Resize(ref path, Math.Max(depth, path.Length * 2));
                Array.Resize(ref pathFrames, path.Length);
            }

            int common = 0;
            while (common < pathDepth && common < depth && pathFrames[common] == key[common])
            {
                common++;
            }

            StackId stack = common == 0 ? StackId.Root : path[common - 1];
            for (int d = common; d < depth; d++)
            {
                int frame = key[d];
                stack = builder.Push(stack, frames[frame]);
                path[d] = stack;
                pathFrames[d] = frame;
            }

            pathDepth = depth;
            builder.Add(stack, _stacks.Value(s));
        }

        return builder.Build();
    }
}
