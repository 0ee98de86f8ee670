using System.Globalization;
using System.Text;
using Orac.Formats;
using Orac.Formats.Perf;
using Orac.Formats.Svg;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac flamegraph</c> verb: folded stacks (one or two counts per line) or <c>perf script</c>
/// text → an interactive SVG, with flamegraph.pl's options and output geometry. Exit code 2 when
/// there is no valid input (an error SVG is still written, as flamegraph.pl does).
/// </summary>
public static class FlamegraphCommand
{
    /// <summary>What the first bytes of an input say it is.</summary>
    public enum InputKind
    {
        /// <summary>Folded stacks (<c>a;b;c 12</c>), also two-count differential lines.</summary>
        Folded,

        /// <summary><c>perf script</c> text.</summary>
        PerfScript,
    }

    private const int SniffBytes = 64 * 1024;

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        if (args.Count > 0 && args[0] is "-h" or "--help")
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        var p = new ArgParser("flamegraph")
            .Option("--title").Option("--subtitle").Option("--width").Option("--height")
            .Option("--fontsize").Option("--fontwidth").Option("--fonttype").Option("--minwidth")
            .Option("--countname").Option("--nametype").Option("--colors", "--color").Option("--bgcolors", "--bgcolor")
            .Flag("--hash").Flag("--random").Flag("--cp").Option("--palfile")
            .Flag("--reverse").Flag("--inverted").Flag("--flamechart").Flag("--negate")
            .Option("--notes").Option("--factor").Option("--total").Option("--nameattr").Option("--encoding")
            .Option("--output", "-o")
            .Parse(args);
        FlameGraphOptions options = ParseOptions(p);

        var input = new FoldedInput { MergeDuplicates = !options.FlameChart };
        List<string> files = p.Positionals.Count == 0 ? ["-"] : p.Positionals;
        foreach (string file in files)
        {
            using Stream raw = InputFiles.Open(file, ctx.StdIn);
            string name = InputFiles.DisplayName(file);
            using var stream = new PeekableStream(raw);
            switch (Sniff(stream.Peek(SniffBytes)))
            {
                case InputKind.PerfScript:
                    ReadPerfScript(stream, name, input, options, ctx);
                    break;
                default:
                    input.Read(stream, options.Reverse);
                    break;
            }
        }

        using Stream output = ctx.OpenOutput(p.Get("--output"));
        bool ok = FlameGraphSvg.Render(input, options, output, ctx.Error);
        if (!ok)
        {
            ctx.Error.WriteLine("orac: flamegraph: no valid input (expected 'frame;frame;... count' lines; for perf script text run 'orac collapse perf' first)");
            return OracException.Usage;
        }

