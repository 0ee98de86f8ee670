using System.Text;
using Orac.Model;

namespace Orac.Ask;

/// <summary>
/// The deterministic planner: one question (and its context) to one <see cref="Plan"/>, following docs/ask.md "Reading
/// questions" (scope, unknown names, time, kinds, diff sides, delegated work, function names, stated facts, follow-ups).
/// Pure: the clock, zone, inventory, memories and previous plan all come from <see cref="PlanContext"/>.
/// </summary>
public static partial class Planner
{
    /// <summary>Longest question read; a longer one is <see cref="PlanKind.Help"/>.</summary>
    public const int MaxQuestionChars = 2000;

    /// <summary>Most rows a plan asks for.</summary>
    public const int MaxTop = 1000;

    private static readonly Plan s_help = new() { Kind = PlanKind.Help };

    private static readonly string[] s_rememberLeads =
    [
        "please remember that ", "please remember ", "remember that ", "remember: ", "remember ", "note that ", "please note that ",
        "keep in mind that ", "don't forget that ", "do not forget that ", "for the record, ", "for future reference, ", "fyi: ", "fyi, ", "fyi ",
        "memorize that ", "memorise that ", "save this: ", "orac, remember that ", "orac remember that ",
    ];

    private static readonly string[] s_factLeads = ["fyi", "btw", "by the way", "note that", "given that", "remember that", "also", "and", "so", "ok", "okay"];

    /// <summary>Reads <paramref name="question"/>. Never throws for any input; a question it cannot place is <see cref="PlanKind.Help"/>.</summary>
    public static Plan Plan(string? question, PlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(question) || question.Length > MaxQuestionChars)
        {
            return s_help;
        }

