using Orac.Ask;
using Orac.Client;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Mcp;

/// <summary>
/// The selection a tool call names (<c>query</c> plus <c>service</c> and <c>host</c>), checked against the org's
/// inventory before anything runs: a service or host name Orac has never seen is a tool error with the nearest known
/// names ("unknown service 'infer'; did you mean 'inference'?"), not an empty answer that looks like "no CPU used".
/// </summary>
internal static class Scope
{
    /// <summary>How far back names are looked up: the server's longest query range.</summary>
    private const long InventoryWindowNs = 30L * 24 * 3600 * TimeSpec.NsPerSecond;

    /// <summary>Builds the selector text from <c>{prefix}query</c>, <c>{prefix}service</c>, <c>{prefix}host</c>; validates names.</summary>
    public static async Task<string> SelectorAsync(OracApi api, ToolArgs a, CancellationToken ct, string prefix = "", bool fleet = false)
    {
        string? query = a.Str(prefix + "query");
        string? service = a.Str(prefix + "service");
        string? host = a.Str(prefix + "host");
        Selector parsed;
        try
        {
            // A bare word is a service name, as the API reads query=api.
            parsed = query is not null && !query.Contains('{', StringComparison.Ordinal) && !query.Contains(':', StringComparison.Ordinal)
                ? new Selector([new LabelMatcher("service_name", MatchOp.Equal, query)])
                : Selector.Parse(query);
        }
        catch (OracException e)
        {
            throw new ToolArgException($"argument '{prefix}query': {e.Message}");
        }

        var matchers = new List<LabelMatcher>(parsed.Matchers);
        if (service is not null)
        {
            matchers.RemoveAll(m => m.Name == "service_name");
            matchers.Add(new LabelMatcher("service_name", MatchOp.Equal, service));
        }

        if (host is not null)
        {
            matchers.RemoveAll(m => m.Name == "host");
            matchers.Add(new LabelMatcher("host", MatchOp.Equal, host));
        }

        var names = new List<(string Label, string Value)>();
        foreach (LabelMatcher m in matchers)
        {
            if (m.Op == MatchOp.Equal && m.Name is "service_name" or "host" && m.Value.Length > 0)
            {
                names.Add((m.Name, m.Value));
            }
        }

        if (names.Count > 0)
        {
            await CheckNamesAsync(api, names, fleet, ct).ConfigureAwait(false);
        }

        matchers.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
        return new Selector(matchers, parsed.Type).ToString();
    }

    private static async Task CheckNamesAsync(OracApi api, List<(string Label, string Value)> names, bool fleet, CancellationToken ct)
    {
        long now = TimeSpec.NowNs();
        var known = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach ((string label, _) in names)
        {
            if (known.ContainsKey(label))
            {
                continue;
            }

            LabelValuesDocument values = await api.LabelValuesAsync(label, now - InventoryWindowNs, now, ct).ConfigureAwait(false);
            var set = new SortedSet<string>(values.Values, StringComparer.Ordinal);
            if (label == "host" || fleet)
            {
                // Hosts: stored profiles and the fleet's agents (a host with an agent but no profile yet is known).
                try
                {
                    FleetDocument agents = await api.FleetAsync("", ct).ConfigureAwait(false);
                    foreach (AgentDocument d in agents.Agents)
                    {
                        if (label == "host")
                        {
                            set.Add(d.Info.Hostname);
                        }
                        else if (d.Labels.TryGetValue(label, out string? v))
                        {
                            set.Add(v);
                        }
                    }
                }
                catch (OracException)
                {
                    // A token that may not list agents still gets the stored names.
                }
            }

            known[label] = set;
        }

        foreach ((string label, string value) in names)
        {
            SortedSet<string> set = known[label];
            if (set.Contains(value))
            {
                continue;
            }

            string word = label == "host" ? "host" : "service";
            IReadOnlyList<string> near = NearNames.Suggest(value, set);
            if (near.Count > 0)
            {
                throw new ToolArgException($"unknown {word} '{ToolArgs.Escape(value)}'; did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?");
            }

            string listed = set.Count == 0 ? $"no {word}s have data yet" : $"known {word}s: {string.Join(", ", set.Take(20))}{(set.Count > 20 ? $" (+{set.Count - 20} more)" : "")}";
            throw new ToolArgException($"unknown {word} '{ToolArgs.Escape(value)}' ({listed})");
        }
    }
}