        return 0;
    }

    /// <summary>
    /// Decides what an input is from its first bytes (up to 64 KiB). This is the one place where
    /// formats are told apart.
    /// </summary>
    public static InputKind Sniff(ReadOnlySpan<byte> head) =>
        PerfScriptCollapser.LooksLikePerfScript(head) ? InputKind.PerfScript : InputKind.Folded;

    private static void ReadPerfScript(Stream stream, string name, FoldedInput input, FlameGraphOptions options, CliContext ctx)
    {
        // perf script text is collapsed as 'stackcollapse-perf.pl FILE | flamegraph.pl' would see it.
        var warnings = new ParseWarnings();
        Profile profile = PerfScriptCollapser.Read(stream, name, new PerfCollapseOptions(), warnings);
        input.AddProfile(profile, options.Reverse);
        warnings.WriteTo(ctx.Error);
    }

    private static FlameGraphOptions ParseOptions(ArgParser p)
    {
        var o = new FlameGraphOptions
        {
            Title = p.Get("--title"),
            Subtitle = p.Get("--subtitle") ?? "",
            Width = Positive(p, "--width", 1200),
            FrameHeight = Positive(p, "--height", 16),
            FontSize = Positive(p, "--fontsize", 12),
            FontWidth = Positive(p, "--fontwidth", 0.59),
            FontType = p.Get("--fonttype") ?? "Verdana",
            CountName = p.Get("--countname") ?? "samples",
            NameType = p.Get("--nametype") ?? "Function:",
            Colors = p.Get("--colors") ?? "hot",
            BgColors = p.Get("--bgcolors"),
            Hash = p.Has("--hash"),
            Random = p.Has("--random"),
            ConsistentPalette = p.Has("--cp"),
            PaletteFile = p.Get("--palfile") ?? "palette.map",
            Reverse = p.Has("--reverse"),
            Inverted = p.Has("--inverted"),
            FlameChart = p.Has("--flamechart"),
            Negate = p.Has("--negate"),
            Notes = p.Get("--notes") ?? "",
            Factor = p.GetDouble("--factor", 1),
            Total = p.GetDouble("--total", 0),
            Encoding = p.Get("--encoding"),
        };
        if (p.Has("--palfile"))
        {
            o.ConsistentPalette = true;
        }

        if (o.Width < 21 || o.Width > 1_000_000)
        {
            throw p.Usage("--width must be between 21 and 1000000 pixels");
        }

        if (o.FrameHeight < 1 || o.FontSize > 1000 || o.FrameHeight > 1000)
        {
            throw p.Usage("--height and --fontsize must be between 1 and 1000 pixels");
        }

        if (Array.IndexOf(FlameGraphOptions.PaletteNames, o.Colors) < 0)
        {
            throw p.Usage($"unknown palette '{o.Colors}' (one of {string.Join(", ", FlameGraphOptions.PaletteNames)})");
        }

        if (o.BgColors is not null && o.BgColors is not ("yellow" or "blue" or "green" or "grey") && !FlameGraphSvg.IsHexColor(o.BgColors))
        {
            throw p.Usage($"unknown --bgcolors '{o.BgColors}' (yellow, blue, green, grey or #rrggbb)");
        }

        if (o.Notes.AsSpan().IndexOfAny('<', '>') >= 0)
        {
            throw p.Usage("--notes can't contain < or >");
        }

        // The SVG is written as UTF-8 bytes; only declarations that keep it well-formed are accepted
        // (ISO-8859-1 reads any byte, so it stays well-formed, though non-ASCII names show as mojibake).
        if (o.Encoding is not null && o.Encoding.ToUpperInvariant() is not ("UTF-8" or "UTF8" or "ISO-8859-1" or "LATIN1"))
        {
            throw p.Usage($"--encoding '{o.Encoding}' is not supported (UTF-8 or ISO-8859-1)");
        }

        string? minWidth = p.Get("--minwidth");
        if (minWidth is not null)
        {
            bool pct = minWidth.EndsWith('%');
            string num = pct ? minWidth[..^1] : minWidth;
            if (!double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out double mw) || !double.IsFinite(mw) || mw < 0)
            {
                throw p.Usage($"--minwidth needs pixels or a percentage, got '{minWidth}'");
            }

            o.MinWidth = mw;
            o.MinWidthIsPercent = pct;
        }

        string? nameAttr = p.Get("--nameattr");
        if (nameAttr is not null)
        {
            o.NameAttributes = ReadNameAttributes(nameAttr);
        }

        return o;
    }

    private static double Positive(ArgParser p, string name, double fallback)
    {
        double v = p.GetDouble(name, fallback);
        if (v <= 0)
        {
            throw p.Usage($"{name} must be positive");
        }

        return v;
    }

    /// <summary>Reads a --nameattr file: <c>function&lt;TAB&gt;attr=value&lt;TAB&gt;…</c> per line.</summary>
    private static Dictionary<string, List<KeyValuePair<string, string>>> ReadNameAttributes(string path)
    {
        var map = new Dictionary<string, List<KeyValuePair<string, string>>>(StringComparer.Ordinal);
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read --nameattr file: {e.Message}");
        }

        foreach (string line in lines)
        {
            string[] parts = line.TrimEnd('\r').Split('\t');
            if (parts.Length < 2)
            {
                continue;
            }

            var attrs = new List<KeyValuePair<string, string>>();
            for (int i = 1; i < parts.Length; i++)
            {
                int eq = parts[i].IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    attrs.Add(new(parts[i][..eq], parts[i][(eq + 1)..]));
                }
            }

            map[parts[0]] = attrs;
        }

        return map;
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine("usage: orac flamegraph [options] [FILE...] [-o FILE]");
        w.WriteLine("  folded stacks ('a;b;c 12', or two counts for a differential graph) -> interactive SVG");
        w.WriteLine("  --title T  --subtitle T  --width 1200  --height 16  --fontsize 12  --fontwidth 0.59  --fonttype Verdana");
        w.WriteLine("  --minwidth 0.1 (pixels, or N%)  --countname samples  --nametype Function:  --notes TEXT");
        w.WriteLine("  --colors hot|mem|io|wakeup|chain|java|js|perl|red|green|blue|aqua|yellow|purple|orange");
        w.WriteLine("  --bgcolors yellow|blue|green|grey|#rrggbb  --hash  --random  --cp [--palfile palette.map]");
        w.WriteLine("  --reverse  --inverted  --flamechart  --negate  --factor F  --total N  --nameattr FILE  --encoding E");
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error or no valid input");
    }
}
