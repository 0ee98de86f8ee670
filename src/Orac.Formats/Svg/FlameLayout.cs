using Orac.Model;

namespace Orac.Formats.Svg;

/// <summary>
/// One rectangle of a flame graph: frame <paramref name="Name"/> at <paramref name="Depth"/> (0 is the
/// root, "all") covering [Start, End) of the time axis, in input counts. <paramref name="Delta"/> is the
/// differential delta (second count − first) of the lines that end here, valid when <paramref name="HasDelta"/>.
/// </summary>
public readonly record struct FlameNode(StringId Name, int Depth, double Start, double End, double Delta, bool HasDelta);

/// <summary>
/// Merges sorted (or, for flame charts, input-ordered) folded lines into rectangles the way
/// flamegraph.pl does: a frame stays open while consecutive lines share the same prefix up to it, so
/// siblings follow the byte order of whole lines and a name can appear twice under one parent.
/// Frames narrower than the minimum width are dropped as they close, which bounds memory.
/// </summary>
public sealed class FlameLayout
{
    private readonly List<FlameNode> _nodes = [];
    private FlameNode[] _array = [];

    private FlameLayout()
    {
    }

    private static readonly System.Buffers.SearchValues<byte> s_space = System.Buffers.SearchValues.Create(" \t\n\v\f\r"u8);
    private StringTable _nameTable = null!;

    /// <summary>Interned frame names (shared with the input).</summary>
    public StringTable Names => _nameTable;

    /// <summary>Kept nodes (in the order they closed).</summary>
    public ReadOnlySpan<FlameNode> Nodes => _array;

    /// <summary>Sum of the counts (second counts for differential lines).</summary>
    public double Time { get; private set; }

    /// <summary>The total the x axis spans: <see cref="Time"/>, or a larger --total.</summary>
    public double TimeMax { get; private set; }

    /// <summary>Largest |delta| of a line (at least 1).</summary>
    public double MaxDelta { get; private set; } = 1;

    /// <summary>Deepest kept depth.</summary>
    public int DepthMax { get; private set; }

    /// <summary>True when --total was smaller than the input's total and was ignored.</summary>
    public bool TotalIgnored { get; private set; }

    /// <summary>Builds the layout of <paramref name="input"/> under <paramref name="options"/>.</summary>
    public static FlameLayout Build(FoldedInput input, FlameGraphOptions options)
    {
        var layout = new FlameLayout { _nameTable = input.Names };
        int[] order = options.FlameChart ? input.InputOrder() : input.SortedOrder();

        // The pruning threshold needs the total first; perl sums in the same order.
        double time = 0;
        foreach (int i in order)
        {
            time += input.HasSecond(i) ? input.Second(i) : input.First(i);
        }

        double timeMax = time;
        if (options.Total > 0 && options.Total >= time)
        {
            timeMax = options.Total;
        }
        else if (options.Total > 0)
        {
            layout.TotalIgnored = true;
        }

        layout.Time = time;
        layout.TimeMax = timeMax;
        if (time == 0)
        {
            return layout;
        }

        double widthPerTime = (options.Width - 20) / timeMax;
        double minTime = options.MinWidthIsPercent ? timeMax * options.MinWidth / 100 : options.MinWidth / widthPerTime;
        layout.Flow(input, order, options.Colors == "chain", minTime);
        return layout;
    }

