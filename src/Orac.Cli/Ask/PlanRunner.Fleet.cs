using System.Globalization;
using Orac.Ask;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli.Ask;

// Delegated work: slow (a check and a profile at once on the matching agents) and profile. The check's findings are
// read and shown by the research verb's own code (ResearchCommand.ReadChecks, RenderCheck).
public sealed partial class PlanRunner
{
    /// <summary>Sampling rate of delegated profiles, Hz (the research verb's default).</summary>
    private const int ProfileHz = 99;

    private async Task SlowAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        List<AgentDocument>? agents = await AgentsAsync(plan, answer, ct).ConfigureAwait(false);
        if (agents is null)
        {
            return;
        }

        long ms = Math.Max(1, plan.Seconds) * 1000L;
        TaskDocument check = await api.StartTaskAsync(new TaskRequest { Kind = TaskKinds.Check, Selector = plan.Selector, DurationMs = ms }, ct).ConfigureAwait(false);
        TaskDocument profile = await api.StartTaskAsync(new TaskRequest { Kind = TaskKinds.Profile, Selector = plan.Selector, DurationMs = ms, Hz = ProfileHz }, ct).ConfigureAwait(false);
        options.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ask: check {check.Id} and profile {profile.Id} of {plan.Selector} on {check.Parts.Count} hosts for {plan.Seconds} s"));
        Task<TaskDocument> checkDone = WaitAsync(check, ct);
        Task<TaskDocument> profileDone = WaitAsync(profile, ct);
        check = await checkDone.ConfigureAwait(false);
        profile = await profileDone.ConfigureAwait(false);

        ResultsDocument results = await api.TaskResultsAsync(check.Id, ct).ConfigureAwait(false);
        List<ResearchCommand.CheckHost> hosts = ResearchCommand.ReadChecks(results);
        TopReport? top = profile.Parts.Any(p => p.State == PartStates.Done)
            ? await api.TaskTopAsync(profile.Id, plan.Top, ct: ct).ConfigureAwait(false)
            : null;
        Missing(answer, check, "check");
        Missing(answer, profile, "profile");

        string where = PlanRunner.Scope(plan.Selector);
        var troubled = hosts.Where(h => h.Why is null && h.Problems.Count > 0).OrderByDescending(h => h.Problems.Count).ThenBy(h => h.Host, StringComparer.Ordinal).ToList();
        int readable = hosts.Count(h => h.Why is null);
        string hottest = top is { ProfileTotal: > 0, Functions.Count: > 0 }
            ? $"{top.Functions[0].Name} ({Pct(top.Functions[0].SelfPercent)} % of self {top.Unit}, measured)"
            : "";
        if (readable == 0 && top is null)
        {
            answer.Verdict = Said.Both($"No host of {where} sent a check or a profile; see PARTIAL above for why.");
            answer.ExitCode = OracException.Failure;
            return;
        }

        string burn = hottest.Length == 0 ? "" : $" Hottest function: {hottest}.";
        string burnPlain = hottest.Length == 0 ? "" : $" The hottest function is {hottest}.";
        if (troubled.Count == 0)
        {
            answer.Verdict = new Said(
                $"Nothing is saturated on {readable} host{(readable == 1 ? "" : "s")} of {where} (USE check, {plan.Seconds} s, measured). If it is slow, it is the code.{burn}",
                $"The USE check found no problems on {readable} host{(readable == 1 ? "" : "s")} of {where} ({plan.Seconds} s, measured).{burnPlain}");
        }
        else
        {
            string findings = string.Join("; ", troubled.Take(3).Select(h => h.Host + ": " + string.Join(", ",
                h.Problems.Select(p => Short(p)).Distinct(StringComparer.Ordinal).Take(3))));
            answer.Verdict = new Said(
                $"{troubled.Count}/{readable} host{(readable == 1 ? "" : "s")} of {where} in trouble: {findings} (measured).{burn}",
                $"The USE check flagged {troubled.Count} of {readable} host{(readable == 1 ? "" : "s")} of {where}: {findings} (measured).{burnPlain}");
        }

