using System.Reflection;
using System.Text;
using Orac.Model;

namespace Orac.Formats.Svg;

/// <summary>
/// Writes a flame graph as an interactive SVG with flamegraph.pl's geometry, colours and tooltips,
/// but always well-formed XML (every text is escaped) and with Orac's own script.
/// </summary>
public static class FlameGraphSvg
{
    private const double XPad = 10;
    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
    private static readonly Lazy<byte[]> s_script = new(LoadScript);

    /// <summary>
    /// Renders <paramref name="input"/>. Returns false (after writing flamegraph.pl's error SVG) when
    /// there is nothing to draw; callers exit with status 2 then.
    /// </summary>
    public static bool Render(FoldedInput input, FlameGraphOptions options, Stream output, TextWriter? warnings = null)
    {
        FlameLayout layout = FlameLayout.Build(input, options);
        if (layout.TotalIgnored && warnings is not null && options.Total / layout.Time > 0.02)
        {
            warnings.WriteLine($"orac: warning: flamegraph: --total {options.Total} is less than the input's total {layout.Time}, so it is ignored");
        }

        if (input.Ignored > 0 && warnings is not null)
        {
            warnings.WriteLine($"orac: warning: flamegraph: ignored {input.Ignored} lines with invalid format");
        }

        if (layout.Time > 0 && layout.Time < 100 && warnings is not null)
        {
            warnings.WriteLine($"orac: warning: flamegraph: stack count is low ({layout.Time}); the graph may not be representative");
        }

        var svg = new SvgBuffer(output);
        if (layout.Time == 0)
        {
            WriteError(svg, options);
            svg.Flush();
            return false;
        }

        Write(svg, layout, options);
        svg.Flush();
        return true;
    }

    private static void WriteError(SvgBuffer svg, FlameGraphOptions o)
    {
        double height = o.FontSize * 5;
        Header(svg, o, o.Width, height);
        svg.Raw("<text x=\""u8);
        svg.Fixed(Math.Floor(o.Width / 2), 2);
        svg.Raw("\" y=\""u8);
        svg.PerlNumber(o.FontSize * 2);
        svg.Raw("\">ERROR: No valid input provided to flamegraph.</text>\n</svg>\n"u8);
    }

    private static void Header(SvgBuffer svg, FlameGraphOptions o, double width, double height)
    {
        svg.Raw("<?xml version=\"1.0\""u8);
        if (o.Encoding is not null)
        {
            svg.Raw(" encoding=\""u8);
            svg.Escaped(o.Encoding);
            svg.Raw((byte)'"');
        }

        svg.Raw(" standalone=\"no\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"u8);
        svg.Raw("<svg version=\"1.1\" width=\""u8);
        svg.PerlNumber(width);
        svg.Raw("\" height=\""u8);
        svg.PerlNumber(height);
        svg.Raw("\" onload=\"init(evt)\" viewBox=\"0 0 "u8);
        svg.PerlNumber(width);
        svg.Raw((byte)' ');
        svg.PerlNumber(height);
        svg.Raw("\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"u8);
        svg.Raw("<!-- Flame graph rendered by Orac (orac flamegraph), compatible with FlameGraph's flamegraph.pl. -->\n<!-- NOTES: "u8);
        svg.Raw(CommentSafe(o.Notes));
        svg.Raw(" -->\n"u8);
    }

    /// <summary>Text that can sit inside an XML comment: escaped, and with no "--".</summary>
    private static byte[] CommentSafe(string text)
    {
        var tmp = new MemoryStream();
        var b = new SvgBuffer(tmp);
        b.Escaped(text.Replace("--", "- -", StringComparison.Ordinal));
        b.Flush();
        byte[] bytes = tmp.ToArray();
        return bytes.Length > 0 && bytes[^1] == (byte)'-' ? [.. bytes, (byte)' '] : bytes;
    }

    private static (string, string) Background(FlameGraphOptions o)
    {
        string bg = o.BgColors ?? o.Colors switch
        {
            "mem" => "green",
            "io" or "wakeup" or "chain" => "blue",
            "red" or "green" or "blue" or "aqua" or "yellow" or "purple" or "orange" => "grey",
            _ => "yellow",
        };
        return bg switch
        {
            "yellow" => ("#eeeeee", "#eeeeb0"),
            "blue" => ("#eeeeee", "#e0e0ff"),
            "green" => ("#eef2ee", "#e0ffe0"),
            "grey" => ("#f8f8f8", "#e8e8e8"),
            _ when IsHexColor(bg) => (bg, bg),
            _ => throw new OracException($"flamegraph: unrecognized --bgcolors '{bg}' (yellow, blue, green, grey or #rrggbb)", OracException.Usage),
        };
    }

