using System.Runtime.CompilerServices;

namespace Orac.Formats.Perf;

/// <summary>
/// Turns the raw function and module of one frame line into the frame names stackcollapse-perf.pl
/// prints: offset stripped, <c>-&gt;</c> inline chains split, <c>[unknown]</c> replaced by the
/// module, names tidied, Java's leading <c>L</c> dropped and <c>_[k]</c>/<c>_[j]</c>/<c>_[i]</c>
/// appended. The names are written back to back into a reusable buffer (one instance per parser
/// thread; nothing is allocated once the buffer has grown).
/// </summary>
internal sealed class PerfFrameRules
{
    private readonly bool _annotateKernel;
    private readonly bool _annotateJit;
    private readonly bool _includeAddrs;
    private byte[] _buf = new byte[512];
    private int _len;
    private int[] _starts = new int[8];
    private int[] _ends = new int[8];
    private int _parts;

    public PerfFrameRules(bool annotateKernel, bool annotateJit, bool includeAddrs)
    {
        _annotateKernel = annotateKernel;
        _annotateJit = annotateJit;
        _includeAddrs = includeAddrs;
    }

    /// <summary>Number of names the last <see cref="Process"/> produced (0 when the line adds no frame).</summary>
    public int Count => _parts;

    /// <summary>Name <paramref name="i"/> of the last <see cref="Process"/>, in the order perl pushes them.</summary>
    public ReadOnlySpan<byte> Part(int i) => new(_buf, _starts[i], _ends[i] - _starts[i]);

    /// <summary>
    /// Applies the rules to one frame. Returns false when the result depends on the address
    /// (<c>--addrs</c> on an <c>[unknown]</c> frame), so it must not be cached by symbol.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Process(ReadOnlySpan<byte> rawFunc, ReadOnlySpan<byte> mod, ReadOnlySpan<byte> pc, bool java)
    {
        _len = 0;
        _parts = 0;
        rawFunc = StripOffset(rawFunc);
        if (!rawFunc.IsEmpty && rawFunc[0] == (byte)'(')
        {
            return true; // perl: "skip process names"
        }

        // perl's split drops trailing empty fields (and so returns nothing for "" or "->").
        int end = rawFunc.Length;
        while (end >= 2 && rawFunc[end - 1] == (byte)'>' && rawFunc[end - 2] == (byte)'-')
        {
            end -= 2;
        }

        rawFunc = rawFunc[..end];
        if (rawFunc.IsEmpty)
        {
            return true;
        }

        bool cacheable = true;
        bool first = true;
        while (true)
        {
            int arrow = rawFunc.IndexOf("->"u8);
            ReadOnlySpan<byte> func = arrow < 0 ? rawFunc : rawFunc[..arrow];
            cacheable &= AddPart(func, mod, pc, java, first);
            first = false;
            if (arrow < 0)
            {
                return cacheable;
            }

            rawFunc = rawFunc[(arrow + 2)..];
        }
    }

