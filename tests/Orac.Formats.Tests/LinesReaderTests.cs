using Orac.Formats.Folded;
using Orac.Model;

namespace Orac.Formats.Tests;

public class LinesReaderTests
{
    [Fact]
    public void EachNonEmptyLine_IsOneSample_RootFirst()
    {
        Profile p = LinesReader.Read(new MemoryStream("main;work;leaf\r\n\nmain;work;leaf\nmain;idle\n\r\nmain"u8.ToArray()), "body");
        Assert.Equal([SampleType.Samples], p.SampleTypes);
        Assert.Equal("main = 1\nmain;idle = 1\nmain;work;leaf = 2", PprofReaderTests.Dump(p));
    }

    [Fact]
    public void TrailingNumbers_ArePartOfTheFrame_NotACount()
    {
        Profile p = LinesReader.Read(new MemoryStream("a;b 42\n"u8.ToArray()), "body");
        Assert.Equal("a;b 42 = 1", PprofReaderTests.Dump(p));
    }

    [Fact]
    public void Empty_IsAnEmptyProfile()
    {
        Assert.Equal(0, LinesReader.Read(new MemoryStream([]), "body").SampleCount);
    }
}