    /// <summary>True for <c>#</c> followed by six characters (what flamegraph.pl accepts).</summary>
    public static bool IsHexColor(string s) => s.Length == 7 && s[0] == '#' && s.AsSpan(1).IndexOfAnyExcept(s_hex) < 0;

    private static void Write(SvgBuffer svg, FlameLayout layout, FlameGraphOptions o)
    {
        double fontSize = o.FontSize;
        double frameHeight = o.FrameHeight;
        double ypad1 = fontSize * 3;
        double ypad2 = (fontSize * 2) + 10;
        double ypad3 = fontSize * 2;
        if (o.Subtitle.Length > 0)
        {
            ypad1 += ypad3;
        }

        double width = o.Width;
        double height = ((layout.DepthMax + 1) * frameHeight) + ypad1 + ypad2;
        (string bg1, string bg2) = Background(o);

        Header(svg, o, width, height);
        svg.Text($"<defs>\n\t<linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\" >\n\t\t<stop stop-color=\"{bg1}\" offset=\"5%\" />\n\t\t<stop stop-color=\"{bg2}\" offset=\"95%\" />\n\t</linearGradient>\n</defs>\n");
        svg.Raw("<style type=\"text/css\">\n\ttext { font-family:"u8);
        svg.Escaped(o.FontType.Replace(";", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal));
        svg.Raw("; font-size:"u8);
        svg.PerlNumber(fontSize);
        svg.Raw("px; fill:rgb(0,0,0); }\n\t#search, #ignorecase { opacity:0.1; cursor:pointer; }\n\t#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity:1; }\n"u8);
        svg.Raw("\t#subtitle { text-anchor:middle; fill:rgb(160,160,160); }\n\t#title { text-anchor:middle; font-size:"u8);
        svg.PerlNumber(fontSize + 5);
        svg.Raw("px; }\n\t#unzoom { cursor:pointer; }\n\t#frames > *:hover { stroke:black; stroke-width:0.5; cursor:pointer; }\n\t.hide { display:none; }\n\t.parent { opacity:0.5; }\n</style>\n"u8);
        svg.Raw("<script type=\"text/ecmascript\"><![CDATA[\nvar fg_nametype = "u8);
        svg.Raw(JsString(o.NameType));
        svg.Raw(";\nvar fg_fontsize = "u8);
        svg.PerlNumber(fontSize);
        svg.Raw(";\nvar fg_fontwidth = "u8);
        svg.PerlNumber(o.FontWidth);
        svg.Raw(";\nvar fg_xpad = 10;\nvar fg_inverted = "u8);
        svg.Raw(o.Inverted ? "true"u8 : "false"u8);
        svg.Raw(";\n"u8);
        svg.Raw(s_script.Value);
        svg.Raw("\n]]></script>\n"u8);

        svg.Raw("<rect x=\"0.0\" y=\"0\" width=\""u8);
        svg.Fixed(width, 1);
        svg.Raw("\" height=\""u8);
        svg.Fixed(height, 1);
        svg.Raw("\" fill=\"url(#background)\"  />\n"u8);
        TextElement(svg, "title", width / 2, fontSize * 2, o.EffectiveTitle, null);
        if (o.Subtitle.Length > 0)
        {
            TextElement(svg, "subtitle", width / 2, fontSize * 4, o.Subtitle, null);
        }

        double bottom = height - (ypad2 / 2);
        TextElement(svg, "details", XPad, bottom, " ", null);
        TextElement(svg, "unzoom", XPad, fontSize * 2, "Reset Zoom", "hide");
        TextElement(svg, "search", width - XPad - 100, fontSize * 2, "Search", null);
        TextElement(svg, "ignorecase", width - XPad - 16, fontSize * 2, "ic", null);
        TextElement(svg, "matched", width - XPad - 100, bottom, " ", null);
        svg.Raw("<g id=\"frames\">\n"u8);
        WriteFrames(svg, layout, o, height, ypad1, ypad2);
        svg.Raw("</g>\n</svg>\n"u8);
    }

    private static void TextElement(SvgBuffer svg, string id, double x, double y, string text, string? cls)
    {
        svg.Raw("<text id=\""u8);
        svg.Text(id);
        svg.Raw("\" x=\""u8);
        svg.Fixed(x, 2);
        svg.Raw("\" y=\""u8);
        svg.PerlNumber(y);
        svg.Raw("\" "u8);
        if (cls is not null)
        {
            svg.Raw("class=\""u8);
            svg.Text(cls);
            svg.Raw("\""u8);
        }

        svg.Raw(">"u8);
        svg.Escaped(text);
        svg.Raw("</text>\n"u8);
    }

