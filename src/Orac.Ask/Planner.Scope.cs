using System.Text;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Ask;

public static partial class Planner
{
    // Words never read as an unknown name, even where a name could stand ("for all", "in the", "on cpu"): common English,
    // Orac's own vocabulary, and every word of the kind phrases.
    private static readonly HashSet<string> s_common = BuildCommon();

    private static HashSet<string> BuildCommon()
    {
        var set = new HashSet<string>(StringComparer.Ordinal)
        {
            "a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "their", "its", "it", "me", "us", "we", "i", "you", "they",
            "them", "he", "she", "all", "any", "every", "each", "some", "no", "not", "none", "both", "either", "other", "others", "another",
            "and", "or", "but", "so", "if", "then", "than", "as", "at", "by", "for", "from", "in", "into", "of", "off", "on", "onto", "out",
            "over", "to", "up", "with", "within", "without", "about", "after", "before", "since", "until", "between", "during", "across",
            "per", "via", "vs", "against", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have",
            "has", "had", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "what", "why", "how", "which", "where",
            "who", "when", "whom", "whose", "there", "here", "now", "right", "currently", "today", "yesterday", "tomorrow", "last", "past",
            "next", "previous", "recent", "recently", "morning", "afternoon", "evening", "night", "week", "weeks", "month", "months", "day",
            "days", "hour", "hours", "minute", "minutes", "second", "seconds", "time", "times", "ago", "hosts", "host", "service", "services",
            "machine", "machines", "node", "nodes", "server", "servers", "box", "boxes", "instance", "instances", "cluster", "clusters", "fleet",
            "everything", "everywhere", "anything", "something", "nothing", "org", "team", "teams", "orgs", "group", "prod", "production",
            "staging", "cpu", "cpus", "gpu", "gpus", "vcpu", "vcpus", "memory", "ram", "disk", "io", "network", "code", "app", "apps",
            "application", "system", "systems", "thing", "things", "stuff", "one", "ones", "two", "three", "lot", "lots", "much", "many", "more",
            "most", "less", "least", "very", "really", "just", "only", "also", "too", "still", "again", "please", "pls", "thanks", "thank",
            "orac", "hey", "hi", "hello", "ok", "okay", "yes", "no", "same", "instead", "general", "total", "overall", "whole", "entire",
            "particular", "detail", "details", "terms", "order", "short", "long", "usual", "normal", "peak", "load", "traffic", "latency",
            "requests", "request", "users", "user", "customers", "deploy", "deployment", "release", "version", "versions", "env", "region",
            "label", "labels", "data", "last", "first", "new", "old", "fresh", "quick", "quickly", "live", "real", "being", "doing", "going",
            "using", "used", "use", "run", "running", "runs", "look", "looking", "show", "give", "list", "tell", "find", "get", "see", "check",
            "let", "want", "need", "like", "know", "think", "seems", "seem", "looks", "make", "take", "grab", "collect", "start", "kick",
            "profile", "profiles", "profiling", "record", "recording", "capture", "trace", "tracing", "function", "functions", "method",
            "methods", "symbol", "symbols", "frame", "frames", "stack", "stacks", "path", "paths", "call", "calls", "graph", "graphs", "chart",
            "perf", "performance", "slow", "slower", "slowest", "fast", "faster", "fastest", "top", "hot", "hottest", "idle", "cost", "costs",
            "money", "dollars", "bill", "year", "yearly", "annual", "annually", "savings", "save", "kubernetes", "k8s", "linux", "java",
            "python", "go", "golang", "rust", "node.js", "dotnet", "net", "jvm", "gc", "garbage", "collection", "kernel", "user-space",
            "userspace", "mode", "latest", "current", "today's", "tonight", "weekend", "hourly", "daily", "weekly", "monthly", "ones",
            "different", "differently", "same", "change", "changed", "changes", "why", "because", "while", "during", "whole", "region",
            "minute", "half", "couple", "few", "several", "many", "numbers", "number", "percent", "usage", "utilization", "bottleneck",
            "bottlenecks", "problem", "problems", "issue", "issues", "spike", "spikes", "deployments", "builds", "build", "tests", "test",
            "regression", "regressions", "worst", "best", "biggest", "largest", "heaviest", "busiest", "expensive", "cheapest", "fix",
            "optimize", "improve", "work", "working", "worked", "area", "areas", "part", "parts", "side", "level", "place", "places",
            // Words that follow "in", "on" or "for" without naming anything ("on average", "for example", "in parallel").
            "example", "examples", "instance", "average", "sure", "reference", "comparison", "practice", "purpose", "aggregate", "parallel",
            "future", "case", "fact", "advance", "addition", "summary", "context", "question", "realtime", "progress", "depth", "hurry",
            "mind", "way", "line", "kind", "kinds", "sort", "type", "types", "breakdown", "once", "review", "incident", "incidents", "outage",
            "outages", "postmortem", "standup", "meeting", "report", "reports", "dashboard", "dashboards", "slack", "charts", "table",
            "tables", "detail", "particular", "short", "sum", "theory", "turn", "contrast", "response", "responses", "hand", "call",
            "oncall", "on-call", "duty", "board", "prod's", "environment", "environments", "cloud", "aws", "gcp", "azure", "premises",
            "datacenter", "datacentre", "dc", "region", "regions", "zone", "zones", "rack", "racks", "pod", "pods", "container",
            "containers", "namespace", "namespaces", "process", "processes", "thread", "threads", "job", "jobs", "workload", "workloads",
            "library", "libraries", "lib", "libs", "module", "modules", "package", "packages", "binary", "binaries", "syscalls", "syscall",
            "allocations", "allocation", "locks", "lock", "mutex", "mutexes", "io-wait", "iowait", "gc'ing", "serialization",
            "serialisation", "json", "parsing", "regex", "hashing", "compression", "encryption", "tls", "ssl", "logging", "logs", "metrics",
            "spans", "weeks'", "ms", "milliseconds", "seconds'", "secs", "sec", "mins", "min", "hrs", "hr", "total", "all", "general",
            "detail", "real-time", "staging's", "prod-like", "production-like", "both", "either", "neither", "each", "those", "these",
            "bit", "moment", "spell", "tick", "later", "good", "free", "meantime", "meanwhile", "interim", "background", "foreground",
            "end", "middle", "beginning", "lately", "percentage", "percentages", "share", "shares", "words", "english", "plain", "brief",
            "full", "text", "csv", "markdown", "format", "flamegraph", "chat", "advance", "total", "isolation", "production's",
        };
        foreach (var list in (ReadOnlySpan<string[]>)[s_memoryPhrases, s_gpuIdleWords, s_outlierPhrases, s_outlierWeak, s_hostWords, s_diffPhrases, s_oppPhrases, s_slowPhrases, s_topPhrases, s_costWords, s_helpPhrases, s_profileLead, s_profilePhrases])
        {
            foreach (var phrase in list)
            {
                foreach (var w in phrase.Split(' '))
                {
                    set.Add(w);
                }
            }
        }

        foreach (var d in (ReadOnlySpan<string>)["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"])
        {
            set.Add(d);
            set.Add(d + "s");
        }

        return set;
    }

