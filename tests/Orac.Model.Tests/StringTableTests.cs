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
}