    /// <summary>perl <c>s/\+0x[\da-f]+$//</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ReadOnlySpan<byte> StripOffset(ReadOnlySpan<byte> s)
    {
        int h = s.Length;
        while (h > 0 && IsLowerHex(s[h - 1]))
        {
            h--;
        }

        if (h < s.Length && h >= 3 && s[h - 3] == (byte)'+' && s[h - 2] == (byte)'0' && s[h - 1] == (byte)'x')
        {
            return s[..(h - 3)];
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLowerHex(byte b) => (uint)(b - '0') <= 9 || (uint)(b - 'a') <= 'f' - 'a';

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool AddPart(ReadOnlySpan<byte> func, ReadOnlySpan<byte> mod, ReadOnlySpan<byte> pc, bool java, bool first)
    {
        Reserve(func.Length + mod.Length + pc.Length + 16);
        int start = _len;
        bool cacheable = true;
        if (func.SequenceEqual("[unknown]"u8))
        {
            _buf[_len++] = (byte)'[';
            if (!mod.SequenceEqual("[unknown]"u8))
            {
                ReadOnlySpan<byte> baseName = mod[(mod.LastIndexOf((byte)'/') + 1)..];
                Append(baseName);
            }
            else
            {
                Append("unknown"u8);
            }

            if (_includeAddrs)
            {
                Append(" <"u8);
                Append(pc);
                _buf[_len++] = (byte)'>';
                cacheable = false;
            }

            _buf[_len++] = (byte)']';
        }
        else
        {
            Append(func);
        }

        Span<byte> name = _buf.AsSpan(start, _len - start);
        name.Replace((byte)';', (byte)':');
        if (!IsGoMethod(name))
        {
            int cut = FirstParenToCut(name);
            if (cut >= 0)
            {
                _len = start + cut;
                name = name[..cut];
            }
        }

        if (name.IndexOfAny((byte)'"', (byte)'\'') >= 0)
        {
            int w = 0;
            for (int i = 0; i < name.Length; i++)
            {
                byte b = name[i];
                if (b != (byte)'"' && b != (byte)'\'')
                {
                    name[w++] = b;
                }
            }

            _len = start + w;
            name = name[..w];
        }

        if (java && name.Length > 0 && name[0] == (byte)'L' && name.Contains((byte)'/'))
        {
            name[1..].CopyTo(name);
            _len--;
            name = name[..^1];
        }

        if (!first)
        {
            if (name.IndexOf("_[i]"u8) < 0)
            {
                Append("_[i]"u8);
            }
        }
        else if (_annotateKernel && (mod.StartsWith((byte)'[') || mod.EndsWith("vmlinux"u8)) && mod.IndexOf("unknown"u8) < 0)
        {
            Append("_[k]"u8);
        }
        else if (_annotateJit && IsPerfMap(mod))
        {
            Append("_[j]"u8);
        }

        if (_parts == _starts.Length)
        {
            Array.Resize(ref _starts, _parts * 2);
            Array.Resize(ref _ends, _parts * 2);
        }

        _starts[_parts] = start;
        _ends[_parts] = _len;
        _parts++;
        return cacheable;
    }

    /// <summary>perl <c>m/\.\(.*\)\./</c>: a Go method with its receiver in parentheses.</summary>
    private static bool IsGoMethod(ReadOnlySpan<byte> s)
    {
        int open = s.IndexOf(".("u8);
        return open >= 0 && s.LastIndexOf(")."u8) >= open + 2;
    }

    /// <summary>perl <c>s/\((?!anonymous namespace\)).*//</c>: where to cut, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FirstParenToCut(ReadOnlySpan<byte> s)
    {
        int from = 0;
        while (true)
        {
            int i = s[from..].IndexOf((byte)'(');
            if (i < 0)
            {
                return -1;
            }

            i += from;
            if (!s[(i + 1)..].StartsWith("anonymous namespace)"u8))
            {
                return i;
            }

            from = i + 1;
        }
    }

    /// <summary>perl <c>m:/tmp/perf-\d+\.map:</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsPerfMap(ReadOnlySpan<byte> mod)
    {
        while (true)
        {
            int i = mod.IndexOf("/tmp/perf-"u8);
            if (i < 0)
            {
                return false;
            }

            mod = mod[(i + 10)..];
            int d = 0;
            while (d < mod.Length && PerfSyntax.IsDigit(mod[d]))
            {
                d++;
            }

            if (d > 0 && mod[d..].StartsWith(".map"u8))
            {
                return true;
            }
        }
    }

    private void Append(ReadOnlySpan<byte> s)
    {
        s.CopyTo(_buf.AsSpan(_len));
        _len += s.Length;
    }

    private void Reserve(int n)
    {
        if (_len + n > _buf.Length)
        {
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n));
        }
    }
}
