using Orac.Model;

namespace Orac.Formats.Folded;

/// <summary>
/// Reads Pyroscope's <c>format=lines</c> ingest body: every non-empty line is one stack, frames
/// separated by ';', root first, counting one sample (<c>samples/count</c>). A trailing '\r' is
/// dropped; lines over <see cref="LineReader"/>'s cap are skipped and counted.
/// </summary>
public static class LinesReader
{
    /// <summary>Kind used for lines over the length cap.</summary>
    public const string LongLine = "lines-format lines longer than the line cap skipped";

    /// <summary>Reads <paramref name="input"/> into a new profile.</summary>
    public static Profile Read(Stream input, string name) => Read(input, name, null);

    /// <summary>Reads <paramref name="input"/> into a new profile, counting skipped long lines in <paramref name="warnings"/>.</summary>
    public static Profile Read(Stream input, string name, ParseWarnings? warnings)
    {
        ArgumentNullException.ThrowIfNull(input);
        var builder = new ProfileBuilder(SampleType.Samples);
        var reader = new LineReader(input);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (!line.IsEmpty)
            {
                builder.Add(FoldedReader.InternStack(builder, line), 1);
            }
        }

        foreach (long ln in reader.LongLinesSkipped)
        {
            warnings?.Add(LongLine, $"{name}:{ln}");
        }

        return builder.Build();
    }
}
