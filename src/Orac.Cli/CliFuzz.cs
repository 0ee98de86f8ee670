using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// Fuzz targets for what the CLI parses itself: its config file, the server's diff flame tree and ingest answer,
/// and push's format sniffing. Any bytes either parse or give an <see cref="OracException"/>.
/// </summary>
public static class CliFuzz
{
    /// <summary>The CLI config file.</summary>
    public static void Config(byte[] data)
    {
        string path = Path.Combine(Path.GetTempPath(), $"orac-fuzz-config-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.json");
        File.WriteAllBytes(path, data);
        try
        {
            CliConfig c = CliConfig.Load(path);
            _ = c.ToJson();
        }
        catch (OracException)
        {
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The server's diff flame tree (<c>orac query --diff</c>), ingest answer (<c>orac push</c>) and JSON errors, and format sniffing.</summary>
    public static void ServerAnswers(byte[] data)
    {
        _ = PushCommand.Sniff(data);
        try
        {
            _ = DiffReport.FromFlameTree(data, "before", "after").Render(20);
        }
        catch (OracException)
        {
        }

        _ = RemoteClient.ErrorLine(new Uri("http://127.0.0.1:4040"), System.Net.HttpStatusCode.BadRequest, data, HttpMethod.Get, "/api/v1/query?x=1");
        try
        {
            _ = PushCommand.ReadIngestAnswer(data, new Uri("http://127.0.0.1:4040"));
        }
        catch (OracException)
        {
        }
    }

    /// <summary>
    /// The fleet and research answers (docs/fleet.md): every parser of <see cref="FleetAnswers"/> and, for what parses,
    /// every text rendering, including the agents' raw check, pmc and trace results inside a results document.
    /// </summary>
    public static void FleetAnswers(byte[] data)
    {
        var server = new Uri("http://127.0.0.1:4040");
        Try(() => FleetCommand.RenderAgents(Cli.FleetAnswers.Fleet(data, server).Agents, 1_700_000_000_000));
        Try(() => FleetCommand.RenderChanged(Cli.FleetAnswers.SetResult(data, server).Agents));
        Try(() => FleetCommand.RenderAudit(Cli.FleetAnswers.Audit(data, server)));
        Try(() =>
        {
            Orac.Model.Wire.TaskDocument t = Cli.FleetAnswers.Task(data, server);
            return ResearchCommand.Header(t) + ResearchCommand.Progress(t) + ResearchCommand.RenderTaskParts(t, 1_700_000_000_000);
        });
        Try(() => ResearchCommand.RenderTaskList(Cli.FleetAnswers.TaskList(data, server)));
        Try(() => ResearchCommand.RenderHosts(Cli.FleetAnswers.Hosts(data, server)));
        Try(() => TopCommand.RenderTable(Cli.FleetAnswers.Top(data, server)));
        Try(() =>
        {
            Orac.Model.Wire.ResultsDocument r = Cli.FleetAnswers.Results(data, server);
            return ResearchCommand.RenderCheck(r) + ResearchCommand.RenderPmc(r) + ResearchCommand.RenderTrace(r);
        });
    }

    /// <summary>The cost answers (docs/cost.md): every parser of <see cref="Cli.CostAnswers"/> and, for what parses, its text rendering.</summary>
    public static void CostAnswers(byte[] data)
    {
        var server = new Uri("http://127.0.0.1:4040");
        Try(() => CostRender.Cost(Cli.CostAnswers.Cost(data, server)));
        Try(() => CostRender.Opportunities(Cli.CostAnswers.Opportunities(data, server), server));
        Try(() => Cli.CostAnswers.OrgReport(data, server).Orgs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void Try(Func<string> parseAndRender)
    {
        try
        {
            _ = parseAndRender();
        }
        catch (OracException)
        {
        }
    }
}
