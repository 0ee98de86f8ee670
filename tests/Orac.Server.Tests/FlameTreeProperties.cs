using CsCheck;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Server.Tests;

/// <summary>Invariants of the columnar flame tree under truncation, over generated profiles.</summary>
public class FlameTreeProperties
{
    private static readonly string[] s_frames = ["main", "f", "g", "h", "f2"];

    private static readonly Gen<((int[] Frames, long Value)[] Rows, int MaxNodes)> s_case =
        Gen.Select(Gen.Select(Gen.Int[0, s_frames.Length - 1].Array[0, 6], Gen.Long[0, 1000]).Array[0, 30], Gen.Int[1, 40]);

    private static Profile Build((int[] Frames, long Value)[] rows)
    {
        var b = new ProfileBuilder(SampleType.Samples);
        foreach ((int[] frames, long value) in rows)
        {
            StackId s = StackId.Root;
            foreach (int f in frames)
            {
                s = b.Push(s, b.Frame(s_frames[f]));
            }

            b.Add(s, value);
        }

        return b.Build();
    }

    [Fact]
    public void Truncation_KeepsTotalsExact_AndPreOrderSortedTree()
    {
        s_case.Sample(c =>
        {
            Profile p = Build(c.Rows);
            FlameTree full = FlameTreeBuilder.Build(p, ProfileTypeId.ProcessCpuSamples, 0, 1, FlameTreeBuilder.DefaultMaxNodes);
            FlameTree t = FlameTreeBuilder.Build(p, ProfileTypeId.ProcessCpuSamples, 0, 1, c.MaxNodes);
            FlameNodes n = t.Nodes;
            int count = n.Parent.Length;

            Assert.Equal(p.Total(), t.Total);
            Assert.Equal(p.Total(), n.Total[0]);
            Assert.True(count <= Math.Max(1, c.MaxNodes));
            Assert.Equal(full.Nodes.Parent.Length, count + t.Truncated);
            Assert.Equal(-1, n.Parent[0]);

            long selfSum = 0;
            var childSum = new long[count];
            for (int i = 0; i < count; i++)
            {
                selfSum += n.Self[i];
                if (i > 0)
                {
                    Assert.InRange(n.Parent[i], 0, i - 1); // pre-order: parents come first
                    childSum[n.Parent[i]] += n.Total[i];
                }
            }

            Assert.Equal(t.Total, selfSum);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(n.Total[i], n.Self[i] + childSum[i]);
            }

            // Siblings in name order; every kept node also exists in the full tree with the same total.
            for (int i = 1; i < count; i++)
            {
                for (int j = i + 1; j < count; j++)
                {
                    if (n.Parent[j] == n.Parent[i])
                    {
                        Assert.True(string.CompareOrdinal(t.Names[n.Name[i]], t.Names[n.Name[j]]) < 0);
                        break;
                    }
                }
            }
        });
    }
}