    /// <summary>One label constraint read from the question, with its position (for diff sides).</summary>
    internal sealed record ScopeItem(string Label, MatchOp Op, string Value, int Pos, bool Named);

    /// <summary>Reads the scope: known names, label values, typed selectors, aliases and owners from memory; unknown names become a clarify plan.</summary>
    internal sealed class ScopeReader(Question q, PlanContext ctx)
    {
        private static readonly string[] s_teamWords = ["team", "teams", "org", "orgs", "organisation", "organization", "group", "squad", "department"];

        // Words after which a name stands ("service X", "for X", "on X", "in X", "why is X slow", "X vs Y").
        private static readonly HashSet<string> s_before = new(StringComparer.Ordinal)
        {
            "service", "services", "for", "on", "in", "of", "with", "about", "host", "hosts", "node", "machine", "box", "server", "profile",
            "investigate", "compare", "vs", "to", "than", "and", "is", "are", "debug", "record", "capture", "from", "across", "at",
        };

        // Words before which a name stands ("X service", "X is slow", "X vs Y").
        private static readonly HashSet<string> s_after = new(StringComparer.Ordinal)
        {
            "service", "services", "host", "hosts", "node", "box", "machine", "server", "is", "slow", "sluggish", "laggy", "vs", "and",
        };

