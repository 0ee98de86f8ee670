using System.Text;
using Orac.Formats.Folded;
using Orac.Model;

namespace Orac.Formats.Tests;

public class FoldedReaderTests
{
    [Fact]
    public void FoldedRoundTrip_IsIdentity_ForSortedInput()
    {
        string text = "a;b 3\na;b;c 1\nb 7\n";
        var w = new ParseWarnings();
        Profile p = FoldedReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t", w);
        var o = new MemoryStream();
        FoldedWriter.Write(p, o);
        Assert.Equal(text, Encoding.UTF8.GetString(o.ToArray()));
        Assert.Equal(0, w.Total);
    }

    [Fact]
    public void LineWithoutCount_IsCountedSkip()
    {
        var w = new ParseWarnings();
        Profile p = FoldedReader.Read(new MemoryStream("a;b 3\ngarbage\n"u8.ToArray()), "in.folded", w);
        Assert.Equal(3, p.Total());
        Assert.Equal(1, w.Count(FoldedReader.InvalidLine));
    }
}
