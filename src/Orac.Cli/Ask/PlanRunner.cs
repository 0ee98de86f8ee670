using System.Globalization;
using Orac.Ask;
using Orac.Cost;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli.Ask;

/// <summary>What the runner may do besides the plan: memory on or off, the memories the planner read, where progress goes.</summary>
public sealed class RunOptions
{
    /// <summary>False with <c>--temporary</c> or memory off: nothing is read from or written to memory, and cost routes ignore remembered prices.</summary>
    public bool Memory { get; init; } = true;

    /// <summary>Why memory is not used ("--temporary", "memory is off", "the server keeps no memory"), for the answer's words.</summary>
    public string? MemoryOffReason { get; init; }

    /// <summary>The user's memories as the planner saw them (to quote the ones a plan used).</summary>
    public IReadOnlyList<MemoryItem> Memories { get; init; } = [];

    /// <summary>Progress of delegated work (task started, hosts answered); the answer itself never goes here.</summary>
    public TextWriter Progress { get; init; } = TextWriter.Null;

    /// <summary>How long after a task's deadline the runner keeps waiting for the server to close it.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Runs a <see cref="Plan"/> through Orac's own operations (<see cref="OracApi"/>) and gathers an <see cref="Answer"/>:
/// one method per <see cref="PlanKind"/>. Confirmation of fleet actions is the caller's job (<see cref="AskCommand"/>);
/// the runner starts what the plan says. Server errors are one <see cref="OracException"/> line.
/// </summary>
public sealed partial class PlanRunner(OracApi api, RunOptions options)
{
    /// <summary>Rows of a function-cost lookup: enough that a function ranked far down is still found.</summary>
    private const int CostLookupRows = 10_000;

    /// <summary>Runs <paramref name="plan"/>.</summary>
    public async Task<Answer> RunAsync(Plan plan, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var answer = new Answer { Plan = plan };
        foreach (string id in plan.MemoriesUsed)
        {
            MemoryItem? item = options.Memories.FirstOrDefault(m => m.Id == id);
            answer.UsedMemory(id, item?.Text ?? "(text not loaded)");
        }

        switch (plan.Kind)
        {
            case PlanKind.Top: await TopAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Opportunities: await OpportunitiesAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Diff: await DiffAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Slow: await SlowAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Profile: await ProfileAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.FunctionCost: await FunctionCostAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Outliers: await OutliersAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.GpuIdle: await GpuIdleAsync(plan, answer, ct).ConfigureAwait(false); break;
            case PlanKind.Memory: await MemoryAsync(answer, ct).ConfigureAwait(false); break;
            case PlanKind.Remember: await SaveFactAsync(plan.Text ?? "", answer, ct).ConfigureAwait(false); break;
            case PlanKind.Clarify: Clarify(plan, answer); break;
            default: Help(answer); break;
        }

        // A fact stated beside a question rides on its plan: saved and announced, after the answer's own work.
        if (plan.Kind != PlanKind.Remember && !string.IsNullOrWhiteSpace(plan.Text))
        {
            await SaveFactAsync(plan.Text, answer, ct).ConfigureAwait(false);
        }

        if (answer.Partial && answer.ExitCode == 0)
        {
            answer.ExitCode = Answer.PartialExit;
        }

        return answer;
    }

    private async Task TopAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        TopReport r = await api.TopAsync(plan.Selector, plan.FromNs, plan.UntilNs, plan.Top, "self", ct: ct).ConfigureAwait(false);
        string where = Scope(plan.Selector);
        string when = Plan.Range(plan.FromNs, plan.UntilNs);
        if (r.ProfileTotal == 0 || r.Functions.Count == 0)
        {
            answer.Verdict = new Said(
                $"Nothing to rank: no profiles for {where} in {when}. Is anything sending them?",
                $"There are no profiles for {where} in {when}.");
            return;
        }

        TopRow first = r.Functions[0];
        string pct = Pct(first.SelfPercent);
        answer.Verdict = new Said(
            $"{first.Name} eats {pct} % of the {r.Unit} in {where} ({when}, self, measured). Start there.",
            $"The function with the most self time in {where} ({when}) is {first.Name}: {pct} % of {r.Unit} (measured).");
        var t = new AnswerTable
        {
            Title = $"top {r.Functions.Count} functions by self time of {where}, {when}; total {Count(r.ProfileTotal)} {r.Unit}",
            Basis = "measured",
            Columns = ["function", $"self ({r.Unit})", $"total ({r.Unit})", "self (%)", "total (%)"],
        };
        foreach (TopRow row in r.Functions)
        {
            t.Row(row.Name, Count(row.Self), Count(row.Total), Pct(row.SelfPercent), Pct(row.TotalPercent));
        }

