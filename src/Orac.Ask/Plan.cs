using System.Globalization;
using System.Text;
using Orac.Model.Wire;

namespace Orac.Ask;

/// <summary>What a question asks for (docs/ask.md "Plans").</summary>
public enum PlanKind
{
    /// <summary>Top functions of a scope over a range (<c>query.top</c>).</summary>
    Top,

    /// <summary>Ranked savings opportunities of a scope over a range (<c>opportunities</c>).</summary>
    Opportunities,

    /// <summary>What changed: a scope and range against a base scope and range (<c>query.diff</c>).</summary>
    Diff,

    /// <summary>Why a host or service is slow now: 60-second check plus a fresh profile, delegated (<c>task.check</c> + <c>task.profile</c>).</summary>
    Slow,

    /// <summary>Profile these hosts for N seconds, delegated (<c>task.profile</c>).</summary>
    Profile,

    /// <summary>What one function costs per year (<c>cost</c>, the function's row).</summary>
    FunctionCost,

    /// <summary>Which hosts stand out from their peers (<c>cost</c> per host, median and spread).</summary>
    Outliers,

    /// <summary>GPU idle and stranded cost (<c>cost</c>, GPU rows).</summary>
    GpuIdle,

    /// <summary>What Orac remembers (<c>memory</c>).</summary>
    Memory,

    /// <summary>Remember <see cref="Plan.Text"/> (a fact stated as an instruction: "remember that …").</summary>
    Remember,

    /// <summary>A required detail is missing or unknown: ask back (<see cref="Plan.Field"/>, <see cref="Plan.Got"/>, <see cref="Plan.Suggestions"/>).</summary>
    Clarify,

    /// <summary>Outside Orac's domain (or "help"): a short answer listing what Orac can do.</summary>
    Help,
}

/// <summary>
/// A typed research plan: the deterministic planner's reading of one question, run by the plan runner through
/// Orac's own operations. Two plans are the same question exactly when their <see cref="ToString"/> (the canonical
/// form, docs/ask.md "Canonical form") is equal; the phrasing corpus compares that.
/// </summary>
public sealed record Plan
{
    /// <summary>Default number of rows.</summary>
    public const int DefaultTop = 10;

    /// <summary>Default duration of delegated profiling, seconds.</summary>
    public const int DefaultSeconds = 30;

    /// <summary>What is asked.</summary>
    public required PlanKind Kind { get; init; }

    /// <summary>The scope: canonical selector text (<c>{}</c>: the whole org; labels sorted by name).</summary>
    public string Selector { get; init; } = "{}";

    /// <summary>Start of the range, Unix ns (0 where the kind has no range: slow, profile, memory…).</summary>
    public long FromNs { get; init; }

    /// <summary>End of the range, Unix ns.</summary>
    public long UntilNs { get; init; }

    /// <summary>Diff: the base scope (canonical selector text).</summary>
    public string? BaseSelector { get; init; }

    /// <summary>Diff: start of the base range, Unix ns.</summary>
    public long BaseFromNs { get; init; }

    /// <summary>Diff: end of the base range, Unix ns.</summary>
    public long BaseUntilNs { get; init; }

    /// <summary>Rows wanted (top, opportunities).</summary>
    public int Top { get; init; } = DefaultTop;

    /// <summary>Slow, profile: collection time per host, seconds.</summary>
    public int Seconds { get; init; }

    /// <summary>Function-cost: the function name as asked.</summary>
    public string? Function { get; init; }

    /// <summary>
    /// Remember: the fact's text. On any other kind: a fact stated beside the question ("our H100s cost $2.10 an hour —
    /// what does idle GPU time cost us?") that the runner saves (and announces) before running the plan; printed as
    /// <c> remember="TEXT"</c> after the kind's fields and before <c>memory=</c>. Null when none.
    /// </summary>
    public string? Text { get; init; }

    /// <summary>Slow, profile: a fleet action on more than one host (or on every host) that needs confirmation unless <c>--yes</c>.</summary>
    public bool Confirm { get; init; }

    /// <summary>Clarify: what is missing or unknown: <c>service</c>, <c>host</c>, <c>scope</c>, <c>function</c>, <c>range</c>, <c>label</c>.</summary>
    public string? Field { get; init; }

    /// <summary>Clarify: the word that did not match (null when the detail was simply missing).</summary>
    public string? Got { get; init; }

    /// <summary>Clarify: near matches from the live inventory ("did you mean"), best first.</summary>
    public IReadOnlyList<string> Suggestions { get; init; } = [];

    /// <summary>Ids of the memories the planner used (owner, alias, scope facts), in id order.</summary>
    public IReadOnlyList<string> MemoriesUsed { get; init; } = [];

