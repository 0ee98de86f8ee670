using Orac.Formats;
using Orac.Formats.Diff;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The <c>orac diff</c> verb: difffolded.pl-compatible three-column output
/// (<c>stack count1 count2</c>, sorted bytewise) from two folded files. See docs/diff.md.
/// </summary>
public static class DiffCommand
{
    private const string UsageLine = "usage: orac diff [-n|--normalize] [-s|--strip-hex] BEFORE AFTER [-o FILE]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("diff")
        .Flag("--normalize", "-n")
        .Flag("--strip-hex", "-s")
        .Flag("--help", "-h")
        .Option("--output", "-o");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  -n, --normalize   scale BEFORE's counts to AFTER's total (truncating)");
            ctx.Error.WriteLine("  -s, --strip-hex   replace 0x<hex> in stacks with 0x... before comparing");
            ctx.Error.WriteLine("  -o, --output FILE write to FILE instead of standard output");
            return 0;
        }

        if (p.Positionals.Count != 2)
        {
            throw p.Usage($"expected two inputs, BEFORE and AFTER, got {p.Positionals.Count}");
        }

        string a = p.Positionals[0];
        string b = p.Positionals[1];
        if (a == "-" && b == "-")
        {
            throw p.Usage("only one input can be standard input ('-')");
        }

        var options = new FoldedDiffOptions { Normalize = p.Has("--normalize"), StripHex = p.Has("--strip-hex") };
        var warnings = new ParseWarnings();
        var diff = new FoldedDiff();

        // Open both before writing anything, so a missing second file fails without output.
        using (Stream before = InputFiles.Open(a, ctx.StdIn))
        using (Stream after = InputFiles.Open(b, ctx.StdIn))
        {
            diff.Read(before, InputFiles.DisplayName(a), 0, options, warnings);
            diff.Read(after, InputFiles.DisplayName(b), 1, options, warnings);
        }

        using (Stream output = ctx.OpenOutput(p.Get("--output")))
        {
            diff.Write(output, options.Normalize);
        }

        warnings.WriteTo(ctx.Error);
        return 0;
    }
}
