using System.Globalization;

namespace Orac.Model.Query;

/// <summary>
/// Times at the edges: <c>now</c>, <c>now-1h</c> (units s, m, h, d, w; also <c>now-90s</c>), RFC 3339
/// (<c>2026-11-29T10:00:00Z</c>), or a Unix time whose magnitude says its unit (seconds, milliseconds,
/// microseconds or nanoseconds, as Pyroscope's <c>from</c>/<c>until</c> accept). Results are UTC Unix nanoseconds.
/// </summary>
public static class TimeSpec
{
    /// <summary>Nanoseconds per second.</summary>
    public const long NsPerSecond = 1_000_000_000L;

    /// <summary>The current time as Unix nanoseconds.</summary>
    public static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>Parses a time; <paramref name="what"/> names the parameter in errors (e.g. <c>--from</c>).</summary>
    public static long Parse(string? text, long nowNs, string what)
    {
        if (TryParse(text, nowNs, out var ns))
        {
            return ns;
        }

        throw new OracException(
            $"bad time for {what}: '{text}' (expected now, now-1h, an RFC 3339 time like 2026-11-29T10:00:00Z, or Unix seconds/ms/ns)",
            OracException.Usage);
    }

    /// <summary>Parses a time or returns false.</summary>
    public static bool TryParse(string? text, long nowNs, out long ns)
    {
        ns = 0;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        var t = text.Trim();
        if (t.StartsWith("now", StringComparison.OrdinalIgnoreCase))
        {
            var rest = t.AsSpan(3).Trim();
            if (rest.IsEmpty)
            {
                ns = nowNs;
                return true;
            }

            var sign = rest[0] switch { '-' => -1L, '+' => 1L, _ => 0L };
            if (sign == 0 || !TryParseDuration(rest[1..].Trim().ToString(), out var d))
            {
                return false;
            }

            ns = nowNs + (sign * d);
            return true;
        }

        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            // Magnitude says the unit: < 1e11 seconds (until year 5138), < 1e14 ms, < 1e17 µs, else ns.
            ns = n switch
            {
                < 100_000_000_000L => n * NsPerSecond,
                < 100_000_000_000_000L => n * 1_000_000L,
                < 100_000_000_000_000_000L => n * 1_000L,
                _ => n,
            };
            return true;
        }

        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto)
            && dto.Year is >= 1970 and <= 2262)
        {
            ns = (dto.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
            return true;
        }

        return false;
    }

    /// <summary>Parses a duration such as <c>10s</c>, <c>1m</c>, <c>1h30m</c>, <c>7d</c>, <c>2w</c>, <c>500ms</c> into nanoseconds (positive).</summary>
    public static bool TryParseDuration(string? text, out long ns)
    {
        ns = 0;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 32)
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        long total = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == 0 || !long.TryParse(s[..i], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }

            s = s[i..];
            var j = 0;
            while (j < s.Length && char.IsAsciiLetter(s[j]))
            {
                j++;
            }

            long unit = s[..j] switch
            {
                "ns" => 1,
                "us" or "µs" => 1_000,
                "ms" => 1_000_000,
                "s" => NsPerSecond,
                "m" => 60 * NsPerSecond,
                "h" => 3600 * NsPerSecond,
                "d" => 86_400 * NsPerSecond,
                "w" => 7 * 86_400 * NsPerSecond,
                _ => 0,
            };
            if (unit == 0 || n > long.MaxValue / unit / 2)
            {
                return false;
            }

            total += n * unit;
            if (total < 0 || total > 200L * 365 * 86_400 * NsPerSecond)
            {
                return false;
            }

            s = s[j..];
        }

        ns = total;
        return total > 0;
    }

    /// <summary>Formats Unix nanoseconds as RFC 3339 UTC with millisecond precision.</summary>
    public static string Format(long ns) =>
        new DateTime(DateTime.UnixEpoch.Ticks + (ns / 100), DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