        answer.Tables.Add(t);
        answer.Links.Add(new AnswerLink("flame graph", api.FlameLink(plan.Selector, plan.FromNs, plan.UntilNs)));
    }

    private async Task OpportunitiesAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        OpportunitiesDocument d = await api.OpportunitiesAsync(plan.Selector, plan.FromNs, plan.UntilNs, plan.Top, memory: options.Memory, ct: ct).ConfigureAwait(false);
        string where = Scope(plan.Selector);
        string when = Plan.Range(plan.FromNs, plan.UntilNs);
        Server(answer, d.Partial, d.Notes, d.MemoriesUsed);
        if (d.Items.Count == 0)
        {
            answer.Verdict = new Said(
                $"No opportunities in {where} ({when}): nothing costs enough to rank. Enjoy it.",
                $"There are no opportunities for {where} in {when}.");
            return;
        }

        Opportunity first = d.Items[0];
        string imp = CostRender.Num(d.ImprovementPercent);
        answer.Verdict = new Said(
            $"Fix {first.Name} first: ${CostRender.Num(first.Annual.Usd)} a year (projection, estimated); {imp} % better saves ${CostRender.Num(first.IfImproved.Usd)} a year.",
            $"The largest opportunity in {where} is {first.Name} at ${CostRender.Num(first.Annual.Usd)} per year (projection, estimated); a {imp} % improvement saves ${CostRender.Num(first.IfImproved.Usd)} per year.");
        var t = new AnswerTable
        {
            Title = $"opportunities in {where}, {when}; whole selection ${CostRender.Num(d.TotalPerYear.Usd)}/year",
            Basis = "projection of the period; $, kWh and CO2e estimated",
            Columns = ["#", "kind", "name", "cost ($/year)", "energy (kWh/year)", "emissions (kgCO2e/year)", $"save {imp} % ($/year)"],
        };
        foreach (Opportunity o in d.Items)
        {
            t.Row(o.Rank.ToString(CultureInfo.InvariantCulture), o.Kind, o.Name, CostRender.Num(o.Annual.Usd), CostRender.Num(o.Annual.Kwh),
                CostRender.Num(o.Annual.KgCo2e), CostRender.Num(o.IfImproved.Usd));
        }

        answer.Tables.Add(t);
        answer.Links.Add(new AnswerLink("flame graph", api.FlameLink(plan.Selector, plan.FromNs, plan.UntilNs)));

