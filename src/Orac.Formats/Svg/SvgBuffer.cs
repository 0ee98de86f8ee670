using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Orac.Formats.Svg;

/// <summary>
/// A byte buffer that flushes to a stream, with the few formatters a flame graph needs: C-style
/// fixed-point (<c>%.Nf</c>, rounding the exact binary value half to even, like glibc), perl's
/// default number stringification, and XML escaping that always yields well-formed output (invalid
/// UTF-8 and control characters become U+FFFD).
/// </summary>
internal sealed class SvgBuffer
{
    private static readonly SearchValues<byte> s_special = SearchValues.Create("&<>\""u8);
    private static readonly long[] s_pow10 = [1, 10, 100, 1000];
    private readonly Stream _out;
    private byte[] _buf = new byte[1 << 16];
    private int _len;

    public SvgBuffer(Stream output) => _out = output;

    public void Flush()
    {
        _out.Write(_buf, 0, _len);
        _len = 0;
        _out.Flush();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int n)
    {
        if (_len + n > _buf.Length)
        {
            Spill(n);
        }

        return _buf.AsSpan(_len);
    }

    private void Spill(int n)
    {
        _out.Write(_buf, 0, _len);
        _len = 0;
        if (n > _buf.Length)
        {
            _buf = new byte[n];
        }
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _len += bytes.Length;
    }

    public void Raw(byte b)
    {
        Reserve(1)[0] = b;
        _len++;
    }

    /// <summary>Writes ASCII/UTF-8 text that needs no escaping (markup written by us).</summary>
    public void Text(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        _len += Encoding.UTF8.GetBytes(s, Reserve(max));
    }

    public void Int(long v)
    {
        Utf8Formatter.TryFormat(v, Reserve(24), out int n);
        _len += n;
    }

    /// <summary>Writes <paramref name="v"/> as C's <c>%.{decimals}f</c> (decimals 0..3).</summary>
    public void Fixed(double v, int decimals)
    {
        if (!TryScaledRound(v, decimals, out long scaled))
        {
            Text(v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            return;
        }

        Span<byte> dst = Reserve(32);
        int w = 0;
        if (scaled < 0 || (scaled == 0 && double.IsNegative(v)))
        {
            dst[w++] = (byte)'-';
            scaled = -scaled;
        }

        long p = s_pow10[decimals];
        Utf8Formatter.TryFormat(scaled / p, dst[w..], out int n);
        w += n;
        if (decimals > 0)
        {
            dst[w++] = (byte)'.';
            long frac = scaled % p;
            for (long d = p / 10; d > 0; d /= 10)
            {
                dst[w++] = (byte)('0' + (frac / d));
                frac %= d;
            }
        }

        _len += w;
    }

    /// <summary>
    /// Rounds v·10^decimals to an integer, half to even on the exact binary value of v (as printf
    /// does). False when the value is out of the exact range (callers fall back to .NET formatting).
    /// </summary>
    internal static bool TryScaledRound(double v, int decimals, out long result)
    {
        result = 0;
        if (!double.IsFinite(v) || Math.Abs(v) >= 1e15)
        {
            return false;
        }

        if (v == 0)
        {
            return true;
        }

        bool neg = v < 0;
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(v));
        int exp = (int)((bits >> 52) & 0x7FF);
        ulong mant = (ulong)(bits & ((1L << 52) - 1));
        if (exp == 0)
        {
            exp = 1;
        }
        else
        {
            mant |= 1UL << 52;
        }

        int e = exp - 1075; // v = mant * 2^e
        ulong scaledMant = mant * (ulong)s_pow10[decimals]; // < 2^53 * 1000 < 2^63
        ulong q;
        if (e >= 0)
        {
            q = scaledMant << e; // |v| < 1e15 keeps this in range
        }
        else if (-e >= 64)
        {
            q = 0; // far below 0.5 at the chosen precision
        }
        else
        {
            int sh = -e;
            q = scaledMant >> sh;
            ulong rem = scaledMant & ((1UL << sh) - 1);
            ulong half = 1UL << (sh - 1);
            if (rem > half || (rem == half && (q & 1) == 1))
            {
                q++;
            }
        }

        result = neg ? -(long)q : (long)q;
        return true;
    }

    /// <summary>The value of <c>sprintf("%.{decimals}f", v)</c> read back as a number.</summary>
    internal static double RoundFixed(double v, int decimals) =>
        TryScaledRound(v, decimals, out long s) ? s / (double)s_pow10[decimals] : Math.Round(v, decimals);

    /// <summary>Writes a number the way perl stringifies it (<c>%.15g</c>).</summary>
    public void PerlNumber(double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15)
        {
            Int((long)v);
            return;
        }

        Text(v.ToString("G15", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes an integer with thousands separators (1,234,567).</summary>
    public void Grouped(long v)
    {
        Span<byte> tmp = stackalloc byte[24];
        Utf8Formatter.TryFormat(v, tmp, out int n);
        int start = tmp[0] == (byte)'-' ? 1 : 0;
        Span<byte> dst = Reserve(40);
        int w = 0;
        for (int i = 0; i < n; i++)
        {
            if (i > start && (n - i) % 3 == 0)
            {
                dst[w++] = (byte)',';
            }

            dst[w++] = tmp[i];
        }

        _len += w;
    }

    /// <summary>
    /// Writes text escaped for XML content and attribute values (&amp; &lt; &gt; &quot;), replacing
    /// invalid UTF-8, C0 controls other than tab/newline/CR, and U+FFFE/U+FFFF with U+FFFD.
    /// </summary>
    public void Escaped(ReadOnlySpan<byte> s)
    {
        while (!s.IsEmpty)
        {
            int plain = s.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
            int special = s.IndexOfAny(s_special);
            int stop = plain < 0 ? special : special < 0 ? plain : Math.Min(plain, special);
            if (stop < 0)
            {
                Raw(s);
                return;
            }

            Raw(s[..stop]);
            s = s[stop..];
            byte b = s[0];
            switch (b)
            {
                case (byte)'&':
                    Raw("&amp;"u8);
                    s = s[1..];
                    continue;
                case (byte)'<':
                    Raw("&lt;"u8);
                    s = s[1..];
                    continue;
                case (byte)'>':
                    Raw("&gt;"u8);
                    s = s[1..];
                    continue;
                case (byte)'"':
                    Raw("&quot;"u8);
                    s = s[1..];
                    continue;
            }

            if (b < 0x80)
            {
                if (b is (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x7F)
                {
                    Raw(b);
                }
                else
                {
                    Raw("\uFFFD"u8);
                }

                s = s[1..];
                continue;
            }

            OperationStatus st = Rune.DecodeFromUtf8(s, out Rune r, out int used);
            if (st == OperationStatus.Done && r.Value != 0xFFFE && r.Value != 0xFFFF)
            {
                Raw(s[..used]);
            }
            else
            {
                Raw("\uFFFD"u8);
                used = Math.Max(used, 1);
            }

            s = s[used..];
        }
    }

    /// <summary>Escapes a .NET string (titles, options).</summary>
    public void Escaped(string s) => Escaped(Encoding.UTF8.GetBytes(s));
}
