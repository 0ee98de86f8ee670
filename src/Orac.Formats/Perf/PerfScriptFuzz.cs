using Orac.Formats.Folded;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// Fuzz target for the perf script collapser (STYLE.md rule 20). Any exception other than
/// <see cref="OracException"/> is a bug; so is a difference between the one-thread and the
/// multi-thread result, or between large and tiny read blocks.
/// </summary>
public static class PerfScriptFuzz
{
    private static readonly PerfCollapseOptions[] s_variants =
    [
        new() { Threads = 1 },
        new() { Threads = 1, IncludeTid = true, AnnotateKernel = true, AnnotateJit = true, IncludeAddrs = true },
        new() { Threads = 1, IncludePid = true, EventFilter = "cycles" },
    ];

    private static readonly int[] s_blockSizes = [1 << 20, 256, 24];

    /// <summary>Runs every check on <paramref name="data"/>; throws <see cref="InvalidOperationException"/> on a bug.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        _ = PerfScriptCollapser.LooksLikePerfScript(data);
        byte[] bytes = data.ToArray();
        foreach (PerfCollapseOptions options in s_variants)
        {
            byte[]? reference = null;
            foreach (int block in s_blockSizes)
            {
                byte[]? one = Collapse(bytes, options with { Threads = 1, BlockSize = block });
                byte[]? two = Collapse(bytes, options with { Threads = 2, BlockSize = block });
                if ((one is null) != (two is null) || (one is not null && !one.AsSpan().SequenceEqual(two)))
                {
                    throw new InvalidOperationException($"perf collapse differs between 1 and 2 threads (block {block}, {options})");
                }

                if (one is null)
                {
                    continue;
                }

                if (reference is null)
                {
                    reference = one;
                }
                else if (!reference.AsSpan().SequenceEqual(one) && !HasLongLines(bytes, block))
                {
                    throw new InvalidOperationException($"perf collapse differs between read block sizes (block {block}, {options})");
                }
            }
        }
    }

    private static byte[]? Collapse(byte[] bytes, PerfCollapseOptions options)
    {
        try
        {
            Profile p = PerfScriptCollapser.Read(new MemoryStream(bytes, writable: false), "fuzz", options, new ParseWarnings());
            var output = new MemoryStream();
            FoldedWriter.Write(p, output);
            return output.ToArray();
        }
        catch (OracException)
        {
            return null;
        }
    }

    // Tiny blocks also shrink the line cap, which legitimately changes the result.
    private static bool HasLongLines(byte[] bytes, int blockSize)
    {
        int cap = Math.Max(4, Math.Max(16, blockSize) / 2);
        ReadOnlySpan<byte> rest = bytes;
        while (!rest.IsEmpty)
        {
            int nl = rest.IndexOf((byte)'\n');
            int len = nl < 0 ? rest.Length : nl;
            if (len > cap)
            {
                return true;
            }

            rest = nl < 0 ? default : rest[(nl + 1)..];
        }

        return false;
    }
}