        // Where only a name can stand: a word there that nothing knows is asked back ("on frontends" → clarify scope).
        private static readonly HashSet<string> s_strongBefore = new(StringComparer.Ordinal) { "on", "for", "in", "service", "services", "host", "hosts" };

        private static readonly HashSet<string> s_strongAfter = new(StringComparer.Ordinal) { "service", "services", "host", "hosts" };

        public enum Side
        {
            Any,
            New,
            Base,
        }

        public List<ScopeItem> Items { get; } = [];

        public bool ExplicitAll { get; private set; }

        public HashSet<string> MemoriesUsed { get; } = new(StringComparer.Ordinal);

        /// <summary>A name the inventory does not know (or a bad typed selector): the question back.</summary>
        public Plan? Clarify { get; private set; }

        public void Read()
        {
            var inv = ctx.Inventory;
            var toks = q.Toks;
            for (int i = 0; i < toks.Count && Clarify is null; i++)
            {
                var t = toks[i];
                if (t.Used)
                {
                    continue;
                }

                if (t.Kind == TokKind.Selector)
                {
                    TypedSelector(t.Text, i);
                    t.Used = true;
                    continue;
                }

                if (AllAt(i) is int allLen and > 0)
                {
                    ExplicitAll = true;
                    Use(i, allLen);
                    i += allLen - 1;
                    continue;
                }

                if (AliasAt(i) is int aliasLen and > 0)
                {
                    Use(i, aliasLen);
                    i += aliasLen - 1;
                    continue;
                }

                if (OwnerAt(i) is int ownerLen and > 0)
                {
                    Use(i, ownerLen);
                    i += ownerLen - 1;
                    continue;
                }

                var w = t.Lower;
                if (Known(inv.Services, w) is { } service)
                {
                    Items.Add(new ScopeItem("service_name", MatchOp.Equal, service, i, true));
                    t.Used = true;
                    continue;
                }

                if (Known(inv.Hosts, w) is { } host)
                {
                    Items.Add(new ScopeItem("host", MatchOp.Equal, host, i, true));
                    t.Used = true;
                    continue;
                }

                if (LabelValue(w) is { } lv)
                {
                    Items.Add(new ScopeItem(lv.Label, MatchOp.Equal, lv.Value, i, true));
                    t.Used = true;
                    continue;
                }

                if (t.Kind == TokKind.Quoted)
                {
                    continue; // a function name, read later
                }

                if (w.Contains('=', StringComparison.Ordinal) && MemoryFacts.CanonicalSelector(t.Text) is not null)
                {
                    TypedSelector(t.Text, i);
                    t.Used = true;
                    continue;
                }

                // "version 1.6.0": a value of a known label name that the label does not have.
                if (i > 0 && inv.Labels.TryGetValue(q.At(i - 1), out var values) && !s_common.Contains(w)
                    && (char.IsAsciiDigit(w[0]) || MemoryFacts.IsNameLike(t.Text)))
                {
                    Clarify = new Plan { Kind = PlanKind.Clarify, Field = "label", Got = t.Text, Suggestions = NearNames.Suggest(t.Text, values) };
                    break;
                }

                Unknown(i);
            }
        }

