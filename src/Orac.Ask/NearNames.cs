namespace Orac.Ask;

/// <summary>"Did you mean": known names close to a word the inventory does not know (docs/ask.md "Names the inventory does not know").</summary>
public static class NearNames
{
    /// <summary>Names longer than this are never compared (the distance is quadratic).</summary>
    public const int MaxNameLength = 200;

    /// <summary>
    /// Up to <paramref name="max"/> names from <paramref name="known"/> close to <paramref name="got"/>: edit distance
    /// at most 2, or one a prefix of the other where the shorter has at least 3 letters. Closest (smallest edit
    /// distance) first, then by name; compared case-insensitively; each known name once.
    /// </summary>
    public static IReadOnlyList<string> Suggest(string got, IEnumerable<string> known, int max = 3)
    {
        if (string.IsNullOrEmpty(got) || got.Length > MaxNameLength || max <= 0)
        {
            return [];
        }

        var g = got.ToLowerInvariant();
        var found = new List<(int Distance, string Name)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in known)
        {
            if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !seen.Add(name))
            {
                continue;
            }

            var k = name.ToLowerInvariant();
            int d = Distance(g, k);
            bool prefix = Math.Min(g.Length, k.Length) >= 3 && (k.StartsWith(g, StringComparison.Ordinal) || g.StartsWith(k, StringComparison.Ordinal));
            if (d <= 2 || prefix)
            {
                found.Add((d, name));
            }
        }

        found.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : string.CompareOrdinal(a.Name, b.Name));
        var result = new List<string>(Math.Min(max, found.Count));
        for (int i = 0; i < found.Count && result.Count < max; i++)
        {
            result.Add(found[i].Name);
        }

        return result;
    }

    /// <summary>Levenshtein distance (insert, delete, substitute: 1 each).</summary>
    public static int Distance(string a, string b)
    {
        if (a.Length == 0)
        {
            return b.Length;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                cur[j] = Math.Min(sub, Math.Min(prev[j] + 1, cur[j - 1] + 1));
            }

            (prev, cur) = (cur, prev);
        }

        return prev[b.Length];
    }
}
