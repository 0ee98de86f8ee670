using System.Xml;
using Orac.Formats.Svg;
using Orac.Model;

namespace Orac.Formats.Folded;

/// <summary>
/// Fuzz target: reads arbitrary bytes as folded input (one- and two-count) and as Pyroscope
/// lines, and renders a flame graph, which must parse as XML. <see cref="OracException"/> is an accepted outcome; any other
/// exception is a bug.
/// </summary>
public static class FoldedFuzz
{
    private static readonly FlameGraphOptions[] s_options =
    [
        new(),
        new() { Reverse = true, Inverted = true, Hash = true, Colors = "java", MinWidth = 0 },
        new() { FlameChart = true, Colors = "chain", Subtitle = "s<&>\"", Notes = "n--&", Factor = 2.5, Total = 7 },
        new() { Colors = "js", Negate = true, MinWidth = 1, MinWidthIsPercent = true, Width = 300, FontSize = 7.5, FrameHeight = 10.5 },
    ];

    /// <summary>Runs one input through the reader and every renderer variant.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        byte[] bytes = data.ToArray();
        try
        {
            var warnings = new ParseWarnings();
            FoldedReader.Read(new MemoryStream(bytes), "fuzz", warnings);
            FoldedReader.ReadTwoColumns(new MemoryStream(bytes), "fuzz", warnings);
            Profile lines = LinesReader.Read(new MemoryStream(bytes), "fuzz", warnings);
            if (lines.Total() < 0)
            {
                throw new InvalidOperationException("lines reader gave a negative total");
            }
        }
        catch (OracException)
        {
        }

        foreach (FlameGraphOptions o in s_options)
        {
            var input = new FoldedInput { MergeDuplicates = !o.FlameChart };
            var output = new MemoryStream();
            try
            {
                input.Read(new MemoryStream(bytes), o.Reverse);
                FlameGraphSvg.Render(input, o, output);
            }
            catch (OracException)
            {
                continue;
            }

            output.Position = 0;
            using var reader = XmlReader.Create(output, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
            while (reader.Read())
            {
            }
        }
    }
}
