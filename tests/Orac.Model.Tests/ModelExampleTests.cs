using Orac.Model;

namespace Orac.Model.Tests;

public class ModelExampleTests
{
    private static Profile Folded(params (string Stack, long Value)[] rows)
    {
        var b = new ProfileBuilder(SampleType.Samples);
        foreach ((string stack, long value) in rows)
        {
            StackId s = StackId.Root;
            foreach (string f in stack.Split(';'))
            {
                s = b.Push(s, b.Frame(f));
            }

            b.Add(s, value);
        }

        return b.Build();
    }

    [Fact]
    public void Top_RecursiveFunction_CountsOncePerStack()
    {
        Profile p = Folded(("main;f;f;f", 4), ("main;f", 2), ("main;g;f", 4));
        TopFunctions top = TopFunctions.Compute(p, TopOrder.Total);
        // Both total 10; the tie goes to the larger self (f), so the order is deterministic.
        TopFunction main = top.Rows[1];
        Assert.Equal("main", p.FrameName(main.Frame));
        Assert.Equal(10, main.Total);
        TopFunction f = top.Rows[0];
        Assert.Equal("f", p.FrameName(f.Frame));
        Assert.Equal(10, f.Total);
        Assert.Equal(10, f.Self);
    }

    [Fact]
    public void CallTree_ChildrenSortedByName_WithSelfAndTotal()
    {
        Profile p = Folded(("main;zeta", 1), ("main;alpha", 2), ("main", 3), ("main;alpha;x", 5));
        var tree = new CallTree(p);
        int main = tree.Children(CallTree.Root)[0];
        Assert.Equal(11, tree.Total(main));
        Assert.Equal(3, tree.Self(main));
        ReadOnlySpan<int> kids = tree.Children(main);
        Assert.Equal("alpha", p.FrameName(tree.Frame(kids[0])));
        Assert.Equal("zeta", p.FrameName(tree.Frame(kids[1])));
        Assert.Equal(7, tree.Total(kids[0]));
    }

    [Fact]
    public void Diff_PerStack_BeforeAfter_MissingIsZero()
    {
        Profile a = Folded(("m;a", 3), ("m;b", 5));
        Profile b = Folded(("m;b", 2), ("m;c", 7));
        Profile d = Profile.Diff(a, b);
        var got = new Dictionary<string, (long, long)>();
        for (int r = 0; r < d.SampleCount; r++)
        {
            got[d.StackToString(d.SampleStacks[r])] = (d.Value(r, 0), d.Value(r, 1));
        }

        Assert.Equal((3L, 0L), got["m;a"]);
        Assert.Equal((5L, 2L), got["m;b"]);
        Assert.Equal((0L, 7L), got["m;c"]);
        Assert.Equal("before", d.SampleTypes[0].Type);
    }

    [Fact]
    public void Diff_Normalize_ScalesBeforeToAfterTotal_Truncating()
    {
        Profile a = Folded(("a", 1), ("b", 2), ("c", 4));
        Profile b = Folded(("a", 5), ("b", 5));
        Profile d = Profile.Diff(a, b, normalize: true);
        var before = new Dictionary<string, long>();
        for (int r = 0; r < d.SampleCount; r++)
        {
            before[d.StackToString(d.SampleStacks[r])] = d.Value(r, 0);
        }

        Assert.Equal(1, before["a"]);
        Assert.Equal(2, before["b"]);
        Assert.Equal(5, before["c"]);
    }

    [Theory]
    [InlineData(68, 111, 333, 204)]
    [InlineData(6, 65, 80, 7)]
    [InlineData(20, 65, 80, 24)]
    [InlineData(5, 0, 80, 5)]
    [InlineData(5, 7, 7, 5)]
    [InlineData(long.MaxValue / 2, 3, 5, 7686143364045646848)]
    public void DiffMath_Scale_TruncatesLikePerl(long value, long from, long to, long expected) =>
        Assert.Equal(expected, DiffMath.Scale(value, from, to));

    [Fact]
    public void Merge_DifferentSampleTypes_IsUserError()
    {
        Profile a = new ProfileBuilder(SampleType.Samples).Build();
        Profile b = new ProfileBuilder(new SampleType("cpu", "nanoseconds")).Build();
        Assert.Throws<OracException>(() => Profile.Merge(a, b));
    }
}
