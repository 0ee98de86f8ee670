using System.Globalization;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// A small, allocation-light command-line reader shared by every verb. It accepts <c>--name value</c>,
/// <c>--name=value</c>, single-dash long names as the perl tools do (<c>-title x</c> is not accepted;
/// only the listed aliases), short flags (<c>-n</c>), <c>--</c> to end options, and <c>-</c> as a
/// positional (stdin). Unknown options are usage errors (exit code 2).
/// </summary>
public sealed class ArgParser
{
    private readonly string _verb;
    private readonly Dictionary<string, Spec> _specs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);

    /// <summary>Creates a parser for <paramref name="verb"/> (used in messages).</summary>
    public ArgParser(string verb) => _verb = verb;

    /// <summary>Positional arguments, in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>Declares a boolean flag with its names (e.g. "--normalize", "-n").</summary>
    public ArgParser Flag(string canonical, params string[] aliases) => Add(canonical, false, aliases);

    /// <summary>Declares an option that takes a value.</summary>
    public ArgParser Option(string canonical, params string[] aliases) => Add(canonical, true, aliases);

    /// <summary>Declares an option that takes a value and may be given several times (<see cref="GetAll"/>).</summary>
    public ArgParser Repeatable(string canonical, params string[] aliases) => Add(canonical, true, aliases, repeatable: true);

    private ArgParser Add(string canonical, bool takesValue, string[] aliases, bool repeatable = false)
    {
        var spec = new Spec(canonical, takesValue, repeatable);
        _specs[canonical] = spec;
        foreach (string a in aliases)
        {
            _specs[a] = spec;
        }

        return this;
    }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="OracException"/> with exit code 2 on a usage error.</summary>
    public ArgParser Parse(IReadOnlyList<string> args)
    {
        bool optionsDone = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (optionsDone || a == "-" || a.Length < 2 || a[0] != '-')
            {
                Positionals.Add(a);
                continue;
            }

            if (a == "--")
            {
                optionsDone = true;
                continue;
            }

            string name = a;
            string? inline = null;
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = a[..eq];
                inline = a[(eq + 1)..];
            }

            if (!_specs.TryGetValue(name, out Spec? spec))
            {
                throw Usage($"unknown option '{name}'");
            }

            if (spec.TakesValue)
            {
                if (inline is null)
                {
                    if (i + 1 >= args.Count)
                    {
                        throw Usage($"option '{name}' needs a value");
                    }

                    inline = args[++i];
                }

                _values[spec.Canonical] = inline;
                if (spec.Repeatable)
                {
                    if (!_lists.TryGetValue(spec.Canonical, out List<string>? list))
                    {
                        list = [];
                        _lists[spec.Canonical] = list;
                    }

                    list.Add(inline);
                }
            }
            else
            {
                if (inline is not null)
                {
                    throw Usage($"option '{name}' takes no value");
                }

                _flags.Add(spec.Canonical);
            }
        }

        return this;
    }

    /// <summary>True when the flag was given.</summary>
    public bool Has(string canonical) => _flags.Contains(canonical) || _values.ContainsKey(canonical);

    /// <summary>The option's value, or null.</summary>
    public string? Get(string canonical) => _values.TryGetValue(canonical, out string? v) ? v : null;

    /// <summary>Every value of a <see cref="Repeatable"/> option, in order (empty when not given).</summary>
    public IReadOnlyList<string> GetAll(string canonical) => _lists.TryGetValue(canonical, out List<string>? v) ? v : [];

    /// <summary>The option's value as a number, or <paramref name="fallback"/>.</summary>
    public double GetDouble(string canonical, double fallback)
    {
        string? v = Get(canonical);
        if (v is null)
        {
            return fallback;
        }

        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
        {
            throw Usage($"option '{canonical}' needs a number, got '{v}'");
        }

        return d;
    }

    /// <summary>The option's value as an integer, or <paramref name="fallback"/>.</summary>
    public int GetInt(string canonical, int fallback)
    {
        string? v = Get(canonical);
        if (v is null)
        {
            return fallback;
        }

        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int d))
        {
            throw Usage($"option '{canonical}' needs an integer, got '{v}'");
        }

        return d;
    }

    /// <summary>A usage error for this verb.</summary>
    public OracException Usage(string message) => new($"{_verb}: {message} (see 'orac {_verb} --help')", OracException.Usage);

    private sealed record Spec(string Canonical, bool TakesValue, bool Repeatable);
}
