using System.IO.Compression;
using System.Text;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

public class DiffCommandTests
{
    private static string DataFile(string name) => Path.Combine(TestPaths.Data, "diff", name);

    [Fact]
    public void MissingFile_PrintsOneLineNamingIt_Exit1()
    {
        string missing = Path.Combine(Path.GetTempPath(), "orac-no-such-file.folded");
        (int code, string stdout, string stderr) = GoldenCliTests.Run(["diff", DataFile("basic.before.folded"), missing]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Contains(missing, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("diff")]
    [InlineData("diff", "a.folded")]
    [InlineData("diff", "a", "b", "c")]
    [InlineData("diff", "--bogus", "a", "b")]
    [InlineData("diff", "-", "-")]
    [InlineData("diff", "a", "b", "-o")]
    public void UsageErrors_Exit2(params string[] args)
    {
        (int code, _, string stderr) = GoldenCliTests.Run(args);
        Assert.Equal(2, code);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void EmptyInputs_ProduceEmptyOutput()
    {
        string empty = DataFile("empty-input.before.folded");
        (int code, string stdout, string stderr) = GoldenCliTests.Run(["diff", "-n", empty, empty]);
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Stdin_AndGzip_AreAccepted()
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write("main;a 4\nmain;b 1\n"u8);
        }

        (int code, string stdout, _) = GoldenCliTests.Run(["diff", DataFile("basic.before.folded"), "-"], gz.ToArray());
        Assert.Equal(0, code);
        Assert.Equal(File.ReadAllText(DataFile("basic.expected.txt")), stdout);
    }

    [Fact]
    public void OutputOption_WritesFile()
    {
        string o = Path.Combine(Path.GetTempPath(), $"orac-diff-{Environment.ProcessId}.txt");
        try
        {
            (int code, string stdout, _) = GoldenCliTests.Run(["diff", "-o", o, DataFile("basic.before.folded"), DataFile("basic.after.folded")]);
            Assert.Equal(0, code);
            Assert.Equal("", stdout);
            Assert.Equal(File.ReadAllText(DataFile("basic.expected.txt")), File.ReadAllText(o, Encoding.UTF8));
        }
        finally
        {
            File.Delete(o);
        }
    }
}

public class TopCommandTests
{
    [Fact]
    public void Table_NamesTheUnit_FromTheSampleType()
    {
        var b = new Orac.Model.ProfileBuilder(new Orac.Model.SampleType("cpu", "nanoseconds"));
        b.Add(b.Push(b.Push(Orac.Model.StackId.Root, b.Frame("main")), b.Frame("work")), 1_500_000);
        Orac.Model.TopFunctions top = Orac.Model.TopFunctions.Compute(b.Build());
        string table = TopCommand.RenderTable(TopCommand.ToReport(top, "cpu.pb", Orac.Model.TopOrder.Self, 10));
        Assert.Contains("self (nanoseconds)", table, StringComparison.Ordinal);
        Assert.Contains("total (nanoseconds)", table, StringComparison.Ordinal);
        Assert.Contains("values are measured (from cpu.pb)", table, StringComparison.Ordinal);
        Assert.Contains("1,500,000", table, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_Exit1()
    {
        (int code, _, string stderr) = GoldenCliTests.Run(["top", "/nonexistent/orac.folded"]);
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/orac.folded", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("top")]
    [InlineData("top", "--self", "--total", "x")]
    [InlineData("top", "-n", "0", "x")]
    [InlineData("top", "-n", "many", "x")]
    public void UsageErrors_Exit2(params string[] args)
    {
        (int code, _, _) = GoldenCliTests.Run(args);
        Assert.Equal(2, code);
    }
}
