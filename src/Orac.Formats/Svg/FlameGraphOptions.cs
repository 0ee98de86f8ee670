namespace Orac.Formats.Svg;

/// <summary>
/// Options of a flame graph, with flamegraph.pl's names and defaults. Sizes are in SVG pixels;
/// <see cref="MinWidth"/> is pixels unless <see cref="MinWidthIsPercent"/>, then a percentage of the total.
/// </summary>
public sealed class FlameGraphOptions
{
    /// <summary>Title; null picks "Flame Graph", "Icicle Graph" (inverted) or "Flame Chart" (flamechart).</summary>
    public string? Title { get; set; }

    /// <summary>Second line under the title, or empty.</summary>
    public string Subtitle { get; set; } = "";

    /// <summary>Image width in pixels.</summary>
    public double Width { get; set; } = 1200;

    /// <summary>Height of one frame row in pixels.</summary>
    public double FrameHeight { get; set; } = 16;

    /// <summary>Font size in pixels.</summary>
    public double FontSize { get; set; } = 12;

    /// <summary>Average glyph width as a fraction of the font size (decides label truncation).</summary>
    public double FontWidth { get; set; } = 0.59;

    /// <summary>CSS font family.</summary>
    public string FontType { get; set; } = "Verdana";

    /// <summary>Frames narrower than this are omitted (pixels, or percent of the total with <see cref="MinWidthIsPercent"/>).</summary>
    public double MinWidth { get; set; } = 0.1;

    /// <summary>True when <see cref="MinWidth"/> is a percentage.</summary>
    public bool MinWidthIsPercent { get; set; }

    /// <summary>Unit shown in tooltips ("samples").</summary>
    public string CountName { get; set; } = "samples";

    /// <summary>Prefix of the hover details ("Function:").</summary>
    public string NameType { get; set; } = "Function:";

    /// <summary>Palette name (hot, mem, io, wakeup, chain, java, js, perl, red, green, blue, aqua, yellow, purple, orange).</summary>
    public string Colors { get; set; } = "hot";

    /// <summary>Background: yellow, blue, green, grey or #rrggbb; null picks the palette's default.</summary>
    public string? BgColors { get; set; }

    /// <summary>Colour by name hash (stable across graphs, warmer for earlier letters).</summary>
    public bool Hash { get; set; }

    /// <summary>Random colours (not reproducible).</summary>
    public bool Random { get; set; }

    /// <summary>Reuse and update a palette file (<see cref="PaletteFile"/>) so names keep their colours across graphs.</summary>
    public bool ConsistentPalette { get; set; }

    /// <summary>The palette file used with <see cref="ConsistentPalette"/>.</summary>
    public string PaletteFile { get; set; } = "palette.map";

    /// <summary>Reverse each stack before merging (leaf becomes root).</summary>
    public bool Reverse { get; set; }

    /// <summary>Icicle graph: root at the top.</summary>
    public bool Inverted { get; set; }

    /// <summary>Keep input order instead of sorting (time on the x axis).</summary>
    public bool FlameChart { get; set; }

    /// <summary>Swap the meaning of red and blue in differential graphs.</summary>
    public bool Negate { get; set; }

    /// <summary>Text written in an XML comment at the top.</summary>
    public string Notes { get; set; } = "";

    /// <summary>Multiplier applied to counts in tooltips.</summary>
    public double Factor { get; set; } = 1;

    /// <summary>Total to scale against when larger than the input's total (0: the input's total).</summary>
    public double Total { get; set; }

    /// <summary>Extra attributes per function name (from --nameattr): name → ordered (attribute, value) pairs.</summary>
    public Dictionary<string, List<KeyValuePair<string, string>>>? NameAttributes { get; set; }

    /// <summary>Encoding named in the XML declaration, or null.</summary>
    public string? Encoding { get; set; }

    /// <summary>The title to draw.</summary>
    public string EffectiveTitle => Title ?? (FlameChart ? "Flame Chart" : Inverted ? "Icicle Graph" : "Flame Graph");

    /// <summary>Names of the palettes accepted by <see cref="Colors"/>.</summary>
    public static readonly string[] PaletteNames =
        ["hot", "mem", "io", "wakeup", "chain", "java", "js", "perl", "red", "green", "blue", "aqua", "yellow", "purple", "orange"];
}
