using System.Globalization;
using System.Text.Json;
using Orac.Cost;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac cost</c> verb (docs/cost.md "Verbs"): CPU and GPU seconds, dollars, kilowatt-hours and kilograms of
/// CO2e of profile files (priced here with a cost model) or of a server's selection (<c>GET /api/v1/cost</c>), in
/// total, idle / unattributed, per year (projection), and per function, service, host and GPU. Exit 3 when partial.
/// </summary>
public static class CostCommand
{
    /// <summary>Exit code of an answer printed with data missing (labelled PARTIAL), as <c>orac research</c>.</summary>
    public const int PartialExit = ResearchCommand.PartialExit;

    /// <summary>Function rows shown when <c>--top</c> is not given.</summary>
    public const int DefaultTop = 20;

    private const string UsageLine = "usage: orac cost (FILE... | [SELECTOR]) [--model FILE] [--class NAME] [--period 7d] [--hz N] [--top N] [--json] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("cost")
        .Option("--model")
        .Option("--class")
        .Option("--period")
        .Option("--hz")
        .Option("--top", "-n")
        .Flag("--json")
        .Flag("--help", "-h"));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        int top = TopCount(p);
        double? period = CostFiles.PeriodSeconds(p);
        CostDocument doc;
        if (CostFiles.AreFiles(p.Positionals))
        {
            doc = PriceFiles(p, ctx, period, top).Document;
        }
        else
        {
            NoFileOptions(p);
            string selector = OneSelector(p);
            using var client = RemoteTarget.Resolve(p, ctx).Client();
            byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/cost",
                ("query", selector), ("from", From(p, "7d")), ("until", "now"), ("top", top.ToString(CultureInfo.InvariantCulture))));
            doc = CostAnswers.Cost(answer, client.Server);
        }

        if (p.Has("--json"))
        {
            FleetCommand.WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(doc, OracJsonContext.Default.CostDocument));
        }
        else
        {
            FleetCommand.Write(ctx, CostRender.Cost(doc));
        }

        return doc.Partial ? PartialExit : 0;
    }

    /// <summary>
    /// Prices the files of <paramref name="p"/>'s positionals with <c>--model</c> (or the defaults): one host per
    /// file, the recording standing for <c>--period</c> or its own duration. Shared with <c>orac opportunities</c>.
    /// </summary>
    internal static CostResult PriceFiles(ArgParser p, CliContext ctx, double? period, int top)
    {
        double? hz = CostFiles.Hz(p);
        CostModel model = CostFiles.LoadModel(p.Get("--model"));
        string? className = p.Get("--class");
        CostFiles.CheckClass(p, model, className);
        var notes = new List<string>();
        CostInput input = CostFiles.Read(p.Positionals, ctx, hz, period, className, notes, out bool partial);
        CostResult result = CostCalculator.Compute(model, input, new CostOptions { TopFunctions = top });
        bool noPeriod = input.EndNs <= input.StartNs;
        CostDocument d = result.Document;
        if (noPeriod)
        {
            // Without a duration there is nothing to scale from: the projection would be a guess.
            CostFigures y = d.ProjectedPerYear;
            y.CpuSeconds = y.GpuSeconds = y.Usd = y.Kwh = y.KgCo2e = y.EmbodiedKgCo2e = 0;
        }

        if (notes.Count == 0 && !partial && !noPeriod)
        {
            return result;
        }

        CostDocument copy = d.WithNotes(notes, [], partial);
        return result with { Document = copy, YearFactor = noPeriod ? 0 : result.YearFactor };
    }

    /// <summary><c>--top N</c> (1 to 10000).</summary>
    internal static int TopCount(ArgParser p)
    {
        int top = p.GetInt("--top", DefaultTop);
        if (top is < 1 or > 10_000)
        {
            throw p.Usage($"--top needs a count from 1 to 10000, got {top}");
        }

        return top;
    }

    /// <summary>The selector of a server query: the one positional (checked here), or <c>{}</c>.</summary>
    internal static string OneSelector(ArgParser p)
    {
        if (p.Positionals.Count > 1)
        {
            throw p.Usage($"expected one SELECTOR or FILEs, got {p.Positionals.Count} arguments");
        }

        string selector = p.Positionals.Count == 1 ? p.Positionals[0] : "{}";
        _ = Selector.Parse(selector);
        return selector;
    }

    /// <summary><c>now-PERIOD</c> for the server (the period was checked by <see cref="CostFiles.PeriodSeconds"/>).</summary>
    internal static string From(ArgParser p, string fallback) => "now-" + (p.Get("--period") ?? fallback).Trim();

    // The server prices with its own model (orac serve --cost-model); file-only options would be silently ignored.
    private static void NoFileOptions(ArgParser p)
    {
        foreach (string o in (string[])["--model", "--class", "--hz"])
        {
            if (p.Has(o))
            {
                throw p.Usage($"{o} applies to FILEs only; a server prices its selection with its own model (orac serve --cost-model FILE)");
            }
        }
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  FILE            profiles priced here: folded stacks, perf script, Orac profile JSON (orac record -o x.json), pprof, speedscope; '-' is stdin");
        w.WriteLine("  SELECTOR        otherwise the server's data: {service_name=\"api\", host=~\"gpu-.*\"}; a bare name means service_name=NAME; default {}");
        w.WriteLine("  --model FILE    cost model (docs/cost.md \"The model file\"); default: the built-in defaults (FILEs only)");
        w.WriteLine("  --class NAME    price every file's host as this machine class (FILEs only)");
        w.WriteLine("  --period DUR    FILEs: how long the recording stands for (default: its own duration); server: the last DUR (default 7d)");
        w.WriteLine("  --hz N          sampling rate of files holding plain sample counts (folded stacks, perf script)");
        w.WriteLine($"  --top N         function rows (default {DefaultTop})");
        w.WriteLine("  --json          print the CostDocument");
        w.WriteLine("  --server URL    server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN   bearer token (default: ORAC_TOKEN, else the CLI config)");
        w.WriteLine("CPU seconds are measured; $ and CO2e are estimated; kWh measured where the host read RAPL or GPU power, else estimated.");
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error, 3 PARTIAL: printed, but some data was missing (see the notes)");
    }
}
