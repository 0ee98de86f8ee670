using System.Text;
using System.Text.RegularExpressions;

namespace Orac.Model.Query;

/// <summary>How a <see cref="LabelMatcher"/> compares a label value.</summary>
public enum MatchOp
{
    /// <summary><c>=</c>: equal.</summary>
    Equal,

    /// <summary><c>!=</c>: not equal.</summary>
    NotEqual,

    /// <summary><c>=~</c>: matches the regular expression (anchored, like Prometheus).</summary>
    Regex,

    /// <summary><c>!~</c>: does not match the regular expression.</summary>
    NotRegex,
}

/// <summary>One <c>name op "value"</c> term of a selector. A missing label has the value "".</summary>
public sealed class LabelMatcher
{
    private readonly Regex? _regex;

    /// <summary>Creates a matcher; regular expressions are anchored and time-limited (bad patterns throw <see cref="OracException"/>).</summary>
    public LabelMatcher(string name, MatchOp op, string value)
    {
        Name = name;
        Op = op;
        Value = value;
        if (op is MatchOp.Regex or MatchOp.NotRegex)
        {
            try
            {
                _regex = new Regex($"^(?:{value})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                throw new OracException($"bad regular expression for label '{name}': {e.Message}", OracException.Usage);
            }
        }
    }

    /// <summary>Label name.</summary>
    public string Name { get; }

    /// <summary>Comparison.</summary>
    public MatchOp Op { get; }

    /// <summary>Literal value or regular expression.</summary>
    public string Value { get; }

    /// <summary>Whether a label value (or "" when the label is absent) satisfies this matcher.</summary>
    public bool Matches(string? labelValue)
    {
        var v = labelValue ?? "";
        try
        {
            return Op switch
            {
                MatchOp.Equal => v == Value,
                MatchOp.NotEqual => v != Value,
                MatchOp.Regex => _regex!.IsMatch(v),
                _ => !_regex!.IsMatch(v),
            };
        }
        catch (RegexMatchTimeoutException)
        {
            throw new OracException($"regular expression for label '{Name}' took too long on '{v}'", OracException.Usage);
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var op = Op switch { MatchOp.Equal => "=", MatchOp.NotEqual => "!=", MatchOp.Regex => "=~", _ => "!~" };
        return $"{Name}{op}\"{Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
    }
}

/// <summary>
/// A Prometheus-style series selector: <c>{service_name="api", host=~"gpu-.*"}</c>. All matchers must hold.
/// The empty selector <c>{}</c> (or empty text) selects everything. Optionally prefixed by a profile type id,
/// as Pyroscope's <c>query</c> parameter is: <c>process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="api"}</c>.
/// </summary>
public sealed class Selector
{
    /// <summary>Longest selector text accepted.</summary>
    public const int MaxLength = 4096;

    /// <summary>Creates a selector from matchers.</summary>
    public Selector(IReadOnlyList<LabelMatcher> matchers, ProfileTypeId? type = null)
    {
        Matchers = matchers;
        Type = type;
    }

    /// <summary>Selects every series.</summary>
    public static Selector All { get; } = new([]);

    /// <summary>The matchers, all of which must hold.</summary>
    public IReadOnlyList<LabelMatcher> Matchers { get; }

    /// <summary>Profile type given as a prefix of the text, if any.</summary>
    public ProfileTypeId? Type { get; }

    /// <summary>Whether a series with these labels is selected. <paramref name="lookup"/> returns a label's value or null.</summary>
    public bool Matches(Func<string, string?> lookup)
    {
        foreach (var m in Matchers)
        {
            if (!m.Matches(lookup(m.Name)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a series with these (name, value) labels is selected.</summary>
    public bool Matches(IReadOnlyList<KeyValuePair<string, string>> labels) =>
        Matches(name =>
        {
            foreach (var kv in labels)
            {
                if (kv.Key == name)
                {
                    return kv.Value;
                }
            }

            return null;
        });

    /// <inheritdoc/>
    public override string ToString() =>
        (Type is { } t ? t.ToString() : "") + "{" + string.Join(", ", Matchers.Select(m => m.ToString())) + "}";

    /// <summary>
    /// Parses selector text. Throws <see cref="OracException"/> (usage) with the character offset of the
    /// first problem, e.g. <c>bad selector at offset 14: expected '"' …</c>.
    /// </summary>
    public static Selector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return All;
        }

        if (text.Length > MaxLength)
        {
            throw new OracException($"bad selector: longer than {MaxLength} characters", OracException.Usage);
        }

        var p = new SelectorParser(text);
        return p.Parse();
    }

    private ref struct SelectorParser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public Selector Parse()
        {
            ProfileTypeId? type = null;
            SkipSpace();
            var brace = _text.IndexOf('{', StringComparison.Ordinal);
            if (brace < 0)
            {
                // A bare profile type id or a bare service name.
                var bare = _text.Trim();
                if (ProfileTypeId.TryParse(bare, out var onlyType))
                {
                    return new Selector([], onlyType);
                }

                if (IsName(bare))
                {
                    return new Selector([new LabelMatcher("service_name", MatchOp.Equal, bare)]);
                }

                throw Error(0, "expected '{' (a selector looks like {service_name=\"api\"})");
            }

            var prefix = _text[..brace].Trim();
            if (prefix.Length > 0)
            {
                if (!ProfileTypeId.TryParse(prefix, out var t))
                {
                    throw Error(_pos, $"'{prefix}' before '{{' is not a profile type id (name:sample_type:sample_unit:period_type:period_unit)");
                }

                type = t;
            }

            _pos = brace + 1;
            var matchers = new List<LabelMatcher>();
            SkipSpace();
            if (Peek() == '}')
            {
                _pos++;
                ExpectEnd();
                return new Selector(matchers, type);
            }

            while (true)
            {
                SkipSpace();
                var name = ReadName();
                SkipSpace();
                var op = ReadOp();
                SkipSpace();
                var value = ReadString();
                matchers.Add(new LabelMatcher(name, op, value));
                SkipSpace();
                var c = Peek();
                _pos++;
                if (c == '}')
                {
                    break;
                }

                if (c != ',')
                {
                    throw Error(_pos - 1, "expected ',' or '}'");
                }

                SkipSpace();
                if (Peek() == '}')
                {
                    _pos++;
                    break;
                }
            }

            ExpectEnd();
            return new Selector(matchers, type);
        }

        private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
        }

        private void ExpectEnd()
        {
            SkipSpace();
            if (_pos != _text.Length)
            {
                throw Error(_pos, "unexpected text after '}'");
            }
        }

        private string ReadName()
        {
            var start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.' or '-'))
            {
                _pos++;
            }

            if (_pos == start || char.IsAsciiDigit(_text[start]))
            {
                throw Error(start, "expected a label name");
            }

            return _text[start.._pos];
        }

        private MatchOp ReadOp()
        {
            var c = Peek();
            var n = _pos + 1 < _text.Length ? _text[_pos + 1] : '\0';
            (MatchOp Op, int Len)? r = (c, n) switch
            {
                ('=', '~') => (MatchOp.Regex, 2),
                ('!', '=') => (MatchOp.NotEqual, 2),
                ('!', '~') => (MatchOp.NotRegex, 2),
                ('=', _) => (MatchOp.Equal, 1),
                _ => null,
            };
            if (r is not { } found)
            {
                throw Error(_pos, "expected one of = != =~ !~");
            }

            _pos += found.Len;
            return found.Op;
        }

        private string ReadString()
        {
            var quote = Peek();
            if (quote is not ('"' or '\'' or '`'))
            {
                throw Error(_pos, "expected a quoted value");
            }

            var start = _pos;
            _pos++;
            var sb = new StringBuilder();
            while (_pos < _text.Length)
            {
                var c = _text[_pos++];
                if (c == quote)
                {
                    return sb.ToString();
                }

                if (c == '\\' && quote != '`' && _pos < _text.Length)
                {
                    var e = _text[_pos++];
                    sb.Append(e switch { 'n' => '\n', 't' => '\t', _ => e });
                    continue;
                }

                sb.Append(c);
            }

            throw Error(start, "unterminated quoted value");
        }

        private readonly OracException Error(int offset, string what) =>
            new($"bad selector at offset {offset}: {what} in '{_text}'", OracException.Usage);

        private static bool IsName(string s) =>
            s.Length > 0 && s.Length <= 200 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
    }
}
