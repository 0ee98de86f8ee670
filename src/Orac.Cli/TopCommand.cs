using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Formats;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac top</c> verb: the top functions of a profile by self or total value, as a table
/// (name, self, total, self %, total %, with the unit in the header) or as JSON (<see cref="TopReport"/>).
/// </summary>
public static class TopCommand
{
    private const string UsageLine = "usage: orac top [--self|--total] [-n N] [--json] FILE";

    /// <summary>Rows shown when <c>-n</c> is not given.</summary>
    public const int DefaultCount = 20;

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("top")
        .Flag("--self")
        .Flag("--total")
        .Flag("--json")
        .Flag("--help", "-h")
        .Option("--count", "-n");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  --self      rank by self value (default)");
            ctx.Error.WriteLine("  --total     rank by total (inclusive) value; recursion counts once per stack");
            ctx.Error.WriteLine($"  -n N        show N functions (default {DefaultCount})");
            ctx.Error.WriteLine("  --json      machine-readable output");
            return 0;
        }

        if (p.Positionals.Count != 1)
        {
            throw p.Usage($"expected one input FILE, got {p.Positionals.Count}");
        }

        if (p.Has("--self") && p.Has("--total"))
        {
            throw p.Usage("--self and --total exclude each other");
        }

        int count = p.GetInt("--count", DefaultCount);
        if (count < 1)
        {
            throw p.Usage($"-n needs a positive count, got {count}");
        }

        TopOrder order = p.Has("--total") ? TopOrder.Total : TopOrder.Self;
        string path = p.Positionals[0];
        string name = InputFiles.DisplayName(path);
        var warnings = new ParseWarnings();
        Profile profile;
        using (Stream input = InputFiles.Open(path, ctx.StdIn))
        {
            profile = ReadProfile(input, name, warnings);
        }

        TopFunctions top = TopFunctions.Compute(profile, order);
        TopReport report = ToReport(top, name, order, count);
        using (Stream output = ctx.OpenOutput(null))
        {
            byte[] bytes = p.Has("--json")
                ? JsonSerializer.SerializeToUtf8Bytes(report, OracJsonContext.Default.TopReport)
                : Encoding.UTF8.GetBytes(RenderTable(report));
            output.Write(bytes);
            if (p.Has("--json"))
            {
                output.Write("\n"u8);
            }
        }

        warnings.WriteTo(ctx.Error);
        return 0;
    }

    /// <summary>
    /// Reads the input into a profile: perf script text (detected from its first 64 KiB) or folded stacks.
    /// </summary>
    internal static Profile ReadProfile(Stream input, string name, ParseWarnings warnings)
    {
        var peek = new PeekableStream(input);
        if (PerfScriptCollapser.LooksLikePerfScript(peek.Peek(64 * 1024)))
        {
            return PerfScriptCollapser.Read(peek, name, new PerfCollapseOptions(), warnings);
        }

        return FoldedReader.Read(peek, name, warnings);
    }

    /// <summary>The unit word shown to people: the unit, or the type name for plain counts ("samples").</summary>
    public static string UnitWord(SampleType type) => TopReport.UnitWord(type);

    /// <summary>Builds the wire document for the first <paramref name="count"/> rows.</summary>
    public static TopReport ToReport(TopFunctions top, string source, TopOrder order, int count) => TopReport.From(top, source, order, count);

    /// <summary>Renders the report as an aligned text table with the unit in the header.</summary>
    public static string RenderTable(TopReport report)
    {
        string selfHead = $"self ({report.Unit})";
        string totalHead = $"total ({report.Unit})";
        const string SelfPct = "self %";
        const string TotalPct = "total %";
        int nameWidth = "function".Length;
        int selfWidth = selfHead.Length;
        int totalWidth = totalHead.Length;
        foreach (TopRow r in report.Functions)
        {
            nameWidth = Math.Max(nameWidth, r.Name.Length);
            selfWidth = Math.Max(selfWidth, Num(r.Self).Length);
            totalWidth = Math.Max(totalWidth, Num(r.Total).Length);
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"values are measured (from {report.Source}); unit: {report.Unit}; sample type {report.SampleType}; total {Num(report.ProfileTotal)} {report.Unit}; ranked by {report.OrderBy}\n");
        sb.Append("function".PadRight(nameWidth)).Append("  ")
            .Append(selfHead.PadLeft(selfWidth)).Append("  ")
            .Append(totalHead.PadLeft(totalWidth)).Append("  ")
            .Append(SelfPct.PadLeft(7)).Append("  ")
            .Append(TotalPct.PadLeft(7)).Append('\n');
        foreach (TopRow r in report.Functions)
        {
            sb.Append(r.Name.PadRight(nameWidth)).Append("  ")
                .Append(Num(r.Self).PadLeft(selfWidth)).Append("  ")
                .Append(Num(r.Total).PadLeft(totalWidth)).Append("  ")
                .Append(r.SelfPercent.ToString("0.00", CultureInfo.InvariantCulture).PadLeft(7)).Append("  ")
                .Append(r.TotalPercent.ToString("0.00", CultureInfo.InvariantCulture).PadLeft(7)).Append('\n');
        }

        return sb.ToString();
    }

    private static string Num(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
