namespace Orac.Ask;

public static partial class Planner
{
    // Kind words and phrases (docs/ask.md "Reading questions", Kinds). Phrases are lower-case words separated by one space,
    // after Question's normalisation (contractions expanded, "svc" → "service", "flamegraph" → "flame graph").
    private static readonly string[] s_memoryPhrases =
    [
        "what do you remember", "what do you know about me", "what do you know about us", "what have you remembered",
        "what did you remember", "do you remember", "what is in your memory", "what is in memory", "your memory", "your memories",
        "my memories", "our memories", "list memories", "show memories", "list memory", "show memory", "show me my memories",
        "show your memory", "what did i tell you", "what have i told you", "what do you know about my", "what do you know about our",
        "what you remember", "what you know about me", "what you know about us", "saved memories", "stored memories", "list your memories",
        "what have you saved", "what do you have on me", "what do you have on us",
    ];

    private static readonly string[] s_gpuIdleWords =
    [
        "idle", "idling", "stranded", "wasted", "wasting", "waste", "unused", "underused", "underutilized", "underutilization",
        "not used", "not being used", "doing nothing", "sitting around", "sitting there", "allocated but", "utilization", "utilized",
        "low utilization", "empty",
    ];

    private static readonly string[] s_outlierPhrases =
    [
        "outlier", "outliers", "stand out", "stands out", "standing out", "stick out", "sticks out", "sticking out", "behave differently",
        "behaves differently", "behaving differently", "act differently", "acting differently", "odd one out", "odd ones out", "anomalous",
        "anomaly", "anomalies", "abnormal", "unusual", "deviate", "deviates", "deviating", "different from the others",
        "different from their peers", "different from its peers", "out of line", "odd hosts", "odd machines",
    ];

    // Weaker words: outliers only with hosts in the question ("which hosts look weird").
    private static readonly string[] s_outlierWeak = ["weird", "strange", "odd", "different", "unusual", "abnormal", "off"];
    private static readonly string[] s_hostWords = ["hosts", "host", "machines", "machine", "nodes", "node", "servers", "boxes", "instances"];

    private static readonly string[] s_diffPhrases =
    [
        "what changed", "what has changed", "what is changed", "anything changed", "has anything changed", "did anything change",
        "what is different", "what is new", "changed", "changes", "change", "compare", "comparing", "comparison", "compared", "vs",
        "difference", "differences", "diff", "delta", "regression", "regressions", "regressed", "regress", "slower than",
        "faster than", "worse than", "better than", "than yesterday", "than last week", "than before", "than usual",
        "got slower", "gotten slower", "getting slower", "got worse", "gotten worse", "getting worse", "became slower", "slower since",
        "slower after", "worse since", "worse after", "more than yesterday", "more than last week", "relative to", "against yesterday",
        "against last week", "since the deploy", "since the release", "since we deployed", "since the last deploy",
    ];

    private static readonly string[] s_oppPhrases =
    [
        "optimize first", "optimize", "optimizing", "optimization", "optimizations", "fix first", "savings", "save money",
        "save the most", "can we save", "could we save", "to save", "saving", "opportunities", "opportunity", "most expensive",
        "costliest", "cost the most", "costs the most", "costing the most", "costing us the most", "costing most", "biggest wins",
        "quick wins", "easy wins", "low hanging fruit", "low-hanging fruit", "worth fixing", "worth optimizing", "cut costs", "cut cost",
        "reduce cost", "reduce costs", "reduce our bill", "reduce the bill", "lower our bill", "lower costs", "cheaper", "money going",
        "where is the money", "biggest spend", "spending the most", "spend the most", "what should we work on", "what should we fix",
        "what should i fix", "what should i optimize", "what to fix", "what to optimize", "roi", "most money", "waste the most money",
        "biggest cost", "biggest costs", "burning money", "burning the most money", "wasting money", "waste money", "burning cash", "top costs", "top cost", "cost drivers", "most costly", "priciest",
    ];

