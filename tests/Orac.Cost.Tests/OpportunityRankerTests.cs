using System.Text.RegularExpressions;
using CsCheck;
using Orac.Cost.Opportunities;
using Orac.Model.Wire;
using static Orac.Cost.Tests.CostResults;

namespace Orac.Cost.Tests;

public class OpportunityRankerTests
{
    private const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";
    private const string Copy = "__memcpy_avx_unaligned_erms";

    private static readonly FunctionCost[] s_week =
    [
        Atom("acme", "api", Copy, Libc, usd: 3, kwh: 0.3, kgCo2e: 0.1, cpuSeconds: 300),
        Atom("acme", "web", Copy, Libc, usd: 1, kwh: 0.1, kgCo2e: 0.05, cpuSeconds: 100),
        Atom("acme", "api", "memmove", Libc, usd: 2, kwh: 0.2, cpuSeconds: 200),
        Atom("acme", "api", "main.handler", "/usr/bin/api", usd: 5, kwh: 0.5, cpuSeconds: 500),
        Atom("acme", "api", "deflate_slow", "/lib/x86_64-linux-gnu/libz.so.1", usd: 1.5, kwh: 0.15, cpuSeconds: 150),
        Atom("acme", "web", "inflate_fast", "/lib/x86_64-linux-gnu/libz.so.1", usd: 0.5, kwh: 0.05, cpuSeconds: 50),
    ];

    private static Opportunity Find(OpportunitiesDocument d, string kind, string name) =>
        d.Items.Single(o => o.Kind == kind && o.Name == name);

