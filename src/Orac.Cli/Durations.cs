using System.Globalization;

namespace Orac.Cli;

/// <summary>The <c>-d</c> durations every collecting verb accepts.</summary>
internal static class Durations
{
    /// <summary>Parses <c>10</c>, <c>10s</c>, <c>2.5s</c>, <c>2m</c>, <c>1h</c>, <c>500ms</c> into seconds (at most 7 days).</summary>
    public static double ParseSeconds(ArgParser p, string text, bool allowZero)
    {
        string t = text.Trim();
        double scale = 1;
        if (t.EndsWith("ms", StringComparison.Ordinal))
        {
            scale = 0.001;
            t = t[..^2];
        }
        else if (t.EndsWith('s'))
        {
            t = t[..^1];
        }
        else if (t.EndsWith('m'))
        {
            scale = 60;
            t = t[..^1];
        }
        else if (t.EndsWith('h'))
        {
            scale = 3600;
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v)
            || v < 0 || (v == 0 && !allowZero) || v * scale > 7 * 86400)
        {
            throw p.Usage($"-d needs a duration like 10, 10s, 2m or 500ms (at most 7 days), got '{text}'");
        }

        return v * scale;
    }
}
