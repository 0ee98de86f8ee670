using System.Globalization;
using Orac.Cost;
using Orac.Formats;
using Orac.Formats.Folded;
using Orac.Formats.Perf;
using Orac.Formats.Pprof;
using Orac.Formats.Speedscope;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The file side of <c>orac cost</c> and <c>orac opportunities</c> (docs/cost.md "Verbs"): tells files from a selector,
/// reads each file with the existing readers (folded, perf script, Orac JSON, pprof, speedscope; gzip unwrapped), and
/// turns them into one <see cref="HostInput"/> per file priced locally with a <see cref="CostModel"/>.
/// </summary>
internal static class CostFiles
{
    /// <summary>The organisation file rows belong to when the profile names none.</summary>
    public const string LocalOrg = "local";

    /// <summary>The service of a file whose profile names none.</summary>
    public const string FileService = "file";

    // Names that are meant as files even when they do not exist (a typo in a path should say "no such file", not
    // ask a server for a service called "x.folded").
    private static readonly string[] s_fileSuffixes = [".folded", ".collapsed", ".txt", ".json", ".pb", ".pprof", ".gz", ".perf", ".script", ".speedscope"];

    /// <summary>
    /// True when the positionals name files: more than one, an existing path, <c>-</c>, or a name with a path separator
    /// or a profile file's suffix. Otherwise (none, or one selector-looking argument) the verb asks the server.
    /// </summary>
    public static bool AreFiles(IReadOnlyList<string> positionals)
    {
        if (positionals.Count == 0)
        {
            return false;
        }

        if (positionals.Count > 1)
        {
            return true;
        }

        string a = positionals[0];
        if (a == "-" || File.Exists(a) || Directory.Exists(a))
        {
            return true;
        }

        if (a.StartsWith('{') || a.Contains('"', StringComparison.Ordinal))
        {
            return false;
        }

        if (a.Contains('/', StringComparison.Ordinal))
        {
            return true;
        }

        foreach (string s in s_fileSuffixes)
        {
            if (a.EndsWith(s, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Loads <c>--model</c> (or the built-in defaults); a bad file is one line naming the field, exit 1.</summary>
    public static CostModel LoadModel(string? path)
    {
        if (path is null)
        {
            return CostModel.Defaults;
        }

        if (!File.Exists(path))
        {
            throw new OracException(Directory.Exists(path) ? $"{path}: is a directory, not a cost model file" : $"{path}: no such cost model file");
        }

        try
        {
            return CostModel.Load(path);
        }
        catch (CostModelException e)
        {
            throw new OracException(OneLine(e.Message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read the cost model: {e.Message}");
        }
    }

    /// <summary>Checks <c>--class</c> against the model; an unknown name lists the known ones.</summary>
    public static void CheckClass(ArgParser p, CostModel model, string? className)
    {
        if (className is null || model.Classes.ContainsKey(className))
        {
            return;
        }

        var known = new List<string>(model.Classes.Keys);
        known.Sort(StringComparer.Ordinal);
        throw p.Usage($"unknown machine class '{className}' for --class; {model.Source} has: {string.Join(", ", known)}");
    }

    /// <summary>Parses <c>--period</c> (<c>7d</c>, <c>12h</c>, <c>90s</c>, <c>1h30m</c>) into seconds; null when not given.</summary>
    public static double? PeriodSeconds(ArgParser p)
    {
        string? text = p.Get("--period");
        if (text is null)
        {
            return null;
        }

        if (!TimeSpec.TryParseDuration(text, out long ns) || ns < TimeSpec.NsPerSecond || ns > 3660L * 86_400 * TimeSpec.NsPerSecond)
        {
            throw p.Usage($"--period needs a duration from 1s to 3660d like 20s, 12h, 7d or 1h30m, got '{text}'");
        }

        return ns / (double)TimeSpec.NsPerSecond;
    }

    /// <summary>Parses <c>--hz</c>: the sampling rate of files holding plain sample counts (folded stacks, perf script).</summary>
    public static double? Hz(ArgParser p)
    {
        if (p.Get("--hz") is null)
        {
            return null;
        }

        double hz = p.GetDouble("--hz", 0);
        if (hz is <= 0 or > 1_000_000)
        {
            throw p.Usage($"--hz needs a sampling rate above 0 and at most 1000000 Hz, got {p.Get("--hz")}");
        }

        return hz;
    }

    /// <summary>
    /// Reads every file into a host of the input. <paramref name="notes"/> gets one line per assumption (no duration,
    /// lines skipped); <paramref name="partial"/> is set when a file's data was not all read.
    /// </summary>
    public static CostInput Read(IReadOnlyList<string> paths, CliContext ctx, double? hz, double? periodSeconds, string? className, List<string> notes, out bool partial, IReadOnlyList<string?>? orgs = null)
    {
        partial = false;
        if (CountStdin(paths) > 1)
        {
            throw new OracException("stdin ('-') can be read once", OracException.Usage);
        }

        var hosts = new List<HostInput>(paths.Count);
        var names = new List<string>(paths.Count);
        var usedHosts = new HashSet<string>(StringComparer.Ordinal);
        long minStart = long.MaxValue;
        long maxEnd = 0;
        for (int fileIndex = 0; fileIndex < paths.Count; fileIndex++)
        {
            string path = paths[fileIndex];
            string? orgOverride = orgs is not null && fileIndex < orgs.Count ? orgs[fileIndex] : null;
            string name = InputFiles.DisplayName(path);
            names.Add(name);
            var warnings = new ParseWarnings();
            Profile profile;
            using (Stream input = InputFiles.Open(path, ctx.StdIn))
            {
                profile = ReadProfile(input, name, warnings);
            }

            if (warnings.Total > 0)
            {
                warnings.WriteTo(ctx.Error);
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: {warnings.Total:N0} malformed lines or records skipped (see the warnings above); their CPU time is not counted"));
                partial = true;
            }

            if (profile.SampleCount == 0)
            {
                notes.Add($"{name}: no samples");
            }

            Profile cpuNs = ToCpuNanoseconds(profile, name, hz);
            ProfileMetadata meta = profile.Metadata;
            string host = meta.Host.Length > 0 ? meta.Host : name;
            // Two files from one host (or two files with one name) stay two hosts: their observed times differ.
            string unique = host;
            for (int i = 2; !usedHosts.Add(unique); i++)
            {
                unique = string.Create(CultureInfo.InvariantCulture, $"{host}#{i}");
            }

            double observed;
            bool hasTimes = meta.StartNs > 0 && meta.EndNs > meta.StartNs;
            if (hasTimes)
            {
                minStart = Math.Min(minStart, meta.StartNs);
                maxEnd = Math.Max(maxEnd, meta.EndNs);
            }

            if (periodSeconds is double period)
            {
                observed = period;
            }
            else if (hasTimes)
            {
                observed = (meta.EndNs - meta.StartNs) / (double)TimeSpec.NsPerSecond;
            }
            else
            {
                observed = 0;
                notes.Add($"{name}: the file holds no duration and no --period was given, so idle / unattributed and the yearly projection are not computed (pass --period, e.g. --period 20s, for how long the recording stands for)");
            }

            // A file recorded on this machine (orac record writes the host name) is sized from this machine.
            HostFacts? facts = null;
            if (meta.Host.Length > 0 && string.Equals(meta.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
            {
                facts = new HostFacts(Environment.ProcessorCount, Orac.Agent.AgentInfoProbe.MemTotalBytes(), []);
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: recorded on this machine ({meta.Host}): sized as it is now, {facts.Cpus} vCPUs and {facts.MemoryBytes / 1e9:0.#} GB"));
            }

            hosts.Add(new HostInput
            {
                Facts = facts,
                Org = orgOverride ?? (meta.Org.Length > 0 ? meta.Org : LocalOrg),
                Host = unique,
                Labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["host"] = unique },
                ClassName = className,
                ObservedSeconds = observed,
                Workloads = [new WorkloadProfile(meta.Service.Length > 0 ? meta.Service : FileService, cpuNs)],
            });
        }

        long startNs;
        long endNs;
        if (periodSeconds is double p)
        {
            endNs = maxEnd > 0 ? maxEnd : TimeSpec.NowNs();
            startNs = endNs - (long)Math.Round(p * TimeSpec.NsPerSecond);
        }
        else if (maxEnd > 0)
        {
            startNs = minStart;
            endNs = maxEnd;
        }
        else
        {
            startNs = 0;
            endNs = 0;
        }

        return new CostInput { StartNs = startNs, EndNs = endNs, Selection = string.Join(", ", names), Hosts = hosts };
    }

    /// <summary>
    /// Reads one profile: pprof (raw or gzip), Orac profile JSON, speedscope JSON, perf script text or folded stacks,
    /// told apart by their first 64 KiB.
    /// </summary>
    public static Profile ReadProfile(Stream input, string name, ParseWarnings warnings)
    {
        var peek = new PeekableStream(input);
        ReadOnlySpan<byte> head = peek.Peek(64 * 1024);
        switch (PushCommand.Sniff(head))
        {
            case "pprof":
                return PprofReader.Read(peek, name, warnings);
            case "json":
                return head.IndexOf("speedscope"u8) >= 0 && head.IndexOf("\"orac-profile\""u8) < 0
                    ? SpeedscopeReader.Read(peek, name)
                    : ProfileJson.Read(peek, name);
            default:
                return TopCommand.ReadProfile(peek, name, warnings);
        }
    }

    /// <summary>
    /// Column 0 of <paramref name="profile"/> as CPU nanoseconds (one column, what the calculator prices): values ×
    /// <see cref="CostCalculator.NanosPerValue"/>, rounded to whole ns. A file of plain sample counts without
    /// <c>--hz</c> is one line naming the file and asking for it.
    /// </summary>
    internal static Profile ToCpuNanoseconds(Profile profile, string name, double? hz)
    {
        double nsPerValue;
        try
        {
            nsPerValue = CostCalculator.NanosPerValue(profile, hz);
        }
        catch (OracException e)
        {
            throw new OracException($"{name}: {e.Message}", e.ExitCode);
        }

        if (!double.IsFinite(nsPerValue) || nsPerValue <= 0)
        {
            throw new OracException($"{name}: the profile's sampling period gives {nsPerValue} ns per sample; pass --hz");
        }

        var cpu = new SampleType("cpu", "nanoseconds");
        var b = new ProfileBuilder(cpu) { Metadata = profile.Metadata with { Period = 0, PeriodType = cpu } };
        var map = new ProfileRemapper(profile, b);
        for (int r = 0; r < profile.SampleCount; r++)
        {
            double ns = Math.Round(profile.Value(r) * nsPerValue);
            if (ns >= long.MaxValue / 2)
            {
                throw new OracException($"{name}: a stack's CPU time ({profile.Value(r)} × {nsPerValue} ns) does not fit in 64 bits");
            }

            b.Add(map.Stack(profile.SampleStacks[r]), (long)ns);
        }

        return b.Build();
    }

    private static int CountStdin(IReadOnlyList<string> paths)
    {
        int n = 0;
        foreach (string p in paths)
        {
            n += p == "-" ? 1 : 0;
        }

        return n;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
