using System.Runtime.CompilerServices;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// The line-by-line state machine of stackcollapse-perf.pl, run over chunks of complete lines.
/// One instance per thread: it owns its interning (a <see cref="ProfileBuilder"/>), its frame-line
/// cache and its counts. Its only state across lines is the sample being built (comm, period and
/// frames); after a blank line that state is empty, which is what lets the pipeline hand chunks
/// that start after a blank line to any thread. The event filter is the one piece of global
/// state: the pipeline sets <see cref="Filter"/> before a chunk that needs it.
/// </summary>
internal sealed class PerfChunkParser
{
    /// <summary>Frames kept per sample; deeper stacks lose their outermost frames (counted).</summary>
    public const int MaxStackDepth = 1 << 20;

    private readonly bool _includePid;
    private readonly bool _includeTid;
    private readonly int _maxLine;
    private readonly PerfFrameRules _rules;
    private readonly FrameLineCache _plainCache = new();
    private readonly FrameLineCache _javaCache = new();
    private FrameId[] _parts = new FrameId[8];
    private int[] _key = new int[257];

    // The sample being built. perl: $pname (defined or not), $m_period, @stack.
    private bool _inSample;
    private bool _java;
    private long _period;
    private FrameId _pnameFrame;
    private FrameId[] _stack = new FrameId[256]; // leaf first; an inline chain is stored reversed
    private int _depth;
    private bool _depthWarned;

    private byte[] _pname = new byte[128];
    private byte[] _lastPname = new byte[128];
    private int _lastPnameLen = -1;
    private FrameId _lastPnameFrame;

    private int _seq;
    private int _line;

    public PerfChunkParser(PerfCollapseOptions options, int maxLine)
    {
        _includePid = options.IncludePid;
        _includeTid = options.IncludeTid;
        _maxLine = maxLine;
        _rules = new PerfFrameRules(options.AnnotateKernel, options.AnnotateJit, options.IncludeAddrs);
        if (!string.IsNullOrEmpty(options.EventFilter))
        {
            Filter = System.Text.Encoding.UTF8.GetBytes(options.EventFilter);
        }
    }

    /// <summary>Interned frame names of every chunk this parser has seen (its stacks and samples stay empty).</summary>
    public ProfileBuilder Builder { get; } = new();

    /// <summary>Distinct stacks (frame ids of <see cref="Builder"/>) and their summed weights.</summary>
    public StackAggregator Stacks { get; } = new();

    /// <summary>Counted problems.</summary>
    public PerfTally Tally { get; } = new();

    /// <summary>The event type kept (perl's $event_filter), or null while none is known.</summary>
    public byte[]? Filter { get; set; }

    /// <summary>True when a sample is open: an event line was seen and no blank line yet.</summary>
    public bool InSample => _inSample;

    /// <summary>Number of the last line parsed within the current chunk (1-based).</summary>
    public int Line => _line;

    /// <summary>Drops the open sample, as perl does at end of input.</summary>
    public void ResetSample()
    {
        _inSample = false;
        _depth = 0;
        _depthWarned = false;
    }

    /// <summary>
    /// Parses <paramref name="chunk"/>, a run of whole lines (the last '\n' may be missing), and
    /// returns the number of lines. <paramref name="seq"/> identifies the chunk in warnings.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Parse(ReadOnlySpan<byte> chunk, int seq)
    {
        _seq = seq;
        int lineNo = 0;
        int pos = 0;
        while (pos < chunk.Length)
        {
            ReadOnlySpan<byte> line = chunk[pos..];
            int nl = PerfBytes.IndexOfNewline(line);
            if (nl >= 0)
            {
                line = line[..nl];
                pos += nl + 1;
            }
            else
            {
                pos = chunk.Length;
            }

            _line = ++lineNo;
            if (line.IsEmpty)
            {
                EndSample();
                continue;
            }

            if (line.Length > _maxLine)
            {
                Tally.Add(PerfIssue.LongLine, _seq, _line);
                continue;
            }

            byte first = line[0];
            if (PerfSyntax.IsSpace(first))
            {
                FrameLine(line); // an event line starts with \S
            }
            else if (first != (byte)'#' && !EventLine(line))
            {
                FrameLine(line);
            }
        }

        return lineNo;
    }