    private static readonly string[] s_slowPhrases =
    [
        "slow", "slowly", "sluggish", "laggy", "lagging", "lags", "lag", "latency", "what is wrong", "what went wrong", "wrong with",
        "investigate", "investigating", "debug", "troubleshoot", "what is up with", "what is going on with", "going on with",
        "what is happening with", "hanging", "stuck", "struggling", "unresponsive", "degraded", "timing out", "timeouts",
        "high load", "overloaded", "spiking", "crawling", "slowing down", "health check", "healthy", "misbehaving", "look into",
        "take a look at", "check on", "run a check", "60-second check", "quick check", "problem with", "issue with", "issues with",
        "off with", "wrong", "going on with", "acting up", "on fire", "melting", "broken",
    ];

    private static readonly string[] s_topPhrases =
    [
        "top", "hottest", "heaviest", "hot", "hot spots", "hot spot", "hot paths", "hot path", "busiest", "cpu going", "cpu go",
        "burning", "burns", "burn", "eating", "eats", "eat", "hogging", "hogs", "hog", "slowest", "most cpu", "cpu time", "cpu usage",
        "using cpu", "using the cpu", "using the most", "uses the most", "use the most", "consuming", "consumes", "flame graph",
        "flame graphs", "flame", "chewing", "spending time", "spends time", "time spent", "heavy hitters", "biggest consumers",
        "cpu hogs", "cpu hungry", "most time", "doing the most work", "where is the time going", "where does the time go",
        "what is running", "what is using", "taking the most", "takes the most", "functions", "profile of", "profiles of",
        "spend its time", "spend time", "spends its time", "spend most of its time", "spends most of its time", "time going",
        "doing", "busy with", "busy doing",
    ];

    private static readonly string[] s_costWords =
    [
        "cost", "costs", "costing", "expensive", "price", "spend", "spending", "spent", "pay", "paying", "money", "per year",
        "a year", "annually", "annual", "yearly", "dollars", "bill",
    ];

    private static readonly string[] s_helpPhrases =
    [
        "help", "what can you do", "what can orac do", "what do you do", "how do i use", "how does this work", "usage", "commands",
        "what are you", "who are you", "what questions", "what can i ask",
    ];

    private static readonly string[] s_profileLead =
    [
        "profile", "record", "capture", "profiling", "please profile", "can you profile", "could you profile", "go profile", "now profile",
        "pls profile", "quickly profile", "ok profile", "orac profile", "let us profile", "start profiling", "begin profiling",
        "kick off a profile", "i want to profile", "i need to profile", "we need to profile", "i want a profile", "i need a profile",
    ];

    private static readonly string[] s_profilePhrases =
    [
        "take a profile", "grab a profile", "collect a profile", "run a profile", "run the profiler", "start a profile",
        "get a profile", "get me a profile", "fresh profile", "new profile", "quick profile", "capture a profile", "record a profile",
        "capture profiles", "record profiles", "take profiles", "profile them", "profile it", "profile for", "second profile",
        "live profile", "profiling run", "profile each", "profile all", "profile every", "profile the", "record the", "capture the",
        "profile those", "profile these", "start profiling", "kick off profiling", "trigger a profile", "do a profile",
    ];

