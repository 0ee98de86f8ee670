using Orac.Model;

namespace Orac.Model.Tests;

public class StringTableTests
{
    [Fact]
    public void Intern_SameBytes_ReturnsSameId()
    {
        var b = new ProfileBuilder();
        StringId a = b.Intern("main"u8);
        StringId c = b.Intern("main"u8);
        StringId d = b.Intern("mainx"u8);
        Assert.Equal(a, c);
        Assert.NotEqual(a, d);
        Assert.Equal("main", b.Strings.GetString(a));
        Assert.Equal(StringId.Empty, b.Intern(""u8));
    }

    [Fact]
    public void Intern_ManyStrings_SurvivesRehash()
    {
        var b = new ProfileBuilder();
        var ids = new StringId[50_000];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = b.Intern("f" + i);
        }

        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], b.Intern("f" + i));
            Assert.Equal("f" + i, b.Strings.GetString(ids[i]));
        }
    }

    [Fact]
    public void Builder_AggregatesSameStack()
    {
        var b = new ProfileBuilder();
        StackId s = b.Stack([b.Frame("a"), b.Frame("b")]);
        b.Add(s, 2);
        b.Add(s, 3);
        Profile p = b.Build();
        Assert.Equal(1, p.SampleCount);
        Assert.Equal(5, p.Total());
        Assert.Equal("a;b", p.StackToString(p.SampleStacks[0]));
    }

    [Fact]
    public void Hash_EveryByteOfLongStringsCounts()
    {
        // Whole folded lines are interned by this hash: flipping any one byte, in the 8-byte steps or in
        // the tail, must change it, and the same bytes must always give the same hash.
        var rng = new Random(5);
        foreach (int length in (int[])[63, 64, 65, 95, 96, 100, 1000])
        {
            byte[] data = new byte[length];
            rng.NextBytes(data);
            int h = StringTable.Hash(data);
            Assert.Equal(h, StringTable.Hash((byte[])data.Clone()));
            var seen = new HashSet<int> { h };
            for (int i = 0; i < length; i++)
            {
                data[i] ^= 0x20;
                Assert.True(seen.Add(StringTable.Hash(data)), $"length {length}: flipping byte {i} collided");
                data[i] ^= 0x20;
            }

            Assert.True(StringTable.Hash(data) >= 0);
        }
    }
}