    private static byte[] JsString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c is '"' or '\\' or '<' or '>' or '&' or ']' || c < 0x20 || c > 0x7E)
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return Encoding.UTF8.GetBytes(sb.Append('"').ToString());
    }

    private static void WriteFrames(SvgBuffer svg, FlameLayout layout, FlameGraphOptions o, double height, double ypad1, double ypad2)
    {
        double widthPerTime = (o.Width - (2 * XPad)) / layout.TimeMax;
        double charWidth = o.FontSize * o.FontWidth;
        double total = layout.TimeMax * o.Factor;
        var palette = new FlamePalette(o.Colors, o.Hash, o.Random ? new Random() : null);
        PaletteMap? map = o.ConsistentPalette ? PaletteMap.Load(o.PaletteFile) : null;
        byte[] countName = Encoding.UTF8.GetBytes(" " + o.CountName + ", ");
        var countNameSink = new MemoryStream();
        var countNameBuf = new SvgBuffer(countNameSink);
        countNameBuf.Escaped(countName);
        countNameBuf.Flush();
        countName = countNameSink.ToArray();
        Dictionary<string, List<KeyValuePair<string, string>>>? attrs = o.NameAttributes;
        StringTable names = layout.Names;

        // Rows repeat: precompute each depth's y values.
        int depths = layout.DepthMax + 1;
        var y1s = new double[depths];
        var y2s = new double[depths];
        for (int d = 0; d < depths; d++)
        {
            if (o.Inverted)
            {
                y1s[d] = ypad1 + (d * o.FrameHeight);
                y2s[d] = ypad1 + ((d + 1) * o.FrameHeight) - 1;
            }
            else
            {
                y1s[d] = height - ypad2 - ((d + 1) * o.FrameHeight) + 1;
                y2s[d] = height - ypad2 - (d * o.FrameHeight);
            }
        }

        foreach (ref readonly FlameNode n in layout.Nodes)
        {
            ReadOnlySpan<byte> name = names.GetBytes(n.Name);
            bool isRoot = n.Depth == 0 && name.IsEmpty;
            double end = isRoot ? layout.TimeMax : n.End;
            double x1 = XPad + (n.Start * widthPerTime);
            double x2 = XPad + (end * widthPerTime);
            double y1 = y1s[n.Depth];
            double y2 = y2s[n.Depth];
            double samples = SvgBuffer.RoundFixed((end - n.Start) * o.Factor, 0);

            List<KeyValuePair<string, string>>? extra = null;
            if (attrs is not null && !isRoot)
            {
                attrs.TryGetValue(Encoding.UTF8.GetString(name), out extra);
            }

            string? href = null;
            string? titleOverride = null;
            if (extra is not null)
            {
                foreach (KeyValuePair<string, string> kv in extra)
                {
                    if (kv.Key == "href")
                    {
                        href = kv.Value;
                    }
                    else if (kv.Key == "title")
                    {
                        titleOverride = kv.Value;
                    }
                }
            }

            if (href is not null)
            {
                svg.Raw("<a xlink:href=\""u8);
                svg.Escaped(href);
                svg.Raw("\" target=\""u8);
                svg.Escaped(Attr(extra!, "target") ?? "_top");
                svg.Raw((byte)'"');
                GroupAttrs(svg, extra!);
                svg.Raw(">\n<title>"u8);
            }
            else if (extra is not null)
            {
                svg.Raw("<g"u8);
                GroupAttrs(svg, extra);
                svg.Raw(">\n<title>"u8);
            }
            else
            {
                svg.Raw("<g >\n<title>"u8);
            }

            if (titleOverride is not null)
            {
                svg.Escaped(titleOverride);
            }
            else if (isRoot)
            {
                svg.Raw("all ("u8);
                svg.Grouped((long)samples);
                svg.Raw(countName);
                svg.Raw("100%)"u8);
            }
            else
            {
                svg.Escaped(StripAnnotation(name));
                svg.Raw(" ("u8);
                svg.Grouped((long)samples);
                svg.Raw(countName);
                svg.Fixed(100 * samples / total, 2);
                svg.Raw((byte)'%');
                if (n.HasDelta)
                {
                    // perl negates an integer 0 to 0, never -0.
                    double d = o.Negate && n.Delta != 0 ? -n.Delta : n.Delta;
                    svg.Raw("; "u8);
                    if (d > 0)
                    {
                        svg.Raw((byte)'+');
                    }

                    svg.Fixed(100 * d / total, 2);
                    svg.Raw((byte)'%');
                }

                svg.Raw((byte)')');
            }

            svg.Raw("</title><rect x=\""u8);
            double rx1 = SvgBuffer.RoundFixed(x1, 1);
            double rx2 = SvgBuffer.RoundFixed(x2, 1);
            svg.Fixed(x1, 1);
            svg.Raw("\" y=\""u8);
            svg.PerlNumber(y1);
            svg.Raw("\" width=\""u8);
            svg.Fixed(rx2 - rx1, 1);
            svg.Raw("\" height=\""u8);
            svg.Fixed(y2 - y1, 1);
            svg.Raw("\" fill=\""u8);
            (int r, int g, int b) = Fill(name, n, o, layout.MaxDelta, palette, map);
            svg.Raw("rgb("u8);
            svg.Int(r);
            svg.Raw((byte)',');
            svg.Int(g);
            svg.Raw((byte)',');
            svg.Int(b);
            svg.Raw(")\" rx=\"2\" ry=\"2\" />\n<text  x=\""u8);
            svg.Fixed(x1 + 3, 2);
            svg.Raw("\" y=\""u8);
            svg.PerlNumber(3 + ((y1 + y2) / 2));
            svg.Raw("\" >"u8);
            double chars = Math.Truncate((x2 - x1) / charWidth);
            if (chars >= 3)
            {
                Label(svg, isRoot ? "all"u8 : StripAnnotation(name), (int)Math.Min(chars, int.MaxValue));
            }

            svg.Raw(href is not null ? "</text>\n</a>\n"u8 : "</text>\n</g>\n"u8);
        }

        map?.Save();
    }

    private static string? Attr(List<KeyValuePair<string, string>> extra, string key)
    {
        foreach (KeyValuePair<string, string> kv in extra)
        {
            if (kv.Key == key)
            {
                return kv.Value;
            }
        }

        return null;
    }

    private static void GroupAttrs(SvgBuffer svg, List<KeyValuePair<string, string>> extra)
    {
        foreach (string key in (ReadOnlySpan<string>)["id", "class"])
        {
            string? v = Attr(extra, key);
            if (v is not null)
            {
                svg.Raw((byte)' ');
                svg.Text(key);
                svg.Raw("=\""u8);
                svg.Escaped(v);
                svg.Raw((byte)'"');
            }
        }
    }

    private static (int, int, int) Fill(ReadOnlySpan<byte> name, in FlameNode n, FlameGraphOptions o, double maxDelta, FlamePalette palette, PaletteMap? map)
    {
        if (name.SequenceEqual("--"u8))
        {
            return (160, 160, 160);
        }

        if (name.SequenceEqual("-"u8))
        {
            return (200, 200, 200);
        }

        if (n.HasDelta)
        {
            double value = o.Negate ? -n.Delta : n.Delta;
            if (value > 0)
            {
                int gb = (int)(210 * (maxDelta - value) / maxDelta);
                return (255, gb, gb);
            }

            if (value < 0)
            {
                int rg = (int)(210 * (maxDelta + value) / maxDelta);
                return (rg, rg, 255);
            }

            return (255, 255, 255);
        }

        return map is not null ? map.Get(name, palette) : palette.Color(name);
    }

    /// <summary>Drops a trailing <c>_[k]</c>, <c>_[w]</c>, <c>_[i]</c> or <c>_[j]</c> annotation.</summary>
    internal static ReadOnlySpan<byte> StripAnnotation(ReadOnlySpan<byte> name)
    {
        if (name.Length >= 4 && name[^4] == (byte)'_' && name[^3] == (byte)'[' && name[^1] == (byte)']' &&
            name[^2] is (byte)'k' or (byte)'w' or (byte)'i' or (byte)'j')
        {
            return name[..^4];
        }

        return name;
    }

    private static void Label(SvgBuffer svg, ReadOnlySpan<byte> name, int chars)
    {
        if (chars >= name.Length)
        {
            svg.Escaped(name);
            return;
        }

        // Cut to chars bytes, two of which become "..", without splitting a UTF-8 sequence.
        int keep = chars - 2;
        while (keep > 0 && (name[keep] & 0xC0) == 0x80)
        {
            keep--;
        }

        svg.Escaped(name[..keep]);
        svg.Raw(".."u8);
    }

    private static byte[] LoadScript()
    {
        using Stream? s = typeof(FlameGraphSvg).Assembly.GetManifestResourceStream("flamegraph.js");
        if (s is null)
        {
            return [];
        }

        var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