        private void Use(int i, int n)
        {
            for (int k = i; k < i + n && k < q.Toks.Count; k++)
            {
                q.Toks[k].Used = true;
                q.Toks[k].UsedBy ??= "scope";
            }
        }

        // "all hosts", "every host", "the fleet", "the whole fleet", "everything", "all services", "org-wide", "fleet-wide".
        private int AllAt(int i)
        {
            var w = q.At(i);
            var n = q.At(i + 1);
            if (w is "fleet" or "everything" or "everywhere" or "org-wide" or "fleet-wide" or "fleetwide")
            {
                return 1;
            }

            if (w is "all" or "every" or "each" && n is "hosts" or "host" or "machines" or "machine" or "nodes" or "node" or "servers" or "boxes" or "services" or "service" or "instances")
            {
                return 2;
            }

            if (w is "whole" or "entire" && n is "fleet" or "org" or "organisation" or "organization" or "company" or "cluster")
            {
                return 2;
            }

            if (w is "all" && n is "of" && q.At(i + 2) is "them" or "it")
            {
                return 3;
            }

            return 0;
        }

        private static string? Known(IReadOnlyList<string> names, string lower)
        {
            foreach (var n in names)
            {
                if (string.Equals(n, lower, StringComparison.OrdinalIgnoreCase))
                {
                    return n;
                }
            }

            return null;
        }

        // A value of exactly one label name.
        private (string Label, string Value)? LabelValue(string lower)
        {
            (string, string)? found = null;
            foreach (var (label, values) in ctx.Inventory.Labels)
            {
                if (Known(values, lower) is { } v)
                {
                    if (found is not null)
                    {
                        return null;
                    }

                    found = (label, v);
                }
            }

            return found;
        }

        private void TypedSelector(string text, int pos)
        {
            var canonical = MemoryFacts.CanonicalSelector(text);
            if (canonical is null)
            {
                Clarify = new Plan { Kind = PlanKind.Clarify, Field = "scope", Got = text };
                return;
            }

            try
            {
                foreach (var m in Orac.Model.Query.Selector.Parse(canonical).Matchers)
                {
                    Items.Add(new ScopeItem(m.Name, m.Op, m.Value, pos, false));
                }
            }
            catch (OracException)
            {
                Clarify = new Plan { Kind = PlanKind.Clarify, Field = "scope", Got = text };
            }
        }

        // An alias memory's word(s) at i ("frontends", "the frontend hosts").
        private int AliasAt(int i)
        {
            foreach (var m in ctx.Memories)
            {
                if (m.Fact.Kind != MemoryFacts.Alias || m.Fact.Subject is not { Length: > 0 } subject || m.Fact.Value is null)
                {
                    continue;
                }

                var parts = subject.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (!MatchWords(i, parts))
                {
                    continue;
                }

                var canonical = MemoryFacts.CanonicalSelector(m.Fact.Value);
                if (canonical is null)
                {
                    continue;
                }

                foreach (var mm in Orac.Model.Query.Selector.Parse(canonical).Matchers)
                {
                    Items.Add(new ScopeItem(mm.Name, mm.Op, mm.Value, i, false));
                }

                MemoriesUsed.Add(m.Id);
                return parts.Length;
            }

            return 0;
        }

        // Words equal to parts at i (the last may differ by a plural "s": "frontend" / "frontends").
        private bool MatchWords(int i, string[] parts)
        {
            if (parts.Length == 0 || i + parts.Length > q.Toks.Count)
            {
                return false;
            }

            for (int j = 0; j < parts.Length; j++)
            {
                var w = q.Toks[i + j].Lower;
                var p = parts[j];
                bool last = j == parts.Length - 1;
                if (q.Toks[i + j].Used || !(w == p || (last && (w + "s" == p || w == p + "s"))))
                {
                    return false;
                }
            }

            return true;
        }

