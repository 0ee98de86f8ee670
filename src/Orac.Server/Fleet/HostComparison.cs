using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Server.Fleet;

/// <summary>
/// "Which hosts differ most from the rest": for each host, its functions' self shares against those of all other hosts
/// together. Distance = ½ Σ |share_host(f) − share_rest(f)| × 100 percentage points (0: same mix, 100: nothing in
/// common); the three functions with the largest difference explain it. A lone host has distance 0.
/// </summary>
internal static class HostComparison
{
    /// <summary>Hosts, most different first (ties by host name).</summary>
    public static List<HostDivergence> Compare(IReadOnlyList<(string Host, Profile Profile)> hosts)
    {
        var selfs = new List<Dictionary<string, long>>(hosts.Count);
        var totals = new long[hosts.Count];
        var all = new Dictionary<string, long>(StringComparer.Ordinal);
        long allTotal = 0;
        for (int h = 0; h < hosts.Count; h++)
        {
            Profile p = hosts[h].Profile;
            TopFunctions top = TopFunctions.Compute(p);
            var self = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (TopFunction f in top.Rows)
            {
                if (f.Self == 0)
                {
                    continue;
                }

                string name = p.FrameName(f.Frame);
                self[name] = self.GetValueOrDefault(name) + f.Self;
                all[name] = all.GetValueOrDefault(name) + f.Self;
            }

            selfs.Add(self);
            totals[h] = top.ProfileTotal;
            allTotal += top.ProfileTotal;
        }

        var result = new List<HostDivergence>(hosts.Count);
        for (int h = 0; h < hosts.Count; h++)
        {
            if (hosts.Count == 1)
            {
                result.Add(new HostDivergence { Host = hosts[h].Host, Total = totals[h], DistancePercent = 0, Differs = [] });
                continue;
            }

            double hostTotal = totals[h];
            double restTotal = allTotal - totals[h];
            double sum = 0;
            var diffs = new List<(string Name, double Mine, double Others)>();
            foreach (KeyValuePair<string, long> kv in all)
            {
                long mine = selfs[h].GetValueOrDefault(kv.Key);
                long rest = kv.Value - mine;
                double hs = hostTotal > 0 ? mine / hostTotal : 0;
                double rs = restTotal > 0 ? rest / restTotal : 0;
                sum += Math.Abs(hs - rs);
                if (hs != rs)
                {
                    diffs.Add((kv.Key, hs, rs));
                }
            }

            diffs.Sort((a, b) => Math.Abs(b.Mine - b.Others).CompareTo(Math.Abs(a.Mine - a.Others)) is int c && c != 0 ? c : string.CompareOrdinal(a.Name, b.Name));
            result.Add(new HostDivergence
            {
                Host = hosts[h].Host,
                Total = totals[h],
                DistancePercent = Math.Round(sum * 50, 2),
                Differs = [.. diffs.Take(3).Select(d => new FunctionShare { Name = d.Name, HostPercent = Math.Round(d.Mine * 100, 2), RestPercent = Math.Round(d.Others * 100, 2) })],
            });
        }

        result.Sort((a, b) => b.DistancePercent.CompareTo(a.DistancePercent) is int c && c != 0 ? c : string.CompareOrdinal(a.Host, b.Host));
        return result;
    }
}
