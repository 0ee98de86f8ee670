using System.Text;
using System.Xml.Linq;
using Orac.Formats.Folded;
using Orac.Formats.Svg;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Svg;

public class FlameGraphSvgTests
{
    private static string Render(byte[] input, FlameGraphOptions? o = null)
    {
        o ??= new FlameGraphOptions();
        var fi = new FoldedInput { MergeDuplicates = !o.FlameChart };
        fi.Read(new MemoryStream(input), o.Reverse);
        var ms = new MemoryStream();
        FlameGraphSvg.Render(fi, o, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string RenderFile(string name, FlameGraphOptions? o = null) =>
        Render(File.ReadAllBytes(Path.Combine(TestPaths.Data, "flamegraph", name)), o);

    private static List<(string Title, double X, double Width, string Fill)> Frames(string svg)
    {
        XNamespace ns = "http://www.w3.org/2000/svg";
        XDocument doc = XDocument.Parse(svg);
        var list = new List<(string, double, double, string)>();
        foreach (XElement g in doc.Descendants(ns + "g"))
        {
            XElement? rect = g.Element(ns + "rect");
            XElement? title = g.Element(ns + "title");
            if (rect is null || title is null)
            {
                continue;
            }

            list.Add((title.Value, double.Parse(rect.Attribute("x")!.Value, System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(rect.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture), rect.Attribute("fill")!.Value));
        }

        return list;
    }

    [Fact]
    public void Basic_SiblingsFollowWholeLineByteOrder()
    {
        List<(string Title, double X, double Width, string Fill)> frames = Frames(RenderFile("basic.folded"));
        Assert.Contains(frames, f => f.Title == "all (11 samples, 100%)" && f.X == 10.0 && f.Width == 1180.0);
        // "main;work 2" < "main;work-x;a 1" < "main;work;leaf 5": work appears twice, split by work-x.
        Assert.Equal(2, frames.Count(f => f.Title.StartsWith("work (", StringComparison.Ordinal)));
        Assert.Contains(frames, f => f.Title == "work (5 samples, 45.45%)");
        Assert.Contains(frames, f => f.Title == "work (2 samples, 18.18%)");
    }

    [Fact]
    public void Default_ColourIsSeededDrand48OfByteSum()
    {
        // srand(sum) then drand48: x0 = (sum << 16) + 0x330E.
        double v = FlamePalette.SeededDrand48(FlamePalette.ByteSum("main"u8));
        (int r, int g, int b) = new FlamePalette("hot", hash: false).Color("main"u8);
        Assert.Equal((205 + (int)(50 * v), (int)(230 * v), (int)(55 * v)), (r, g, b));
    }

    [Fact]
    public void HostileNames_StillWellFormedXml()
    {
        string svg = RenderFile("hostile.folded", new FlameGraphOptions { Title = "t <&> \"q\"", Subtitle = "]]> --", Notes = "a -- b", NameType = "</script>\"" });
        XDocument.Parse(svg);
        Assert.Contains("&lt;&amp;&gt;&quot;", svg, StringComparison.Ordinal);
        Assert.Contains("\uFFFD", svg, StringComparison.Ordinal);
        Assert.Contains(Frames(svg), f => f.Fill == "rgb(160,160,160)"); // "--"
        Assert.Contains(Frames(svg), f => f.Fill == "rgb(200,200,200)"); // "-"
    }

    [Fact]
    public void Annotation_StrippedFromTitleButKeptForColour()
    {
        string svg = RenderFile("annotated.folded", new FlameGraphOptions { Colors = "java" });
        List<(string Title, double X, double Width, string Fill)> frames = Frames(svg);
        (string _, double _, double _, string fill) = frames.Single(f => f.Title.StartsWith("f (", StringComparison.Ordinal));
        (int r, int g, int b) = new FlamePalette("java", false).Color("f_[k]"u8);
        Assert.Equal($"rgb({r},{g},{b})", fill);
    }

    [Fact]
    public void Differential_TooltipsAndColours()
    {
        List<(string Title, double X, double Width, string Fill)> frames = Frames(RenderFile("diff.folded"));
        Assert.Contains(frames, f => f.Title == "a (10 samples, 55.56%; +27.78%)" && f.Fill == "rgb(255,0,0)");
        Assert.Contains(frames, f => f.Title == "b (5 samples, 27.78%; -27.78%)" && f.Fill == "rgb(0,0,255)");
        Assert.Contains(frames, f => f.Title == "c (3 samples, 16.67%; 0.00%)" && f.Fill == "rgb(255,255,255)");
        List<(string Title, double X, double Width, string Fill)> negated = Frames(RenderFile("diff.folded", new FlameGraphOptions { Negate = true }));
        Assert.Contains(negated, f => f.Title == "a (10 samples, 55.56%; -27.78%)" && f.Fill == "rgb(0,0,255)");
    }

    [Fact]
    public void FractionalCounts_Accepted()
    {
        List<(string Title, double X, double Width, string Fill)> frames = Frames(RenderFile("fractional.folded"));
        Assert.Contains(frames, f => f.Title == "all (4 samples, 100%)");
        // As in flamegraph.pl the percentage is taken from the rounded count: 2 of 3.5.
        Assert.Contains(frames, f => f.Title == "b (2 samples, 57.14%)");
    }

    [Fact]
    public void FlameChart_KeepsInputOrder()
    {
        List<(string Title, double X, double Width, string Fill)> frames = Frames(RenderFile("flamechart.folded", new FlameGraphOptions { FlameChart = true }));
        Assert.Equal(2, frames.Count(f => f.Title.StartsWith("B (", StringComparison.Ordinal)));
        Assert.Equal(10.0, frames.Single(f => f.Title.StartsWith("x (", StringComparison.Ordinal)).X);
        Assert.Contains("Flame Chart", RenderFile("flamechart.folded", new FlameGraphOptions { FlameChart = true }), StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyInput_ErrorSvgAndFalse()
    {
        var ms = new MemoryStream();
        bool ok = FlameGraphSvg.Render(new FoldedInput(), new FlameGraphOptions(), ms);
        Assert.False(ok);
        string svg = Encoding.UTF8.GetString(ms.ToArray());
        XDocument.Parse(svg);
        Assert.Contains("ERROR: No valid input provided", svg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1164.125, 2, "1164.12")]
    [InlineData(0.25, 1, "0.2")]
    [InlineData(0.35, 1, "0.3")]
    [InlineData(2.5, 0, "2")]
    [InlineData(3.5, 0, "4")]
    [InlineData(1.005, 2, "1.00")]
    [InlineData(-0.75, 1, "-0.8")]
    public void Fixed_RoundsLikePrintf(double v, int decimals, string expected)
    {
        var ms = new MemoryStream();
        var b = new SvgBuffer(ms);
        b.Fixed(v, decimals);
        b.Flush();
        Assert.Equal(expected, Encoding.ASCII.GetString(ms.ToArray()));
    }

    [Fact]
    public void Script_IsEmbedded()
    {
        string svg = RenderFile("basic.folded");
        Assert.Contains("function init(evt)", svg, StringComparison.Ordinal);
        Assert.Contains("<![CDATA[", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Fuzz_SeedsFromTestData()
    {
        foreach (string f in Directory.GetFiles(Path.Combine(TestPaths.Data, "flamegraph")))
        {
            FoldedFuzz.Run(File.ReadAllBytes(f));
        }
    }
}
