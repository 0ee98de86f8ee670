namespace Orac.Cost;

// Choosing a host's class (docs/cost.md "The model file", hosts).
public sealed partial class CostModel
{
    /// <summary>
    /// As <see cref="ClassFor(string, IReadOnlyDictionary{string, string}, HostFacts?, string?)"/>; <paramref name="note"/>
    /// says when the host's <c>class</c> label named a class the model lacks (and was ignored), without the host name.
    /// </summary>
    internal MachineClass ClassFor(string host, IReadOnlyDictionary<string, string> labels, HostFacts? facts, string? className, out string? note)
    {
        note = null;
        if (className is not null)
        {
            if (Classes.TryGetValue(className, out MachineClass? explicitClass))
            {
                return explicitClass;
            }

            throw new CostModelException($"{Source}: unknown class '{className}' (known: {KnownClasses()})");
        }

        if (labels.TryGetValue("class", out string? labelClass) && labelClass.Length > 0)
        {
            if (Classes.TryGetValue(labelClass, out MachineClass? labelled))
            {
                return labelled;
            }

            note = $"label class={labelClass} names no class of the model; ignored";
        }

        foreach (HostRule rule in Rules)
        {
            if (Matches(rule, host, labels, facts) && Classes.TryGetValue(rule.Class, out MachineClass? ruled))
            {
                return ruled;
            }
        }

        return Classes.TryGetValue(DefaultClass, out MachineClass? d)
            ? d
            : throw new CostModelException($"{Source}: default_class '{DefaultClass}' names no class (known: {KnownClasses()})");
    }

    /// <summary>The class names, sorted, comma-separated (for error messages).</summary>
    internal string KnownClasses()
    {
        var names = new List<string>(Classes.Keys);
        names.Sort(StringComparer.Ordinal);
        return string.Join(", ", names);
    }

    private static bool Matches(HostRule rule, string host, IReadOnlyDictionary<string, string> labels, HostFacts? facts)
    {
        if (rule.HostGlob is not null && !Glob.IsMatch(rule.HostGlob, host, ignoreCase: true))
        {
            return false;
        }

        foreach (KeyValuePair<string, string> want in rule.Labels)
        {
            string? have = want.Key == "host" ? host : labels.TryGetValue(want.Key, out string? v) ? v : null;
            if (have is null || !Glob.IsMatch(want.Value, have, ignoreCase: false))
            {
                return false;
            }
        }

        if (rule.GpuModelContains is not null)
        {
            bool any = false;
            if (facts is not null)
            {
                foreach (string gpu in facts.Gpus)
                {
                    any |= gpu.Contains(rule.GpuModelContains, StringComparison.OrdinalIgnoreCase);
                }
            }

            if (!any)
            {
                return false;
            }
        }

        return rule.Vcpus is not int n || (facts is not null && facts.Cpus == n);
    }
}

/// <summary>Shell-style globs: <c>*</c> any run, <c>?</c> one character; linear time (no backtracking blow-up).</summary>
internal static class Glob
{
    public static bool IsMatch(string pattern, string text, bool ignoreCase)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || Same(pattern[p], text[t], ignoreCase)))
            {
                p++;
                t++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool Same(char a, char b, bool ignoreCase) =>
        a == b || (ignoreCase && char.ToLowerInvariant(a) == char.ToLowerInvariant(b));
}
