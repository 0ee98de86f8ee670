using System.Globalization;
using System.Text;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Ask.Tests;

/// <summary>One case of the phrasing corpus: a question, its expected canonical plan and how to plan it.</summary>
/// <param name="Line">1-based line number in the corpus file.</param>
/// <param name="Question">The question as asked.</param>
/// <param name="Expected">The expected canonical plan (docs/ask.md "Canonical form").</param>
/// <param name="Memories">Plan with <c>AskFixture.Memories</c> (flag <c>mem</c>).</param>
/// <param name="After">A chat follow-up: this question is planned first and its plan is the previous one (flag <c>after=…</c>).</param>
public sealed record CorpusCase(int Line, string Question, string Expected, bool Memories, string? After)
{
    /// <summary>The expected plan's kind word (its first token).</summary>
    public string Kind => Expected.Split(' ', 2)[0];

    /// <summary>How the case prints in a failure message.</summary>
    public override string ToString() =>
        $"line {Line}: \"{Question}\"" + (Memories ? " [mem]" : "") + (After is null ? "" : $" [after \"{After}\"]");
}

/// <summary>
/// Reads <c>tests/data/ask/corpus.tsv</c>: UTF-8, one case per line, <c>QUESTION&lt;TAB&gt;EXPECTED[&lt;TAB&gt;FLAGS]</c>;
/// lines starting with <c>#</c> and blank lines are comments. FLAGS is a comma list of <c>mem</c> and
/// <c>after=PREVIOUS QUESTION</c>; <c>after=</c> comes last and takes the rest of the field (a question may hold commas).
/// A malformed line throws <see cref="FormatException"/> naming the file and line.
/// </summary>
public static class CorpusFile
{
    /// <summary>Longest line accepted (a corpus line is one question and one plan).</summary>
    public const int MaxLineLength = 2000;

    /// <summary>Reads and checks the file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<CorpusCase> Load(string path) =>
        Parse(File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true)), Path.GetFileName(path));

    /// <summary>Parses corpus text; <paramref name="name"/> names it in errors.</summary>
    public static IReadOnlyList<CorpusCase> Parse(string text, string name)
    {
        var cases = new List<CorpusCase>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#' || line.Trim().Length == 0)
            {
                continue;
            }

            if (line.Length > MaxLineLength)
            {
                throw Bad(name, lineNo, $"longer than {MaxLineLength} characters", line);
            }

            foreach (char c in line)
            {
                if (char.IsControl(c) && c != '\t')
                {
                    throw Bad(name, lineNo, $"control character U+{(int)c:X4}", line);
                }
            }

            string[] fields = line.Split('\t');
            if (fields.Length < 2)
            {
                throw Bad(name, lineNo, "expected QUESTION<TAB>EXPECTED PLAN[<TAB>FLAGS], found no tab", line);
            }

            if (fields.Length > 3)
            {
                throw Bad(name, lineNo, $"expected at most 3 tab-separated fields, found {fields.Length}", line);
            }

            string question = fields[0].Trim();
            string expected = fields[1].Trim();
            if (question.Length == 0)
            {
                throw Bad(name, lineNo, "empty question", line);
            }

            if (expected.Length == 0)
            {
                throw Bad(name, lineNo, "empty expected plan", line);
            }

            bool mem = false;
            string? after = null;
            if (fields.Length == 3)
            {
                string rest = fields[2].Trim();
                if (rest.Length == 0)
                {
                    throw Bad(name, lineNo, "empty flags field (leave the tab out when there are no flags)", line);
                }

                while (rest.Length > 0)
                {
                    if (rest.StartsWith("after=", StringComparison.Ordinal))
                    {
                        after = rest["after=".Length..].Trim();
                        if (after.Length == 0)
                        {
                            throw Bad(name, lineNo, "after= names no previous question", line);
                        }

                        break;
                    }

                    int comma = rest.IndexOf(',', StringComparison.Ordinal);
                    string flag = (comma < 0 ? rest : rest[..comma]).Trim();
                    rest = comma < 0 ? "" : rest[(comma + 1)..].TrimStart();
                    if (flag == "mem" && !mem)
                    {
                        mem = true;
                    }
                    else
                    {
                        throw Bad(name, lineNo, $"unknown or repeated flag \"{flag}\" (flags: mem, after=QUESTION)", line);
                    }
                }
            }

            string key = question + "\t" + (mem ? "mem" : "") + "\t" + after;
            if (seen.TryGetValue(key, out int first))
            {
                throw Bad(name, lineNo, $"the same case (question and flags) as line {first}", line);
            }

            seen.Add(key, lineNo);
            cases.Add(new CorpusCase(lineNo, question, expected, mem, after));
        }

        return cases;
    }

    private static FormatException Bad(string name, int line, string what, string text)
    {
        string shown = text.Length > 120 ? text[..120] + "…" : text;
        return new FormatException($"{name} line {line}: {what}: \"{shown.Replace("\t", "\\t", StringComparison.Ordinal)}\"");
    }
}

