using System.Text;
using System.Text.RegularExpressions;
using Orac.Formats.Diff;
using Orac.Model;

namespace Orac.Formats.Tests.Diff;

/// <summary>
/// Differential test: the streaming trie diff against a naive reference (dictionary of whole
/// stacks, regex strip-hex, ordinal sort of whole lines) on random inputs from a hostile alphabet.
/// Output must be byte-identical, order included.
/// </summary>
public partial class DiffReferenceTests
{
    [GeneratedRegex("0x[0-9a-fA-F]+")]
    private static partial Regex HexRun();

    private static readonly string[] s_pieces = ["a", "b", "ab", ";", ";", " ", "\t", "!", "0x1F", "0x", "1", "22", ".", "x y", "\r", "", "é"];

    private static string RandomFile(Random rng)
    {
        var sb = new StringBuilder();
        int lines = rng.Next(0, 12);
        for (int l = 0; l < lines; l++)
        {
            int parts = rng.Next(0, 5);
            for (int p = 0; p < parts; p++)
            {
                sb.Append(s_pieces[rng.Next(s_pieces.Length)]);
            }

            if (rng.Next(6) != 0)
            {
                sb.Append(' ').Append(rng.Next(0, 1000));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string Reference(string a, string b, bool normalize, bool stripHex)
    {
        var counts = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var totals = new long[2];
        string[] files = [a, b];
        for (int side = 0; side < 2; side++)
        {
            foreach (string raw in files[side].Split('\n'))
            {
                string line = raw.EndsWith('\r') ? raw[..^1] : raw;
                byte[] bytes = Encoding.UTF8.GetBytes(line);
                if (bytes.Length == 0 || FoldedDiff.SplitCount(bytes, out ReadOnlySpan<byte> stackBytes, out long count) != 0)
                {
                    continue;
                }

                string stack = Encoding.UTF8.GetString(stackBytes);
                if (stripHex)
                {
                    stack = HexRun().Replace(stack, "0x...");
                }

                if (!counts.TryGetValue(stack, out long[]? c))
                {
                    counts[stack] = c = new long[2];
                }

                c[side] += count;
                totals[side] += count;
            }
        }

        var lines = new List<byte[]>();
        foreach (var kv in counts)
        {
            long first = normalize ? DiffMath.Scale(kv.Value[0], totals[0], totals[1]) : kv.Value[0];
            lines.Add(Encoding.UTF8.GetBytes($"{kv.Key} {first} {kv.Value[1]}"));
        }

        lines.Sort((x, y) => x.AsSpan().SequenceCompareTo(y));
        var sb = new StringBuilder();
        foreach (byte[] l in lines)
        {
            sb.Append(Encoding.UTF8.GetString(l)).Append('\n');
        }

        return sb.ToString();
    }

    [Fact]
    public void TrieDiff_MatchesNaiveReference_OnRandomInputs()
    {
        var rng = new Random(7);
        for (int i = 0; i < 3000; i++)
        {
            string a = RandomFile(rng);
            string b = RandomFile(rng);
            var options = new FoldedDiffOptions { Normalize = rng.Next(2) == 0, StripHex = rng.Next(2) == 0 };
            var o = new MemoryStream();
            FoldedDiff.Run(new MemoryStream(Encoding.UTF8.GetBytes(a)), "a", new MemoryStream(Encoding.UTF8.GetBytes(b)), "b", o, options, new ParseWarnings());
            string expected = Reference(a, b, options.Normalize, options.StripHex);
            string actual = Encoding.UTF8.GetString(o.ToArray());
            if (expected != actual)
            {
                Assert.Fail($"iteration {i} ({options}):\n--- before\n{a}--- after\n{b}--- expected\n{expected}--- actual\n{actual}");
            }
        }
    }

    // Sorted files of stacks over a tiny frame alphabet (empty and prefix-of-each-other names included):
    // neighbouring lines share frames, one stack is often a prefix of the next, which is what the
    // trie's reuse of the previous stack's path must get right.
    private static string SortedSharedPrefixFile(Random rng)
    {
        string[] frames = ["a", "ab", "", "b", "a b"];
        var lines = new List<string>();
        int n = rng.Next(0, 16);
        for (int l = 0; l < n; l++)
        {
            int depth = rng.Next(0, 6);
            var parts = new string[depth];
            for (int d = 0; d < depth; d++)
            {
                parts[d] = frames[rng.Next(frames.Length)];
            }

            lines.Add($"{string.Join(';', parts)} {rng.Next(1, 50)}");
        }

        lines.Sort(StringComparer.Ordinal);
        return lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
    }

    [Fact]
    public void TrieDiff_MatchesNaiveReference_OnSortedSharedPrefixInputs()
    {
        var rng = new Random(11);
        for (int i = 0; i < 3000; i++)
        {
            string a = SortedSharedPrefixFile(rng);
            string b = rng.Next(3) == 0 ? a : SortedSharedPrefixFile(rng);
            var o = new MemoryStream();
            FoldedDiff.Run(new MemoryStream(Encoding.UTF8.GetBytes(a)), "a", new MemoryStream(Encoding.UTF8.GetBytes(b)), "b", o, default, new ParseWarnings());
            string expected = Reference(a, b, normalize: false, stripHex: false);
            string actual = Encoding.UTF8.GetString(o.ToArray());
            if (expected != actual)
            {
                Assert.Fail($"iteration {i}:\n--- before\n{a}--- after\n{b}--- expected\n{expected}--- actual\n{actual}");
            }
        }
    }
}
