using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Orac.Model;

namespace Orac.Collect.Check;

/// <summary>
/// Byte-level helpers shared by the /proc parsers: bounded file reads, line and field splitting,
/// number parsing that names the file and line of anything it cannot read.
/// </summary>
internal static class ProcText
{
    /// <summary>Largest /proc or /sys file read, in bytes; anything bigger is refused as hostile.</summary>
    public const int MaxFileBytes = 8 << 20;

    /// <summary>Reads a whole file (procfs files report length 0, so this reads to the end), refusing files over <paramref name="cap"/> bytes.</summary>
    public static byte[] ReadFile(string path, int cap = MaxFileBytes)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        var buf = new byte[16 * 1024];
        int n = 0;
        while (true)
        {
            if (n == buf.Length)
            {
                if (buf.Length >= cap)
                {
                    throw new OracException($"{path}: larger than {cap} bytes; refused");
                }

                Array.Resize(ref buf, Math.Min(cap, buf.Length * 2));
            }

            int r = fs.Read(buf, n, buf.Length - n);
            if (r == 0)
            {
                break;
            }

            n += r;
        }

        Array.Resize(ref buf, n);
        return buf;
    }

    /// <summary>Splits off the next line (without '\n'); false at the end.</summary>
    public static bool NextLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }

        int nl = rest.IndexOf((byte)'\n');
        if (nl < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..nl];
            rest = rest[(nl + 1)..];
        }

        return true;
    }

    /// <summary>Splits off the next whitespace-separated field; false when none is left.</summary>
    public static bool NextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        int start = 0;
        while (start < rest.Length && IsSpace(rest[start]))
        {
            start++;
        }

        int end = start;
        while (end < rest.Length && !IsSpace(rest[end]))
        {
            end++;
        }

        field = rest[start..end];
        rest = rest[end..];
        return !field.IsEmpty;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r';

    /// <summary>Parses an unsigned decimal that must fill <paramref name="f"/>.</summary>
    public static ulong U64(ReadOnlySpan<byte> f, string file, int line, ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(f, out ulong v, out int used) || used != f.Length)
        {
            Throw(file, line, "expected an unsigned number", text);
        }

        return v;
    }

    /// <summary>Parses a signed decimal that must fill <paramref name="f"/>.</summary>
    public static long I64(ReadOnlySpan<byte> f, string file, int line, ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(f, out long v, out int used) || used != f.Length)
        {
            Throw(file, line, "expected a number", text);
        }

        return v;
    }

    /// <summary>Parses a finite, non-negative decimal fraction that must fill <paramref name="f"/>.</summary>
    public static double Dbl(ReadOnlySpan<byte> f, string file, int line, ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(f, out double v, out int used, 'F') || used != f.Length || !double.IsFinite(v) || v < 0)
        {
            Throw(file, line, "expected a non-negative decimal number", text);
        }

        return v;
    }

    /// <summary>Reads the next field as an unsigned number, throwing when it is missing.</summary>
    public static ulong NextU64(ref ReadOnlySpan<byte> rest, string file, int line, ReadOnlySpan<byte> text)
    {
        if (!NextField(ref rest, out ReadOnlySpan<byte> f))
        {
            Throw(file, line, "too few fields", text);
        }

        return U64(f, file, line, text);
    }

    /// <summary>Throws the one-line user error for bad content: file, 1-based line, reason and the escaped text.</summary>
    [DoesNotReturn]
    public static void Throw(string file, int line, string reason, ReadOnlySpan<byte> text) =>
        throw new OracException($"{file}:{line}: {reason} in '{Escape(text)}'");

    /// <summary>Printable ASCII as is, anything else (and the backslash) as \xNN, cut at <paramref name="max"/> bytes.</summary>
    public static string Escape(ReadOnlySpan<byte> text, int max = 80)
    {
        var sb = new StringBuilder();
        int n = Math.Min(text.Length, max);
        for (int i = 0; i < n; i++)
        {
            byte b = text[i];
            if (b is >= 0x20 and < 0x7f && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2"));
            }
        }

        if (text.Length > n)
        {
            sb.Append('…');
        }

        return sb.ToString();
    }

    /// <summary>Decodes a name (device, interface, command) as text with control and non-UTF-8 bytes escaped.</summary>
    public static string Name(ReadOnlySpan<byte> text) => Escape(text);
}
