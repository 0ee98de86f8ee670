using System.Globalization;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Ask;

/// <summary>
/// Reads a memory's text into a <see cref="MemoryFact"/> (docs/ask.md "Memory"): <c>gpu-price</c>, <c>vcpu-price</c>,
/// <c>owner</c>, <c>alias</c>, <c>scope</c>, or <c>note</c> for anything else. Pure and total: never throws, for any text.
/// </summary>
public static class MemoryFacts
{
    /// <summary>Longest text read as a fact; longer text is a note (the server stores at most 500 characters).</summary>
    public const int MaxChars = 1000;

    /// <summary>Kind words.</summary>
    public const string GpuPrice = "gpu-price", VcpuPrice = "vcpu-price", Owner = "owner", Alias = "alias", Scope = "scope", Note = "note";

    private static readonly string[] s_teamWords = ["org", "org.", "organisation", "organization", "team", "group", "squad", "department", "dept"];

    /// <summary>
    /// The fact in <paramref name="text"/>. Prices: "our H100s cost $2.10 an hour", "H100 costs 2.10 USD per hour",
    /// "we pay $2.10/h per H100", "a vCPU hour costs $0.04". Owners: "service api belongs to the search org", "api is
    /// owned by the search team", "the search team owns api". Aliases: "frontends means {host=~"web-.*"}", "by prod I
    /// mean env=production" (the value is canonical selector text, labels in name order). Scope: "I work on the
    /// inference service", "my service is api". Anything else is a <c>note</c>.
    /// </summary>
    public static MemoryFact Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxChars)
        {
            return new MemoryFact { Kind = Note };
        }

        try
        {
            return TryPrice(text) ?? TryAlias(text) ?? TryOwner(text) ?? TryScope(text) ?? new MemoryFact { Kind = Note };
        }
        catch (OracException)
        {
            // A selector that does not parse is simply not an alias; anything else would be a bug and should crash loudly.
            return new MemoryFact { Kind = Note };
        }
    }

    /// <summary>Whether <paramref name="clause"/> states a fact plans or cost figures use (any kind but <c>note</c>).</summary>
    public static bool IsFact(string? clause) => Parse(clause).Kind != Note;

    /// <summary>
    /// Canonical selector text for <paramref name="selectorText"/> (labels in name order, <c>{}</c> for everything), or
    /// null when it is not a selector. Accepts braces (<c>{env="prod"}</c>) and bare matchers (<c>env=production</c>,
    /// <c>host=~web-.*</c>, comma-separated).
    /// </summary>
    public static string? CanonicalSelector(string? selectorText)
    {
        if (string.IsNullOrWhiteSpace(selectorText) || selectorText.Length > Selector.MaxLength)
        {
            return null;
        }

        var t = selectorText.Trim().TrimEnd('.', ';', ',').Trim();
        if (t.Length >= 2 && t[0] is '`' && t[^1] is '`')
        {
            t = t[1..^1].Trim();
        }

        if (t.IndexOf('{', StringComparison.Ordinal) < 0)
        {
            t = BracedFromBare(t);
            if (t.Length == 0)
            {
                return null;
            }
        }

        Selector s;
        try
        {
            s = Selector.Parse(t);
        }
        catch (OracException)
        {
            return null;
        }

        return Canonical(s);
    }

    /// <summary>Selector text with its matchers in name order (stable for equal names).</summary>
    public static string Canonical(Selector s)
    {
        var ms = new List<LabelMatcher>(s.Matchers);
        var sorted = ms.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        return (s.Type is { } type ? type.ToString() : "") + "{" + string.Join(", ", sorted.Select(m => m.ToString())) + "}";
    }

    // "env=production", "env = production, region=eu-west-1", "host=~web-.*" → braces with quoted values.
    private static string BracedFromBare(string t)
    {
        var parts = t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length > 20)
        {
            return "";
        }

        var outParts = new List<string>();
        foreach (var p in parts)
        {
            int op = p.IndexOfAny(['=', '!', '~']);
            if (op <= 0)
            {
                return "";
            }

            var name = p[..op].Trim();
            int valueStart = op + 1;
            if (valueStart < p.Length && p[valueStart] is '~' or '=')
            {
                valueStart++;
            }

            var opText = p[op..valueStart];
            if (opText is not ("=" or "!=" or "=~" or "!~"))
            {
                return "";
            }

            var value = p[valueStart..].Trim();
            if (name.Length == 0 || value.Length == 0 || name.Any(char.IsWhiteSpace))
            {
                return "";
            }

            if (value[0] is not ('"' or '\'' or '`'))
            {
                if (value.Any(char.IsWhiteSpace))
                {
                    return "";
                }

                value = "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
            }

            outParts.Add(name + opText + value);
        }

        return "{" + string.Join(", ", outParts) + "}";
    }

    // ---- prices ----

    private static MemoryFact? TryPrice(string text)
    {
        var words = Words.Split(text);
        if (!TryFindPrice(words, out double usd))
        {
            return null;
        }

        var lower = text.ToLowerInvariant();
        bool perHour = lower.Contains("hour", StringComparison.Ordinal) || lower.Contains("/h", StringComparison.Ordinal)
            || words.Any(w => w.Lower is "hr" or "hrs" or "h");
        if (!perHour)
        {
            return null;
        }

        if (lower.Contains("vcpu", StringComparison.Ordinal) || lower.Contains("v-cpu", StringComparison.Ordinal) || lower.Contains("vcore", StringComparison.Ordinal))
        {
            return new MemoryFact { Kind = VcpuPrice, UsdPerHour = usd };
        }

        foreach (var w in words)
        {
            if (GpuModel(w.Text) is { } model)
            {
                return new MemoryFact { Kind = GpuPrice, Subject = model, UsdPerHour = usd };
            }
        }

        if (lower.Contains("gpu", StringComparison.Ordinal))
        {
            // "our GPUs cost $2 an hour": every model (Subject null).
            return new MemoryFact { Kind = GpuPrice, UsdPerHour = usd };
        }

        if (words.Any(w => w.Lower is "cpu" or "cpus" or "cpu-hour" or "core" or "cores" or "core-hour"))
        {
            return new MemoryFact { Kind = VcpuPrice, UsdPerHour = usd };
        }

        return null;
    }

    private static bool TryFindPrice(List<Word> words, out double usd)
    {
        usd = 0;
        for (int i = 0; i < words.Count; i++)
        {
            var w = words[i].Lower;
            if (w.StartsWith('$') && LeadingNumber(w.AsSpan(1), out usd))
            {
                return true;
            }

            if (w is "usd" or "us$" && i + 1 < words.Count && LeadingNumber(words[i + 1].Lower, out usd))
            {
                return true;
            }

            if (LeadingNumber(w, out double v, out int used))
            {
                var rest = w[used..];
                var next = i + 1 < words.Count ? words[i + 1].Lower : "";
                if (rest is "$" or "usd" || (rest.Length == 0 && next is "usd" or "dollars" or "dollar" or "$" or "bucks"))
                {
                    usd = v;
                    return true;
                }

                if (rest is "c" or "cents" || (rest.Length == 0 && next is "cents" or "cent"))
                {
                    usd = v / 100;
                    return true;
                }
            }
        }

        return false;
    }

    private static bool LeadingNumber(ReadOnlySpan<char> s, out double value) => LeadingNumber(s, out value, out _);

    private static bool LeadingNumber(ReadOnlySpan<char> s, out double value, out int used)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || (s[i] == '.' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1]))))
        {
            i++;
        }

        used = i;
        return i > 0 && i <= 12 && double.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value) && value <= 1_000_000;
    }

    /// <summary>"H100", "h100s", "A100s", "MI300X", "L4", "A10G" → the model in capitals; null for anything else.</summary>
    internal static string? GpuModel(string word)
    {
        var w = word;
        if (w.EndsWith("'s", StringComparison.OrdinalIgnoreCase))
        {
            w = w[..^2];
        }

        if (w.Length >= 3 && w[^1] is 's' or 'S' && char.IsAsciiDigit(w[^2]))
        {
            w = w[..^1];
        }

        if (w.Length is < 2 or > 10)
        {
            return null;
        }

        int letters = 0;
        while (letters < w.Length && char.IsAsciiLetter(w[letters]))
        {
            letters++;
        }

        if (letters is 0 or > 4)
        {
            return null;
        }

        int digits = letters;
        while (digits < w.Length && char.IsAsciiDigit(w[digits]))
        {
            digits++;
        }

        if (digits == letters || w.Length - digits > 2)
        {
            return null;
        }

        for (int i = digits; i < w.Length; i++)
        {
            if (!char.IsAsciiLetter(w[i]))
            {
                return null;
            }
        }

        var upper = w.ToUpperInvariant();

        // Units and ordinary words that look like models: "h2" (hours), "v8", "p95".
        var prefix = upper[..letters];
        if (prefix is "H" or "L" or "T" or "A" or "V" or "P" or "B" or "K" or "G" or "MI" or "RTX" or "GH" or "GB" or "TPU")
        {
            bool shortNumber = digits - letters < 2 && prefix is "H" or "P" or "V" or "B" or "K" or "G";
            return shortNumber ? null : upper;
        }

        return null;
    }

    // ---- aliases ----

    private static MemoryFact? TryAlias(string text)
    {
        var t = text.Trim();
        var lower = t.ToLowerInvariant();
        string? subject = null, value = null;

        // "by prod I mean env=production", "by prod we mean …", "when I say prod I mean …"
        foreach (var lead in (ReadOnlySpan<string>)["by ", "when i say ", "when we say "])
        {
            if (!lower.StartsWith(lead, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var mid in (ReadOnlySpan<string>)[" i mean ", " we mean ", " i mean: ", " we mean: "])
            {
                int k = lower.IndexOf(mid, lead.Length, StringComparison.Ordinal);
                if (k > lead.Length)
                {
                    subject = t[lead.Length..k];
                    value = t[(k + mid.Length)..];
                    break;
                }
            }

            break;
        }

        if (subject is null)
        {
            foreach (var mid in (ReadOnlySpan<string>)[" means ", " stands for ", " is short for ", " refers to ", " = ", " is an alias for "])
            {
                int k = lower.IndexOf(mid, StringComparison.Ordinal);
                if (k > 0)
                {
                    subject = t[..k];
                    value = t[(k + mid.Length)..];
                    break;
                }
            }
        }

        if (subject is null || value is null)
        {
            return null;
        }

        var word = AliasWord(subject);
        if (word is null)
        {
            return null;
        }

        var selector = CanonicalSelector(value) ?? NamedSelector(value);
        return selector is null ? null : new MemoryFact { Kind = Alias, Subject = word, Value = selector };
    }

    // "prod", "\"frontends\"", "the frontends", "web tier" → the word(s), lower case; null for anything longer or odd.
    private static string? AliasWord(string subject)
    {
        var ws = Words.Split(subject.Trim().Trim('"', '\'', '`', '\u201c', '\u201d'));
        if (ws.Count > 0 && ws[0].Lower is "the" or "our")
        {
            ws.RemoveAt(0);
        }

        if (ws.Count is 0 or > 3)
        {
            return null;
        }

        foreach (var w in ws)
        {
            if (!IsNameLike(w.Text) || w.Lower is "i" or "we" or "it" or "this" or "that" or "which" or "what")
            {
                return null;
            }
        }

        return string.Join(' ', ws.Select(w => w.Lower));
    }

    // "service api", "the api service", "host web-1", "hosts web-1 and web-2" → selector text; null otherwise.
    private static string? NamedSelector(string value)
    {
        var ws = Words.Split(value).Select(w => w.Text).ToList();
        return NamesSelector(ws, defaultLabel: null);
    }

    private static string? NamesSelector(List<string> ws, string? defaultLabel)
    {
        string? label = defaultLabel;
        var names = new List<string>();
        foreach (var raw in ws)
        {
            var w = raw.ToLowerInvariant();
            switch (w)
            {
                case "the" or "and" or "&" or "our" or "my" or "a" or "an" or "on" or "in":
                    continue;
                case "service" or "services" or "svc" or "svcs" or "app" or "apps" or "application":
                    label = label == "host" ? label : "service_name";
                    continue;
                case "host" or "hosts" or "machine" or "machines" or "node" or "nodes" or "box" or "boxes" or "server" or "servers":
                    label = "host";
                    continue;
            }

            if (!IsNameLike(raw))
            {
                return null;
            }

            names.Add(raw);
        }

        if (label is null || names.Count is 0 or > 20)
        {
            return null;
        }

        names.Sort(StringComparer.Ordinal);
        names = names.Distinct(StringComparer.Ordinal).ToList();
        return names.Count == 1
            ? "{" + new LabelMatcher(label, MatchOp.Equal, names[0]) + "}"
            : "{" + label + "=~\"" + string.Join('|', names.Select(EscapeRegex)) + "\"}";
    }

    /// <summary>A name as a literal inside a regular expression (dots and other metacharacters escaped).</summary>
    internal static string EscapeRegex(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (c is '.' or '+' or '*' or '?' or '(' or ')' or '[' or ']' or '{' or '}' or '|' or '^' or '$' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        // Selector text escapes backslashes once more inside its quotes.
        return sb.ToString().Replace("\\", "\\\\", StringComparison.Ordinal);
    }

    /// <summary>Letters, digits, <c>-</c>, <c>_</c>, <c>.</c>, at most 200 characters, starting with a letter or digit.</summary>
    internal static bool IsNameLike(string s)
    {
        if (s.Length is 0 or > 200 || !char.IsAsciiLetterOrDigit(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    // ---- owners ----

    private static MemoryFact? TryOwner(string text)
    {
        var ws = Words.Split(text).Select(w => w.Lower).ToList();

        // "[service] api [service] belongs to [the] search [org]", "api is owned by the search team", "api is part of the search org"
        foreach (var verb in (ReadOnlySpan<string[]>)[["belongs", "to"], ["is", "owned", "by"], ["are", "owned", "by"], ["owned", "by"], ["is", "part", "of"], ["is", "run", "by"], ["is", "maintained", "by"]])
        {
            int k = IndexOf(ws, verb);
            if (k > 0)
            {
                var service = ServiceName(text, 0, k);
                var team = TeamName(ws, k + verb.Length, ws.Count);
                if (service is not null && team is not null)
                {
                    return new MemoryFact { Kind = Owner, Subject = service, Value = team };
                }
            }
        }

        // "[the] search team owns [service] api", "search owns api"
        foreach (var verb in (ReadOnlySpan<string[]>)[["owns"], ["own"], ["runs"], ["maintains"], ["is", "the", "owner", "of"], ["are", "the", "owners", "of"]])
        {
            int k = IndexOf(ws, verb);
            if (k > 0)
            {
                var team = TeamName(ws, 0, k);
                var service = ServiceName(text, k + verb.Length, int.MaxValue);
                if (team is not null && service is not null && team is not ("i" or "we"))
                {
                    return new MemoryFact { Kind = Owner, Subject = service, Value = team };
                }
            }
        }

        // "the owner of api is the search team"
        int o = IndexOf(ws, ["owner", "of"]);
        if (o >= 0)
        {
            int isAt = ws.IndexOf("is", o + 2);
            if (isAt > o + 2)
            {
                var service = ServiceName(text, o + 2, isAt);
                var team = TeamName(ws, isAt + 1, ws.Count);
                if (service is not null && team is not null)
                {
                    return new MemoryFact { Kind = Owner, Subject = service, Value = team };
                }
            }
        }

        return null;
    }

    private static int IndexOf(List<string> ws, string[] seq)
    {
        for (int i = 0; i + seq.Length <= ws.Count; i++)
        {
            bool ok = true;
            for (int j = 0; j < seq.Length && ok; j++)
            {
                ok = ws[i + j] == seq[j];
            }

            if (ok)
            {
                return i;
            }
        }

        return -1;
    }

    // Words [from, to) of text naming one service: "service api", "the api service", "api".
    private static string? ServiceName(string text, int from, int to)
    {
        var ws = Words.Split(text);
        to = Math.Min(to, ws.Count);
        string? name = null;
        for (int i = from; i < to; i++)
        {
            var w = ws[i];
            if (w.Lower is "the" or "service" or "svc" or "our" or "my" or "app" or "application" or "microservice")
            {
                continue;
            }

            if (name is not null || !IsNameLike(w.Text))
            {
                return null;
            }

            name = w.Text;
        }

        return name;
    }

    // Words [from, to) naming a team or org: "the search org" → "search"; at most 3 words.
    private static string? TeamName(List<string> ws, int from, int to)
    {
        var parts = new List<string>();
        for (int i = from; i < to; i++)
        {
            var w = ws[i];
            if (w.EndsWith("'s", StringComparison.Ordinal))
            {
                w = w[..^2];
            }

            if (parts.Count == 0 && w is "the" or "our")
            {
                continue;
            }

            if (s_teamWords.Contains(w))
            {
                if (i != to - 1 && !(i == to - 2 && ws[to - 1] is "now" or "today"))
                {
                    return null;
                }

                break;
            }

            if (!IsNameLike(w))
            {
                return null;
            }

            parts.Add(w);
        }

        return parts.Count is 0 or > 3 ? null : string.Join(' ', parts);
    }

    // ---- scope ----

    private static MemoryFact? TryScope(string text)
    {
        var ws = Words.Split(text).Select(w => w.Text).ToList();
        var lower = ws.Select(w => w.ToLowerInvariant()).ToList();

        // "my service is api", "our services are api and checkout", "my host is web-1"
        foreach (var (lead, label) in (ReadOnlySpan<(string[], string)>)[
            (["my", "service", "is"], "service_name"), (["our", "service", "is"], "service_name"),
            (["my", "services", "are"], "service_name"), (["our", "services", "are"], "service_name"),
            (["my", "host", "is"], "host"), (["my", "hosts", "are"], "host"), (["our", "hosts", "are"], "host")])
        {
            if (StartsWith(lower, lead) && NamesSelector(ws[lead.Length..], label) is { } sel)
            {
                return new MemoryFact { Kind = Scope, Value = sel };
            }
        }

        // "I work on the inference service", "I'm responsible for service api", "I own the api and checkout services"
        foreach (var lead in (ReadOnlySpan<string[]>)[
            ["i", "work", "on"], ["i'm", "working", "on"], ["i", "am", "working", "on"], ["i", "mostly", "work", "on"],
            ["i", "maintain"], ["i", "own"], ["i'm", "responsible", "for"], ["i", "am", "responsible", "for"],
            ["i", "look", "after"], ["i", "usually", "look", "at"], ["i", "care", "about"], ["we", "work", "on"], ["my", "team", "runs"]])
        {
            if (!StartsWith(lower, lead))
            {
                continue;
            }

            var rest = ws[lead.Length..];
            bool named = rest.Any(w => w.ToLowerInvariant() is "service" or "services" or "svc" or "host" or "hosts" or "machine" or "machines");
            if (named && NamesSelector(rest, null) is { } sel)
            {
                return new MemoryFact { Kind = Scope, Value = sel };
            }
        }

        return null;
    }

    private static bool StartsWith(List<string> ws, string[] lead)
    {
        if (ws.Count <= lead.Length)
        {
            return false;
        }

        for (int i = 0; i < lead.Length; i++)
        {
            if (ws[i] != lead[i])
            {
                return false;
            }
        }

        return true;
    }
}
