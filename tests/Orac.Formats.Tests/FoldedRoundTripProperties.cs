using System.Text;
using CsCheck;
using Orac.Formats.Folded;
using Orac.Model;

namespace Orac.Formats.Tests;

public class FoldedRoundTripProperties
{
    private static readonly string[] s_frames = ["main", "a", "b", "c_[k]", "java/Foo:.bar", "[unknown]", "x y"];

    // Valid folded text: unique stacks, sorted bytewise as LC_ALL=C sort sorts whole lines.
    private static readonly Gen<string> s_folded =
        Gen.Select(Gen.Int[0, s_frames.Length - 1].Array[1, 6], Gen.Long[0, 1_000_000])
            .Array[0, 30]
            .Select(rows =>
            {
                var byStack = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach ((int[] frames, long count) in rows)
                {
                    var names = new string[frames.Length];
                    for (int i = 0; i < frames.Length; i++)
                    {
                        names[i] = s_frames[frames[i]];
                    }

                    byStack[string.Join(';', names)] = count;
                }

                var lines = new List<string>();
                foreach (var kv in byStack)
                {
                    lines.Add($"{kv.Key} {kv.Value}");
                }

                lines.Sort(StringComparer.Ordinal);
                var sb = new StringBuilder();
                foreach (string l in lines)
                {
                    sb.Append(l).Append('\n');
                }

                return sb.ToString();
            });

    [Fact]
    public void FoldedToProfileToFolded_IsIdentity()
    {
        s_folded.Sample(text =>
        {
            var w = new ParseWarnings();
            Profile p = FoldedReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "gen", w);
            var o = new MemoryStream();
            FoldedWriter.Write(p, o);
            Assert.Equal(text, Encoding.UTF8.GetString(o.ToArray()));
            Assert.Equal(0, w.Total);
        }, iter: 300);
    }

    [Fact]
    public void MergeThenWrite_EqualsWriteOfConcatenation()
    {
        Gen.Select(s_folded, s_folded).Sample(pair =>
        {
            var w = new ParseWarnings();
            Profile a = FoldedReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(pair.Item1)), "a", w);
            Profile b = FoldedReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(pair.Item2)), "b", w);
            Profile both = FoldedReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(pair.Item1 + pair.Item2)), "ab", w);
            Assert.Equal(Write(both), Write(Profile.Merge(a, b)));
        }, iter: 200);
    }

    private static string Write(Profile p)
    {
        var o = new MemoryStream();
        FoldedWriter.Write(p, o);
        return Encoding.UTF8.GetString(o.ToArray());
    }
}