    private void Flow(FoldedInput input, int[] order, bool chain, double minTime)
    {
        var cur = new List<int>(64);
        var prev = new List<int>(64);
        var openStart = new List<double>(64);
        var openDelta = new List<double>(64);
        var openHasDelta = new List<bool>(64);
        double v = 0;
        byte[] lineBytes = new byte[256];
        byte[] chainScratch = [];
        int root = (int)input.EmptyName;

        foreach (int line in order)
        {
            cur.Clear();
            cur.Add(root);
            if (chain)
            {
                int len = input.MaterializeLine(line, ref lineBytes);
                ReadOnlySpan<byte> stack = lineBytes.AsSpan(0, len);
                stack = stack[..stack.LastIndexOfAny(s_space)];
                if (input.HasSecond(line))
                {
                    stack = stack[..Math.Max(0, stack.LastIndexOfAny(s_space))];
                }

                int chainLen = ChainTransform(stack, ref chainScratch);
                AddSplit(input, chainScratch.AsSpan(0, chainLen), cur);
            }
            else
            {
                foreach (int f in input.Frames(line))
                {
                    cur.Add(f);
                }
            }

            // perl's split(";") drops trailing empty fields.
            while (cur.Count > 1 && cur[^1] == root)
            {
                cur.RemoveAt(cur.Count - 1);
            }

            bool hasDelta = input.HasSecond(line);
            double delta = 0;
            if (hasDelta)
            {
                delta = input.Second(line) - input.First(line);
                if (Math.Abs(delta) > MaxDelta)
                {
                    MaxDelta = Math.Abs(delta);
                }
            }

            int same = 0;
            while (same < prev.Count && same < cur.Count && prev[same] == cur[same])
            {
                same++;
            }

            for (int i = prev.Count - 1; i >= same; i--)
            {
                Close(prev[i], i, openStart[i], v, openDelta[i], openHasDelta[i], minTime);
            }

            openStart.RemoveRange(same, openStart.Count - same);
            openDelta.RemoveRange(same, openDelta.Count - same);
            openHasDelta.RemoveRange(same, openHasDelta.Count - same);
            int last = cur.Count - 1;
            for (int i = same; i <= last; i++)
            {
                openStart.Add(v);
                openDelta.Add(hasDelta && i == last ? delta : 0);
                openHasDelta.Add(hasDelta);
            }

            v += hasDelta ? input.Second(line) : input.First(line);
            (cur, prev) = (prev, cur);
        }

        for (int i = prev.Count - 1; i >= 0; i--)
        {
            Close(prev[i], i, openStart[i], v, openDelta[i], openHasDelta[i], minTime);
        }

        _array = [.. _nodes];
        _nodes.Clear();
    }

    private static void AddSplit(FoldedInput input, ReadOnlySpan<byte> stack, List<int> frames)
    {
        if (stack.IsEmpty)
        {
            return;
        }

        while (true)
        {
            int semi = stack.IndexOf((byte)';');
            frames.Add((int)input.Intern(semi < 0 ? stack : stack[..semi]));
            if (semi < 0)
            {
                return;
            }

            stack = stack[(semi + 1)..];
        }
    }

    private void Close(int name, int depth, double start, double end, double delta, bool hasDelta, double minTime)
    {
        if (end - start < minTime)
        {
            return;
        }

        if (depth > DepthMax)
        {
            DepthMax = depth;
        }

        _nodes.Add(new FlameNode((StringId)name, depth, start, end, delta, hasDelta));
    }

    /// <summary>
    /// The chain palette's rewrite: frames after each ";--;" separator are wakers and get "_[w]";
    /// like the perl tool, a "--" frame is appended even when the stack has no separator.
    /// </summary>
    private static int ChainTransform(ReadOnlySpan<byte> stack, ref byte[] scratch)
    {
        int need = (stack.Length * 5) + 8;
        if (scratch.Length < need)
        {
            scratch = new byte[need];
        }

        ReadOnlySpan<byte> sep = ";--;"u8;
        int w = 0;
        int at = stack.IndexOf(sep);
        ReadOnlySpan<byte> head = at < 0 ? stack : stack[..at];
        head.CopyTo(scratch);
        w += head.Length;
        sep.CopyTo(scratch.AsSpan(w));
        w += sep.Length;
        if (at < 0)
        {
            return w;
        }

        ReadOnlySpan<byte> rest = stack[(at + sep.Length)..];
        bool firstPart = true;
        while (true)
        {
            int next = rest.IndexOf(sep);
            ReadOnlySpan<byte> part = next < 0 ? rest : rest[..next];
            if (!firstPart)
            {
                sep.CopyTo(scratch.AsSpan(w));
                w += sep.Length;
            }

            firstPart = false;
            foreach (byte b in part)
            {
                if (b == (byte)';')
                {
                    "_[w]"u8.CopyTo(scratch.AsSpan(w));
                    w += 4;
                }

                scratch[w++] = b;
            }

            "_[w]"u8.CopyTo(scratch.AsSpan(w));
            w += 4;
            if (next < 0)
            {
                break;
            }

            rest = rest[(next + sep.Length)..];
        }

        return w;
    }
}
