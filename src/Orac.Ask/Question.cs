using System.Text;

namespace Orac.Ask;

/// <summary>What a token stands for besides a plain word.</summary>
internal enum TokKind
{
    /// <summary>A word.</summary>
    Word,

    /// <summary>A quoted string (<see cref="Tok.Text"/> is its content).</summary>
    Quoted,

    /// <summary>A selector typed in braces (<see cref="Tok.Text"/> is its text).</summary>
    Selector,
}

/// <summary>One token of a question: typed text, lower-case normal form, and whether a reading already used it.</summary>
internal sealed class Tok(string text, string lower, TokKind kind)
{
    public string Text { get; } = text;

    public string Lower { get; } = lower;

    public TokKind Kind { get; } = kind;

    /// <summary>Taken by a time phrase, a name, a count…: not looked at again as a name.</summary>
    public bool Used { get; set; }

    /// <summary>Which reading took it ("time", "scope", "count", "seconds", "function").</summary>
    public string? UsedBy { get; set; }

    public override string ToString() => Lower;
}

/// <summary>
/// A question split into tokens: quoted strings and typed selectors kept whole, contractions expanded
/// ("what's" → "what is"), shorthand normalised ("svc" → "service", "fn" → "function", "rn" → "now"),
/// possessives dropped ("api's" → "api"). Hand-written scanning; linear in the input.
/// </summary>
internal sealed class Question
{
    private static readonly Dictionary<string, string[]> s_expand = new(StringComparer.Ordinal)
    {
        ["what's"] = ["what", "is"], ["whats"] = ["what", "is"], ["where's"] = ["where", "is"], ["wheres"] = ["where", "is"],
        ["how's"] = ["how", "is"], ["hows"] = ["how", "is"], ["it's"] = ["it", "is"], ["that's"] = ["that", "is"],
        ["there's"] = ["there", "is"], ["who's"] = ["who", "is"], ["i'm"] = ["i", "am"], ["im"] = ["i", "am"], ["we're"] = ["we", "are"],
        ["they're"] = ["they", "are"], ["you're"] = ["you", "are"], ["isn't"] = ["is", "not"], ["isnt"] = ["is", "not"],
        ["doesn't"] = ["does", "not"], ["doesnt"] = ["does", "not"], ["don't"] = ["do", "not"], ["dont"] = ["do", "not"],
        ["didn't"] = ["did", "not"], ["can't"] = ["can", "not"], ["cant"] = ["can", "not"], ["let's"] = ["let", "us"], ["lets"] = ["let", "us"],
        ["what're"] = ["what", "are"], ["where're"] = ["where", "are"], ["aren't"] = ["are", "not"], ["wasn't"] = ["was", "not"],
        ["what've"] = ["what", "have"], ["we've"] = ["we", "have"], ["i've"] = ["i", "have"], ["you've"] = ["you", "have"],
        ["rn"] = ["now"], ["atm"] = ["now"], ["svc"] = ["service"], ["svcs"] = ["services"], ["srv"] = ["service"],
        ["fn"] = ["function"], ["fns"] = ["functions"], ["func"] = ["function"], ["funcs"] = ["functions"], ["funcs?"] = ["functions"],
        ["hrs"] = ["hours"], ["hr"] = ["hour"], ["mins"] = ["minutes"], ["secs"] = ["seconds"], ["sec"] = ["second"],
        ["pls"] = ["please"], ["plz"] = ["please"], ["u"] = ["you"], ["ur"] = ["your"], ["w/"] = ["with"], ["b/w"] = ["between"],
        ["vs."] = ["vs"], ["v."] = ["vs"], ["versus"] = ["vs"], ["wk"] = ["week"], ["yday"] = ["yesterday"], ["yest"] = ["yesterday"],
        ["tmrw"] = ["tomorrow"], ["flamegraph"] = ["flame", "graph"], ["flamegraphs"] = ["flame", "graphs"], ["flame-graph"] = ["flame", "graph"],
        ["hotspots"] = ["hot", "spots"], ["hotspot"] = ["hot", "spot"], ["hot-spots"] = ["hot", "spots"], ["hotpaths"] = ["hot", "paths"],
        ["optimise"] = ["optimize"], ["optimising"] = ["optimizing"], ["optimisation"] = ["optimization"], ["optimisations"] = ["optimizations"],
        ["utilisation"] = ["utilization"], ["underutilised"] = ["underutilized"], ["utilised"] = ["utilized"],
        ["whatcha"] = ["what", "are", "you"], ["gimme"] = ["give", "me"], ["wanna"] = ["want", "to"], ["gonna"] = ["going", "to"],
        ["cpu's"] = ["cpu"], ["gpu's"] = ["gpu"], ["o11y"] = ["observability"],
    };

    private Question(string raw, List<Tok> toks)
    {
        Raw = raw;
        Toks = toks;
        var sb = new StringBuilder(" ");
        foreach (var t in toks)
        {
            sb.Append(t.Lower).Append(' ');
        }

        Norm = sb.ToString();
    }