/// <summary>
/// Checks that a plan is in the canonical grammar (docs/ask.md "Canonical form"): kind word first, the kind's fields
/// in order, selectors that <see cref="Selector.Parse"/> reads and prints back unchanged with labels in name order,
/// RFC 3339 UTC instants to the second with FROM before UNTIL, then optional <c>remember="…"</c> and <c>memory=</c>.
/// </summary>
public static class CanonicalPlan
{
    private static readonly string[] s_clarifyFields = ["service", "host", "scope", "function", "range", "label"];

    /// <summary>Null when <paramref name="plan"/> is well formed, else what is wrong and at which character.</summary>
    public static string? Check(string plan)
    {
        var r = new Reader(plan);
        try
        {
            string kind = r.Word();
            switch (kind)
            {
                case "top":
                case "opportunities":
                    r.Space();
                    r.Selector();
                    r.Space();
                    r.Range();
                    r.Space();
                    r.Literal("n=");
                    r.Int(1, 10_000);
                    break;
                case "diff":
                    r.Space();
                    r.Selector();
                    r.Space();
                    var (from, until) = r.Range();
                    r.Space();
                    r.Literal("vs ");
                    r.Selector();
                    r.Space();
                    var (baseFrom, baseUntil) = r.Range();
                    if (until - from != baseUntil - baseFrom)
                    {
                        r.Fail("the base range is not as long as the new range");
                    }

                    break;
                case "slow":
                case "profile":
                    r.Space();
                    r.Selector();
                    r.Space();
                    r.Literal("seconds=");
                    r.Int(1, 300);
                    if (r.Next(" confirm"))
                    {
                        r.Literal(" confirm");
                    }

                    break;
                case "function-cost":
                    r.Space();
                    r.Selector();
                    r.Space();
                    r.Range();
                    r.Space();
                    r.Literal("fn=");
                    if (r.Quoted().Length == 0)
                    {
                        r.Fail("empty function name");
                    }

                    break;
                case "outliers":
                case "gpu-idle":
                    r.Space();
                    r.Selector();
                    r.Space();
                    r.Range();
                    break;
                case "remember":
                    r.Space();
                    if (r.Quoted().Length == 0)
                    {
                        r.Fail("empty fact");
                    }

                    break;
                case "clarify":
                    r.Space();
                    string field = r.Word();
                    if (Array.IndexOf(s_clarifyFields, field) < 0)
                    {
                        r.Fail($"unknown clarify field \"{field}\"");
                    }

                    if (r.Next(" got="))
                    {
                        r.Literal(" got=");
                        r.Quoted();
                    }

                    if (r.Next(" suggest="))
                    {
                        r.Literal(" suggest=");
                        int n = r.Token().Split('|').Length;
                        if (n > 3)
                        {
                            r.Fail($"{n} suggestions (at most 3)");
                        }
                    }

                    break;
                case "memory":
                case "help":
                    break;
                default:
                    r.Fail($"unknown kind \"{kind}\"");
                    break;
            }

            if (kind != "remember" && r.Next(" remember="))
            {
                r.Literal(" remember=");
                if (r.Quoted().Length == 0)
                {
                    r.Fail("empty remember=");
                }
            }

            if (r.Next(" memory="))
            {
                r.Literal(" memory=");
                string[] ids = r.Token().Split(',');
                for (int i = 0; i < ids.Length; i++)
                {
                    if (ids[i].Length < 2 || ids[i][0] != 'm' || !int.TryParse(ids[i].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id <= 0)
                    {
                        r.Fail($"bad memory id \"{ids[i]}\"");
                    }

                    if (i > 0 && int.Parse(ids[i - 1].AsSpan(1), CultureInfo.InvariantCulture) >= int.Parse(ids[i].AsSpan(1), CultureInfo.InvariantCulture))
                    {
                        r.Fail("memory ids not in id order");
                    }
                }
            }

            r.End();
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }

    private sealed class Reader(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public bool Next(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

        public void Literal(string s)
        {
            if (!Next(s))
            {
                Fail($"expected \"{s}\"");
            }

            _pos += s.Length;
        }

        public void Space() => Literal(" ");

        /// <summary>Lowercase letters and '-'.</summary>
        public string Word()
        {
            int start = _pos;
            while (_pos < _text.Length && (_text[_pos] is >= 'a' and <= 'z' || _text[_pos] == '-'))
            {
                _pos++;
            }

            if (_pos == start)
            {
                Fail("expected a word");
            }

            return _text[start.._pos];
        }

        /// <summary>Everything up to the next space or the end.</summary>
        public string Token()
        {
            int start = _pos;
            while (_pos < _text.Length && _text[_pos] != ' ')
            {
                _pos++;
            }

            if (_pos == start)
            {
                Fail("expected a value");
            }

            return _text[start.._pos];
        }

        public int Int(int min, int max)
        {
            string t = Token();
            if (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min || v > max || v.ToString(CultureInfo.InvariantCulture) != t)
            {
                Fail($"expected a whole number {min}..{max}, found \"{t}\"");
            }

            return v;
        }

        /// <summary>A double-quoted string with <c>\"</c> and <c>\\</c> escaped; returns the unescaped text.</summary>
        public string Quoted()
        {
            Literal("\"");
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length)
                {
                    Fail("unterminated string");
                }

                char c = _text[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c == '\\')
                {
                    if (_pos >= _text.Length || _text[_pos] is not ('"' or '\\'))
                    {
                        Fail("bad escape (only \\\" and \\\\)");
                    }

                    c = _text[_pos++];
                }

                sb.Append(c);
            }
        }

        /// <summary>A selector: <c>{…}</c>, read by <see cref="Orac.Model.Query.Selector.Parse"/>, printed back unchanged, labels in name order.</summary>
        public void Selector()
        {
            int start = _pos;
            Literal("{");
            bool quoted = false;
            while (true)
            {
                if (_pos >= _text.Length)
                {
                    Fail("unterminated selector");
                }

                char c = _text[_pos++];
                if (quoted && c == '\\')
                {
                    _pos++;
                }
                else if (c == '"')
                {
                    quoted = !quoted;
                }
                else if (!quoted && c == '}')
                {
                    break;
                }
            }

            string sel = _text[start.._pos];
            Selector parsed;
            try
            {
                parsed = Orac.Model.Query.Selector.Parse(sel);
            }
            catch (OracException e)
            {
                _pos = start;
                Fail($"selector {sel} does not parse: {e.Message}");
                return;
            }

            if (parsed.Type is not null || parsed.ToString() != sel)
            {
                _pos = start;
                Fail($"selector {sel} is not canonical (Orac prints it as {parsed})");
            }

            for (int i = 1; i < parsed.Matchers.Count; i++)
            {
                if (string.CompareOrdinal(parsed.Matchers[i - 1].Name, parsed.Matchers[i].Name) >= 0)
                {
                    _pos = start;
                    Fail($"selector {sel}: labels not in name order");
                }
            }
        }

        /// <summary><c>FROM..UNTIL</c>, RFC 3339 UTC to the second, FROM before UNTIL.</summary>
        public (DateTime From, DateTime Until) Range()
        {
            int start = _pos;
            DateTime from = Instant();
            Literal("..");
            DateTime until = Instant();
            if (from >= until)
            {
                _pos = start;
                Fail("range not in order (FROM must be before UNTIL)");
            }

            return (from, until);
        }

        private DateTime Instant()
        {
            const int len = 20; // yyyy-MM-ddTHH:mm:ssZ
            if (_pos + len > _text.Length
                || !DateTime.TryParseExact(_text.AsSpan(_pos, len), "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime t))
            {
                Fail("expected an instant like 2026-11-25T14:30:00Z");
                return default;
            }

            _pos += len;
            return t;
        }

        public void End()
        {
            if (_pos != _text.Length)
            {
                Fail("unexpected text at the end");
            }
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Fail(string what) =>
            throw new FormatException($"{what} at character {_pos + 1} of \"{_text}\"");
    }
}
