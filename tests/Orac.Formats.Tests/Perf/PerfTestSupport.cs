using System.Text;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Model;

namespace Orac.Formats.Tests.Perf;

/// <summary>Helpers shared by the perf collapse tests.</summary>
internal static class PerfTestSupport
{

    /// <summary>stackcollapse-perf.pl's command-line flags as options.</summary>
    public static PerfCollapseOptions Options(IReadOnlyList<string> args, int threads = 1)
    {
        var o = new PerfCollapseOptions { Threads = threads };
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            o = a switch
            {
                "--pid" => o with { IncludePid = true },
                "--tid" => o with { IncludeTid = true },
                "--kernel" => o with { AnnotateKernel = true },
                "--jit" => o with { AnnotateJit = true },
                "--all" => o with { AnnotateKernel = true, AnnotateJit = true },
                "--addrs" => o with { IncludeAddrs = true },
                "--event-filter" => o with { EventFilter = args[++i] },
                _ when a.StartsWith("--event-filter=", StringComparison.Ordinal) => o with { EventFilter = a["--event-filter=".Length..] },
                _ => throw new ArgumentException($"unsupported stackcollapse-perf.pl option {a}"),
            };
        }

        return o;
    }

    /// <summary>Read + FoldedWriter.Write (the library path).</summary>
    public static byte[] ViaProfile(byte[] input, PerfCollapseOptions options, ParseWarnings? warnings = null)
    {
        Profile p = PerfScriptCollapser.Read(new MemoryStream(input), "input", options, warnings ?? new ParseWarnings());
        var o = new MemoryStream();
        FoldedWriter.Write(p, o);
        return o.ToArray();
    }

    /// <summary>The streaming writer (the CLI path).</summary>
    public static byte[] ViaCollapse(byte[] input, PerfCollapseOptions options, ParseWarnings? warnings = null)
    {
        var o = new MemoryStream();
        PerfScriptCollapser.Collapse([new MemoryStream(input)], ["input"], options, warnings ?? new ParseWarnings(), o);
        return o.ToArray();
    }

    /// <summary>Reads a file, unwrapping gzip.</summary>
    public static byte[] ReadInput(string path)
    {
        using Stream s = InputFiles.Open(path, Stream.Null);
        var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>Asserts byte equality; on failure names the first differing line.</summary>
    public static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }

        string[] e = Encoding.UTF8.GetString(expected).Split('\n');
        string[] a = Encoding.UTF8.GetString(actual).Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? el = i < e.Length ? e[i] : null;
            string? al = i < a.Length ? a[i] : null;
            if (el != al)
            {
                Assert.Fail($"{what}: first difference at line {i + 1}\n  expected: {el ?? "<end of output>"}\n  actual:   {al ?? "<end of output>"}\n  ({e.Length - 1} expected lines, {a.Length - 1} actual)");
            }
        }

        Assert.Fail($"{what}: outputs differ in bytes (line endings?)");
    }

    /// <summary>Each perf timeout-guarded test runs its body on the thread pool and fails after <paramref name="seconds"/>.</summary>
    public static void WithTimeout(int seconds, Action body)
    {
        var task = Task.Run(body);
        if (!task.Wait(TimeSpan.FromSeconds(seconds)))
        {
            Assert.Fail($"did not finish within {seconds} s (hang?)");
        }

        task.GetAwaiter().GetResult();
    }
}
