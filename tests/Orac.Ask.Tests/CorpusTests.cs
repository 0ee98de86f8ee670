using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orac.Tests.Shared;
using Xunit.Abstractions;

namespace Orac.Ask.Tests;

/// <summary>
/// The phrasing corpus (<c>tests/data/ask/corpus.tsv</c>) and the planner's accuracy gate: at least 95 % of the
/// questions must plan to exactly the expected canonical plan (issue #7, docs/ask.md "Reading questions").
/// </summary>
public sealed class CorpusTests(ITestOutputHelper output)
{
    /// <summary>The accuracy gate: exact canonical plans / cases.</summary>
    public const double RequiredAccuracy = 0.95;

    /// <summary>Fewest cases the corpus may hold.</summary>
    public const int MinimumCases = 150;

    private static readonly (string Kind, int Min)[] s_kindMinimums =
    [
        ("top", 8), ("opportunities", 8), ("diff", 8), ("slow", 8), ("profile", 8), ("function-cost", 8),
        ("outliers", 8), ("gpu-idle", 8), ("memory", 4), ("remember", 4), ("help", 4), ("clarify", 4),
    ];

    // docs/ask.md "Reading questions", Time: every phrase form is asked at least once.
    private static readonly (string Phrase, Regex Pattern)[] s_timePhrases =
    [
        ("last hour", Rx(@"\blast hour\b")),
        ("past hour", Rx(@"\bpast hour\b")),
        ("in the last hour", Rx(@"\bin the last hour\b")),
        ("last N minutes", Rx(@"\blast \d+ minutes\b")),
        ("last N hours", Rx(@"\blast \d+ hours\b")),
        ("last N days", Rx(@"\blast \d+ days\b")),
        ("N min", Rx(@"\b\d+ min\b")),
        ("15m", Rx(@"\b\d+m\b")),
        ("2h", Rx(@"\b\d+h\b")),
        ("3d", Rx(@"\b\d+d\b")),
        ("today", Rx(@"\btoday\b")),
        ("yesterday", Rx(@"\byesterday\b")),
        ("yesterday 14:00–15:00", Rx(@"\byesterday \d\d:\d\d–\d\d:\d\d\b")),
        ("yesterday from 2pm to 3pm", Rx(@"\byesterday from \d+pm to \d+pm\b")),
        ("yesterday between 14:00 and 15:00", Rx(@"\byesterday between \d\d:\d\d and \d\d:\d\d\b")),
        ("this morning", Rx(@"\bthis morning\b")),
        ("since Tuesday", Rx(@"\bsince (mon|tues|wednes|thurs|fri|satur|sun)day\b")),
        ("on Monday", Rx(@"\bon (mon|tues|wednes|thurs|fri|satur|sun)day\b")),
        ("since 13:00", Rx(@"\bsince \d\d:\d\d\b")),
        ("since 1pm", Rx(@"\bsince \d+pm\b")),
        ("between 9 and 11", Rx(@"\bbetween \d+ and \d+\b")),
        ("from 09:00 to 11:00", Rx(@"(?<!yesterday )\bfrom \d\d:\d\d to \d\d:\d\d\b")),
        ("last week", Rx(@"\blast week\b")),
        ("past week", Rx(@"\bpast week\b")),
        ("last 7 days", Rx(@"\blast 7 days\b")),
        ("this week", Rx(@"\bthis week\b")),
    ];

    private static readonly Regex s_rider = new(" remember=\"((?:[^\"\\\\]|\\\\.)*)\"", RegexOptions.CultureInvariant);

    private static readonly Regex s_didYouMean = new("^clarify (service|host) got=\"([^\"]*)\" suggest=([^ ]+)", RegexOptions.CultureInvariant);

    private static string CorpusPath => Path.Combine(TestPaths.Data, "ask", "corpus.tsv");