        try
        {
            return Read(question, context);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or OracException)
        {
            // Date arithmetic at the edges of the calendar or zone rules: not a question Orac can place.
            return s_help;
        }
    }

    private static Plan Read(string question, PlanContext ctx)
    {
        // A question is one line: control characters (newlines, tabs…) are spaces.
        var text = OneLine(question).Trim();

        // "remember (that) …": the rest is the fact, whatever it says.
        var lower = text.ToLowerInvariant().Replace('\u2019', '\'');
        foreach (var lead in s_rememberLeads)
        {
            if (lower.StartsWith(lead, StringComparison.Ordinal))
            {
                var fact = TrimFact(text[lead.Length..]);
                return fact.Length == 0 ? s_help : new Plan { Kind = PlanKind.Remember, Text = fact };
            }
        }

        // Stated facts beside a question ("our H100s cost $2.10 an hour — what does idle GPU time cost us?").
        var clauses = Clauses(text);
        string? stated = null;
        var rest = new StringBuilder();
        foreach (var clause in clauses)
        {
            var c = TrimFact(StripFactLead(clause));
            if (stated is null && c.Length > 0 && !QuestionLike(c) && MemoryFacts.IsFact(c))
            {
                stated = c;
                continue;
            }

            rest.Append(clause).Append(' ');
        }

        if (stated is not null && string.IsNullOrWhiteSpace(rest.ToString().Trim(' ', '?', '!', '.', ',', ';', '-')))
        {
            return new Plan { Kind = PlanKind.Remember, Text = stated };
        }

        var plan = ReadQuestion(stated is null ? text : rest.ToString(), ctx);
        return stated is null ? plan : plan with { Text = stated };
    }

    private static string OneLine(string s)
    {
        if (!s.Any(char.IsControl))
        {
            return s;
        }

        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString();
    }

    private static string TrimFact(string s) => s.Trim().TrimEnd('.', '!', ';', ',', ' ').Trim().Trim('"', '\u201c', '\u201d').Trim();

    private static string StripFactLead(string clause)
    {
        var c = clause.Trim();
        foreach (var lead in s_factLeads)
        {
            if (c.Length > lead.Length + 1 && c.StartsWith(lead, StringComparison.OrdinalIgnoreCase) && c[lead.Length] is ' ' or ',' or ':')
            {
                return c[(lead.Length + 1)..].TrimStart(' ', ',', ':');
            }
        }

        return c;
    }

    private static bool QuestionLike(string clause)
    {
        if (clause.EndsWith('?'))
        {
            return true;
        }

        var first = Words.Split(clause) is { Count: > 0 } ws ? ws[0].Lower : "";
        return first is "what" or "why" or "how" or "which" or "where" or "who" or "when" or "is" or "are" or "do" or "does" or "did"
            or "can" or "could" or "would" or "should" or "will" or "show" or "give" or "list" or "tell" or "find" or "compare" or "profile";
    }

    // Clauses separated by "—", " – ", " - ", ";", ". ", ", ", "? ", "! " outside braces and quotes.
    private static List<string> Clauses(string text)
    {
        var result = new List<string>();
        var sb = new StringBuilder();
        int depth = 0;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool split = false;
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '`' or '\u201c')
            {
                quote = c == '\u201c' ? '\u201d' : c;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0)
            {
                bool spaceAfter = i + 1 >= text.Length || char.IsWhiteSpace(text[i + 1]);
                bool spaceBefore = i > 0 && char.IsWhiteSpace(text[i - 1]);
                split = c is '\u2014' or ';'
                    || (c is '.' or ',' or '?' or '!' && spaceAfter)
                    || (c is '-' or '\u2013' && spaceBefore && spaceAfter);
            }

            if (split)
            {
                if (sb.Length > 0)
                {
                    result.Add(sb.ToString());
                }

                sb.Clear();
                continue;
            }

            sb.Append(c);
        }

        if (sb.Length > 0)
        {
            result.Add(sb.ToString());
        }

        return result;
    }

    private static Plan ReadQuestion(string text, PlanContext ctx)
    {
        var q = Question.Read(text);
        var kind = Kind(q, ctx.Inventory, out bool countOnlyTop);
        bool kindless = kind is null;
        var previous = ctx.Previous;
        // "top 5 instead" after a top or opportunities plan changes its count; after any other plan it asks for the top
        // functions of the same scope (inherited below).
        bool countsRows = previous?.Kind is PlanKind.Top or PlanKind.Opportunities;
        bool followUp = previous is not null && IsDataKind(previous.Kind)
            && (kind is null || (countOnlyTop && countsRows && (StartsFollowUp(q) || q.Has("instead"))) || (kind == previous.Kind && StartsFollowUp(q)));
        if (followUp)
        {
            kind = previous!.Kind;
        }

        if (kind is null)
        {
            return s_help;
        }

        var k = kind.Value;
        if (k is PlanKind.Memory)
        {
            return new Plan { Kind = PlanKind.Memory };
        }

        bool delegated = k is PlanKind.Slow or PlanKind.Profile;
        var times = new TimePhrases(q, ctx.Now, ctx.Zone);
        times.Read(delegated);
        int? count = ReadCount(q);
        var scope = new ScopeReader(q, ctx);
        scope.Read();
        var memories = new SortedSet<string>(scope.MemoriesUsed, MemoryIdOrder.Instance);

        if (scope.Clarify is { } unknown)
        {
            return unknown with { MemoriesUsed = Sorted(memories) };
        }

        if (times.Unreadable is { } badTime)
        {
            return new Plan { Kind = PlanKind.Clarify, Field = "range", Got = badTime, MemoriesUsed = Sorted(memories) };
        }

        string? function = k == PlanKind.FunctionCost ? ReadFunction(q) : null;

        if (followUp)
        {
            // "tell me a joke" after a plan: no kind, and nothing to put in the previous plan's place.
            bool nothingNew = scope.Items.Count == 0 && !scope.ExplicitAll && times.Ranges.Count == 0 && count is null && times.Seconds is null;
            return kindless && nothingNew && !StartsFollowUp(q) ? s_help : FollowUp(previous!, q, scope, times, count, function, memories);
        }

        bool inherit = previous is not null && IsDataKind(previous.Kind) && scope.Items.Count == 0 && !scope.ExplicitAll
            && (StartsFollowUp(q) || q.Has("it") || q.Has("there") || q.Has("that service") || q.Has("that host") || q.Has("same") || q.Has("instead"));
        string selector;
        if (inherit)
        {
            selector = previous!.Selector;
            memories.UnionWith(previous.MemoriesUsed);
        }
        else
        {
            selector = scope.Selector(ScopeReader.Side.Any);
            if (scope.Items.Count == 0 && !scope.ExplicitAll && ScopeMemory(ctx) is { } sm)
            {
                selector = sm.Selector;
                memories.Add(sm.Id);
            }
        }

        var mem = Sorted(memories);
        var (from, until) = FirstRange(times, k is PlanKind.Opportunities or PlanKind.FunctionCost or PlanKind.GpuIdle ? TimeSpan.FromDays(7) : TimeSpan.FromHours(1), ctx.Now);

        switch (k)
        {
            case PlanKind.Top:
            case PlanKind.Opportunities:
                return new Plan { Kind = k, Selector = selector, FromNs = Ns(from), UntilNs = Ns(until), Top = count ?? global::Orac.Ask.Plan.DefaultTop, MemoriesUsed = mem };
            case PlanKind.Outliers:
            case PlanKind.GpuIdle:
                return new Plan { Kind = k, Selector = selector, FromNs = Ns(from), UntilNs = Ns(until), MemoriesUsed = mem };
            case PlanKind.FunctionCost:
                return function is null
                    ? new Plan { Kind = PlanKind.Clarify, Field = "function", MemoriesUsed = Sorted(scope.MemoriesUsed) }
                    : new Plan { Kind = k, Selector = selector, FromNs = Ns(from), UntilNs = Ns(until), Function = function, MemoriesUsed = mem };
            case PlanKind.Slow:
            case PlanKind.Profile:
                return Delegated(k, selector, scope.ExplicitAll && !inherit, times.Seconds, mem, scope.MemoriesUsed);
            case PlanKind.Diff:
                return inherit
                    ? Diff(q, scope, times, ctx.Now, mem, fixedSelector: selector)
                    : Diff(q, scope, times, ctx.Now, mem, fixedSelector: scope.Items.Count == 0 ? selector : null);
            default:
                return s_help;
        }
    }

    private static Plan Delegated(PlanKind k, string selector, bool explicitAll, int? seconds, IReadOnlyList<string> mem, IReadOnlyCollection<string> namedMemories)
    {
        int s = seconds ?? global::Orac.Ask.Plan.DefaultSeconds;
        if (k == PlanKind.Slow && selector == "{}")
        {
            return new Plan { Kind = PlanKind.Clarify, Field = "scope", MemoriesUsed = Sorted(namedMemories) };
        }

        if (k == PlanKind.Profile && !(selector.Contains("host=", StringComparison.Ordinal) || selector.Contains("host=~", StringComparison.Ordinal) || (explicitAll && selector == "{}")))
        {
            return new Plan { Kind = PlanKind.Clarify, Field = "host", MemoriesUsed = Sorted(namedMemories) };
        }

        bool oneHost = selector.StartsWith("{host=\"", StringComparison.Ordinal) && selector.IndexOf("\", ", StringComparison.Ordinal) < 0 && selector.EndsWith("\"}", StringComparison.Ordinal);
        return new Plan { Kind = k, Selector = selector, Seconds = s, Confirm = !oneHost, MemoriesUsed = mem };
    }

    private static bool IsDataKind(PlanKind k) => k is PlanKind.Top or PlanKind.Opportunities or PlanKind.Diff or PlanKind.Slow or PlanKind.Profile
        or PlanKind.FunctionCost or PlanKind.Outliers or PlanKind.GpuIdle;

    private static bool StartsFollowUp(Question q) =>
        q.At(0) is "and" or "also" or "instead" or "same" or "now" or "then" or "ok" or "okay" or "what" && q.At(1) is "about" or "if"
        || q.At(0) is "and" or "also" or "instead" or "same" or "now" or "then" or "ok" or "okay"
        || (q.At(0) == "how" && q.At(1) == "about");

    /// <summary>"and for the inference service?", "what about yesterday?", "same for gpu-node-8", "top 5 instead": the previous plan with the new parts.</summary>
    private static Plan FollowUp(Plan prev, Question q, ScopeReader scope, TimePhrases times, int? count, string? function, SortedSet<string> memories)
    {
        bool newScope = scope.Items.Count > 0 || scope.ExplicitAll;
        if (!newScope)
        {
            memories.UnionWith(prev.MemoriesUsed);
        }

        // A new matcher replaces the previous plan's matchers of the same label; the others stay ("and the 1.4.2 version?"
        // after "top functions in api" → {service_name="api", version="1.4.2"}). "all hosts"/"the fleet" alone clears them.
        bool kept = false;
        string Merge(string previous)
        {
            if (scope.Items.Count == 0)
            {
                return scope.Selector(ScopeReader.Side.Any);
            }

            var labels = scope.Items.Select(it => it.Label).ToHashSet(StringComparer.Ordinal);
            var items = new List<ScopeItem>(scope.Items);
            try
            {
                foreach (var m in Orac.Model.Query.Selector.Parse(previous).Matchers)
                {
                    if (!labels.Contains(m.Name))
                    {
                        items.Add(new ScopeItem(m.Name, m.Op, m.Value, -1, false));
                        kept = true;
                    }
                }
            }
            catch (OracException)
            {
                // The previous plan's selector is always canonical; if not, the new scope stands alone.
            }

            return ScopeReader.SelectorText(items);
        }

        var selector = newScope ? Merge(prev.Selector) : prev.Selector;
        var mergedBase = newScope && prev.BaseSelector is { } pb ? Merge(pb) : null;
        if (kept)
        {
            memories.UnionWith(prev.MemoriesUsed);
        }
        var range = times.Ranges.Count > 0 ? times.Ranges[0] : null;
        long from = range is null ? prev.FromNs : Ns(range.From), until = range is null ? prev.UntilNs : Ns(range.Until);
        var mem = Sorted(memories);
        switch (prev.Kind)
        {
            case PlanKind.Slow:
            case PlanKind.Profile:
                return Delegated(prev.Kind, selector, scope.ExplicitAll, times.Seconds ?? prev.Seconds, mem, scope.MemoriesUsed);
            case PlanKind.Diff:
                if (times.Ranges.Count == 0 && !newScope)
                {
                    return prev with { MemoriesUsed = mem, Text = null };
                }

                var baseSel = newScope ? mergedBase ?? selector : prev.BaseSelector ?? prev.Selector;
                long bFrom = prev.BaseFromNs, bUntil = prev.BaseUntilNs;
                bool twoScopes = prev.BaseSelector is not null && prev.BaseSelector != prev.Selector && !newScope;
                if (range is not null)
                {
                    if (twoScopes)
                    {
                        (bFrom, bUntil) = (from, until);
                    }
                    else
                    {
                        (bFrom, bUntil) = (from - (until - from), from);
                    }
                }

                return prev with { Selector = selector, BaseSelector = baseSel, FromNs = from, UntilNs = until, BaseFromNs = bFrom, BaseUntilNs = bUntil, MemoriesUsed = mem, Text = null };
            case PlanKind.FunctionCost:
                return prev with { Selector = selector, FromNs = from, UntilNs = until, Function = function ?? prev.Function, MemoriesUsed = mem, Text = null };
            default:
                return prev with { Selector = selector, FromNs = from, UntilNs = until, Top = count ?? prev.Top, MemoriesUsed = mem, Text = null };
        }
    }

    private static (DateTimeOffset From, DateTimeOffset Until) FirstRange(TimePhrases times, TimeSpan fallback, DateTimeOffset now) =>
        times.Ranges.Count > 0 ? (times.Ranges[0].From, times.Ranges[0].Until) : (now - fallback, now);

    /// <summary>Unix ns of an instant (to the second: the canonical form prints seconds).</summary>
    internal static long Ns(DateTimeOffset t) => t.ToUnixTimeSeconds() * 1_000_000_000;

    private static (string Selector, string Id)? ScopeMemory(PlanContext ctx)
    {
        for (int i = ctx.Memories.Count - 1; i >= 0; i--)
        {
            var m = ctx.Memories[i];
            if (m.Fact.Kind == MemoryFacts.Scope && m.Fact.Value is { } v && MemoryFacts.CanonicalSelector(v) is { } sel)
            {
                return (sel, m.Id);
            }
        }

        return null;
    }

    private static List<string> Sorted(IEnumerable<string> ids)
    {
        var l = ids.Distinct(StringComparer.Ordinal).ToList();
        l.Sort(MemoryIdOrder.Instance);
        return l;
    }

    // "top 5", "top-5", "5 hottest functions", "first 20", "the 3 most expensive", "5 instead": the row count.
    private static int? ReadCount(Question q)
    {
        for (int i = 0; i < q.Toks.Count; i++)
        {
            var t = q.Toks[i];
            if (t.Used || t.Kind != TokKind.Word)
            {
                continue;
            }

            var w = t.Lower;
            if (w.StartsWith("top", StringComparison.Ordinal) && w.Length > 3 && Count(w[3..].TrimStart('-')) is { } glued)
            {
                t.Used = true;
                return glued;
            }

            if (w is "top" or "first" or "only" or "just" or "show" or "give" or "list" && Count(q.At(i + 1)) is { } n)
            {
                if (!IsUnitAt(q, i + 2))
                {
                    t.Used = true;
                    q.Toks[i + 1].Used = true;
                    return n;
                }
            }

            if (Count(w) is { } m && !IsUnitAt(q, i + 1))
            {
                for (int j = i + 1; j <= i + 4 && j < q.Toks.Count; j++)
                {
                    if (q.At(j) is "functions" or "function" or "hottest" or "heaviest" or "slowest" or "biggest" or "most" or "largest"
                        or "expensive" or "costliest" or "opportunities" or "things" or "items" or "results" or "rows" or "spots" or "offenders"
                        or "savings" or "ones" or "frames" or "stacks" or "paths" or "entries" or "culprits" or "wins" or "methods" or "symbols"
                        or "consumers" or "hogs" or "fixes" or "candidates" or "places" or "instead" or "hot" or "top" or "worst" or "busiest")
                    {
                        t.Used = true;
                        return m;
                    }

                    if (!(q.At(j) is "the" or "most" or "cpu" or "hungry" or "heavy" or "expensive" or "hot" or "biggest"))
                    {
                        break;
                    }
                }
            }
        }

        return null;
    }

    private static bool IsUnitAt(Question q, int i) => q.At(i) is "s" or "sec" or "second" or "seconds" or "m" or "min" or "minute" or "minutes" or "h" or "hour" or "hours"
        or "d" or "day" or "days" or "week" or "weeks" or "month" or "months" or "ago" or "am" or "pm";

    private static int? Count(string w)
    {
        if (w is "a" or "an" or "few" or "couple" || !TimePhrases.Number(w, out var n) || n != Math.Floor(n) || n < 1)
        {
            return null;
        }

        return (int)Math.Min(n, MaxTop);
    }

    // The function a function-cost question names: a quoted string, a code-like word, or "function X" / "X function".
    private static string? ReadFunction(Question q)
    {
        foreach (var t in q.Toks)
        {
            if (!t.Used && t.Kind == TokKind.Quoted)
            {
                t.Used = true;
                return t.Text;
            }
        }

        foreach (var t in q.Toks)
        {
            if (!t.Used && t.Kind == TokKind.Word && LooksLikeCode(t.Text))
            {
                t.Used = true;
                return t.Text;
            }
        }

        // "cost of malloc", "what does memcpy cost", "spend on gzip", "time in X": known names were taken by the scope.
        for (int i = 0; i < q.Toks.Count; i++)
        {
            if (FunctionPositionAt(q, i) && IsFunctionNameAt(q, i) && !q.Toks[i].Used)
            {
                q.Toks[i].Used = true;
                return q.Toks[i].Text;
            }
        }

        for (int i = 0; i < q.Toks.Count; i++)
        {
            if (q.At(i) is "function" or "method" or "symbol" or "frame")
            {
                foreach (int j in (ReadOnlySpan<int>)[i + 1, i - 1])
                {
                    if (IsFunctionNameAt(q, j) && !q.Toks[j].Used)
                    {
                        q.Toks[j].Used = true;
                        return q.Toks[j].Text;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Orders memory ids m1 &lt; m2 &lt; m10 (by length, then text).</summary>
    private sealed class MemoryIdOrder : IComparer<string>
    {
        public static readonly MemoryIdOrder Instance = new();

        public int Compare(string? x, string? y) =>
            x is null || y is null ? string.CompareOrdinal(x, y) : x.Length != y.Length ? x.Length.CompareTo(y.Length) : string.CompareOrdinal(x, y);
    }
}
