using System.Text;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// One small input per behaviour under tests/data/diff and tests/data/top, with the expected output
/// beside it (<c>NAME.expected.txt</c>); optional <c>NAME.args</c> holds extra options on one line.
/// </summary>
public class GoldenCliTests
{
    public static TheoryData<string> DiffCases() => Cases("diff", ".before.folded");

    public static TheoryData<string> TopCases() => Cases("top", ".folded");

    private static TheoryData<string> Cases(string verb, string suffix)
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestPaths.Data, verb), "*" + suffix).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(f)[..^suffix.Length];
            if (!name.Contains('.', StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DiffCases))]
    public void Diff_MatchesGolden(string name)
    {
        string dir = Path.Combine(TestPaths.Data, "diff");
        var args = new List<string> { "diff" };
        args.AddRange(ExtraArgs(Path.Combine(dir, name + ".args")));
        args.Add(Path.Combine(dir, name + ".before.folded"));
        args.Add(Path.Combine(dir, name + ".after.folded"));
        (int code, string stdout, string _) = Run(args);
        Assert.Equal(0, code);
        Golden.AssertMatches(Path.Combine(dir, name + ".expected.txt"), stdout);
    }

    [Theory]
    [MemberData(nameof(TopCases))]
    public void Top_MatchesGolden(string name)
    {
        string dir = Path.Combine(TestPaths.Data, "top");
        var args = new List<string> { "top" };
        args.AddRange(ExtraArgs(Path.Combine(dir, name + ".args")));
        string input = Path.Combine(dir, name + ".folded");
        args.Add(input);
        (int code, string stdout, string _) = Run(args);
        Assert.Equal(0, code);

        // The table names its input; keep goldens independent of where the repo lives.
        Golden.AssertMatches(Path.Combine(dir, name + ".expected.txt"), stdout.Replace(input, name + ".folded", StringComparison.Ordinal));
    }

    private static string[] ExtraArgs(string path) =>
        File.Exists(path) ? File.ReadAllText(path).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : [];

    internal static (int Code, string StdOut, string StdErr) Run(IReadOnlyList<string> args, byte[]? stdin = null)
    {
        var err = new StringWriter();
        var output = new MemoryStream();
        var ctx = new CliContext { StdIn = new MemoryStream(stdin ?? []), StdOut = output, Error = err };
        int code = Program.Run(args, ctx);
        return (code, Encoding.UTF8.GetString(output.ToArray()), err.ToString());
    }
}
