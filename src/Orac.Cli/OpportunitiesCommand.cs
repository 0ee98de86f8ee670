using System.Globalization;
using System.Text.Json;
using Orac.Cost;
using Orac.Cost.Opportunities;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac opportunities</c> verb (docs/cost.md "Verbs", "Opportunities"): the ranked backlog of functions,
/// libraries, recognised patterns and stranded GPU time by annual cost, with what an improvement or an elimination
/// would save, the owners, the trend and a link to the flame graph. From a server (<c>GET /api/v1/opportunities</c>)
/// or from files ranked here (no trend: there is no previous period). Exit 3 when partial.
/// </summary>
public static class OpportunitiesCommand
{
    private const string UsageLine = "usage: orac opportunities ([SELECTOR] | FILE...) [--period 7d] [--improve 10] [--top N] [--json] [--model FILE] [--class NAME] [--hz N] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("opportunities")
        .Option("--period")
        .Option("--improve")
        .Option("--top", "-n")
        .Option("--model")
        .Option("--class")
        .Option("--hz")
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

        int top = CostCommand.TopCount(p);
        double improve = p.GetDouble("--improve", 10);
        if (improve is <= 0 or > 100)
        {
            throw p.Usage($"--improve needs a percentage above 0 and at most 100, got {p.Get("--improve")}");
        }

        double? period = CostFiles.PeriodSeconds(p);
        OpportunitiesDocument doc;
        Uri? server = null;
        if (CostFiles.AreFiles(p.Positionals))
        {
            // Every function of the files is a candidate, not only the cost table's top rows.
            CostResult result = CostCommand.PriceFiles(p, ctx, period, 10_000);
            doc = OpportunityRanker.Rank(result, null, new OpportunityOptions { ImprovementPercent = improve, Top = top, Selector = "{}" });
            if (result.Document.Notes.Count > 0 || result.Document.Partial || result.YearFactor == 0)
            {
                doc = WithFileNotes(doc, result);
            }
        }
        else
        {
            foreach (string o in (string[])["--model", "--class", "--hz"])
            {
                if (p.Has(o))
                {
                    throw p.Usage($"{o} applies to FILEs only; a server ranks its selection with its own model (orac serve --cost-model FILE)");
                }
            }

            string selector = CostCommand.OneSelector(p);
            using var client = RemoteTarget.Resolve(p, ctx).Client();
            byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/opportunities",
                ("query", selector), ("from", CostCommand.From(p, "7d")), ("until", "now"),
                ("improve", improve.ToString(CultureInfo.InvariantCulture)), ("top", top.ToString(CultureInfo.InvariantCulture))));
            doc = CostAnswers.Opportunities(answer, client.Server);
            server = client.Server;
        }

        if (p.Has("--json"))
        {
            FleetCommand.WriteJson(ctx, JsonSerializer.SerializeToUtf8Bytes(doc, OracJsonContext.Default.OpportunitiesDocument));
        }
        else
        {
            FleetCommand.Write(ctx, CostRender.Opportunities(doc, server));
        }

        return doc.Partial ? CostCommand.PartialExit : 0;
    }

    // The file notes (no duration, skipped lines) and partial flag of the cost answer, carried onto the ranking; with
    // no period there is nothing to project a year from, so the ranking is by cost in the recording.
    private static OpportunitiesDocument WithFileNotes(OpportunitiesDocument doc, CostResult result)
    {
        var notes = new List<string>();
        foreach (string n in result.Document.Notes)
        {
            if (!doc.Notes.Contains(n))
            {
                notes.Add(n);
            }
        }

        if (result.YearFactor == 0)
        {
            notes.Add("without a period the per-year figures cannot be projected and show 0; pass --period for how long the recording stands for");
        }

        notes.AddRange(doc.Notes);
        return new OpportunitiesDocument
        {
            From = doc.From,
            Until = doc.Until,
            Selection = doc.Selection,
            ImprovementPercent = doc.ImprovementPercent,
            Items = doc.Items,
            TotalPerYear = doc.TotalPerYear,
            Partial = doc.Partial || result.Document.Partial,
            Notes = notes,
        };
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  SELECTOR        the server's data: {service_name=\"api\"}; a bare name means service_name=NAME; default {} (the whole org)");
        w.WriteLine("  FILE...         or rank profile files here (priced as `orac cost FILE` does; no trend)");
        w.WriteLine("  --period DUR    server: the last DUR (default 7d), trend against the DUR before; FILEs: how long the recording stands for");
        w.WriteLine("  --improve PCT   the improvement priced in the 'save' column (default 10 %)");
        w.WriteLine($"  --top N         entries (default {CostCommand.DefaultTop})");
        w.WriteLine("  --model, --class, --hz   as for `orac cost` (FILEs only)");
        w.WriteLine("  --json          print the OpportunitiesDocument");
        w.WriteLine("  --server URL    server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN   bearer token (default: ORAC_TOKEN, else the CLI config)");
        w.WriteLine("Per-year figures are projections of the period; $, kWh and CO2e are estimated unless the hosts measured power.");
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error, 3 PARTIAL: printed, but some data was missing (see the notes)");
    }
}
