using System.Text;
using Orac.Formats.Diff;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Diff;

/// <summary>The difffolded.pl rows of the shared corpus: same set of lines (the perl order is random).</summary>
public class DiffCorpusTests
{
    private const string Cases = "generated/FlameGraph-41fee1f/CASES.tsv";

    public static TheoryData<int> Rows()
    {
        // Five rows today; the test checks the count so a changed corpus is noticed.
        var data = new TheoryData<int>();
        for (int i = 0; i < 5; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Rows))]
    public void DiffFolded_CorpusRow_SameLineSet(int index)
    {
        Skip.If(TestPaths.Corpus is null, TestPaths.CorpusMissing);
        string corpus = TestPaths.Corpus!;
        var rows = new List<string[]>();
        foreach (string line in File.ReadLines(Path.Combine(corpus, Cases)))
        {
            string[] cols = line.Split('\t');
            if (cols.Length >= 5 && cols[0].StartsWith("difffolded.pl", StringComparison.Ordinal))
            {
                rows.Add(cols);
            }
        }

        Assert.Equal(5, rows.Count);
        string[] row = rows[index];
        string[] inputs = row[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, inputs.Length);
        var options = new FoldedDiffOptions();
        foreach (string arg in ShellWords.Split(row[2]))
        {
            options = arg switch
            {
                "-n" or "--normalize" => options with { Normalize = true },
                "-s" or "--strip-hex" => options with { StripHex = true },
                _ => throw new InvalidOperationException($"unexpected difffolded.pl option '{arg}' in {Cases}"),
            };
        }

        Assert.Equal("0", row[4].Trim());
        var output = new MemoryStream();
        var warnings = new ParseWarnings();
        using (Stream a = InputFiles.Open(Path.Combine(corpus, inputs[0]), Stream.Null))
        using (Stream b = InputFiles.Open(Path.Combine(corpus, inputs[1]), Stream.Null))
        {
            FoldedDiff.Run(a, inputs[0], b, inputs[1], output, options, warnings);
        }

        string[] expected = SortedLines(File.ReadAllText(Path.Combine(corpus, row[3])));
        string[] actual = SortedLines(Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(expected, actual);
        Assert.Equal(0, warnings.Total);
    }

    private static string[] SortedLines(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Array.Sort(lines, StringComparer.Ordinal);
        return lines;
    }
}
