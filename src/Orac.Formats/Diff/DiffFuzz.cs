using Orac.Formats.Diff;
using Orac.Model;

namespace Orac.Formats.Diff;

/// <summary>
/// Fuzz target for the folded diff: the data is split into two inputs (at the first NUL byte, else
/// in the middle) and diffed with flags taken from the first byte. Any exception other than
/// <see cref="OracException"/> is a bug.
/// </summary>
public static class DiffFuzz
{
    /// <summary>Runs one fuzz input.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        var options = new FoldedDiffOptions
        {
            Normalize = data.Length > 0 && (data[0] & 1) != 0,
            StripHex = data.Length > 0 && (data[0] & 2) != 0,
        };
        int split = data.IndexOf((byte)0);
        if (split < 0)
        {
            split = data.Length / 2;
        }

        byte[] first = data[..split].ToArray();
        byte[] second = data[Math.Min(split + 1, data.Length)..].ToArray();
        try
        {
            FoldedDiff.Run(new MemoryStream(first), "a", new MemoryStream(second), "b", Stream.Null, options, new ParseWarnings());
        }
        catch (OracException)
        {
            // An anticipated user error is a fine outcome for garbage input.
        }
    }
}