    [Fact]
    public void Corpus_CoversEveryKindAndCase()
    {
        var cases = CorpusFile.Load(CorpusPath);
        Assert.True(cases.Count >= MinimumCases, $"{cases.Count} cases in {CorpusPath}; at least {MinimumCases} needed");

        var problems = new List<string>();
        foreach (var (kind, min) in s_kindMinimums)
        {
            int n = Count(cases, c => c.Kind == kind);
            if (n < min)
            {
                problems.Add($"kind {kind}: {n} cases, at least {min} needed");
            }
        }

        Need(problems, "follow-ups (after=)", Count(cases, c => c.After is not null), 4);
        Need(problems, "memory-using cases (mem)", Count(cases, c => c.Memories), 4);
        Need(problems, "owner memory used (memory=m2)", Count(cases, c => c.Expected.Contains("memory=m2", StringComparison.Ordinal)), 2);
        Need(problems, "alias memory used (memory=m3)", Count(cases, c => c.Expected.Contains("memory=m3", StringComparison.Ordinal)), 2);
        Need(problems, "scope memory used (memory=m4)", Count(cases, c => c.Expected.Contains("memory=m4", StringComparison.Ordinal)), 2);
        Need(problems, "stated facts beside a question (remember=)", Count(cases, c => c.Expected.Contains(" remember=\"", StringComparison.Ordinal)), 4);
        Need(problems, "did-you-mean (suggest=)", Count(cases, c => c.Expected.Contains(" suggest=", StringComparison.Ordinal)), 4);
        foreach (var (phrase, pattern) in s_timePhrases)
        {
            if (Count(cases, c => pattern.IsMatch(c.Question) || (c.After is { } a && pattern.IsMatch(a))) == 0)
            {
                problems.Add($"no question uses the time phrase \"{phrase}\"");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Corpus_ExpectedPlansAreWellFormed()
    {
        var problems = new List<string>();
        foreach (var c in CorpusFile.Load(CorpusPath))
        {
            if (CanonicalPlan.Check(c.Expected) is { } why)
            {
                problems.Add($"{c}: {why}");
            }
        }

        Assert.True(problems.Count == 0, "expected plans not in the canonical form:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void Corpus_StatedFacts_AreFactsMemoryFactsReads()
    {
        // docs/ask.md "Stated facts": only a clause MemoryFacts.Parse reads as a price, owner, alias or scope fact
        // rides on a plan, so every fact the corpus expects to ride (or to stand alone) must be one.
        var problems = new List<string>();
        int n = 0;
        foreach (var c in CorpusFile.Load(CorpusPath))
        {
            string? fact = null;
            var m = s_rider.Match(c.Expected);
            if (m.Success)
            {
                fact = m.Groups[1].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            }
            else if (c.Kind == "remember" && !c.Question.StartsWith("remember", StringComparison.OrdinalIgnoreCase))
            {
                fact = c.Question;
            }

            if (fact is null)
            {
                continue;
            }

            n++;
            string kind = MemoryFacts.Parse(fact).Kind;
            if (kind is not ("gpu-price" or "vcpu-price" or "owner" or "alias" or "scope"))
            {
                problems.Add($"{c}: MemoryFacts.Parse reads \"{fact}\" as {kind}");
            }
        }

        Assert.True(n >= 5, $"only {n} stated facts in the corpus");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Corpus_DidYouMean_FollowsTheNearNameRule()
    {
        // Recomputes every expected suggestion list from AskFixture.Inventory with the documented rule (edit
        // distance <= 2, or the word is a prefix of at least 3 letters; at most 3, closest first, then by name), so a
        // slip in the corpus's hand arithmetic shows here rather than as a planner mismatch.
        var problems = new List<string>();
        int n = 0;
        foreach (var c in CorpusFile.Load(CorpusPath))
        {
            var m = s_didYouMean.Match(c.Expected);
            if (!m.Success)
            {
                continue;
            }

            n++;
            string field = m.Groups[1].Value;
            string got = m.Groups[2].Value;
            var names = field == "service" ? AskFixture.Inventory.Services : AskFixture.Inventory.Hosts;
            var near = new List<(int Distance, string Name)>();
            foreach (string name in names)
            {
                int d = Levenshtein(got.ToLowerInvariant(), name.ToLowerInvariant());
                bool prefix = got.Length >= 3 && name.StartsWith(got, StringComparison.OrdinalIgnoreCase);
                if (d <= 2 || prefix)
                {
                    near.Add((d, name));
                }
            }

            near.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : string.CompareOrdinal(a.Name, b.Name));
            string want = string.Join('|', near.GetRange(0, Math.Min(3, near.Count)).ConvertAll(x => x.Name));
            if (want != m.Groups[3].Value)
            {
                problems.Add($"{c}: the rule suggests \"{want}\", the corpus says \"{m.Groups[3].Value}\"");
            }
        }

        Assert.True(n >= 4, $"only {n} did-you-mean cases");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Corpus_PlannerAccuracy_AtLeast95Percent()
    {
        var cases = CorpusFile.Load(CorpusPath);
        Assert.True(cases.Count >= MinimumCases, $"{cases.Count} cases; at least {MinimumCases} needed");

        var mismatches = new StringBuilder();
        var perKind = new SortedDictionary<string, (int Right, int All)>(StringComparer.Ordinal);
        int right = 0;
        foreach (var c in cases)
        {
            string got;
            try
            {
                Plan? previous = c.After is null ? null : Planner.Plan(c.After, AskFixture.Context(c.Memories));
                got = Planner.Plan(c.Question, AskFixture.Context(c.Memories, previous)).ToString();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                got = $"(threw {e.GetType().Name}: {e.Message})";
            }

            bool ok = got == c.Expected;
            perKind.TryGetValue(c.Kind, out var k);
            perKind[c.Kind] = (k.Right + (ok ? 1 : 0), k.All + 1);
            if (ok)
            {
                right++;
            }
            else
            {
                mismatches.Append(c.ToString()).Append('\n')
                    .Append("    expected: ").Append(c.Expected).Append('\n')
                    .Append("    got:      ").Append(got).Append('\n');
            }
        }

        double accuracy = (double)right / cases.Count;
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"planner accuracy (measured, exact canonical plans): {right}/{cases.Count} = {accuracy * 100:F1} % (gate {RequiredAccuracy * 100:F0} %)\n");
        foreach (var (kind, (r, all)) in perKind)
        {
            report.Append(CultureInfo.InvariantCulture, $"  {kind,-14} {r,3}/{all,-3}\n");
        }

        output.WriteLine(report.ToString());
        if (mismatches.Length > 0)
        {
            output.WriteLine("mismatches:\n" + mismatches);
        }

        Assert.True(accuracy >= RequiredAccuracy, report + "mismatches:\n" + mismatches);
    }

    [Theory]
    [InlineData("top 5 in api\n", 1, "no tab")]
    [InlineData("# comment\n\nwhy is api slow\tslow {service_name=\"api\"} seconds=30 confirm\nhelp\t\n", 4, "empty expected plan")]
    [InlineData("# c\n\tmemory\n", 2, "empty question")]
    [InlineData("help\thelp\n\n\nwhat do you remember\tmemory\tmem\tx\n", 4, "at most 3")]
    [InlineData("help\thelp\tmemz\n", 1, "unknown or repeated flag \"memz\"")]
    [InlineData("help\thelp\tmem,mem\n", 1, "unknown or repeated flag \"mem\"")]
    [InlineData("a\thelp\nb\thelp\tafter=\n", 2, "after= names no previous question")]
    [InlineData("a\thelp\r\nb\thelp\t\r\n", 2, "empty flags field")]
    [InlineData("help\thelp\nhelp\thelp\n", 2, "the same case (question and flags) as line 1")]
    [InlineData("help\thelp\nbin\u0000ary\thelp\n", 2, "control character U+0000")]
    public void Corpus_MalformedLine_FailsNamingTheLine(string text, int line, string what)
    {
        var e = Assert.Throws<FormatException>(() => CorpusFile.Parse(text, "corpus.tsv"));
        Assert.Contains($"corpus.tsv line {line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_Flags_MemAndAfterWithCommas()
    {
        var cases = CorpusFile.Parse("# c\nsame for web-2\tprofile {host=\"web-2\"} seconds=45\tmem,after=record web-1, web-3 for 45 seconds\n", "t.tsv");
        var c = Assert.Single(cases);
        Assert.Equal(2, c.Line);
        Assert.True(c.Memories);
        Assert.Equal("record web-1, web-3 for 45 seconds", c.After);
        Assert.Equal("profile", c.Kind);
    }

    [Fact]
    public void Corpus_HugeLine_IsOneClearError()
    {
        var e = Assert.Throws<FormatException>(() => CorpusFile.Parse("help\thelp\n" + new string('x', 100_000) + "\thelp\n", "corpus.tsv"));
        Assert.StartsWith("corpus.tsv line 2: longer than", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("top {service_name=\"api\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5")]
    [InlineData("diff {host=\"web-2\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z vs {host=\"web-1\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z")]
    [InlineData("slow {env=\"prod\", service_name=\"api\"} seconds=30 confirm remember=\"our H100s cost $2.10 an hour\" memory=m2,m4")]
    [InlineData("clarify host got=\"web-4\" suggest=web-1|web-2|web-3")]
    [InlineData("remember \"frontends means {host=~\\\"web-.*\\\"}\"")]
    [InlineData("help")]
    public void CanonicalPlan_WellFormed_Accepted(string plan) => Assert.Null(CanonicalPlan.Check(plan));

    [Theory]
    [InlineData("tops {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5", "unknown kind")]
    [InlineData("top {service_name=\"api\", env=\"prod\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5", "labels not in name order")]
    [InlineData("top {service_name=\"api\",env=\"prod\"} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5", "not canonical")]
    [InlineData("top {service_name=api} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=5", "does not parse")]
    [InlineData("top {} 2026-11-25T14:30:00Z..2026-11-25T13:30:00Z n=5", "not in order")]
    [InlineData("top {} 2026-11-25T13:30..2026-11-25T14:30:00Z n=5", "expected an instant")]
    [InlineData("top {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z n=05", "whole number")]
    [InlineData("diff {} 2026-11-25T13:30:00Z..2026-11-25T14:30:00Z vs {} 2026-11-25T11:30:00Z..2026-11-25T13:30:00Z", "not as long")]
    [InlineData("slow {host=\"web-1\"} seconds=301", "whole number 1..300")]
    [InlineData("clarify colour", "unknown clarify field")]
    [InlineData("clarify host got=\"web-4\" suggest=web-1|web-2|web-3|db-1", "at most 3")]
    [InlineData("function-cost {} 2026-11-18T14:30:00Z..2026-11-25T14:30:00Z fn=\"a", "unterminated string")]
    [InlineData("memory memory=m4,m2", "id order")]
    [InlineData("help please", "unexpected text at the end")]
    public void CanonicalPlan_Malformed_SaysWhatAndWhere(string plan, string what)
    {
        string? why = CanonicalPlan.Check(plan);
        Assert.NotNull(why);
        Assert.Contains(what, why, StringComparison.Ordinal);
        Assert.Contains("at character ", why, StringComparison.Ordinal);
    }

    private static Regex Rx(string pattern) => new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static int Levenshtein(string a, string b)
    {
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
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (prev, cur) = (cur, prev);
        }

        return prev[b.Length];
    }

    private static int Count(IReadOnlyList<CorpusCase> cases, Func<CorpusCase, bool> pick)
    {
        int n = 0;
        foreach (var c in cases)
        {
            if (pick(c))
            {
                n++;
            }
        }

        return n;
    }

    private static void Need(List<string> problems, string what, int n, int min)
    {
        if (n < min)
        {
            problems.Add($"{what}: {n} cases, at least {min} needed");
        }
    }
}
