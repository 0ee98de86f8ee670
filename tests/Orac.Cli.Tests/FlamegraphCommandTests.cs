using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

public partial class FlamegraphCommandTests
{
    private static (int Code, byte[] Out, string Err) Run(params string[] args) => RunWithStdin([], args);

    private static (int Code, byte[] Out, string Err) RunWithStdin(byte[] stdin, params string[] args)
    {
        var err = new StringWriter();
        var output = new MemoryStream();
        var ctx = new CliContext { StdIn = new MemoryStream(stdin), StdOut = output, Error = err };
        int code = Program.Run(["flamegraph", .. args], ctx);
        return (code, output.ToArray(), err.ToString());
    }

    private static string Data(string name) => Path.Combine(TestPaths.Data, "flamegraph", name);

    [GeneratedRegex("<(?:g|a)[^>]*>\\n<title>(.*?)</title><rect x=\"([^\"]*)\" y=\"([^\"]*)\" width=\"([^\"]*)\" height=\"([^\"]*)\" fill=\"([^\"]*)\"", RegexOptions.Singleline)]
    private static partial Regex FrameRegex();

    /// <summary>Frames as "title|x|y|w|h|fill" with counts; works on flamegraph.pl output, which is not always XML.</summary>
    private static Dictionary<string, int> Frames(string svg)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in FrameRegex().Matches(svg))
        {
            string key = string.Join('|', m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value, m.Groups[5].Value, m.Groups[6].Value);
            d[key] = d.GetValueOrDefault(key) + 1;
        }

        return d;
    }

    private static void AssertWellFormed(byte[] svg)
    {
        using var reader = XmlReader.Create(new MemoryStream(svg), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        while (reader.Read())
        {
        }
    }

    public static TheoryData<string, string, string, int> CorpusCases()
    {
        var data = new TheoryData<string, string, string, int>();
        string? corpus = TestPaths.Corpus;
        string cases = corpus is null ? "" : Path.Combine(corpus, "generated", "FlameGraph-41fee1f", "CASES.tsv");
        if (corpus is null || !File.Exists(cases))
        {
            data.Add("(corpus missing)", "", "", 0);
            return data;
        }

        foreach (string line in File.ReadLines(cases))
        {
            string[] f = line.Split('\t');
            if (f.Length >= 5 && f[0] == "flamegraph.pl")
            {
                data.Add(f[1], f[2], f[3], int.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(CorpusCases))]
    public void Corpus_SameFramesAsFlamegraphPl(string input, string args, string expected, int exit)
    {
        Skip.If(TestPaths.Corpus is null, TestPaths.CorpusMissing);
        string corpus = TestPaths.Corpus!;
        (int code, byte[] output, string err) = Run([.. ShellWords.Split(args), Path.Combine(corpus, input)]);
        Assert.True(code == exit, $"exit {code}, expected {exit}: {err}");
        AssertWellFormed(output);

        string exp = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(corpus, expected)));
        Dictionary<string, int> want = Frames(exp);
        Dictionary<string, int> got = Frames(Encoding.UTF8.GetString(output));
        var diffs = new List<string>();
        foreach ((string k, int n) in want)
        {
            if (got.GetValueOrDefault(k) != n)
            {
                diffs.Add($"expected {n}x, got {got.GetValueOrDefault(k)}x: {k}");
            }
        }

        foreach ((string k, int n) in got)
        {
            if (!want.ContainsKey(k))
            {
                diffs.Add($"unexpected {n}x: {k}");
            }
        }

        Assert.True(diffs.Count == 0, $"{expected}: {diffs.Count} frame differences, first:\n" + string.Join('\n', diffs.Take(8)));
        if (exit == 2)
        {
            Assert.Contains("ERROR: No valid input provided", Encoding.UTF8.GetString(output), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EmptyInput_ExitsTwoWithErrorSvg()
    {
        (int code, byte[] output, string err) = RunWithStdin([]);
        Assert.Equal(2, code);
        AssertWellFormed(output);
        Assert.Contains("ERROR: No valid input provided", Encoding.UTF8.GetString(output), StringComparison.Ordinal);
        Assert.Contains("no valid input", err, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidLines_CountedInOneWarningLine()
    {
        (int code, byte[] output, string err) = RunWithStdin(Encoding.UTF8.GetBytes("a;b 3\nno count here\n\x01\x02\na;c 200\n"));
        Assert.Equal(0, code);
        AssertWellFormed(output);
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["orac: warning: flamegraph: ignored 2 lines with invalid format"], lines);
    }

    [Fact]
    public void EqualsForm_SameAsSpaceForm()
    {
        (int c1, byte[] o1, _) = Run("--title", "T", "--width", "800", "--colors", "blue", Data("basic.folded"));
        (int c2, byte[] o2, _) = Run("--title=T", "--width=800", "--colors=blue", Data("basic.folded"));
        Assert.Equal(0, c1);
        Assert.Equal(0, c2);
        Assert.Equal(o1, o2);
        Assert.Contains("width=\"800\"", Encoding.UTF8.GetString(o1), StringComparison.Ordinal);
    }

    [Fact]
    public void OutputFile_Written()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orac-fg-{Environment.ProcessId}.svg");
        try
        {
            (int code, byte[] stdout, _) = Run(Data("basic.folded"), "-o", path);
            Assert.Equal(0, code);
            Assert.Empty(stdout);
            AssertWellFormed(File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--colors", "nope")]
    [InlineData("--bgcolors", "pink")]
    [InlineData("--notes", "a<b")]
    [InlineData("--minwidth", "x%")]
    [InlineData("--width", "-5")]
    [InlineData("--encoding", "x\"y")]
    public void BadOption_UsageError(string opt, string value)
    {
        (int code, _, string err) = Run(opt, value, Data("basic.folded"));
        Assert.Equal(2, code);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileInput_WellFormed()
    {
        (int code, byte[] output, _) = Run("--title", "<&>\"", "--subtitle", "]]>", "--nametype", "</script>", "--countname", "<b>", Data("hostile.folded"));
        Assert.Equal(0, code);
        AssertWellFormed(output);
    }

    [Fact]
    public void Palette_ConsistentAcrossRuns()
    {
        string pal = Path.Combine(Path.GetTempPath(), $"orac-pal-{Environment.ProcessId}.map");
        try
        {
            (int code, byte[] first, _) = Run("--cp", "--palfile", pal, Data("basic.folded"));
            Assert.Equal(0, code);
            string map = File.ReadAllText(pal);
            Assert.Contains("main->rgb(", map, StringComparison.Ordinal);
            (_, byte[] second, _) = Run("--cp", "--palfile", pal, "--hash", Data("basic.folded"));
            Assert.Equal(Frames(Encoding.UTF8.GetString(first)), Frames(Encoding.UTF8.GetString(second)));
        }
        finally
        {
            File.Delete(pal);
        }
    }

    [Fact]
    public void NameAttr_AddsLink()
    {
        string attrs = Path.Combine(Path.GetTempPath(), $"orac-attr-{Environment.ProcessId}.txt");
        try
        {
            File.WriteAllText(attrs, "leaf\thref=http://x/?a=1&b=2\tclass=hot\n");
            (int code, byte[] output, _) = Run("--nameattr", attrs, Data("basic.folded"));
            Assert.Equal(0, code);
            AssertWellFormed(output);
            Assert.Contains("<a xlink:href=\"http://x/?a=1&amp;b=2\" target=\"_top\" class=\"hot\">", Encoding.UTF8.GetString(output), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(attrs);
        }
    }

    [Fact]
    public void Sniff_FoldedIsFolded() =>
        Assert.Equal(FlamegraphCommand.InputKind.Folded, FlamegraphCommand.Sniff("a;b 1\n"u8));

    [SkippableFact]
    public void Chromium_SearchFromUrlHighlights()
    {
        string? chromium = FindChromium();
        Skip.If(chromium is null, "SKIPPED: chromium not installed (test.sh installs it as root; apt-get install -y chromium)");
        string svgPath = Path.Combine(Path.GetTempPath(), $"orac-e2e-{Environment.ProcessId}.svg");
        string profile = Path.Combine(Path.GetTempPath(), $"orac-e2e-profile-{Environment.ProcessId}");
        try
        {
            (int code, _, _) = Run(Data("basic.folded"), "-o", svgPath);
            Assert.Equal(0, code);
            string dom = DumpDom(chromium!, profile, "file://" + svgPath + "?s=work");
            Assert.Contains("Matched: ", dom, StringComparison.Ordinal);
            Assert.Contains("rgb(230,0,230)", dom, StringComparison.Ordinal);

            // Zoom restored from the URL: the zoomed frame spans the full width and its ancestors are dimmed.
            Match idle = Regex.Match(File.ReadAllText(svgPath), "<title>idle \\([^<]*</title><rect x=\"([^\"]*)\" y=\"([^\"]*)\"");
            Assert.True(idle.Success);
            string zoomed = DumpDom(chromium!, profile, $"file://{svgPath}?x={idle.Groups[1].Value}&y={idle.Groups[2].Value}");
            Assert.Matches("<title>idle \\([^<]*</title><rect x=\"10(\\.0)?\" y=\"[^\"]*\" width=\"1180(\\.0)?\"", zoomed);
            Assert.Contains("class=\"parent\"", zoomed, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(svgPath);
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string DumpDom(string chromium, string profile, string url)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile, "--virtual-time-budget=3000", "--dump-dom", url])
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string dom = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "chromium did not exit");
        _ = stderr.Result;
        return dom;
    }

    private static string? FindChromium()
    {
        foreach (string name in (string[])["chromium", "chromium-browser", "google-chrome"])
        {
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            {
                string p = Path.Combine(dir, name);
                if (dir.Length > 0 && File.Exists(p))
                {
                    return p;
                }
            }
        }

        return null;
    }
}
