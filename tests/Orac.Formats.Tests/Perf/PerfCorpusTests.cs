using System.Text;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Perf;

/// <summary>
/// Byte compatibility with stackcollapse-perf.pl on every stackcollapse-perf.pl row of the shared
/// corpus: CASES-upstream.tsv (FlameGraph's own test expectations) and the regenerated
/// generated/FlameGraph-41fee1f/CASES.tsv. Rows marked STALE (Java --pid/--tid expectations from
/// before an upstream fix) are checked against the regenerated output, and the stale file must
/// differ from it only by the documented leading-L stripping.
/// </summary>
public class PerfCorpusTests
{
    private const string GeneratedIndex = "generated/FlameGraph-41fee1f/CASES.tsv";

    public static TheoryData<string, string, string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, string, string, bool>();
        string? corpus = TestPaths.Corpus;
        if (corpus is null)
        {
            data.Add("corpus missing", "", "", "", false);
            return data;
        }

        int row = 0;
        foreach (string line in File.ReadAllLines(Path.Combine(corpus, "CASES-upstream.tsv")).Skip(1))
        {
            string[] f = line.Split('\t');
            row++;
            if (f.Length < 5 || !f[0].StartsWith("stackcollapse-perf.pl", StringComparison.Ordinal))
            {
                continue;
            }

            bool stale = f[4].StartsWith("STALE", StringComparison.Ordinal);
            data.Add($"upstream#{row} {f[1]} {f[2]}".TrimEnd(), f[1], f[2], f[3], stale);
        }

        row = 0;
        foreach (string line in File.ReadAllLines(Path.Combine(corpus, GeneratedIndex)).Skip(1))
        {
            string[] f = line.Split('\t');
            row++;
            if (f.Length < 4 || f[0] != "stackcollapse-perf.pl")
            {
                continue;
            }

            data.Add($"generated#{row} {f[1]} {f[2]}".TrimEnd(), f[1], f[2], f[3], false);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Collapse_MatchesStackcollapsePerf(string name, string input, string args, string expected, bool stale)
    {
        Skip.If(TestPaths.Corpus is null, TestPaths.CorpusMissing);
        string corpus = TestPaths.Corpus!;
        byte[] inputBytes = PerfTestSupport.ReadInput(Path.Combine(corpus, input));
        List<string> argv = ShellWords.Split(args);
        byte[] expectedBytes = File.ReadAllBytes(Path.Combine(corpus, expected));
        byte[] viaProfile = PerfTestSupport.ViaProfile(inputBytes, PerfTestSupport.Options(argv, threads: 1));
        byte[] viaCollapse = PerfTestSupport.ViaCollapse(inputBytes, PerfTestSupport.Options(argv, threads: 2));
        PerfTestSupport.AssertSameBytes(viaProfile, viaCollapse, $"{name}: library path vs streaming path");
        if (!stale)
        {
            PerfTestSupport.AssertSameBytes(expectedBytes, viaCollapse, name);
            return;
        }

        string regenerated = Path.Combine(corpus, "generated", "FlameGraph-41fee1f", "collapse-perf", Path.GetFileName(expected));
        Assert.True(File.Exists(regenerated), $"{name}: STALE row without a regenerated expectation at {regenerated}");
        PerfTestSupport.AssertSameBytes(File.ReadAllBytes(regenerated), viaCollapse, name + " (regenerated expectation)");
        Assert.False(expectedBytes.AsSpan().SequenceEqual(viaCollapse), $"{name}: marked STALE but matches; drop the mark");
        Assert.Equal(StripJavaL(expectedBytes), StripJavaL(viaCollapse));
    }

    /// <summary>The documented difference: a leading 'L' on frames that contain '/' (Java class names).</summary>
    private static string StripJavaL(byte[] folded)
    {
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in Encoding.UTF8.GetString(folded).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int sp = line.LastIndexOf(' ');
            string[] frames = line[..sp].Split(';');
            for (int i = 0; i < frames.Length; i++)
            {
                if (frames[i].StartsWith('L') && frames[i].Contains('/', StringComparison.Ordinal))
                {
                    frames[i] = frames[i][1..];
                }
            }

            string key = string.Join(';', frames);
            totals[key] = totals.GetValueOrDefault(key) + long.Parse(line[(sp + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return string.Join('\n', totals.Select(kv => $"{kv.Key} {kv.Value}"));
    }
}
