using System.Runtime.CompilerServices;

namespace Orac.Formats.Perf;

/// <summary>
/// Byte-level equivalents of the three regular expressions stackcollapse-perf.pl applies to each
/// line of <c>perf script</c> output, with perl's matching rules (greedy/lazy quantifiers,
/// backtracking, leftmost match) worked out by hand so that every input, odd ones included,
/// splits exactly as perl splits it. Character classes follow perl's rules for byte strings:
/// <c>\s</c> is space, \t, \n, \v, \f, \r; <c>\w</c> is ASCII letters, digits and '_'; bytes
/// 0x80–0xFF are neither.
/// </summary>
internal static class PerfSyntax
{
    /// <summary>perl <c>\s</c> on a byte string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSpace(byte b) => b == (byte)' ' || (uint)(b - '\t') <= '\r' - '\t';

    /// <summary>perl <c>\d</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    /// <summary>perl <c>\w</c> on a byte string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWord(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b == (byte)'_';

    /// <summary>
    /// The event line <c>^(\S.+?)\s+(\d+)\/*(\d+)*\s+</c>. On a match the comm is
    /// <c>line[..commEnd]</c>, the first number <c>line[pidStart..pidEnd]</c> and the optional second
    /// number <c>line[tidStart..tidEnd]</c> (empty when the group did not take part).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool MatchEventLine(ReadOnlySpan<byte> line, out int commEnd, out int pidStart, out int pidEnd, out int tidStart, out int tidEnd)
    {
        commEnd = pidStart = pidEnd = tidStart = tidEnd = 0;
        int n = line.Length;
        if (n < 5 || IsSpace(line[0]))
        {
            return false;
        }

        // The lazy comm ends where the rest first matches; it holds at least two bytes. Every start
        // inside one whitespace run reaches the same digits, so each run is tried once.
        int c = 2;
        while (c < n)
        {
            while (c < n && !IsSpace(line[c]))
            {
                c++;
            }

            if (c >= n)
            {
                return false;
            }

            int j = c + 1;
            while (j < n && IsSpace(line[j]))
            {
                j++;
            }

            if (j < n && IsDigit(line[j]))
            {
                int e = j + 1;
                while (e < n && IsDigit(line[e]))
                {
                    e++;
                }

                int f = e;
                while (f < n && line[f] == (byte)'/')
                {
                    f++;
                }

                int g = f;
                while (g < n && IsDigit(line[g]))
                {
                    g++;
                }

                if (g < n && IsSpace(line[g]))
                {
                    commEnd = c;
                    pidStart = j;
                    pidEnd = e;
                    tidStart = f;
                    tidEnd = g;
                    return true;
                }
            }

            c = j;
        }

        return false;
    }

    /// <summary>
    /// The event name and period, <c>:\s*(\d+)*\s+(\S+):\s*$</c> searched anywhere in the line.
    /// The period is <c>line[periodStart..periodEnd]</c> (empty when absent), the event
    /// <c>line[eventStart..eventEnd]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool MatchEvent(ReadOnlySpan<byte> line, out int periodStart, out int periodEnd, out int eventStart, out int eventEnd)
    {
        periodStart = periodEnd = eventStart = eventEnd = 0;
        int t = line.Length;
        while (t > 0 && IsSpace(line[t - 1]))
        {
            t--;
        }

        if (t < 2 || line[t - 1] != (byte)':')
        {
            return false;
        }

        // (\S+) is the whole non-space token ending at the final ':' and must follow whitespace.
        int colon = t - 1;
        int a = colon;
        while (a > 0 && !IsSpace(line[a - 1]))
        {
            a--;
        }

        if (a == colon || a == 0)
        {
            return false;
        }

        int b = a - 1;
        while (b > 0 && IsSpace(line[b - 1]))
        {
            b--;
        }

        int d = b;
        while (d > 0 && IsDigit(line[d - 1]))
        {
            d--;
        }

        int s = d;
        while (s > 0 && IsSpace(line[s - 1]))
        {
            s--;
        }

        if (s == 0 || line[s - 1] != (byte)':')
        {
            return false;
        }

        periodStart = d;
        periodEnd = b;
        eventStart = a;
        eventEnd = colon;
        return true;
    }

    /// <summary>
    /// The frame line <c>^\s*(\w+)\s*(.+) \((.*)\)</c>. On a match the address is
    /// <c>line[pcStart..pcEnd]</c>, the raw function <c>line[funcStart..sep]</c> and the module
    /// <c>line[(sep+2)..modEnd]</c>: <c>sep</c> is the last " (" that a later ')' closes and
    /// <c>modEnd</c> the last ')' of the line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool MatchFrameLine(ReadOnlySpan<byte> line, out int pcStart, out int pcEnd, out int funcStart, out int sep, out int modEnd)
    {
        pcStart = pcEnd = funcStart = sep = modEnd = 0;
        int n = line.Length;
        int p0 = 0;
        while (p0 < n && IsSpace(line[p0]))
        {
            p0++;
        }

        if (p0 >= n || !IsWord(line[p0]))
        {
            return false;
        }

        int w = p0 + 1;
        while (w < n && IsWord(line[w]))
        {
            w++;
        }

        int q = w;
        while (q < n && IsSpace(line[q]))
        {
            q++;
        }

        int r = line.LastIndexOf((byte)')');
        if (r < 0)
        {
            return false;
        }

        int k = LastOpen(line[..r]);
        // (\w+) needs a byte and (.+) another before the " (".
        if (k < p0 + 2)
        {
            return false;
        }

        // Backtracking gives back first the spaces after the address, then address bytes, until
        // (.+) can end at k; so (.+) starts at min(end of spaces, k - 1).
        int start = Math.Min(q, k - 1);
        pcStart = p0;
        pcEnd = Math.Min(w, start);
        funcStart = start;
        sep = k;
        modEnd = r;
        return true;
    }

    /// <summary>Index of the last " (" in <paramref name="s"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LastOpen(ReadOnlySpan<byte> s)
    {
        int i = s.Length;
        while (true)
        {
            i = s[..i].LastIndexOf((byte)'(');
            if (i <= 0)
            {
                return -1;
            }

            if (s[i - 1] == (byte)' ')
            {
                return i - 1;
            }
        }
    }
}