    /// <summary>perl's blank-line branch: remember the open sample, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EndSample()
    {
        if (!_inSample)
        {
            return;
        }

        // The key is the stack root first: the comm, then the frames in reverse line order.
        int n = _depth + 1;
        if (_key.Length < n)
        {
            _key = new int[Math.Max(n, _key.Length * 2)];
        }

        int[] key = _key;
        FrameId[] stack = _stack;
        key[0] = (int)_pnameFrame;
        for (int i = 1, j = _depth - 1; j >= 0; i++, j--)
        {
            key[i] = (int)stack[j];
        }

        Stacks.Add(key.AsSpan(0, n), _period);
        _depth = 0;
        _inSample = false;
        _depthWarned = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool EventLine(ReadOnlySpan<byte> line)
    {
        if (!PerfSyntax.MatchEventLine(line, out int commEnd, out int pidStart, out int pidEnd, out int tidStart, out int tidEnd))
        {
            return false;
        }

        long period = 1;
        if (PerfSyntax.MatchEvent(line, out int periodStart, out int periodEnd, out int eventStart, out int eventEnd))
        {
            ReadOnlySpan<byte> ev = line[eventStart..eventEnd];
            if (Filter is null)
            {
                Filter = ev.ToArray();
            }
            else if (!ev.SequenceEqual(Filter))
            {
                // perl: `next` before touching $pname, so an open sample stays open.
                Tally.Add(PerfIssue.OtherEvent, _seq, _line);
                return true;
            }

            period = ParsePeriod(line[periodStart..periodEnd]);
        }

        ReadOnlySpan<byte> pid = line[pidStart..pidEnd];
        ReadOnlySpan<byte> tid = line[tidStart..tidEnd];
        if (tid.IsEmpty || (tid.Length == 1 && tid[0] == (byte)'0'))
        {
            // perl: `if (not $tid)` - a missing or "0" second number makes the first the TID.
            tid = pid;
            pid = "?"u8;
        }

        int need = commEnd + pid.Length + tid.Length + 2;
        if (_pname.Length < need)
        {
            Array.Resize(ref _pname, Math.Max(need, _pname.Length * 2));
        }

        Span<byte> name = _pname;
        line[..commEnd].CopyTo(name);
        name[..commEnd].Replace((byte)' ', (byte)'_');
        int len = commEnd;
        if (_includeTid)
        {
            name[len++] = (byte)'-';
            pid.CopyTo(name[len..]);
            len += pid.Length;
            name[len++] = (byte)'/';
            tid.CopyTo(name[len..]);
            len += tid.Length;
        }
        else if (_includePid)
        {
            name[len++] = (byte)'-';
            pid.CopyTo(name[len..]);
            len += pid.Length;
        }

        ReadOnlySpan<byte> pname = name[..len];
        if (len != _lastPnameLen || !pname.SequenceEqual(_lastPname.AsSpan(0, len)))
        {
            _lastPnameFrame = Builder.Frame(Builder.Intern(pname));
            if (_lastPname.Length < len)
            {
                _lastPname = new byte[_pname.Length];
            }

            pname.CopyTo(_lastPname);
            _lastPnameLen = len;
        }

        _pnameFrame = _lastPnameFrame;
        _java = pname.StartsWith("java"u8);
        _period = period;
        _inSample = true;
        return true;
    }

    /// <summary>perl: <c>$period = 1 if not $period</c>, then used as a number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long ParsePeriod(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty || (digits.Length == 1 && digits[0] == (byte)'0'))
        {
            return 1;
        }

        long v = 0;
        foreach (byte d in digits)
        {
            int digit = d - '0';
            if (v > (long.MaxValue - digit) / 10)
            {
                Tally.Add(PerfIssue.PeriodOverflow, _seq, _line);
                return long.MaxValue;
            }

            v = (v * 10) + digit;
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FrameLine(ReadOnlySpan<byte> line)
    {
        int n = line.Length;
        int p0 = 0;
        while (p0 < n && PerfSyntax.IsSpace(line[p0]))
        {
            p0++;
        }

        if (p0 >= n || !PerfSyntax.IsWord(line[p0]))
        {
            Tally.Add(PerfIssue.UnrecognizedLine, _seq, _line);
            return;
        }

        int w = p0 + 1;
        while (w < n && PerfSyntax.IsWord(line[w]))
        {
            w++;
        }

        int q = w;
        while (q < n && PerfSyntax.IsSpace(line[q]))
        {
            q++;
        }

        if (!_inSample)
        {
            // perl: `next if not $pname` (frames of a filtered or headless sample).
            if (!PerfSyntax.MatchFrameLine(line, out _, out _, out _, out _, out _))
            {
                Tally.Add(PerfIssue.UnrecognizedLine, _seq, _line);
            }

            return;
        }

        // The text after the address decides the frames whenever the function starts there,
        // which the slow path checks before it caches anything.
        ReadOnlySpan<byte> key = line[q..];
        FrameLineCache cache = _java ? _javaCache : _plainCache;
        int hash = PerfBytes.Hash(key);
        if (cache.TryGet(key, hash, out int value))
        {
            PushValue(cache, value);
            return;
        }

        FrameLineMiss(line, q, key, hash, cache);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void FrameLineMiss(ReadOnlySpan<byte> line, int q, ReadOnlySpan<byte> key, int hash, FrameLineCache cache)
    {
        if (!PerfSyntax.MatchFrameLine(line, out int pcStart, out int pcEnd, out int funcStart, out int sep, out int modEnd))
        {
            Tally.Add(PerfIssue.UnrecognizedLine, _seq, _line);
            return;
        }

        bool cacheable = _rules.Process(line[funcStart..sep], line[(sep + 2)..modEnd], line[pcStart..pcEnd], _java);
        cacheable &= funcStart == q;
        int count = _rules.Count;
        if (_parts.Length < count)
        {
            _parts = new FrameId[Math.Max(count, _parts.Length * 2)];
        }

        for (int i = 0; i < count; i++)
        {
            _parts[i] = Builder.Frame(Builder.Intern(_rules.Part(i)));
        }

        for (int i = count - 1; i >= 0; i--)
        {
            PushFrame(_parts[i]);
        }

        if (cacheable)
        {
            int value = count switch
            {
                0 => FrameLineCache.None,
                1 => (int)_parts[0],
                _ => cache.AddMulti(_parts.AsSpan(0, count)),
            };
            cache.Add(key, hash, value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushValue(FrameLineCache cache, int value)
    {
        if (value >= 0)
        {
            PushFrame((FrameId)value);
        }
        else if (value != FrameLineCache.None)
        {
            ReadOnlySpan<int> parts = cache.Multi(value);
            for (int i = parts.Length - 1; i >= 0; i--)
            {
                PushFrame((FrameId)parts[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushFrame(FrameId frame)
    {
        if (_depth < _stack.Length)
        {
            _stack[_depth++] = frame;
            return;
        }

        GrowAndPush(frame);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowAndPush(FrameId frame)
    {
        if (_stack.Length >= MaxStackDepth)
        {
            if (!_depthWarned)
            {
                _depthWarned = true;
                Tally.Add(PerfIssue.DeepStack, _seq, _line);
            }

            return;
        }

        Array.Resize(ref _stack, Math.Min(MaxStackDepth, _stack.Length * 2));
        _stack[_depth++] = frame;
    }
}
