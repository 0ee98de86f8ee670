using Orac.Model;

namespace Orac.Server.Ingest;

/// <summary>
/// Pyroscope's <c>name</c> parameter: <c>app.name.suffix{key=value,key2=value2}</c>. The app name (minus a known
/// profile-type suffix such as <c>.cpu</c>) becomes the <c>service_name</c> label; the braces hold more labels.
/// </summary>
/// <param name="Service">App name without the type suffix.</param>
/// <param name="Suffix">The known suffix after the last '.', or null.</param>
/// <param name="Labels">Labels from the braces, in order.</param>
public sealed record PyroscopeName(string Service, string? Suffix, IReadOnlyList<KeyValuePair<string, string>> Labels)
{
    /// <summary>Longest name accepted.</summary>
    public const int MaxLength = 4096;

    /// <summary>Parses the parameter; throws <see cref="OracException"/> (usage) with the character offset of the problem.</summary>
    public static PyroscopeName Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new OracException("missing name (e.g. name=myapp.cpu{host=a})", OracException.Usage);
        }

        if (text.Length > MaxLength)
        {
            throw new OracException($"bad name: longer than {MaxLength} characters", OracException.Usage);
        }

        int brace = text.IndexOf('{', StringComparison.Ordinal);
        string app = (brace < 0 ? text : text[..brace]).Trim();
        for (int i = 0; i < app.Length; i++)
        {
            char c = app[i];
            if (c < ' ' || c is '}' or '"' or '=' or ',' or (char)0x7f)
            {
                throw Error(text, i, $"character '{AuthEscape(c)}' is not allowed in an app name");
            }
        }

        if (app.Length == 0)
        {
            throw Error(text, 0, "the app name is empty");
        }

        string? suffix = null;
        int dot = app.LastIndexOf('.');
        if (dot > 0 && ProfileTypes.IsKnownSuffix(app[(dot + 1)..]))
        {
            suffix = app[(dot + 1)..];
            app = app[..dot];
        }

        var labels = new List<KeyValuePair<string, string>>();
        if (brace >= 0)
        {
            if (!text.EndsWith('}'))
            {
                throw Error(text, text.Length, "expected '}' at the end");
            }

            int pos = brace + 1;
            int end = text.Length - 1;
            while (pos < end)
            {
                int comma = text.IndexOf(',', pos, end - pos);
                int stop = comma < 0 ? end : comma;
                int eq = text.IndexOf('=', pos, stop - pos);
                if (eq < 0)
                {
                    throw Error(text, pos, "expected key=value");
                }

                string key = text[pos..eq].Trim();
                string value = text[(eq + 1)..stop].Trim();
                if (key.Length == 0)
                {
                    throw Error(text, pos, "empty label name");
                }

                if (value.AsSpan().IndexOfAny("{}\"") >= 0 || value.AsSpan().ContainsAnyInRange('\0', '\x1f'))
                {
                    throw Error(text, eq + 1, "label values may not hold braces, quotes or control characters");
                }

                labels.Add(new(key, value));
                pos = stop + 1;
            }
        }

        return new PyroscopeName(app, suffix, labels);
    }

    private static string AuthEscape(char c) => c < ' ' || c == 0x7f ? $"\\x{(int)c:x2}" : c.ToString();

    private static OracException Error(string text, int offset, string what) =>
        new($"bad name at offset {offset}: {what} in '{Auth.AuthStore.Escape(text)}'", OracException.Usage);
}
