using System.Text;
using Orac.Cost;
using Orac.Cost.Reports;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>
/// The <c>orac report orgs</c> verb (docs/cost.md "Org report"; admin): per org, compute cost, energy, CO2e, change
/// from the previous period and top three opportunities, with fleet totals, as Markdown, CSV, JSON or self-contained
/// HTML, to stdout or <c>-o FILE</c>. The CLI asks for the JSON document (<c>GET /api/v1/report/orgs?format=json</c>),
/// checks it, and renders the format with the same <see cref="OrgReport.Render"/> the server's route uses, so a
/// partial report exits 3 whatever the format.
/// </summary>
public static class ReportCommand
{
    private static readonly string[] s_formats = ["md", "csv", "json", "html"];

    private const string UsageLine = "usage: orac report orgs [[ORG=]FILE...] [--period 30d] [--format md|csv|json|html] [-o FILE] [--model F] [--class NAME] [--hz N] [--server URL] [--token TOKEN]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("report")
        .Option("--period")
        .Option("--format", "-f")
        .Option("--output", "-o")
        .Option("--model")
        .Option("--class")
        .Option("--hz")
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

        if (p.Positionals.Count == 0)
        {
            throw p.Usage("expected what to report: orgs");
        }

        if (p.Positionals[0] != "orgs")
        {
            throw p.Usage($"unknown report '{p.Positionals[0]}' (orgs)");
        }


        string format = p.Get("--format") ?? "md";
        if (Array.IndexOf(s_formats, format) < 0)
        {
            throw p.Usage($"unknown --format '{format}' (md, csv, json or html)");
        }

        _ = CostFiles.PeriodSeconds(p);
        string? output = p.Get("--output");
        if (output is not null && output.Length == 0)
        {
            throw p.Usage("-o needs a file name");
        }

        OrgReportDocument report;
        if (p.Positionals.Count > 1)
        {
            report = FromFiles(p, ctx);
        }
        else
        {
            foreach (string o in (string[])["--model", "--class", "--hz"])
            {
                if (p.Get(o) is not null)
                {
                    throw p.Usage($"{o} applies to files only: the server prices with its own model");
                }
            }

            using var client = RemoteTarget.Resolve(p, ctx).Client();
            byte[] answer = client.Get(RemoteClient.PathWithQuery("/api/v1/report/orgs",
                ("from", CostCommand.From(p, "30d")), ("until", "now"), ("format", "json")));
            report = CostAnswers.OrgReport(answer, client.Server);
        }

        string text = OrgReport.Render(report, format);
        using (Stream o = ctx.OpenOutput(output))
        {
            o.Write(Encoding.UTF8.GetBytes(text));
            if (text.Length > 0 && text[^1] != '\n')
            {
                o.Write("\n"u8);
            }
        }

        if (output is not null && output != "-")
        {
            ctx.Error.WriteLine($"report: wrote the org report ({format}, {report.Orgs.Count} orgs{(report.Partial ? ", PARTIAL" : "")}) to {output}");
        }
        else if (report.Partial && format != "json")
        {
            ctx.Error.WriteLine("report: PARTIAL: some data was missing (see the report's notes)");
        }

        return report.Partial ? CostCommand.PartialExit : 0;
    }

    /// <summary>
    /// The report of profile files priced here: <c>ORG=FILE</c> puts a file in an org (else its own org, or
    /// <c>local</c>); one period, so no change from a previous one.
    /// </summary>
    private static OrgReportDocument FromFiles(ArgParser p, CliContext ctx)
    {
        var paths = new List<string>();
        var orgs = new List<string?>();
        foreach (string a in p.Positionals.Skip(1))
        {
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && eq < a.Length - 1 && !File.Exists(a))
            {
                orgs.Add(a[..eq]);
                paths.Add(a[(eq + 1)..]);
            }
            else
            {
                orgs.Add(null);
                paths.Add(a);
            }
        }

        if (!CostFiles.AreFiles(paths))
        {
            throw p.Usage($"report orgs takes profile files ([ORG=]FILE...), and '{paths[0]}' is no file");
        }

        double? hz = CostFiles.Hz(p);
        CostModel model = CostFiles.LoadModel(p.Get("--model"));
        string? className = p.Get("--class");
        CostFiles.CheckClass(p, model, className);
        var notes = new List<string>();
        CostInput input = CostFiles.Read(paths, ctx, hz, CostFiles.PeriodSeconds(p), className, notes, out bool partial, orgs);
        var current = new Dictionary<string, CostResult>(StringComparer.Ordinal);
        foreach (IGrouping<string, HostInput> org in input.Hosts.GroupBy(h => h.Org, StringComparer.Ordinal))
        {
            var one = new CostInput { StartNs = input.StartNs, EndNs = input.EndNs, Selection = input.Selection, Hosts = [.. org] };
            CostResult r = CostCalculator.Compute(model, one);
            current[org.Key] = notes.Count > 0 || partial ? r with { Document = r.Document.WithNotes(notes, [], partial) } : r;
        }

        return OrgReport.Build(current, new Dictionary<string, CostResult>(), input.StartNs / 1_000_000, input.EndNs / 1_000_000);
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  orgs            per org (from a server: admin token; from files: ORG=FILE puts a file in an org): compute cost ($), energy (kWh), CO2e (kg), change from the previous period, top 3 opportunities; fleet totals");
        w.WriteLine("  --period DUR    the last DUR (default 30d), compared with the DUR before it; with files: how long the recordings stand for");
        w.WriteLine("  --model F, --class NAME, --hz N   with files, as for orac cost");
        w.WriteLine("  --format F      md (default), csv, json or html (self-contained, no script)");
        w.WriteLine("  -o FILE         write to FILE instead of stdout");
        w.WriteLine("  --server URL    server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN   an admin token (default: ORAC_TOKEN, else the CLI config)");
        w.WriteLine("$, kWh and CO2e are estimated unless the hosts measured power; the report says which.");
        w.WriteLine("exit codes: 0 ok, 1 failure, 2 usage error, 3 PARTIAL: written, but some data was missing");
    }
}
