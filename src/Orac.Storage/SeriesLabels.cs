using System.Text;
using Orac.Model;

namespace Orac.Storage;

/// <summary>
/// A series' labels: distinct names, sorted by name, values non-empty. Names follow Prometheus
/// (<c>[a-zA-Z_][a-zA-Z0-9_.]*</c>), at most 64 labels, names ≤ 128 and values ≤ 1024 characters.
/// <see cref="Key"/> is a canonical text form usable as a dictionary key and for storage.
/// </summary>
public sealed class SeriesLabels : IEquatable<SeriesLabels>
{
    private readonly KeyValuePair<string, string>[] _pairs;

    private SeriesLabels(KeyValuePair<string, string>[] sortedPairs)
    {
        _pairs = sortedPairs;
        var sb = new StringBuilder("{");
        for (var i = 0; i < _pairs.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(_pairs[i].Key).Append("=\"");
            foreach (var c in _pairs[i].Value)
            {
                if (c is '"' or '\\')
                {
                    sb.Append('\\');
                }

                sb.Append(c == '\n' ? 'n' : c);
            }

            sb.Append('"');
        }

        Key = sb.Append('}').ToString();
    }

    /// <summary>The labels, sorted by name.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Pairs => _pairs;

    /// <summary>Canonical text, e.g. <c>{host="a",service_name="api"}</c>.</summary>
    public string Key { get; }

    /// <summary>The value of a label, or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var kv in _pairs)
            {
                if (kv.Key == name)
                {
                    return kv.Value;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Validates and normalises labels (later duplicates win; empty values drop the label). Throws
    /// <see cref="OracException"/> (usage) naming the bad label.
    /// </summary>
    public static SeriesLabels Create(IEnumerable<KeyValuePair<string, string>> labels)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in labels)
        {
            if (!IsValidName(k))
            {
                throw new OracException($"bad label name '{Truncate(k)}': use letters, digits, '_' and '.', not starting with a digit, at most 128 characters", OracException.Usage);
            }

            if (v.Length > 1024)
            {
                throw new OracException($"label '{k}' value is longer than 1024 characters", OracException.Usage);
            }

            if (v.Length == 0)
            {
                map.Remove(k);
            }
            else
            {
                map[k] = v;
            }
        }

        if (map.Count > 64)
        {
            throw new OracException($"too many labels ({map.Count}; at most 64)", OracException.Usage);
        }

        var pairs = map.ToArray();
        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new SeriesLabels(pairs);
    }

    /// <summary>This set with <paramref name="extra"/> labels added (they win on conflicts).</summary>
    public SeriesLabels With(IEnumerable<KeyValuePair<string, string>> extra) => Create(_pairs.Concat(extra));

    /// <summary>Whether <paramref name="name"/> is a valid label name.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 128 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public bool Equals(SeriesLabels? other) => other is not null && other.Key == Key;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SeriesLabels);

    /// <inheritdoc/>
    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Key;

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
