using System.Text;
using Orac.Formats.Svg;

namespace Orac.Formats.Tests.Svg;

public class FoldedInputTests
{
    [Fact]
    public void SortedOrder_MatchesBytewiseSortOfWholeLines()
    {
        // Names that are prefixes of each other, contain spaces/tabs/digits, are empty, or end the stack with ';'.
        string[] names = ["a", "ab", "a b", "a 1", "a\t", "", "b", "b-x", "b;c", "~", "a.", "a 12"];
        var rng = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            var lines = new List<byte[]>();
            int n = rng.Next(1, 30);
            for (int i = 0; i < n; i++)
            {
                var sb = new StringBuilder();
                int depth = rng.Next(0, 4);
                for (int d = 0; d < depth; d++)
                {
                    if (d > 0)
                    {
                        sb.Append(';');
                    }

                    sb.Append(names[rng.Next(names.Length)]);
                }

                sb.Append(rng.Next(3) == 0 ? '\t' : ' ').Append(rng.Next(1, 200));
                if (rng.Next(4) == 0)
                {
                    sb.Append(' ').Append(rng.Next(1, 200));
                }

                lines.Add(Encoding.UTF8.GetBytes(sb.ToString()));
            }

            var input = new FoldedInput { MergeDuplicates = false };
            var accepted = new List<byte[]>();
            foreach (byte[] l in lines)
            {
                int before = input.Count;
                input.Add(l, reverse: false);
                if (input.Count > before)
                {
                    accepted.Add(l);
                }
            }

            int[] order = input.SortedOrder();
            var expected = Enumerable.Range(0, accepted.Count).ToArray();
            Array.Sort(expected, (x, y) =>
            {
                int c = accepted[x].AsSpan().SequenceCompareTo(accepted[y]);
                return c != 0 ? c : x.CompareTo(y);
            });
            for (int i = 0; i < order.Length; i++)
            {
                Assert.True(
                    accepted[order[i]].AsSpan().SequenceEqual(accepted[expected[i]]),
                    $"round {round} position {i}: got '{Encoding.UTF8.GetString(accepted[order[i]])}', expected '{Encoding.UTF8.GetString(accepted[expected[i]])}'");
            }

            byte[] buf = new byte[16];
            for (int i = 0; i < accepted.Count; i++)
            {
                int len = input.MaterializeLine(i, ref buf);
                Assert.Equal(Encoding.UTF8.GetString(accepted[i]), Encoding.UTF8.GetString(buf, 0, len));
            }
        }
    }

    [Fact]
    public void MergeDuplicates_SumsCountsOfIdenticalStacks()
    {
        var input = new FoldedInput();
        input.Add("a;b 2"u8, false);
        input.Add("a;b 3"u8, false);
        input.Add("a;b;c 1"u8, false);
        input.Add("nocount"u8, false);
        Assert.Equal(2, input.Count);
        Assert.Equal(5, input.First(0));
        Assert.Equal(1, input.Ignored);
    }

    [Fact]
    public void InputOrder_OnlyAdjacentRepeatsMerge()
    {
        var input = new FoldedInput { MergeDuplicates = false };
        input.Add("a;b 1"u8, false);
        input.Add("a;b 2"u8, false);
        input.Add("c 1"u8, false);
        input.Add("a;b 4"u8, false);
        Assert.Equal(3, input.Count);
        Assert.Equal(3, input.First(0));
        Assert.Equal(4, input.First(2));
    }

    [Fact]
    public void Reverse_RebuildsLineLeafFirst()
    {
        var input = new FoldedInput();
        input.Add("a;b;c;\t7"u8, reverse: true);
        byte[] buf = new byte[8];
        int len = input.MaterializeLine(0, ref buf);
        Assert.Equal("c;b;a 7", Encoding.UTF8.GetString(buf, 0, len));
    }

    [Fact]
    public void SortedInput_SharedLeadingFrames_RoundTrip()
    {
        // Sorted lines share leading frames with the line before, which the reader reuses instead of
        // interning again: one stack a prefix of the next, names prefixes of each other, empty frames.
        string[] names = ["a", "ab", "", "a b", "b"];
        var rng = new Random(13);
        for (int round = 0; round < 500; round++)
        {
            var lines = new List<string>();
            int n = rng.Next(1, 20);
            for (int i = 0; i < n; i++)
            {
                int depth = rng.Next(0, 7);
                var parts = new string[depth];
                for (int d = 0; d < depth; d++)
                {
                    parts[d] = names[rng.Next(names.Length)];
                }

                lines.Add($"{string.Join(';', parts)} {rng.Next(1, 9)}");
            }

            lines.Sort(StringComparer.Ordinal);
            var input = new FoldedInput { MergeDuplicates = false };
            foreach (string l in lines)
            {
                input.Add(Encoding.UTF8.GetBytes(l), reverse: false);
            }

            // Adjacent repeats merge in input order; every kept line must read back byte for byte.
            var kept = new List<string>();
            foreach (string l in lines)
            {
                string stack = l[..l.LastIndexOf(' ')];
                if (kept.Count > 0 && kept[^1] == stack)
                {
                    continue;
                }

                kept.Add(stack);
            }

            Assert.Equal(kept.Count, input.Count);
            byte[] buf = new byte[16];
            for (int i = 0; i < kept.Count; i++)
            {
                int len = input.MaterializeLine(i, ref buf);
                string line = Encoding.UTF8.GetString(buf, 0, len);
                Assert.Equal(kept[i], line[..line.LastIndexOf(' ')]);
                Assert.Equal(kept[i].Length == 0 ? 0 : kept[i].Split(';').Length, input.Frames(i).Length);
            }
        }
    }
}
