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

    // Only the builder's string table is used: it is the public way to intern bytes.
    private readonly ProfileBuilder _names = new();

    /// <summary>Interned frame names.</summary>
    public StringTable Names => _names.Strings;

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
        var layout = new FlameLayout();
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
        // Two buffers alternate so the previous line's frames stay readable while the next is parsed.
        byte[] cur = new byte[4096];
        byte[] prev = new byte[4096];
        var curFrames = new List<(int Off, int Len)>(64);
        var prevFrames = new List<(int Off, int Len)>(64);
        var openStart = new List<double>(64);
        var openDelta = new List<double>(64);
        var openHasDelta = new List<bool>(64);
        double v = 0;
        byte[] chainScratch = [];

        foreach (int line in order)
        {
            ReadOnlySpan<byte> stack = input.Stack(line);
            if (chain)
            {
                int chainLen = ChainTransform(stack, ref chainScratch);
                stack = chainScratch.AsSpan(0, chainLen);
            }

            if (cur.Length < stack.Length)
            {
                cur = new byte[Math.Max(stack.Length, cur.Length * 2)];
            }

            stack.CopyTo(cur);
            Span<byte> s = cur.AsSpan(0, stack.Length);
            SplitFrames(s, curFrames);

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
            while (same < prevFrames.Count && same < curFrames.Count &&
                   prev.AsSpan(prevFrames[same].Off, prevFrames[same].Len).SequenceEqual(s.Slice(curFrames[same].Off, curFrames[same].Len)))
            {
                same++;
            }

            for (int i = prevFrames.Count - 1; i >= same; i--)
            {
                Close(prev.AsSpan(prevFrames[i].Off, prevFrames[i].Len), i, openStart[i], v, openDelta[i], openHasDelta[i], minTime);
            }

            openStart.RemoveRange(same, openStart.Count - same);
            openDelta.RemoveRange(same, openDelta.Count - same);
            openHasDelta.RemoveRange(same, openHasDelta.Count - same);
            int last = curFrames.Count - 1;
            for (int i = same; i <= last; i++)
            {
                openStart.Add(v);
                openDelta.Add(hasDelta && i == last ? delta : 0);
                openHasDelta.Add(hasDelta);
            }

            v += hasDelta ? input.Second(line) : input.First(line);
            (cur, prev) = (prev, cur);
            (curFrames, prevFrames) = (prevFrames, curFrames);
        }

        for (int i = prevFrames.Count - 1; i >= 0; i--)
        {
            Close(prev.AsSpan(prevFrames[i].Off, prevFrames[i].Len), i, openStart[i], v, openDelta[i], openHasDelta[i], minTime);
        }

        _array = [.. _nodes];
        _nodes.Clear();
    }

    private void Close(ReadOnlySpan<byte> name, int depth, double start, double end, double delta, bool hasDelta, double minTime)
    {
        if (end - start < minTime)
        {
            return;
        }

        if (depth > DepthMax)
        {
            DepthMax = depth;
        }

        _nodes.Add(new FlameNode(_names.Intern(name), depth, start, end, delta, hasDelta));
    }

    /// <summary>The root (an empty name) followed by the ';'-separated frames, without trailing empty frames (perl's split).</summary>
    private static void SplitFrames(ReadOnlySpan<byte> s, List<(int Off, int Len)> frames)
    {
        frames.Clear();
        frames.Add((0, 0));
        int end = s.Length;
        while (end > 0 && s[end - 1] == (byte)';')
        {
            end--;
        }

        if (end == 0)
        {
            return;
        }

        int pos = 0;
        while (true)
        {
            int semi = s[pos..end].IndexOf((byte)';');
            if (semi < 0)
            {
                frames.Add((pos, end - pos));
                return;
            }

            frames.Add((pos, semi));
            pos += semi + 1;
        }
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