    /// <summary>What the question asks (null: no kind of its own). <paramref name="countOnlyTop"/>: the only top word was "top N".</summary>
    private static PlanKind? Kind(Question q, Inventory inv, out bool countOnlyTop)
    {
        countOnlyTop = false;
        if (q.HasAny(s_memoryPhrases) || q.Norm.Trim() is "memory" or "memories" or "what do you know")
        {
            return PlanKind.Memory;
        }

        bool gpu = q.Toks.Any(t => t.Lower is "gpu" or "gpus" or "gpu-hours" or "gpu-hour" || MemoryFacts.GpuModel(t.Text) is not null)
            || q.Has("graphics cards");
        if ((gpu && q.HasAny(s_gpuIdleWords)) || q.Has("stranded") || q.Has("idle gpu") || q.Has("idle cost") || q.Has("idle time"))
        {
            return PlanKind.GpuIdle;
        }

        if (q.HasAny(s_outlierPhrases) || (q.HasAny(s_outlierWeak) && q.HasAny(s_hostWords) && (q.Has("which") || q.Has("any"))))
        {
            return PlanKind.Outliers;
        }

        bool profileLead = StartsWithAny(q, s_profileLead) && !q.Has("profile of") && !q.Has("profiles of");
        if (q.HasAny(s_diffPhrases) && !profileLead)
        {
            return PlanKind.Diff;
        }

        if (profileLead)
        {
            return PlanKind.Profile;
        }

        bool cost = q.HasAny(s_costWords) || q.Has("how much does") || q.Has("how much do");
        if (cost && HasFunctionWord(q, inv))
        {
            return PlanKind.FunctionCost;
        }

        if (q.HasAny(s_oppPhrases))
        {
            return PlanKind.Opportunities;
        }

        // "how is web-1 doing", "is db-1 ok", "check web-1": a health question is a slow check.
        bool health = (q.At(0) == "how" && q.At(1) is "is" or "are" && q.Has("doing"))
            || (q.At(0) is "is" or "are" && q.HasAny(["ok", "okay", "fine", "healthy", "alright", "all right"]))
            || StartsWithAny(q, ["check", "health check", "run a check on", "check on"]);
        if ((q.HasAny(s_slowPhrases) && !q.Has("slowest")) || health)
        {
            return PlanKind.Slow;
        }

        if (q.HasAny(s_profilePhrases) || q.Has("recording") || q.Has("capture") || (q.Has("profile") && HasSecondsPhrase(q)))
        {
            return PlanKind.Profile;
        }

        if (q.HasAny(s_topPhrases))
        {
            countOnlyTop = !q.HasAny(s_topPhrases.AsSpan(1)) && q.Toks.Any(t => t.Lower == "top");
            return PlanKind.Top;
        }

        if (cost)
        {
            return PlanKind.FunctionCost; // "what does it cost per year?": the function is missing (clarify function)
        }

        if (q.Has("cpu") || q.Has("profile") || q.Has("profiles") || q.Has("perf") || q.Has("performance"))
        {
            return PlanKind.Top;
        }

        return null;
    }