        // "the search team", "the search org's services", "services owned by search": an owner memory's services.
        private int OwnerAt(int i)
        {
            var after = q.At(i - 1) == "by" && q.At(i - 2) is "owned" or "run" or "maintained" || q.At(i - 1) == "to" && q.At(i - 2) == "belonging";
            var owners = new Dictionary<string, (List<string> Services, List<string> Ids)>(StringComparer.Ordinal);
            foreach (var m in ctx.Memories)
            {
                if (m.Fact.Kind == MemoryFacts.Owner && m.Fact.Subject is { Length: > 0 } svc && m.Fact.Value is { Length: > 0 } team)
                {
                    var key = team.ToLowerInvariant();
                    if (!owners.TryGetValue(key, out var entry))
                    {
                        entry = ([], []);
                        owners[key] = entry;
                    }

                    entry.Services.Add(svc);
                    entry.Ids.Add(m.Id);
                }
            }

            foreach (var (team, entry) in owners)
            {
                var parts = team.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (!MatchWords(i, parts))
                {
                    continue;
                }

                int len = parts.Length;
                bool teamWord = s_teamWords.Contains(q.At(i + len));
                if (!teamWord && !after)
                {
                    continue;
                }

                if (teamWord)
                {
                    len++;
                }

                foreach (var s in entry.Services)
                {
                    Items.Add(new ScopeItem("service_name", MatchOp.Equal, s, i, true));
                }

                MemoriesUsed.UnionWith(entry.Ids);
                return len;
            }

            // "the payments team" with no owner memory for it: a scope we cannot resolve.
            var w = q.At(i);
            if (s_teamWords.Contains(q.At(i + 1)) && !s_common.Contains(w) && MemoryFacts.IsNameLike(w) && !TimePhrases.Number(w, out _)
                && Known(ctx.Inventory.Services, w) is null && q.At(i - 1) is "the" or "for" or "in" or "of" or "by")
            {
                Clarify = new Plan { Kind = PlanKind.Clarify, Field = "scope", Got = q.Toks[i].Text + " " + q.Toks[i + 1].Text };
                return 1;
            }

            return 0;
        }

        // A word the inventory does not know, where a name stands, close to known names → clarify with suggestions.
        private void Unknown(int i)
        {
            var t = q.Toks[i];
            var w = t.Lower;
            if (t.Kind != TokKind.Word || w.Length < 3 || s_common.Contains(w) || TimePhrases.Number(w, out _) || LooksLikeCode(t.Text)
                || !MemoryFacts.IsNameLike(t.Text) || MemoryFacts.GpuModel(t.Text) is not null)
            {
                return;
            }

            var inv = ctx.Inventory;
            bool hostLike = HostLike(w);
            int prevIdx = i - 1;
            while (prevIdx >= 0 && q.At(prevIdx) is "the" or "a" or "an" or "our" or "my")
            {
                prevIdx--;
            }

            bool position = hostLike || s_before.Contains(q.At(prevIdx)) || s_after.Contains(q.At(i + 1));
            if (!position || FunctionPositionAt(q, i))
            {
                return;
            }

            var services = NearNames.Suggest(t.Text, inv.Services);
            var hosts = NearNames.Suggest(t.Text, inv.Hosts);
            bool serviceWord = q.At(i + 1) is "service" or "services" || q.At(prevIdx) is "service" or "services";
            bool hostWord = q.At(i + 1) is "host" or "hosts" or "node" or "machine" or "box" || q.At(prevIdx) is "host" or "hosts" or "node" or "machine" or "box";
            if (hostLike || hostWord)
            {
                if (hostWord || hosts.Count > 0 || services.Count == 0)
                {
                    Clarify = new Plan { Kind = PlanKind.Clarify, Field = "host", Got = t.Text, Suggestions = hosts };
                    return;
                }
            }

            if (serviceWord && services.Count > 0)
            {
                Clarify = new Plan { Kind = PlanKind.Clarify, Field = "service", Got = t.Text, Suggestions = services };
                return;
            }

            if (services.Count == 0 && hosts.Count == 0)
            {
                // "on frontends", "for payments", "the ledger service": a name nothing knows. Never widen the scope by guessing.
                if (s_strongBefore.Contains(q.At(prevIdx)) || s_strongAfter.Contains(q.At(i + 1)))
                {
                    Clarify = new Plan { Kind = PlanKind.Clarify, Field = "scope", Got = t.Text };
                }

                return;
            }

            bool pickService = hosts.Count == 0 || (services.Count > 0 && Best(t.Text, services) <= Best(t.Text, hosts));
            Clarify = pickService
                ? new Plan { Kind = PlanKind.Clarify, Field = "service", Got = t.Text, Suggestions = services }
                : new Plan { Kind = PlanKind.Clarify, Field = "host", Got = t.Text, Suggestions = hosts };
        }