    [Fact]
    public void Rank_SumsFunctionsOverOwnersAndScalesToAYear()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null);

        var f = Find(d, "function", Copy);
        Assert.Equal(4 * WeeksPerYear, f.Annual.Usd, 9);
        Assert.Equal(0.4 * WeeksPerYear, f.Annual.Kwh, 9);
        Assert.Equal(0.15 * WeeksPerYear, f.Annual.KgCo2e, 9);
        Assert.Equal(f.Annual.Usd, f.IfEliminated.Usd);
        Assert.Equal(f.Annual.Usd * 0.10, f.IfImproved.Usd, 9);
        Assert.Equal("memcpy", f.Pattern);
        Assert.Equal(Patterns.MemoryCopies.Advice, f.Advice);
        Assert.Equal(["api", "web"], f.Owners.Select(o => o.Service));
        Assert.Equal(75, f.Owners[0].Percent, 9);
        Assert.Equal(25, f.Owners[1].Percent, 9);
        Assert.Null(f.TrendPercent);

        var plain = Find(d, "function", "main.handler");
        Assert.Null(plain.Pattern);
        Assert.Equal(OpportunityRanker.FunctionAdvice, plain.Advice);
    }

    [Fact]
    public void Rank_UnsymbolisedModuleFrames_CountForTheModulesPattern()
    {
        // Folded files and stripped binaries name a frame by its module only: `[liblzma.so.5.4.1]`, `[gzip]`.
        FunctionCost[] atoms =
        [
            Atom("local", "file", "[liblzma.so.5.4.1]", "", usd: 2, cpuSeconds: 200),
            Atom("local", "file", "[gzip]", "", usd: 1, cpuSeconds: 100),
            Atom("local", "file", "[sha256sum]", "", usd: 0.5, cpuSeconds: 50),
            Atom("local", "file", "[myservice]", "", usd: 4, cpuSeconds: 400),
        ];
        var d = OpportunityRanker.Rank(Result(atoms), null, new OpportunityOptions { Top = 100 });

        Assert.Equal(3 * WeeksPerYear, Find(d, "pattern", "compression").Annual.Usd, 9);
        Assert.Equal("compression", Find(d, "function", "[gzip]").Pattern);
        Assert.Equal("crypto", Find(d, "function", "[sha256sum]").Pattern);
        Assert.Null(Find(d, "function", "[myservice]").Pattern);
    }

    [Fact]
    public void Rank_PatternsAndLibrariesSumTheirFunctions()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 100 });

        Assert.Equal(6 * WeeksPerYear, Find(d, "pattern", "memory copies").Annual.Usd, 9);
        Assert.Equal(6 * WeeksPerYear, Find(d, "library", "libc.so.6").Annual.Usd, 9);
        var z = Find(d, "library", "libz.so.1");
        Assert.Equal(2 * WeeksPerYear, z.Annual.Usd, 9);
        Assert.Equal("compression", z.Pattern);
        Assert.Equal(Patterns.Compression.Advice, z.Advice);
        Assert.Equal(["api", "web"], z.Owners.Select(o => o.Service));

        // The service's own executable is the service, not a library.
        Assert.DoesNotContain(d.Items, o => o.Kind == "library" && o.Name == "api");
    }

    [Fact]
    public void Rank_OrdersByAnnualCostThenName()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 100 });

        Assert.Equal(
            [
                "library libc.so.6", "pattern memory copies", "function main.handler", $"function {Copy}", "pattern compression",
                "library libz.so.1", "function memmove", "function deflate_slow", "function inflate_fast",
            ],
            d.Items.Select(o => o.Kind + " " + o.Name));
        Assert.Equal(Enumerable.Range(1, d.Items.Count), d.Items.Select(o => o.Rank));
    }

    [Fact]
    public void Rank_KeepsTopNAndPricesTheImprovementAsked()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 3, ImprovementPercent = 25 });

        Assert.Equal(3, d.Items.Count);
        Assert.Equal(25, d.ImprovementPercent);
        Assert.Equal(d.Items[0].Annual.Usd / 4, d.Items[0].IfImproved.Usd, 9);
        Assert.Equal(d.Items[0].Annual.Kwh / 4, d.Items[0].IfImproved.Kwh, 9);
    }

    [Fact]
    public void Rank_TrendComparesTheSameEntryOfThePreviousPeriod()
    {
        FunctionCost[] before =
        [
            Atom("acme", "api", Copy, Libc, usd: 2),
            Atom("acme", "api", "main.handler", "/usr/bin/api", usd: 10),
        ];

        var d = OpportunityRanker.Rank(Result(s_week), Result(before, from: WeekStart - Week), new OpportunityOptions { Top = 100 });

        Assert.Equal(100, Find(d, "function", Copy).TrendPercent!.Value, 9);
        Assert.Equal(-50, Find(d, "function", "main.handler").TrendPercent!.Value, 9);
        Assert.Null(Find(d, "function", "memmove").TrendPercent);
        Assert.Equal(200, Find(d, "pattern", "memory copies").TrendPercent!.Value, 9);
    }

    [Fact]
    public void Rank_TrendComparesPerYearWhenPeriodsDiffer()
    {
        // The previous answer covered half the time (year factor twice as large) at half the cost: no change per year.
        var before = Result([Atom("acme", "api", "main.handler", "/usr/bin/api", usd: 2.5)], yearFactor: 2 * WeeksPerYear);
        var d = OpportunityRanker.Rank(Result(s_week), before);
        Assert.Equal(0, Find(d, "function", "main.handler").TrendPercent!.Value, 9);
    }

    [Fact]
    public void Rank_GpuStrandedTimeBecomesGpuEntriesWithANote()
    {
        List<GpuCostRow> gpus =
        [
            new()
            {
                Host = "gpu-1", Org = "acme", Service = "trainer", Index = 0, Model = "H100", ObservedSeconds = 604800,
                UtilPercent = 20, Figures = new CostFigures { Usd = 100, Kwh = 50, KgCo2e = 20, GpuSeconds = 120960 },
                StrandedIdleUsd = 40, StrandedTrapUsd = 0,
            },
            new()
            {
                Host = "gpu-2", Org = "acme", Index = 1, Model = "H100", ObservedSeconds = 604800,
                UtilPercent = 90, SmActivePercent = 10, Figures = new CostFigures { Usd = 100, Kwh = 80, KgCo2e = 30 },
                StrandedTrapUsd = 25,
            },
        ];

        var d = OpportunityRanker.Rank(Result([], gpus: gpus), null);

        var idle = Find(d, "gpu", "GPU idle time: service trainer");
        Assert.Equal(40 * WeeksPerYear, idle.Annual.Usd, 9);
        Assert.Equal(50 * 0.4 * WeeksPerYear, idle.Annual.Kwh, 9);
        Assert.Equal("gpu-idle", idle.Pattern);
        Assert.Equal(Patterns.GpuIdle.Advice, idle.Advice);
        Assert.Equal("trainer", Assert.Single(idle.Owners).Service);

        var trap = Find(d, "gpu", "GPU utilization trap: host gpu-2");
        Assert.Equal(25 * WeeksPerYear, trap.Annual.Usd, 9);
        Assert.Equal(OpportunityRanker.NoService, Assert.Single(trap.Owners).Service);
        Assert.Equal(2, d.Items.Count);
        Assert.Contains(OpportunityRanker.GpuEnergyNote, d.Notes);
    }

    [Fact]
    public void Rank_CopiesPartialNotesAndTotals()
    {
        var r = Result(s_week, partial: true, notes: ["host b: no class, priced as default"], idleUsd: 7);
        var d = OpportunityRanker.Rank(r, null);

        Assert.True(d.Partial);
        Assert.Equal(["host b: no class, priced as default"], d.Notes);
        Assert.Equal((13 + 7) * WeeksPerYear, d.TotalPerYear.Usd, 9);
        Assert.Equal(r.Document.From, d.From);
        Assert.Equal(r.Document.Until, d.Until);
    }

    [Fact]
    public void Link_OneOwnerNamesItsServiceAndSearchesTheFunctionExactly()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 100 });
        var q = Query(Find(d, "function", "main.handler").Link);

        Assert.Equal("api", q["service"]);
        Assert.Equal(WeekStart.ToString(System.Globalization.CultureInfo.InvariantCulture), q["from"]);
        Assert.Equal((WeekStart + Week).ToString(System.Globalization.CultureInfo.InvariantCulture), q["until"]);
        Assert.Equal("/^main\\.handler$/", q["search"]);
        Assert.StartsWith("/?", Find(d, "function", "main.handler").Link, StringComparison.Ordinal);
    }

    [Fact]
    public void Link_SeveralOwnersKeepTheSelectorsServiceAndLabels()
    {
        var d = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 100, Selector = "{service_name=~\"a.*\", env=\"prod\"}" });
        var q = Query(Find(d, "function", Copy).Link);
        Assert.False(q.ContainsKey("service"));
        Assert.Equal("env=prod", q["label"]);

        var d2 = OpportunityRanker.Rank(Result(s_week), null, new OpportunityOptions { Top = 100, Selector = "{service_name=\"api\"}" });
        Assert.Equal("api", Query(Find(d2, "function", Copy).Link)["service"]);

        // A pattern searches for its functions, largest first.
        var p = Query(Find(d, "pattern", "memory copies").Link)["search"];
        Assert.Equal($"/^(?:{Copy}|memmove)$/", p);
    }

    [Theory]
    [InlineData("std::vector<int, std::allocator<int> >::push_back(int const&)")]
    [InlineData("a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o/p")]
    [InlineData("runtime.(*mspan).sweep")]
    public void SearchRegex_MatchesExactlyTheNameInTheUisSyntax(string name)
    {
        var text = OpportunityRanker.SearchRegex([name]);
        var m = System.Text.RegularExpressions.Regex.Match(text, "^/(.*)/([a-z]*)$");
        Assert.True(m.Success, text);
        var re = new System.Text.RegularExpressions.Regex(m.Groups[1].Value, RegexOptions.ECMAScript);
        Assert.Matches(re, name);
        Assert.DoesNotMatch(re, name + "x");
        Assert.DoesNotMatch(re, "x" + name);
    }

    [Theory]
    [InlineData("memcpy", Libc, "libc.so.6")]
    [InlineData("[libc.so.6]", "", "libc.so.6")]
    [InlineData("[libc.so.6 <0x7f0012>]", "", "libc.so.6")]
    [InlineData("f", "/usr/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so", "_json.cpython-312-x86_64-linux-gnu.so")]
    [InlineData("f", "C:\\Windows\\System32\\ntdll.dll", "ntdll.dll")]
    [InlineData("f", "[kernel.kallsyms]", "[kernel.kallsyms]")]
    [InlineData("[unknown]", "", null)]
    [InlineData("main", "/usr/bin/api", null)]
    [InlineData("f", "/tmp/perf-4242.map", null)]
    [InlineData("f", "/usr/lib/libsomething.sox", null)]
    [InlineData("plain", "", null)]
    public void LibraryOf_SharedObjectsAndTheKernelOnly(string function, string module, string? expected) =>
        Assert.Equal(expected, OpportunityRanker.LibraryOf(function, module));

    [Fact]
    public void Rank_AOneFunctionPatternOrLibraryIsShownAsItsFunction()
    {
        var d = OpportunityRanker.Rank(Result([Atom("a", "s", "deflate_slow", "/lib/libz.so.1", usd: 1)]), null);
        var only = Assert.Single(d.Items);
        Assert.Equal("function", only.Kind);
        Assert.Equal("compression", only.Pattern);
    }

    [Fact]
    public void Rank_NeverCountsAFunctionInTwoPatterns()
    {
        string[] names =
        [
            "memcpy", "_raw_spin_lock", "spin_then_memcpy", "malloc", "deflate", "sha256_update", "main", "json_parse",
            "sched_yield", "__schedule", "pcre_exec", "syslog", "_PyEval_EvalFrameDefault", "x", "clear_page_erms",
        ];
        string[] modules = ["", Libc, "/lib/libz.so.1", "/usr/bin/app", "/usr/lib/libcrypto.so.3"];
        var atom = Gen.Select(Gen.Int[0, names.Length - 1], Gen.Int[0, modules.Length - 1], Gen.Int[0, 2], Gen.Double[0, 100])
            .Select(t => Atom("o" + t.Item3, "s", names[t.Item1], modules[t.Item2], usd: t.Item4));

        atom.Array[0, 40].Sample(atoms =>
        {
            var d = OpportunityRanker.Rank(Result(atoms, yearFactor: 1), null, new OpportunityOptions { Top = int.MaxValue });

            // What each pattern should hold: every atom goes to at most one pattern (Classify's).
            var expected = new Dictionary<string, (double Usd, HashSet<string> Functions)>();
            double all = 0, functions = 0;
            foreach (var a in atoms)
            {
                all += a.Figures.Usd;
                if (Patterns.Classify(a.Function, a.Module) is { } p)
                {
                    var (usd, set) = expected.TryGetValue(p.Name, out var v) ? v : (0, new HashSet<string>());
                    set.Add(a.Function);
                    expected[p.Name] = (usd + a.Figures.Usd, set);
                }
            }

            foreach (var (name, (usd, set)) in expected)
            {
                var entry = d.Items.SingleOrDefault(o => o.Kind == "pattern" && o.Name == name);
                if (set.Count > 1)
                {
                    Assert.NotNull(entry);
                    Assert.Equal(usd, entry.Annual.Usd, 6);
                }
                else
                {
                    Assert.Null(entry);
                }
            }

            foreach (var o in d.Items)
            {
                if (o.Kind == "function")
                {
                    functions += o.Annual.Usd;
                }

                Assert.Equal(100, o.Owners.Sum(w => w.Percent), 6);
            }

            Assert.Equal(expected.Count(kv => kv.Value.Functions.Count > 1), d.Items.Count(o => o.Kind == "pattern"));
            Assert.Equal(all, functions, 6);
            for (var i = 1; i < d.Items.Count; i++)
            {
                Assert.True(d.Items[i - 1].Annual.Usd >= d.Items[i].Annual.Usd);
            }
        });
    }

    private static Dictionary<string, string> Query(string link)
    {
        var q = new Dictionary<string, string>();
        var i = link.IndexOf('?', StringComparison.Ordinal);
        foreach (var part in link[(i + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            q[Uri.UnescapeDataString(part[..eq])] = Uri.UnescapeDataString(part[(eq + 1)..]);
        }

        return q;
    }
}
