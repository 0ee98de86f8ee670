namespace Orac.Ask;

public static partial class Planner
{
    /// <summary>
    /// Diff sides (docs/ask.md "Diff sides"): "between A and B" and "from A to B" → base A, new B; "A vs B", "compare A
    /// to/with B", "A compared to B", "A than B" → new A, base B. A label (or the range) named on only one side applies to
    /// both. Two ranges: one per side. One range R and two scopes: both sides R. One scope: the base is the equally
    /// long range before R, or R shifted back 24 h / 7 d for "vs yesterday" / "vs last week".
    /// </summary>
    private static Plan Diff(Question q, ScopeReader scope, TimePhrases times, DateTimeOffset now, IReadOnlyList<string> mem, string? fixedSelector)
    {
        var (newFrom, newTo, baseFrom, baseTo, sepEnd, shiftable) = Sides(q);
        if (sepEnd < 0 && fixedSelector is null && AdjacentScopes(scope) is int second)
        {
            // "diff web-1 web-2": two names side by side, no comparison word: the first is new, the second the base.
            (newFrom, newTo, baseFrom, baseTo) = (-1, second, second - 1, q.Toks.Count);
        }

        // "and" joins two ranges as read: "compare api today and yesterday" never shifts.
        shiftable &= q.At(sepEnd) != "and";
        ScopeReader.Side SideOf(int pos) =>
            pos > newFrom && pos < newTo ? ScopeReader.Side.New : pos > baseFrom && pos < baseTo ? ScopeReader.Side.Base : ScopeReader.Side.Any;

        // A label named on one side only belongs to both.
        var sideLabels = new Dictionary<string, (bool New, bool Base)>(StringComparer.Ordinal);
        foreach (var it in scope.Items)
        {
            var s = SideOf(it.Pos);
            sideLabels.TryGetValue(it.Label, out var seen);
            sideLabels[it.Label] = (seen.New || s == ScopeReader.Side.New, seen.Base || s == ScopeReader.Side.Base);
        }

        ScopeReader.Side ItemSide(ScopeItem it) =>
            sideLabels.TryGetValue(it.Label, out var both) && both.New && both.Base ? SideOf(it.Pos) : ScopeReader.Side.Any;

        string newSel = fixedSelector ?? scope.Selector(ScopeReader.Side.New, ItemSide);
        string baseSel = fixedSelector ?? scope.Selector(ScopeReader.Side.Base, ItemSide);

        var newRanges = times.Ranges.Where(r => SideOf(r.Start) == ScopeReader.Side.New).ToList();
        var baseRanges = times.Ranges.Where(r => SideOf(r.Start) == ScopeReader.Side.Base).ToList();
        var otherRanges = times.Ranges.Where(r => SideOf(r.Start) == ScopeReader.Side.Any).ToList();

        DateTimeOffset nf, nu, bf, bu;
        TimeSpan? shift = shiftable && baseRanges.Count == 1 && JustAfter(q, sepEnd, baseRanges[0].Start) ? baseRanges[0].Phrase switch
        {
            "yesterday" => TimeSpan.FromDays(1),
            "last week" or "past week" => TimeSpan.FromDays(7),
            _ => null,
        } : null;

        if (shift is { } back)
        {
            var r = newRanges.Count > 0 ? newRanges[0] : otherRanges.Count > 0 ? otherRanges[0] : null;
            (nf, nu) = r is null ? (now.AddHours(-1), now) : (r.From, r.Until);
            (bf, bu) = (nf - back, nu - back);
        }
        else if (newRanges.Count > 0 && baseRanges.Count > 0)
        {
            (nf, nu, bf, bu) = (newRanges[0].From, newRanges[0].Until, baseRanges[0].From, baseRanges[0].Until);

            // Two ranges joined by "and"/"vs" over one scope ("compare api yesterday and today"): the later is new.
            if (newSel == baseSel && q.At(sepEnd) is "and" or "vs" && (bf, bu).CompareTo((nf, nu)) > 0)
            {
                (nf, nu, bf, bu) = (bf, bu, nf, nu);
            }
        }
        else if (times.Ranges.Count >= 2 && newRanges.Count + baseRanges.Count == 0)
        {
            // Two ranges and no comparison word between them: the earlier-mentioned is the base.
            (bf, bu, nf, nu) = (times.Ranges[0].From, times.Ranges[0].Until, times.Ranges[1].From, times.Ranges[1].Until);
        }
        else
        {
            var r = times.Ranges.Count > 0 ? times.Ranges[0] : null;
            (nf, nu) = r is null ? (now.AddHours(-1), now) : (r.From, r.Until);
            if (newSel != baseSel)
            {
                (bf, bu) = (nf, nu);
            }
            else
            {
                (bf, bu) = (nf - (nu - nf), nf);
            }
        }

        return new Plan
        {
            Kind = PlanKind.Diff,
            Selector = newSel,
            FromNs = Ns(nf),
            UntilNs = Ns(nu),
            BaseSelector = baseSel,
            BaseFromNs = Ns(bf),
            BaseUntilNs = Ns(bu),
            MemoriesUsed = mem,
        };
    }