    /// <summary>Orac's operations this plan runs, in order (docs/ask.md "Plans").</summary>
    public IReadOnlyList<string> Steps => Kind switch
    {
        PlanKind.Top => ["query.top"],
        PlanKind.Opportunities => ["opportunities"],
        PlanKind.Diff => ["query.diff"],
        PlanKind.Slow => ["fleet.list", "task.check", "task.profile", "task.results", "task.top"],
        PlanKind.Profile => ["fleet.list", "task.profile", "task.top"],
        PlanKind.FunctionCost => ["cost"],
        PlanKind.Outliers => ["cost"],
        PlanKind.GpuIdle => ["cost"],
        PlanKind.Memory => ["memory.list"],
        PlanKind.Remember => ["memory.add"],
        _ => [],
    };

    /// <summary>The kind's canonical word: <c>top</c>, <c>opportunities</c>, <c>diff</c>, <c>slow</c>, <c>profile</c>, <c>function-cost</c>, <c>outliers</c>, <c>gpu-idle</c>, <c>memory</c>, <c>remember</c>, <c>clarify</c>, <c>help</c>.</summary>
    public static string KindWord(PlanKind kind) => kind switch
    {
        PlanKind.FunctionCost => "function-cost",
        PlanKind.GpuIdle => "gpu-idle",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// The canonical form (docs/ask.md "Canonical form"), e.g.
    /// <c>top {service_name="api"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=10</c>.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder(KindWord(Kind));
        switch (Kind)
        {
            case PlanKind.Top:
            case PlanKind.Opportunities:
                sb.Append(' ').Append(Selector).Append(' ').Append(Range(FromNs, UntilNs)).Append(" n=").Append(Top.ToString(CultureInfo.InvariantCulture));
                break;
            case PlanKind.Diff:
                sb.Append(' ').Append(Selector).Append(' ').Append(Range(FromNs, UntilNs))
                  .Append(" vs ").Append(BaseSelector ?? Selector).Append(' ').Append(Range(BaseFromNs, BaseUntilNs));
                break;
            case PlanKind.Slow:
            case PlanKind.Profile:
                sb.Append(' ').Append(Selector).Append(" seconds=").Append(Seconds.ToString(CultureInfo.InvariantCulture));
                if (Confirm)
                {
                    sb.Append(" confirm");
                }

                break;
            case PlanKind.FunctionCost:
                sb.Append(' ').Append(Selector).Append(' ').Append(Range(FromNs, UntilNs)).Append(" fn=").Append(Quote(Function ?? ""));
                break;
            case PlanKind.Outliers:
            case PlanKind.GpuIdle:
                sb.Append(' ').Append(Selector).Append(' ').Append(Range(FromNs, UntilNs));
                break;
            case PlanKind.Remember:
                sb.Append(' ').Append(Quote(Text ?? ""));
                break;
            case PlanKind.Clarify:
                sb.Append(' ').Append(Field ?? "?");
                if (Got is not null)
                {
                    sb.Append(" got=").Append(Quote(Got));
                }

                if (Suggestions.Count > 0)
                {
                    sb.Append(" suggest=").Append(string.Join('|', Suggestions));
                }

                break;
        }

        if (Kind != PlanKind.Remember && Text is not null)
        {
            sb.Append(" remember=").Append(Quote(Text));
        }

        if (MemoriesUsed.Count > 0)
        {
            sb.Append(" memory=").Append(string.Join(',', MemoriesUsed));
        }

        return sb.ToString();
    }

    /// <summary><c>FROM..UNTIL</c> in RFC 3339 UTC to the second.</summary>
    public static string Range(long fromNs, long untilNs) => Instant(fromNs) + ".." + Instant(untilNs);

    /// <summary>One instant, RFC 3339 UTC to the second (<c>2026-11-25T14:30:00Z</c>).</summary>
    public static string Instant(long ns) =>
        DateTime.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>What the live inventory knows: names the planner recognises and suggests from.</summary>
public sealed class Inventory
{
    /// <summary>Values of <c>service_name</c> in stored profiles.</summary>
    public IReadOnlyList<string> Services { get; init; } = [];

    /// <summary>Hosts: values of <c>host</c> in stored profiles and the fleet's agents' hostnames.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Other label names and their values (e.g. <c>version</c> → <c>1.4.2</c>, <c>env</c> → <c>prod</c>), for "version 1.4.2" or "in prod".</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Labels { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}

/// <summary>Everything the planner reads besides the question: it never reads a clock or the network itself.</summary>
public sealed class PlanContext
{
    /// <summary>"Now" for relative times.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>The zone day names and clock times ("since Tuesday", "yesterday 14:00") are read in (default UTC).</summary>
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Names to recognise.</summary>
    public Inventory Inventory { get; init; } = new();

    /// <summary>The user's memories (empty with memory off or <c>--temporary</c>).</summary>
    public IReadOnlyList<MemoryItem> Memories { get; init; } = [];

    /// <summary>The previous plan in a chat, for follow-ups ("and for the inference service?"); null outside chat.</summary>
    public Plan? Previous { get; init; }
}