        answer.Blocks.Add(ResearchCommand.RenderCheck(results));
        if (top is not null)
        {
            answer.Tables.Add(TopTable(top, $"hottest functions on {where}, profiled for {plan.Seconds} s at {ProfileHz} Hz (merged over {profile.Parts.Count(p => p.State == PartStates.Done)} hosts)"));
            answer.Links.Add(new AnswerLink("flame graph (this profile)", api.TaskLink(profile.Id)));
        }
    }

    private async Task ProfileAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        List<AgentDocument>? agents = await AgentsAsync(plan, answer, ct).ConfigureAwait(false);
        if (agents is null)
        {
            return;
        }

        long ms = Math.Max(1, plan.Seconds) * 1000L;
        TaskDocument task = await api.StartTaskAsync(new TaskRequest { Kind = TaskKinds.Profile, Selector = plan.Selector, DurationMs = ms, Hz = ProfileHz }, ct).ConfigureAwait(false);
        options.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ask: profile {task.Id} of {plan.Selector} on {task.Parts.Count} hosts for {plan.Seconds} s"));
        task = await WaitAsync(task, ct).ConfigureAwait(false);
        Missing(answer, task, "profile");
        int done = task.Parts.Count(p => p.State == PartStates.Done);
        string where = PlanRunner.Scope(plan.Selector);
        if (done == 0)
        {
            answer.Verdict = Said.Both($"No host of {where} sent a profile; see PARTIAL above for why.");
            answer.ExitCode = OracException.Failure;
            return;
        }

        TopReport top = await api.TaskTopAsync(task.Id, plan.Top, ct: ct).ConfigureAwait(false);
        if (top.ProfileTotal == 0 || top.Functions.Count == 0)
        {
            answer.Verdict = new Said($"Profiled {done} host{(done == 1 ? "" : "s")} of {where} for {plan.Seconds} s: not one CPU sample. Idle machines.",
                $"The profile of {done} host{(done == 1 ? "" : "s")} of {where} ({plan.Seconds} s) has no CPU samples.");
        }
        else
        {
            TopRow f = top.Functions[0];
            answer.Verdict = new Said(
                $"Profiled {done} host{(done == 1 ? "" : "s")} of {where} for {plan.Seconds} s: {f.Name} leads with {Pct(f.SelfPercent)} % of self {top.Unit} (measured).",
                $"The profile of {done} host{(done == 1 ? "" : "s")} of {where} ({plan.Seconds} s) has {f.Name} first with {Pct(f.SelfPercent)} % of self {top.Unit} (measured).");
            answer.Tables.Add(TopTable(top, $"top functions of the merged profile of {done} host{(done == 1 ? "" : "s")}, {plan.Seconds} s at {ProfileHz} Hz"));
        }

        if (done > 1)
        {
            HostsDocument hosts = await api.TaskHostsAsync(task.Id, ct).ConfigureAwait(false);
            answer.Blocks.Add(ResearchCommand.RenderHosts(hosts));
        }

        answer.Links.Add(new AnswerLink("flame graph (merged)", api.TaskLink(task.Id)));
    }

    /// <summary>The agents the plan's selector matches; null (with the answer said) when none does.</summary>
    private async Task<List<AgentDocument>?> AgentsAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        FleetDocument fleet = await api.FleetAsync(plan.Selector == "{}" ? "" : plan.Selector, ct).ConfigureAwait(false);
        if (fleet.Agents.Count > 0)
        {
            return fleet.Agents;
        }

        string where = PlanRunner.Scope(plan.Selector);
        answer.Verdict = new Said($"No agent runs on {where}, so there is nobody to ask. `orac fleet ls` shows who is there.",
            $"No agent matches {where}; `orac fleet ls` lists the agents.");
        answer.ExitCode = OracException.Failure;
        return null;
    }

    private async Task<TaskDocument> WaitAsync(TaskDocument task, CancellationToken ct)
    {
        TimeSpan budget = TimeSpan.FromMilliseconds(Math.Max(0, task.DeadlineMs - task.CreatedMs)) + options.Grace;
        TaskDocument done = await api.WaitTaskAsync(task.Id, budget, ct).ConfigureAwait(false);
        if (done.State == "running")
        {
            throw new OracException($"the server still says task {task.Id} is running {options.Grace.TotalSeconds:0} s after its deadline; look again with `orac research show {task.Id}`");
        }

        options.Progress.WriteLine(ResearchCommand.Progress(done));
        return done;
    }

    /// <summary>A problem in a few words for the verdict: its USE figure up to the first detail ("100.0% busy"); the full figure is in the check table.</summary>
    private static string Short(ResearchCommand.CheckProblem p)
    {
        string figure = p.Figure;
        int cut = figure.IndexOfAny(['(', ';']);
        figure = (cut < 0 ? figure : figure[..cut]).Trim();
        return figure.Length == 0 ? $"{p.Resource} {p.Kind}" : $"{p.Resource} {p.Kind} {figure}";
    }

    private static void Missing(Answer answer, TaskDocument task, string what)
    {
        if (!task.Partial && task.State != "partial")
        {
            return;
        }

        answer.Partial = true;
        List<string> missing = task.Missing.Count > 0
            ? task.Missing
            : [.. task.Parts.Where(p => p.State != PartStates.Done || p.Late).Select(p => $"{p.Host} ({p.State.Replace('_', ' ')})")];
        foreach (string m in missing)
        {
            answer.Missing.Add($"{m} from the {what}");
        }
    }

    private static AnswerTable TopTable(TopReport r, string title)
    {
        var t = new AnswerTable
        {
            Title = $"{title}; total {Count(r.ProfileTotal)} {r.Unit}",
            Basis = "measured",
            Columns = ["function", $"self ({r.Unit})", $"total ({r.Unit})", "self (%)", "total (%)"],
        };
        foreach (TopRow row in r.Functions)
        {
            t.Row(row.Name, Count(row.Self), Count(row.Total), Pct(row.SelfPercent), Pct(row.TotalPercent));
        }

        return t;
    }
}