        private static int Best(string got, IReadOnlyList<string> names) => names.Count == 0 ? int.MaxValue : NearNames.Distance(got.ToLowerInvariant(), names[0].ToLowerInvariant());

        /// <summary>"gpu-node-9", "web-9", "db-2": letters, then hyphenated parts, ending in a digit.</summary>
        internal static bool HostLike(string w)
        {
            if (w.Length is < 3 or > 100 || !char.IsAsciiLetter(w[0]) || !char.IsAsciiDigit(w[^1]) || !w.Contains('-', StringComparison.Ordinal))
            {
                return false;
            }

            foreach (var c in w)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Canonical selector text of the items on a side (common items are on both).</summary>
        public string Selector(Side side, Func<ScopeItem, Side>? sideOf = null)
        {
            var items = side == Side.Any || sideOf is null ? Items : Items.Where(it => sideOf(it) is var s && (s == Side.Any || s == side)).ToList();
            return SelectorText(items);
        }

        public static string SelectorText(IReadOnlyList<ScopeItem> items)
        {
            var labels = items.Select(it => it.Label).Distinct(StringComparer.Ordinal).OrderBy(l => l, StringComparer.Ordinal).ToList();
            var parts = new List<string>();
            foreach (var label in labels)
            {
                var named = items.Where(it => it.Label == label && it.Named && it.Op == MatchOp.Equal).Select(it => it.Value).Distinct(StringComparer.Ordinal).OrderBy(v => v, StringComparer.Ordinal).ToList();
                if (named.Count == 1)
                {
                    parts.Add(Matcher(label, "=", named[0]));
                }
                else if (named.Count > 1)
                {
                    parts.Add(Matcher(label, "=~", string.Join('|', named.Select(RegexLiteral))));
                }

                foreach (var it in items.Where(it => it.Label == label && !(it.Named && it.Op == MatchOp.Equal)))
                {
                    var op = it.Op switch { MatchOp.Equal => "=", MatchOp.NotEqual => "!=", MatchOp.Regex => "=~", _ => "!~" };
                    var m = Matcher(label, op, it.Value);
                    if (!parts.Contains(m))
                    {
                        parts.Add(m);
                    }
                }
            }

            return "{" + string.Join(", ", parts) + "}";
        }

        // Selector text of one matcher; newline and tab escaped as the selector parser reads them back, so it stays one line.
        private static string Matcher(string name, string op, string value) =>
            name + op + "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal) + "\"";

        private static string RegexLiteral(string name)
        {
            var sb = new StringBuilder(name.Length);
            foreach (var c in name)
            {
                if (c is '.' or '+' or '*' or '?' or '(' or ')' or '[' or ']' or '{' or '}' or '|' or '^' or '$' or '\\')
                {
                    sb.Append('\\');
                }

                sb.Append(c);
            }

            return sb.ToString();
        }
    }
}