    private static bool StartsWithAny(Question q, ReadOnlySpan<string> leads)
    {
        int skip = 0;
        while (q.At(skip) is "hey" or "hi" or "ok" or "okay" or "orac" or "so" or "now" or "please" or "pls" or "and" or "then" or "also")
        {
            skip++;
        }

        var head = " " + string.Join(' ', q.Toks.Skip(skip).Take(6).Select(t => t.Lower)) + " ";
        foreach (var lead in leads)
        {
            if (head.StartsWith(" " + lead + " ", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasSecondsPhrase(Question q)
    {
        foreach (var t in q.Toks)
        {
            var w = t.Lower;
            if (w is "seconds" or "second" or "secs" or "sec" || (w.Length > 1 && char.IsAsciiDigit(w[0]) && (w.EndsWith('s') || w.EndsWith("-second", StringComparison.Ordinal) || w.EndsWith("sec", StringComparison.Ordinal))))
            {
                return true;
            }
        }

        return false;
    }

    // A quoted string, a code-like word or "function X" in the question (before kinds are settled: a quick look).
    private static bool HasFunctionWord(Question q, Inventory inv)
    {
        for (int i = 0; i < q.Toks.Count; i++)
        {
            if (FunctionPositionAt(q, i) && IsFunctionNameAt(q, i) && !IsInventoryName(inv, q.Toks[i].Lower))
            {
                return true;
            }

            var t = q.Toks[i];
            if (t.Kind == TokKind.Quoted || (t.Kind == TokKind.Word && LooksLikeCode(t.Text)))
            {
                return true;
            }

            if (t.Lower is "function" or "method" or "symbol" or "frame" && (IsFunctionNameAt(q, i + 1) || IsFunctionNameAt(q, i - 1)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Where a function name stands in a cost question (docs/ask.md "Decisions"): "cost of X", "does X cost", "spend on X",
    /// "time in X" (an article between is allowed: "cost of the X").
    /// </summary>
    internal static bool FunctionPositionAt(Question q, int i)
    {
        int p = i - 1;
        while (q.At(p) is "the" or "a" or "an")
        {
            p--;
        }

        return (q.At(p) == "of" && q.At(p - 1) is "cost" or "costs" or "price")
            || (q.At(p) is "does" or "do" or "did" && q.At(i + 1) is "cost" or "costs")
            || (q.At(p) == "on" && q.At(p - 1) is "spend" or "spending" or "spent" or "spends")
            || (q.At(p) == "in" && q.At(p - 1) is "time" or "spent");
    }

    // A known service, host or label value (not a function name).
    private static bool IsInventoryName(Inventory inv, string lower)
    {
        static bool In(IReadOnlyList<string> names, string w) => names.Any(n => string.Equals(n, w, StringComparison.OrdinalIgnoreCase));
        return In(inv.Services, lower) || In(inv.Hosts, lower) || inv.Labels.Values.Any(v => In(v, lower));
    }

    private static bool IsFunctionNameAt(Question q, int i) =>
        i >= 0 && i < q.Toks.Count && q.Toks[i].Kind == TokKind.Word && !s_common.Contains(q.Toks[i].Lower) && !TimePhrases.Number(q.Toks[i].Lower, out _)
        && MemoryFacts.IsNameLike(q.Toks[i].Text);

    /// <summary>
    /// Code-like (docs/ask.md "Function names"): contains <c>_</c>, <c>::</c>, <c>.</c>, <c>(</c> or <c>/</c>, or a capital
    /// after a lower-case letter; not a number, price, version, time, selector or sentence abbreviation.
    /// </summary>
    internal static bool LooksLikeCode(string w)
    {
        if (w.Length is < 2 or > 300 || w.Contains('$', StringComparison.Ordinal) || w.Contains('{', StringComparison.Ordinal)
            || w.Contains('=', StringComparison.Ordinal) || w.Contains("://", StringComparison.Ordinal))
        {
            return false;
        }

        var lower = w.ToLowerInvariant();
        if (lower is "e.g" or "i.e" or "etc" or "vs" or "a.m" or "p.m" or "w/" or "w/o" or "b/w" or "and/or" or "i/o" or "n/a" or "24/7" or "req/s" or "ops/s")
        {
            return false;
        }

        bool letter = false, code = false, digitsAndDots = true;
        for (int i = 0; i < w.Length; i++)
        {
            char c = w[i];
            letter |= char.IsLetter(c);
            if (!(char.IsAsciiDigit(c) || c == '.'))
            {
                digitsAndDots = false;
            }

            if (c is '_' or '(' or '/' or '.' || (c == ':' && i + 1 < w.Length && w[i + 1] == ':'))
            {
                code = true;
            }

            if (char.IsUpper(c) && i > 0 && char.IsLower(w[i - 1]))
            {
                code = true;
            }
        }

        // "1.5.0", "2.10", "14:00", "v1.2": numbers and versions, not code.
        if (!letter || digitsAndDots || (lower.Length > 1 && lower[0] == 'v' && lower[1..].All(c => char.IsAsciiDigit(c) || c == '.')))
        {
            return false;
        }

        if (w.EndsWith('.') && w.IndexOf('.', StringComparison.Ordinal) == w.Length - 1)
        {
            return false;
        }

        return code;
    }
}