/// <summary>A function's self time in the new and the base selection of a diff.</summary>
public sealed record FunctionChange(string Name, long Base, long New);

/// <summary>Per-function self-time changes of a diff flame tree.</summary>
public static class DiffRows
{
    /// <summary>Self time summed per function name over every node (a function called from several places counts once), largest absolute change first.</summary>
    public static List<FunctionChange> Changes(FlameTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        FlameNodes n = tree.Nodes;
        int count = Math.Min(Math.Min(n.Name.Length, n.Self.Length), n.Parent.Length);
        long[] newSelf = new long[tree.Names.Count];
        long[] baseSelf = new long[tree.Names.Count];
        for (int i = 0; i < count; i++)
        {
            int name = n.Name[i];
            if (n.Parent[i] < 0 || (uint)name >= (uint)newSelf.Length)
            {
                continue; // the root ("total") is no function; a name index out of range is a broken answer, skipped
            }

            newSelf[name] += n.Self[i];
            if (n.BaseSelf is long[] b && i < b.Length)
            {
                baseSelf[name] += b[i];
            }
        }

        var list = new List<FunctionChange>();
        for (int i = 0; i < newSelf.Length; i++)
        {
            if (newSelf[i] != 0 || baseSelf[i] != 0)
            {
                list.Add(new FunctionChange(tree.Names[i], baseSelf[i], newSelf[i]));
            }
        }

        list.Sort((a, b) =>
        {
            int c = Math.Abs(b.New - b.Base).CompareTo(Math.Abs(a.New - a.Base));
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        return list;
    }
}

/// <summary>One host's CPU seconds against its peers: the median and the MAD (median absolute deviation) of all hosts.</summary>
public sealed record HostSpread(string Host, double CpuSeconds, double Median, double Mad, string Label);

/// <summary>Outliers by CPU seconds per host: beyond 2× the median, or more than 3 MADs from it (with at least 3 hosts).</summary>
public static class Outliers
{
    /// <summary>Every host, highest CPU first, with its label (<c>high</c>, <c>low</c>, or empty).</summary>
    public static List<HostSpread> Find(IReadOnlyList<CostRow> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var values = hosts.Select(h => h.Figures.CpuSeconds).Order().ToList();
        if (values.Count == 0)
        {
            return [];
        }

        double median = Median(values);
        double mad = Median(values.Select(v => Math.Abs(v - median)).Order().ToList());
        var list = new List<HostSpread>(hosts.Count);
        foreach (CostRow h in hosts)
        {
            double v = h.Figures.CpuSeconds;
            string label = "";
            if (values.Count >= 3)
            {
                bool far = mad > 0 && Math.Abs(v - median) > 3 * mad;
                if ((median > 0 && v > 2 * median) || (far && v > median))
                {
                    label = "high";
                }
                else if (far && v < median)
                {
                    label = "low";
                }
            }

            list.Add(new HostSpread(h.Name, v, median, mad, label));
        }

        list.Sort((a, b) =>
        {
            int c = b.CpuSeconds.CompareTo(a.CpuSeconds);
            return c != 0 ? c : string.CompareOrdinal(a.Host, b.Host);
        });
        return list;
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
