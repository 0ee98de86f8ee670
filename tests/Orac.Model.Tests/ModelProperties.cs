using CsCheck;
using Orac.Model;

namespace Orac.Model.Tests;

/// <summary>Property tests for merge, call tree and top over generated profiles.</summary>
public class ModelProperties
{
    private static readonly string[] s_frames = ["main", "f", "g", "h", "f"];

    // A profile spec: rows of (frames root first, value, label choice).
    private static readonly Gen<(int[] Frames, long Value, int Label)[]> s_spec =
        Gen.Select(Gen.Int[0, s_frames.Length - 1].Array[0, 6], Gen.Long[0, 1000], Gen.Int[0, 2]).Array[0, 25];

    internal static Profile Build((int[] Frames, long Value, int Label)[] spec)
    {
        var b = new ProfileBuilder(SampleType.Samples);
        Span<long> v = stackalloc long[1];
        foreach ((int[] frames, long value, int label) in spec)
        {
            StackId s = StackId.Root;
            foreach (int f in frames)
            {
                s = b.Push(s, b.Frame(s_frames[f]));
            }

            LabelSetId l = label == 0 ? LabelSetId.None : b.Labels([new Label(b.Intern("k"), b.Intern(label.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
            v[0] = value;
            b.Add(s, v, l);
        }

        return b.Build();
    }

    /// <summary>Value per (stack text, labels text), the value-level identity of a profile.</summary>
    internal static SortedDictionary<string, long> Values(Profile p)
    {
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int r = 0; r < p.SampleCount; r++)
        {
            string labels = "";
            foreach (Label l in p.LabelSets.Get(p.SampleLabels[r]))
            {
                labels += p.Strings.GetString(l.Key) + "=" + p.Strings.GetString(l.Value) + ",";
            }

            string key = p.StackToString(p.SampleStacks[r]) + "|" + labels;
            d[key] = d.GetValueOrDefault(key) + p.Value(r);
        }

        return d;
    }

    [Fact]
    public void Merge_IsCommutative()
    {
        Gen.Select(s_spec, s_spec).Sample(t =>
        {
            Profile a = Build(t.Item1);
            Profile b = Build(t.Item2);
            Assert.Equal(Values(Profile.Merge(a, b)), Values(Profile.Merge(b, a)));
        }, iter: 300);
    }

    [Fact]
    public void Merge_IsAssociative()
    {
        Gen.Select(s_spec, s_spec, s_spec).Sample(t =>
        {
            Profile a = Build(t.Item1);
            Profile b = Build(t.Item2);
            Profile c = Build(t.Item3);
            Assert.Equal(Values(Profile.Merge(Profile.Merge(a, b), c)), Values(Profile.Merge(a, Profile.Merge(b, c))));
            Assert.Equal(Values(Profile.Merge(a, b, c)), Values(Profile.Merge(Profile.Merge(a, b), c)));
        }, iter: 300);
    }

    [Fact]
    public void CallTree_EveryNodeTotal_IsAtLeastSumOfChildren()
    {
        s_spec.Sample(spec =>
        {
            Profile p = Build(spec);
            var tree = new CallTree(p);
            Assert.Equal(p.Total(), tree.Total(CallTree.Root));
            for (int n = 0; n < tree.NodeCount; n++)
            {
                long sum = 0;
                ReadOnlySpan<int> children = tree.Children(n);
                for (int i = 0; i < children.Length; i++)
                {
                    sum += tree.Total(children[i]);
                    Assert.Equal(n, tree.Parent(children[i]));
                }

                Assert.True(tree.Total(n) >= sum, $"node {n}: total {tree.Total(n)} < children {sum}");
                Assert.Equal(tree.Total(n), tree.Self(n) + sum);
            }
        }, iter: 300);
    }

    [Fact]
    public void Top_TotalsNeverExceedProfileTotal()
    {
        s_spec.Sample(spec =>
        {
            Profile p = Build(spec);
            TopFunctions top = TopFunctions.Compute(p, TopOrder.Total);
            long total = p.Total();
            Assert.Equal(total, top.ProfileTotal);
            long selfSum = 0;
            foreach (TopFunction f in top.Rows)
            {
                Assert.True(f.Total <= total, $"{p.FrameName(f.Frame)} total {f.Total} > profile total {total}");
                Assert.True(f.Self <= f.Total);
                selfSum += f.Self;
            }

            Assert.True(selfSum <= total);
        }, iter: 300);
    }
}
