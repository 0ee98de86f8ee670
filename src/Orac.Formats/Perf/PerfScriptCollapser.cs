using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// Reads <c>perf script</c> text into a <see cref="Profile"/> whose folded form
/// (<see cref="Folded.FoldedWriter"/>) is byte for byte what FlameGraph's stackcollapse-perf.pl
/// prints for the same input and options, quirks included (see docs/collapse-perf.md).
/// The comm (or comm-PID, comm-PID/TID) is the root frame; each sample weighs its period when
/// the event line carries one, else 1. Input is streamed in blocks and parsed on
/// <see cref="PerfCollapseOptions.Threads"/> threads; memory does not grow with input size, only
/// with the number of distinct frames and stacks.
/// </summary>
public static class PerfScriptCollapser
{
    /// <summary>
    /// Reads one stream of perf script text (plain text: unwrap gzip first with
    /// <see cref="InputFiles.Open"/> or <see cref="InputFiles.Unwrap"/>). <paramref name="name"/>
    /// names the input in warnings and errors. Bad lines are counted in <paramref name="warnings"/>;
    /// unreadable input throws <see cref="OracException"/>.
    /// </summary>
    public static Profile Read(Stream input, string name, PerfCollapseOptions options, ParseWarnings warnings)
        => Read([input], [name], options, warnings);

    /// <summary>
    /// Reads several streams as one stream of samples, as perl reads the files named on its
    /// command line: a sample left open at the end of one file continues in the next.
    /// </summary>
    public static Profile Read(IReadOnlyList<Stream> inputs, IReadOnlyList<string> names, PerfCollapseOptions options, ParseWarnings warnings)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(warnings);
        using var pipeline = new PerfPipeline(options, names, warnings);
        return pipeline.Run(inputs).ToProfile();
    }

    /// <summary>
    /// Reads like <see cref="Read(IReadOnlyList{Stream}, IReadOnlyList{string}, PerfCollapseOptions, ParseWarnings)"/>
    /// and writes the folded stacks straight to <paramref name="output"/>, the bytes
    /// stackcollapse-perf.pl prints, without building a <see cref="Profile"/> or holding the
    /// output text in memory. This is what <c>orac collapse perf</c> runs.
    /// </summary>
    public static void Collapse(IReadOnlyList<Stream> inputs, IReadOnlyList<string> names, PerfCollapseOptions options, ParseWarnings warnings, Stream output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(warnings);
        ArgumentNullException.ThrowIfNull(output);
        PerfStacks stacks;
        using (var pipeline = new PerfPipeline(options, names, warnings))
        {
            stacks = pipeline.Run(inputs);
        }

        stacks.WriteFolded(output);
    }

    /// <summary>
    /// True when <paramref name="head"/> (the first bytes of an input) looks like perf script
    /// output: somewhere in it, outside '#' comments, an event line (<c>comm [pid/]tid …</c>)
    /// followed by a frame line (<c>\taddress symbol (module)</c>) or a blank line.
    /// </summary>
    public static bool LooksLikePerfScript(ReadOnlySpan<byte> head)
    {
        bool previousIsEvent = false;
        while (!head.IsEmpty)
        {
            int nl = head.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? head : head[..nl];
            head = nl < 0 ? default : head[(nl + 1)..];
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (previousIsEvent && (line.IsEmpty || (PerfSyntax.IsSpace(line[0]) && PerfSyntax.MatchFrameLine(line, out _, out _, out _, out _, out _))))
            {
                return true;
            }

            previousIsEvent = !line.IsEmpty && line[0] != (byte)'#' && !PerfSyntax.IsSpace(line[0])
                && PerfSyntax.MatchEventLine(line, out _, out _, out _, out _, out _);
        }

        return false;
    }
}