    /// <summary>The question as typed.</summary>
    public string Raw { get; }

    /// <summary>The tokens.</summary>
    public List<Tok> Toks { get; }

    /// <summary>" word word … ": lower-case words separated and surrounded by single spaces, for phrase tests.</summary>
    public string Norm { get; }

    /// <summary>Whether <paramref name="phrase"/> (words separated by single spaces) occurs as whole words.</summary>
    public bool Has(string phrase) => Norm.Contains(" " + phrase + " ", StringComparison.Ordinal);

    /// <summary>Whether any of <paramref name="phrases"/> occurs.</summary>
    public bool HasAny(ReadOnlySpan<string> phrases)
    {
        foreach (var p in phrases)
        {
            if (Has(p))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Index of the first token equal to <paramref name="lower"/> at or after <paramref name="from"/>, or -1.</summary>
    public int Find(string lower, int from = 0)
    {
        for (int i = Math.Max(0, from); i < Toks.Count; i++)
        {
            if (Toks[i].Lower == lower)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The lower-case word at <paramref name="i"/>, or "" outside the question.</summary>
    public string At(int i) => i >= 0 && i < Toks.Count ? Toks[i].Lower : "";

    /// <summary>Splits <paramref name="raw"/> (already bounded in length by the caller).</summary>
    public static Question Read(string raw)
    {
        var text = raw.Replace('\u2019', '\'').Replace('\u2018', '\'');
        var toks = new List<Tok>();
        var plain = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '{')
            {
                int end = SelectorEnd(text, i);
                if (end == -1)
                {
                    // An unclosed selector: kept whole so that it fails to parse and is asked back, not silently dropped.
                    end = text.Length;
                }

                if (end > i)
                {
                    Flush(plain, toks);
                    toks.Add(new Tok(text[i..end], text[i..end], TokKind.Selector));
                    i = end;
                    continue;
                }
            }

            if (c is '"' or '`' or '\u201c' || (c == '\'' && (i == 0 || !char.IsLetterOrDigit(text[i - 1]))))
            {
                char close = c == '\u201c' ? '\u201d' : c;
                int end = text.IndexOf(close, i + 1);
                if (c == '\'' && end > 0 && end + 1 < text.Length && char.IsLetterOrDigit(text[end + 1]))
                {
                    end = -1; // "'s" of a later word, not a closing quote
                }

                if (end > i + 1)
                {
                    Flush(plain, toks);
                    var inner = text[(i + 1)..end].Trim();
                    if (inner.Length > 0)
                    {
                        toks.Add(new Tok(inner, inner.ToLowerInvariant(), TokKind.Quoted));
                    }

                    i = end + 1;
                    continue;
                }
            }

            plain.Append(c);
            i++;
        }

        Flush(plain, toks);
        return new Question(raw, toks);
    }

    // End (exclusive) of a balanced {…} starting at start, skipping quoted values; start when a second '{' opens
    // first, -1 when it never closes.
    private static int SelectorEnd(string text, int start)
    {
        char quote = '\0';
        for (int i = start + 1; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            if (c is '"' or '\'' or '`')
            {
                quote = c;
            }
            else if (c == '}')
            {
                return i + 1;
            }
            else if (c == '{')
            {
                return start;
            }
        }

        return -1;
    }

    private static void Flush(StringBuilder plain, List<Tok> toks)
    {
        if (plain.Length == 0)
        {
            return;
        }

        foreach (var w in Words.Split(plain.ToString()))
        {
            // "web-1,web-2" and "api/checkout"-like lists typed without spaces: split on commas only.
            var pieces = w.Text.Contains(',', StringComparison.Ordinal) ? w.Text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [w.Text];
            foreach (var piece in pieces)
            {
                Add(piece, toks);
            }
        }

        plain.Clear();
    }

    private static void Add(string text, List<Tok> toks)
    {
        var lower = text.ToLowerInvariant();
        if (s_expand.TryGetValue(lower, out var parts))
        {
            foreach (var p in parts)
            {
                toks.Add(new Tok(p, p, TokKind.Word));
            }

            return;
        }

        // "top5", "top-5": "top 5".
        if (lower.Length > 3 && lower.StartsWith("top", StringComparison.Ordinal) && lower.AsSpan(3).TrimStart('-') is { Length: > 0 and < 5 } digits && !digits.ContainsAnyExceptInRange('0', '9'))
        {
            toks.Add(new Tok("top", "top", TokKind.Word));
            toks.Add(new Tok(digits.ToString(), digits.ToString(), TokKind.Word));
            return;
        }

        if (lower.Length > 2 && lower.EndsWith("'s", StringComparison.Ordinal))
        {
            text = text[..^2];
            lower = lower[..^2];
        }
        else if (lower.Length > 2 && lower.EndsWith("s'", StringComparison.Ordinal))
        {
            text = text[..^1];
            lower = lower[..^1];
        }

        if (lower.Length > 0)
        {
            toks.Add(new Tok(text, lower, TokKind.Word));
        }
    }
}