    // Two named values of one label on adjacent words ("web-1 web-2"): the position of the second, else null.
    private static int? AdjacentScopes(ScopeReader scope)
    {
        var named = scope.Items.Where(it => it.Named && it.Op == Orac.Model.Query.MatchOp.Equal).ToList();
        if (named.Count != 2 || named[0].Label != named[1].Label || named[0].Value == named[1].Value || named[1].Pos != named[0].Pos + 1)
        {
            return null;
        }

        return named[1].Pos;
    }

    // Whether only filler stands between the comparison word and the range ("vs yesterday", "to the same hour yesterday").
    private static bool JustAfter(Question q, int sepEnd, int start)
    {
        for (int i = sepEnd + 1; i < start; i++)
        {
            if (q.At(i) is not ("the" or "same" or "time" or "hour" or "period" or "window" or "as" or "of" or "one" or "from" or "at"))
            {
                return false;
            }
        }

        return start > sepEnd;
    }

    // Token intervals (exclusive bounds) of the new and base sides, and where the comparison word ends. -1/-1: no side.
    private static (int NewFrom, int NewTo, int BaseFrom, int BaseTo, int SepEnd, bool Shiftable) Sides(Question q)
    {
        int n = q.Toks.Count;
        int Free(string w, int from = 0)
        {
            for (int i = Math.Max(0, from); i < n; i++)
            {
                if (q.Toks[i].Lower == w && !q.Toks[i].Used)
                {
                    return i;
                }
            }

            return -1;
        }

        // "between A and B", "from A to B": base A, new B.
        foreach (var (open, close) in (ReadOnlySpan<(string, string)>)[("between", "and"), ("from", "to")])
        {
            int b = Free(open);
            int a = b >= 0 ? Free(close, b + 2) : -1;
            if (b >= 0 && a > b)
            {
                return (a, n, b, a, a, false);
            }
        }

        // "compare A to/with/and/vs B": new A, base B (A before "compare" when nothing stands between).
        int c = Free("compare") is var c1 && c1 >= 0 ? c1 : Free("comparing");
        if (c >= 0)
        {
            int s = -1;
            for (int i = c + 1; i < n && s < 0; i++)
            {
                if (!q.Toks[i].Used && q.Toks[i].Lower is "to" or "with" or "and" or "vs" or "against")
                {
                    s = i;
                }
            }

            if (s > c)
            {
                bool empty = true;
                for (int i = c + 1; i < s; i++)
                {
                    empty &= !q.Toks[i].Used;
                }

                return empty ? (-1, c, s, n, s, true) : (c, s, s, n, s, true);
            }
        }

        // "A vs B", "A against B", "A compared to/with B", "A relative to B", "A than B": new A, base B.
        for (int i = 0; i < n; i++)
        {
            if (q.Toks[i].Used)
            {
                continue;
            }

            var w = q.Toks[i].Lower;
            if (w is "vs" or "against" or "than")
            {
                return (-1, i, i, n, i, true);
            }

            if (w is "compared" or "relative" && q.At(i + 1) is "to" or "with")
            {
                return (-1, i, i + 1, n, i + 1, true);
            }
        }

        return (-1, -1, -1, -1, -1, false);
    }
}
