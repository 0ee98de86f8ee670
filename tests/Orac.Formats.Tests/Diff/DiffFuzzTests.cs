using System.Diagnostics;
using System.Text;
using Orac.Formats.Diff;
using Orac.Model;

namespace Orac.Formats.Tests.Diff;

public class DiffFuzzTests
{
    internal static readonly byte[][] Seeds =
    [
        "main;a 3\nmain;b 5\n\0main;a 4\nmain;c 1\n"u8.ToArray(),
        "f;0x7fAB;g 1\r\nf;0x;h 2.5\n  7\n\0x 99999999999999999999\nx 9223372036854775807\nx 9223372036854775807\n"u8.ToArray(),
        "\u0003a\tb 1\n\n;;; 0\n\0a\tb 2\n0x0x0x1 3\n"u8.ToArray(),
    ];


    [Fact(Timeout = 10_000)]
    public async Task HugeCounts_Overflowing64Bits_AreSkippedNotThrown()
    {
        await Task.Yield();
        var w = new ParseWarnings();
        var o = new MemoryStream();
        FoldedDiff.Run(new MemoryStream("a 99999999999999999999\na 1\n"u8.ToArray()), "a", new MemoryStream("a 2\n"u8.ToArray()), "b", o, new FoldedDiffOptions { Normalize = true }, w);
        Assert.Equal("a 2 2\n", Encoding.UTF8.GetString(o.ToArray()));
        Assert.Equal(1, w.Count(FoldedDiff.BadCount));
    }

    [Fact]
    public void TotalsOverflowing64Bits_AreAUserErrorNamingTheLine()
    {
        var e = Assert.Throws<OracException>(() => FoldedDiff.Run(
            new MemoryStream("a 9223372036854775807\nb 1\n"u8.ToArray()), "big.folded", new MemoryStream(), "b", Stream.Null, default, new ParseWarnings()));
        Assert.Contains("big.folded:2", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task LongLine_IsSkippedWithoutHanging()
    {
        await Task.Yield();
        byte[] data = new byte[(17 << 20) + 10];
        Array.Fill(data, (byte)'a');
        "\nb 1\n"u8.CopyTo(data.AsSpan(data.Length - 5));
        var w = new ParseWarnings();
        var o = new MemoryStream();
        FoldedDiff.Run(new MemoryStream(data), "a", new MemoryStream(), "b", o, default, w);
        Assert.Equal("b 1 0\n", Encoding.UTF8.GetString(o.ToArray()));
        Assert.Equal(1, w.Count(FoldedDiff.LongLine));
    }
}
