using Orac.Formats;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The `orac collapse` verb: <c>orac collapse perf [options] [FILE...]</c> turns perf script text
/// into folded stacks, byte-compatible with stackcollapse-perf.pl.
/// </summary>
public static class CollapseCommand
{
    private const string PerfUsage =
        "usage: orac collapse perf [--pid] [--tid] [--kernel] [--jit] [--all] [--addrs] [--event-filter=NAME]\n" +
        "                          [--threads N] [-o FILE] [FILE...]\n" +
        "  Reads perf script output (FILEs in order as one stream, '-' or none for stdin; gzip is detected)\n" +
        "  and writes folded stacks exactly as stackcollapse-perf.pl does.\n" +
        "  --pid/--tid      root frame is comm-PID / comm-PID/TID\n" +
        "  --kernel/--jit   annotate kernel frames _[k] / perf-map JIT frames _[j]; --all does both\n" +
        "  --addrs          unsymbolized frames show their address\n" +
        "  --event-filter   keep only this event type (default: the first one in the input)\n" +
        "  --threads N      parser threads (default min(2, cores))";

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        if (args.Count == 0)
        {
            throw new OracException("collapse: missing input format (supported: perf); see 'orac collapse --help'", OracException.Usage);
        }

        string format = args[0];
        if (format is "-h" or "--help")
        {
            ctx.Error.WriteLine(PerfUsage);
            return 0;
        }

        if (format != "perf")
        {
            throw new OracException($"collapse: unknown input format '{format}' (supported: perf)", OracException.Usage);
        }

        return RunPerf(args.Skip(1).ToArray(), ctx);
    }

    private static int RunPerf(IReadOnlyList<string> args, CliContext ctx)
    {
        var parser = new ArgParser("collapse perf")
            .Flag("--pid", "-pid")
            .Flag("--tid", "-tid")
            .Flag("--kernel", "-kernel")
            .Flag("--jit", "-jit")
            .Flag("--all", "-all")
            .Flag("--addrs", "-addrs")
            .Option("--event-filter", "-event-filter")
            .Option("--threads")
            .Option("--output", "-o")
            .Flag("--help", "-h")
            .Parse(args);
        if (parser.Has("--help"))
        {
            ctx.Error.WriteLine(PerfUsage);
            return 0;
        }

        int threads = parser.GetInt("--threads", 0);
        if (threads < 0)
        {
            throw parser.Usage("option '--threads' must be 0 (automatic) or more");
        }

        bool all = parser.Has("--all");
        var options = new PerfCollapseOptions
        {
            IncludePid = parser.Has("--pid"),
            IncludeTid = parser.Has("--tid"),
            AnnotateKernel = all || parser.Has("--kernel"),
            AnnotateJit = all || parser.Has("--jit"),
            IncludeAddrs = parser.Has("--addrs"),
            EventFilter = parser.Get("--event-filter"),
            Threads = threads,
        };

        List<string> paths = parser.Positionals.Count == 0 ? ["-"] : parser.Positionals;
        var streams = new List<Stream>(paths.Count);
        var names = new List<string>(paths.Count);
        try
        {
            foreach (string path in paths)
            {
                streams.Add(InputFiles.Open(path, ctx.StdIn));
                names.Add(InputFiles.DisplayName(path));
            }

            var warnings = new ParseWarnings();
            using (Stream output = ctx.OpenOutput(parser.Get("--output")))
            {
                PerfScriptCollapser.Collapse(streams, names, options, warnings, output);
            }

            warnings.WriteTo(ctx.Error);
            return 0;
        }
        finally
        {
            for (int i = 0; i < streams.Count; i++)
            {
                if (paths[i] != "-")
                {
                    streams[i].Dispose(); // standard input belongs to the caller
                }
            }
        }
    }
}