        // A finding worth remembering is proposed, never saved: who owns the top opportunity's service.
        if (first.Owners.Count > 0 && options.Memory)
        {
            OwnerShare owner = first.Owners[0];
            bool known = options.Memories.Any(m => m.Fact.Kind == "owner" && string.Equals(m.Fact.Subject, owner.Service, StringComparison.OrdinalIgnoreCase));
            if (!known && owner.Service.Length > 0 && owner.Org.Length > 0)
            {
                answer.MemoryLines.Add($"Remember this? orac memory add \"service {owner.Service} belongs to the {owner.Org} org\"");
            }
        }
    }

    private async Task DiffAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        string baseSel = plan.BaseSelector ?? plan.Selector;
        FlameTree tree = await api.DiffAsync(plan.Selector, plan.FromNs, plan.UntilNs, baseSel, plan.BaseFromNs, plan.BaseUntilNs, ct: ct).ConfigureAwait(false);
        string now = $"{Scope(plan.Selector)} {Plan.Range(plan.FromNs, plan.UntilNs)}";
        string then = $"{Scope(baseSel)} {Plan.Range(plan.BaseFromNs, plan.BaseUntilNs)}";
        if (tree.Partial)
        {
            answer.Partial = true;
            answer.Missing.Add("part of the stored data (the server's answer is partial)");
        }

        long baseTotal = tree.BaseTotalValue ?? 0;
        List<FunctionChange> changes = DiffRows.Changes(tree);
        if (tree.Total == 0 && baseTotal == 0)
        {
            answer.Verdict = new Said($"Nothing to compare: no profiles in {now} nor in {then}.", $"There are no profiles in {now} or in {then}.");
            return;
        }

        string totalChange = Change(tree.Total, baseTotal);
        FunctionChange? top = changes.Count > 0 ? changes[0] : null;
        string mover = top is null ? "" : $" Biggest mover: {top.Name}, {Signed(top.New - top.Base)} {tree.Unit} ({Change(top.New, top.Base)}).";
        string moverPlain = top is null ? "" : $" The largest change is {top.Name}: {Signed(top.New - top.Base)} {tree.Unit} ({Change(top.New, top.Base)}).";
        answer.Verdict = new Said(
            $"{now} against {then}: total {Count(baseTotal)} → {Count(tree.Total)} {tree.Unit} ({totalChange}, measured).{mover}",
            $"Comparing {now} with {then}: the total went from {Count(baseTotal)} to {Count(tree.Total)} {tree.Unit} ({totalChange}, measured).{moverPlain}");
        var t = new AnswerTable
        {
            Title = $"largest changes in self time per function, new ({now}) against base ({then})",
            Basis = "measured",
            Columns = ["function", $"base self ({tree.Unit})", $"new self ({tree.Unit})", $"change ({tree.Unit})", "change (%)"],
        };
        foreach (FunctionChange c in changes.Take(plan.Top))
        {
            t.Row(c.Name, Count(c.Base), Count(c.New), Signed(c.New - c.Base), Change(c.New, c.Base));
        }

        answer.Tables.Add(t);
        answer.Links.Add(new AnswerLink("flame graph (new)", api.FlameLink(plan.Selector, plan.FromNs, plan.UntilNs)));
        answer.Links.Add(new AnswerLink("flame graph (base)", api.FlameLink(baseSel, plan.BaseFromNs, plan.BaseUntilNs)));
    }

    private async Task FunctionCostAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        CostDocument d = await api.CostAsync(plan.Selector, plan.FromNs, plan.UntilNs, CostLookupRows, options.Memory, ct).ConfigureAwait(false);
        Server(answer, d.Partial, d.Notes, d.MemoriesUsed);
        string fn = plan.Function ?? "";
        string where = Scope(plan.Selector);
        string when = Plan.Range(plan.FromNs, plan.UntilNs);
        CostRow? row = FindFunction(d.Functions, fn);
        if (row is null)
        {
            answer.Verdict = new Said(
                $"{fn}: not found in this range ({where}, {when}). Either it is fast or it never ran.",
                $"{fn} was not found in this range ({where}, {when}).");
            return;
        }

        double year = YearFactor(d);
        CostFigures f = row.Figures;
        string usdYear = CostRender.Num(f.Usd * year);
        answer.Verdict = new Said(
            $"{row.Name} costs ${usdYear} a year (projection of {when}; estimated), {CostRender.Num(f.Kwh * year)} kWh and {CostRender.Num(f.KgCo2e * year)} kg CO2e with it.",
            $"{row.Name} costs ${usdYear} per year (projection of {when}; estimated), using {CostRender.Num(f.Kwh * year)} kWh and {CostRender.Num(f.KgCo2e * year)} kg CO2e.");
        var t = new AnswerTable
        {
            Title = $"{row.Name} in {where}" + (row.Service is null ? "" : $" (service {row.Service})"),
            Basis = $"CPU seconds measured; $, kWh and CO2e estimated ({(f.EnergyBasis == Basis.Measured ? "energy measured" : "energy " + f.EnergyBasis)}); per year is a projection",
            Columns = ["figure", "in the range", "per year (projection)"],
        };
        t.Row("CPU (s)", CostRender.Num(f.CpuSeconds), CostRender.Num(f.CpuSeconds * year));
        t.Row("share of CPU (%)", Pct(row.CpuPercent), Pct(row.CpuPercent));
        t.Row("cost ($)", CostRender.Num(f.Usd), usdYear);
        t.Row("energy (kWh)", CostRender.Num(f.Kwh), CostRender.Num(f.Kwh * year));
        t.Row("emissions (kgCO2e)", CostRender.Num(f.KgCo2e), CostRender.Num(f.KgCo2e * year));
        answer.Tables.Add(t);
        answer.Links.Add(new AnswerLink("flame graph", api.FlameLink(plan.Selector, plan.FromNs, plan.UntilNs)));
    }

    private async Task OutliersAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        CostDocument d = await api.CostAsync(plan.Selector, plan.FromNs, plan.UntilNs, 1, options.Memory, ct).ConfigureAwait(false);
        Server(answer, d.Partial, d.Notes, d.MemoriesUsed);
        string where = Scope(plan.Selector);
        string when = Plan.Range(plan.FromNs, plan.UntilNs);
        List<HostSpread> hosts = Outliers.Find(d.Hosts);
        if (hosts.Count == 0)
        {
            answer.Verdict = new Said($"No hosts sent profiles for {where} in {when}: nobody to stand out.", $"There are no hosts with profiles for {where} in {when}.");
            return;
        }

        double median = hosts[0].Median;
        double mad = hosts[0].Mad;
        List<HostSpread> odd = hosts.FindAll(h => h.Label.Length > 0);
        string stats = $"median {CostRender.Num(median)} CPU s per host, MAD {CostRender.Num(mad)} s, {hosts.Count} hosts";
        if (hosts.Count < 3)
        {
            answer.Verdict = new Said(
                $"{hosts.Count} host{(hosts.Count == 1 ? "" : "s")} in {where}: too few to call anyone an outlier ({stats}).",
                $"{where} has {hosts.Count} host{(hosts.Count == 1 ? "" : "s")}, too few to find outliers ({stats}).");
        }
        else if (odd.Count == 0)
        {
            answer.Verdict = new Said($"Nobody stands out in {where} ({when}): {stats}.", $"No host in {where} stands out ({when}): {stats}.");
        }
        else
        {
            string list = string.Join(", ", odd.Select(h => $"{h.Host} ({h.Label}, {CostRender.Num(h.CpuSeconds)} s, {Times(h.CpuSeconds, median)} the median)"));
            answer.Verdict = new Said(
                $"{odd.Count} host{(odd.Count == 1 ? "" : "s")} out of line in {where} ({when}): {list}; {stats}.",
                $"{odd.Count} outlier{(odd.Count == 1 ? "" : "s")} in {where} ({when}): {list}; {stats}.");
        }

        var t = new AnswerTable
        {
            Title = $"CPU per host in {where}, {when}; outlier: beyond 2× the median or 3 MADs from it",
            Basis = "measured",
            Columns = ["host", "CPU (s)", "vs median (×)", "from median (MADs)", "outlier"],
        };
        foreach (HostSpread h in hosts)
        {
            t.Row(h.Host, CostRender.Num(h.CpuSeconds), Times(h.CpuSeconds, median).TrimEnd('×'), h.Mad > 0 ? ((h.CpuSeconds - h.Median) / h.Mad).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) : "-",
                h.Label.Length > 0 ? h.Label : "-");
        }

        answer.Tables.Add(t);
        foreach (HostSpread h in odd)
        {
            answer.Links.Add(new AnswerLink($"flame graph of {h.Host}", api.FlameLink(MergeHost(plan.Selector, h.Host), plan.FromNs, plan.UntilNs)));
        }
    }

    private async Task GpuIdleAsync(Plan plan, Answer answer, CancellationToken ct)
    {
        CostDocument d = await api.CostAsync(plan.Selector, plan.FromNs, plan.UntilNs, 1, options.Memory, ct).ConfigureAwait(false);
        Server(answer, d.Partial, d.Notes, d.MemoriesUsed);
        string where = Scope(plan.Selector);
        string when = Plan.Range(plan.FromNs, plan.UntilNs);
        if (d.Gpus.Count == 0)
        {
            answer.Verdict = new Said($"No GPU readings for {where} in {when}: nothing idle that I can see.", $"There are no GPU readings for {where} in {when}.");
            return;
        }

        double year = YearFactor(d);
        double idle = d.Gpus.Sum(g => g.StrandedIdleUsd);
        double trap = d.Gpus.Sum(g => g.StrandedTrapUsd);
        double all = d.Gpus.Sum(g => g.Figures.Usd);
        string idleYear = CostRender.Num(idle * year);
        string trapYear = CostRender.Num(trap * year);
        answer.Verdict = new Said(
            $"${CostRender.Num(idle + trap)} of ${CostRender.Num(all)} GPU money in {when} bought nothing: ${CostRender.Num(idle)} idle, ${CostRender.Num(trap)} in the utilisation trap (estimated). That is ${idleYear} + ${trapYear} a year (projection).",
            $"Stranded GPU cost in {where} ({when}): ${CostRender.Num(idle)} idle and ${CostRender.Num(trap)} in the utilisation trap, of ${CostRender.Num(all)} in total (estimated); per year ${idleYear} and ${trapYear} (projection).");
        var t = new AnswerTable
        {
            Title = $"GPUs in {where}, {when}",
            Basis = "utilisation measured; $ estimated; per year a projection",
            Columns = ["host", "gpu", "model", "utilisation (%)", "SM active (%)", "cost ($)", "stranded idle ($)", "utilisation trap ($)", "stranded ($/year)"],
        };
        foreach (GpuCostRow g in d.Gpus.OrderByDescending(g => g.StrandedIdleUsd + g.StrandedTrapUsd).ThenBy(g => g.Host, StringComparer.Ordinal).ThenBy(g => g.Index))
        {
            t.Row(g.Host, g.Index.ToString(CultureInfo.InvariantCulture), g.Model.Length == 0 ? "-" : g.Model, Pct(g.UtilPercent),
                g.SmActivePercent is double sm ? Pct(sm) : "-", CostRender.Num(g.Figures.Usd), CostRender.Num(g.StrandedIdleUsd), CostRender.Num(g.StrandedTrapUsd),
                CostRender.Num((g.StrandedIdleUsd + g.StrandedTrapUsd) * year));
        }

        answer.Tables.Add(t);
    }

    private async Task MemoryAsync(Answer answer, CancellationToken ct)
    {
        if (!options.Memory)
        {
            answer.Verdict = Said.Both($"Memory is not read here ({options.MemoryOffReason ?? "memory off"}).");
            return;
        }

        MemoryDocument? d = await api.TryMemoryAsync(ct).ConfigureAwait(false);
        if (d is null)
        {
            answer.Verdict = Said.Both("This server keeps no memory (it has no memory routes).");
            return;
        }

        if (!d.Enabled)
        {
            answer.Verdict = new Said($"Memory is off for {d.User} in {d.Org}; {d.Items.Count} items kept. `orac memory on` turns it back on.",
                $"Memory is off for {d.User} in org {d.Org} ({d.Items.Count} items kept); `orac memory on` turns it on.");
        }
        else if (d.Items.Count == 0)
        {
            answer.Verdict = new Said($"Nothing. You have told me nothing worth keeping, {d.User}.", $"There are no memories for {d.User} in org {d.Org}.");
            return;
        }
        else
        {
            answer.Verdict = new Said($"{d.Items.Count} things I remember about {d.User} in {d.Org}:", $"{d.Items.Count} memories for {d.User} in org {d.Org}:");
        }

        var t = new AnswerTable { Title = "memories, oldest first", Basis = "stored by the server", Columns = ["id", "text", "kind", "source", "saved (UTC)"] };
        foreach (MemoryItem m in d.Items)
        {
            t.Row(m.Id, m.Text, m.Fact.Kind, m.Source, FleetCommand.Rfc3339(m.CreatedMs));
        }

        answer.Tables.Add(t);
        answer.MemoryLines.Add("forget one: orac memory forget ID");
    }

    private async Task SaveFactAsync(string text, Answer answer, CancellationToken ct)
    {
        bool alone = answer.Plan.Kind == PlanKind.Remember;
        if (!options.Memory)
        {
            string why = $"Not saved ({options.MemoryOffReason ?? "memory off"}): \"{text}\"";
            if (alone)
            {
                answer.Verdict = Said.Both(why + ".");
            }
            else
            {
                answer.MemoryLines.Add(why);
            }

            return;
        }

        MemoryItem item;
        try
        {
            item = await api.RememberAsync(text, "ask", ct).ConfigureAwait(false);
        }
        catch (OracException e) when (e.Message.Contains(" answered 404 ", StringComparison.Ordinal) || e.Message.Contains(" answered 409 ", StringComparison.Ordinal))
        {
            string why = e.Message.Contains(" answered 404 ", StringComparison.Ordinal) ? "this server keeps no memory" : "memory is off";
            if (alone)
            {
                answer.Verdict = Said.Both($"Not saved ({why}): \"{text}\".");
                answer.ExitCode = OracException.Failure;
            }
            else
            {
                answer.MemoryLines.Add($"Not saved ({why}): \"{text}\"");
            }

            return;
        }

        if (alone)
        {
            answer.Verdict = new Said($"Noted. I will not forget it (unless told to): {item.Id} is a {item.Fact.Kind} fact.", $"Saved as {item.Id} ({item.Fact.Kind} fact).");
        }

        answer.MemoryLines.Add($"Memory updated: \"{item.Text}\" (forget it: orac memory forget {item.Id})");
    }

    private static void Clarify(Plan plan, Answer answer)
    {
        answer.ExitCode = OracException.Usage;
        string field = plan.Field ?? "detail";
        string question = field switch
        {
            "service" => "Which service?",
            "host" => "Which host?",
            "scope" => "Which host or service?",
            "function" => "Which function? Quote its name, e.g. \"json_encode\".",
            "range" => "Which time range? e.g. \"last hour\", \"since Tuesday\", \"yesterday 14:00-15:00\".",
            "label" => "Which label value?",
            _ => $"Which {field}?",
        };
        string got = plan.Got is null ? "" : $"I don't know the {field} \"{plan.Got}\". ";
        string gotOrac = plan.Got is null ? "" : $"There is no {field} \"{plan.Got}\" here. ";
        string suggest = plan.Suggestions.Count == 0 ? "" : $" Did you mean {string.Join(" or ", plan.Suggestions)}?";
        answer.Verdict = new Said(gotOrac + (suggest.Length > 0 ? suggest.TrimStart() : question), got + (suggest.Length > 0 ? suggest.TrimStart() : question));
        if (suggest.Length > 0)
        {
            answer.Remarks.Add(Said.Both($"(ask again with the name; {question.TrimEnd('?').ToLowerInvariant()}?)"));
        }
    }

    private static void Help(Answer answer)
    {
        answer.Verdict = new Said(
            "That is not a performance question, and performance is all I do. Try one of these:",
            "Orac answers questions about performance, cost and the fleet. For example:");
        answer.Remarks.Add(Said.Both(string.Join('\n',
            "  top 5 functions in api over the last hour",
            "  what should we optimise first?",
            "  what changed in api since yesterday?",
            "  why is web-1 slow?",
            "  profile web-1 and web-2 for 60 seconds",
            "  what does json_encode cost per year?",
            "  which hosts are outliers?",
            "  how much do idle GPUs cost us this week?",
            "  what do you remember about me?",
            "  remember that service api belongs to the search org")));
    }

    /// <summary>The server's partial flag, notes and the memories (price facts) its figures used.</summary>
    private static void Server(Answer answer, bool partial, List<string> notes, List<MemoryItem> used)
    {
        if (partial)
        {
            answer.Partial = true;
            answer.Missing.Add("some data (see the notes)");
        }

        answer.Notes.AddRange(notes);
        foreach (MemoryItem m in used)
        {
            answer.UsedMemory(m.Id, m.Text);
        }
    }

    private static CostRow? FindFunction(List<CostRow> rows, string fn)
    {
        if (fn.Length == 0)
        {
            return null;
        }

        CostRow? exact = rows.Find(r => r.Name == fn) ?? rows.Find(r => string.Equals(r.Name, fn, StringComparison.OrdinalIgnoreCase));
        if (exact is not null)
        {
            return exact;
        }

        // "json_encode" names the C function "json_encode" and also "php::json_encode": a unique suffix match is the same function.
        List<CostRow> tail = rows.FindAll(r => r.Name.EndsWith("::" + fn, StringComparison.Ordinal) || r.Name.EndsWith("." + fn, StringComparison.Ordinal));
        return tail.Count == 1 ? tail[0] : null;
    }

    /// <summary>The server's own period → year factor (its projection of the total), else seconds per year over the period.</summary>
    private static double YearFactor(CostDocument d)
    {
        if (d.Total.Usd > 0 && d.ProjectedPerYear.Usd > 0)
        {
            return d.ProjectedPerYear.Usd / d.Total.Usd;
        }

        double seconds = (d.Until - d.From) / 1000.0;
        return seconds > 0 ? CostCalculator.SecondsPerYear / seconds : 0;
    }

    internal static string Scope(string selector) => selector is "{}" or "" ? "the whole org" : selector;

    private static string MergeHost(string selector, string host)
    {
        string inner = selector.Trim().TrimStart('{').TrimEnd('}').Trim();
        string h = $"host=\"{host.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
        return inner.Length == 0 || inner.Contains("host", StringComparison.Ordinal) ? "{" + h + "}" : "{" + inner + ", " + h + "}";
    }

    internal static string Count(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    internal static string Pct(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Signed(long v) => (v > 0 ? "+" : "") + Count(v);

    private static string Change(long now, long before) =>
        before == 0 ? (now == 0 ? "0.0 %" : "new") : ((now - before) * 100.0 / before).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " %";

    private static string Times(double v, double median) =>
        median > 0 ? (v / median).ToString("0.0", CultureInfo.InvariantCulture) + "×" : "-";
}
