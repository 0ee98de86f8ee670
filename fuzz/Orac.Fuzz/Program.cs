using Orac.Formats.Diff;
using Orac.Formats.Folded;
using Orac.Formats.Perf;

namespace Orac.Fuzz;

/// <summary>
/// Fuzz targets for every Orac parser, runnable three ways:
/// <c>Orac.Fuzz TARGET [--seconds N] [--seeds DIR]</c> runs the built-in mutation fuzzer;
/// <c>Orac.Fuzz TARGET --libfuzzer</c> hands the target to libFuzzer through SharpFuzz (instrument
/// Orac.Formats.dll with the sharpfuzz tool first); <c>Orac.Fuzz TARGET --afl</c> does the same for AFL++.
/// The test suite runs each target for a few seconds with the mutation fuzzer.
/// </summary>
public static class Program
{
    /// <summary>The targets, by name: each takes raw bytes and may only throw OracException.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> Targets { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["perf"] = data => PerfScriptFuzz.Run(data),
        ["folded"] = data => FoldedFuzz.Run(data),
        ["diff"] = data => DiffFuzz.Run(data),
        ["profile-json"] = data => Orac.Model.Wire.ProfileJsonFuzz.Run(data),
        ["perf-ring"] = data => Orac.Collect.PerfEvents.PerfRingFuzz.Run(data),
        ["elf"] = data => Orac.Collect.Symbols.ElfFuzz.Run(data),
        ["perf-map"] = data => Orac.Collect.Symbols.PerfMapFuzz.Run(data),
        ["proc-maps"] = data => Orac.Collect.Symbols.ProcMapsFuzz.Run(data),
        ["kallsyms"] = data => Orac.Collect.Symbols.KallsymsFuzz.Run(data),
        ["check"] = data => Orac.Collect.Check.CheckFuzz.Run(data),
        ["trace"] = data => Orac.Collect.Trace.TraceFuzz.Run(data),
        ["ingest-http"] = data => Orac.Server.Ingest.IngestFuzz.Run(data),
        ["pprof"] = data => Orac.Formats.Pprof.PprofFuzz.Run(data),
        ["speedscope"] = data => Orac.Formats.Speedscope.SpeedscopeFuzz.Run(data),
        ["wal"] = data => Orac.Storage.WalFuzz.Run(data),
        ["task-result"] = data => Orac.Server.Fleet.TaskResultFuzz.Run(data),
        ["agent-spool"] = data => Orac.Agent.SpoolFuzz.Run(data),
        ["cost-model"] = data => Orac.Cost.CostModelFuzz.Run(data),
        ["nvidia-smi-csv"] = data => Orac.Cost.Gpu.GpuFormatsFuzz.NvidiaSmi(data),
        ["dcgm-text"] = data => Orac.Cost.Gpu.GpuFormatsFuzz.Dcgm(data),
        ["memory-file"] = data => Orac.Server.Memory.MemoryFileFuzz.Run(data),
    };

    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out Action<byte[]>? target))
        {
            Console.Error.WriteLine($"usage: Orac.Fuzz <{string.Join('|', Targets.Keys)}> [--seconds N] [--seeds DIR] [--libfuzzer|--afl]");
            return 2;
        }

        if (args.Contains("--libfuzzer"))
        {
            SharpFuzz.Fuzzer.LibFuzzer.Run(span => target(span.ToArray()));
            return 0;
        }

        if (args.Contains("--afl"))
        {
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                using var ms = new MemoryStream();
                stream.CopyTo(ms);
                target(ms.ToArray());
            });
            return 0;
        }

        int seconds = 60;
        string? seeds = null;
        for (int i = 1; i < args.Length - 1; i++)
        {
            if (args[i] == "--seconds")
            {
                seconds = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--seeds")
            {
                seeds = args[i + 1];
            }
        }

        var report = MutationFuzzer.Run(args[0], target, seeds is null ? [] : MutationFuzzer.LoadSeeds(seeds), TimeSpan.FromSeconds(seconds), randomSeed: Environment.TickCount);
        Console.Error.WriteLine($"{report.Target}: {report.Executions} executions in {report.Elapsed.TotalSeconds:0.0} s, {report.Findings.Count} findings");
        foreach (FuzzFinding f in report.Findings)
        {
            Console.Error.WriteLine($"  {f.What}\n    input: {f.AsCSharpLiteral()}");
        }

        return report.Findings.Count == 0 ? 0 : 1;
    }
}
