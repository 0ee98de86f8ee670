using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Ask;
using Orac.Client;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Mcp;

/// <summary>
/// Orac's operations as tools (docs/mcp.md): the table the MCP server lists and <c>ask --llm</c> offers a model.
/// Every handler validates its arguments (bounds, enums, times, and service/host names against the inventory),
/// calls the API with the caller's <see cref="OracApi"/>, and answers compactly: top-N plus totals, units,
/// measured/estimated/projection labels, partial when partial, and a link or task id for the full picture. Anything the
/// caller can act on (a bad argument, an unknown name, the server's own refusal) is a <see cref="ToolOutcome.Error"/>.
/// </summary>
public static partial class OracTools
{
    // Lazy: the schemas are static fields of another part of this class, and field initializers across partial files
    // run in no guaranteed order.
    private static readonly Lazy<IReadOnlyList<OracTool>> s_all = new(Build);

    private static IReadOnlyList<OracTool> Build() =>
    [
        new()
        {
            Name = "list_services", Title = "List services and hosts",
            Description = "Services (label service_name), hosts (stored profiles and the fleet's agents) and label names with data in the range (default the last hour). Use it to find the names other tools take.",
            InputSchema = s_listServicesIn, OutputSchema = s_listServicesOut, Invoke = Guard(ListServicesAsync),
        },
        new()
        {
            Name = "list_labels", Title = "List labels and their values",
            Description = "Label names and their values (at most 100 per label) with data in the range, e.g. version → 1.4.2, 1.5.0; env → prod, staging.",
            InputSchema = s_listLabelsIn, OutputSchema = s_listLabelsOut, Invoke = Guard(ListLabelsAsync),
        },
        new()
        {
            Name = "list_profile_types", Title = "List profile types",
            Description = "Profile type ids stored for the org (CPU, wall, memory, …), for the type argument of top_functions and diff.",
            InputSchema = s_typesIn, OutputSchema = s_typesOut, Invoke = Guard(TypesAsync),
        },
        new()
        {
            Name = "top_functions", Title = "Top functions",
            Description = "The hottest functions of a selection (service, host or selector) over a range (default the last hour): self and total values in the profile's unit (measured) and as percent of the selection's total, plus a link to the full flame graph.",
            InputSchema = s_topIn, OutputSchema = s_topOut, Invoke = Guard(TopAsync),
        },
        new()
        {
            Name = "diff", Title = "What changed (diff)",
            Description = "Compares a selection with a base (another range, version, service or host; default: the same selection over the equally long range just before). Returns the functions whose self value changed most, with both totals, the unit and share changes in percentage points, plus a link.",
            InputSchema = s_diffIn, OutputSchema = s_diffOut, Invoke = Guard(DiffAsync),
        },
        new()
        {
            Name = "cost", Title = "Cost, energy and carbon",
            Description = "Cost (US dollars, estimated), energy (kWh, measured or estimated as labelled) and CO2e (kg, estimated) of a selection over a range (default the last 7 days): totals, idle, per year (projection), and the top functions, hosts and GPUs.",
            InputSchema = s_costIn, OutputSchema = s_costOut, Invoke = Guard(CostAsync),
        },
        new()
        {
            Name = "opportunities", Title = "Savings opportunities",
            Description = "The ranked backlog of wins (functions, libraries, patterns, stranded GPUs) by annual cost (projection from the range, default the last 7 days), with what a given improvement would save and a flame-graph link for each.",
            InputSchema = s_oppIn, OutputSchema = s_oppOut, Invoke = Guard(OpportunitiesAsync),
        },
        new()
        {
            Name = "fleet_list", Title = "List the fleet's agents",
            Description = "The org's agents (hosts running orac agent or orac up): status, last seen, CPUs, sampling rate, labels, capabilities, running tasks.",
            InputSchema = s_fleetIn, OutputSchema = s_fleetOut, Invoke = Guard(FleetAsync),
        },
        new()
        {
            Name = "start_research", Title = "Start delegated research on agents (fleet-changing)",
            Description = "FLEET-CHANGING: starts work on the matching agents now: kind profile (a fresh CPU profile for N seconds) or check (the 60-second USE check). Returns the task id at once; read the answer with research_result.",
            InputSchema = s_startIn, OutputSchema = s_taskOut, FleetChanging = true, Invoke = Guard(StartResearchAsync),
        },
        new()
        {
            Name = "research_result", Title = "Read a research task's result",
            Description = "The state and answer of a delegated task (start_research, health_check): for a profile, the top functions of the merged profile and a flame-graph link; for a check, each host's problems. wait_seconds holds the answer until the task finishes.",
            InputSchema = s_resultIn, OutputSchema = s_taskOut, Invoke = Guard(ResearchResultAsync),
        },
        new()
        {
            Name = "health_check", Title = "Run the 60-second check on hosts (fleet-changing)",
            Description = "FLEET-CHANGING: runs the 60-second USE check (CPU, memory, disks, network, kernel errors from /proc and /sys) on the matching agents, waits for it and returns each host's problems.",
            InputSchema = s_checkIn, OutputSchema = s_taskOut, FleetChanging = true, Invoke = Guard(HealthCheckAsync),
        },
    ];

    /// <summary>Every tool, in the order they are listed.</summary>
    public static IReadOnlyList<OracTool> All => s_all.Value;

    /// <summary>The tool named <paramref name="name"/>, or null.</summary>
    public static OracTool? Find(string name)
    {
        foreach (OracTool t in s_all.Value)
        {
            if (t.Name == name)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>Turns argument errors and the server's refusals into tool errors; cancellation and bugs pass through.</summary>
    private static Func<OracApi, JsonElement, CancellationToken, Task<ToolOutcome>> Guard(Func<OracApi, ToolArgs, CancellationToken, Task<ToolOutcome>> run) =>
        async (api, args, ct) =>
        {
            if (args.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
            {
                return ToolOutcome.Error("arguments must be a JSON object");
            }

            try
            {
                return await run(api, new ToolArgs(args), ct).ConfigureAwait(false);
            }
            catch (ToolArgException e)
            {
                return ToolOutcome.Error(e.Message);
            }
            catch (OracException e)
            {
                return ToolOutcome.Error(e.Message);
            }
        };

    private static string Rfc(long ns) => TimeSpec.Format(ns);

    private static string N(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Money(double usd) => usd.ToString(Math.Abs(usd) >= 100 ? "#,0" : "#,0.00", CultureInfo.InvariantCulture);

    private static (long From, long Until) Window(ToolArgs a, long defaultNs, string prefix = "")
    {
        long now = TimeSpec.NowNs();
        long until = a.Time(prefix + "until", now, now);
        long from = a.Time(prefix + "from", until - defaultNs, now);
        if (until <= from)
        {
            throw new ToolArgException($"argument '{prefix}until' ({Rfc(until)}) must be after '{prefix}from' ({Rfc(from)})");
        }

        return (from, until);
    }

    private const long Hour = 3600 * TimeSpec.NsPerSecond;
    private const long Week = 7 * 24 * Hour;

    private static async Task<ToolOutcome> ListServicesAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Hour);
        LabelValuesDocument services = await api.LabelValuesAsync("service_name", from, until, ct).ConfigureAwait(false);
        LabelValuesDocument hostValues = await api.LabelValuesAsync("host", from, until, ct).ConfigureAwait(false);
        LabelNamesDocument names = await api.LabelNamesAsync(from, until, ct).ConfigureAwait(false);
        var hosts = new SortedSet<string>(hostValues.Values, StringComparer.Ordinal);
        try
        {
            foreach (AgentDocument d in (await api.FleetAsync("", ct).ConfigureAwait(false)).Agents)
            {
                hosts.Add(d.Info.Hostname);
            }
        }
        catch (OracException)
        {
            // A token that may not list agents still gets the stored hosts.
        }

        var svc = services.Values.Order(StringComparer.Ordinal).ToList();
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            JsonOut.Strings(w, "services", svc);
            JsonOut.Strings(w, "hosts", hosts);
            JsonOut.Strings(w, "labels", names.Names);
            w.WriteString("from", Rfc(from));
            w.WriteString("until", Rfc(until));
            w.WriteEndObject();
        });
        string text = $"{svc.Count} services: {List(svc)}\n{hosts.Count} hosts: {List(hosts)}\nlabels: {List(names.Names)}\n(data from {Rfc(from)} to {Rfc(until)})";
        return new ToolOutcome { Text = text, Structured = s };
    }

    private static string List(IEnumerable<string> items)
    {
        var l = items.ToList();
        return l.Count == 0 ? "(none)" : string.Join(", ", l.Take(50)) + (l.Count > 50 ? $", … (+{l.Count - 50} more)" : "");
    }

    private static async Task<ToolOutcome> ListLabelsAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Hour);
        string? only = a.Str("name");
        IReadOnlyList<string> names = only is not null ? [only] : (await api.LabelNamesAsync(from, until, ct).ConfigureAwait(false)).Names;
        const int MaxLabels = 30, MaxValues = 100;
        var rows = new List<(string Name, IReadOnlyList<string> Values)>();
        foreach (string n in names.Take(MaxLabels))
        {
            rows.Add((n, (await api.LabelValuesAsync(n, from, until, ct).ConfigureAwait(false)).Values));
        }

        if (only is not null && rows[0].Values.Count == 0)
        {
            LabelNamesDocument all = await api.LabelNamesAsync(from, until, ct).ConfigureAwait(false);
            IReadOnlyList<string> near = NearNames.Suggest(only, all.Names);
            return ToolOutcome.Error(near.Count > 0
                ? $"unknown label '{ToolArgs.Escape(only)}'; did you mean {string.Join(" or ", near.Select(x => $"'{x}'"))}?"
                : $"no values for label '{ToolArgs.Escape(only)}' from {Rfc(from)} to {Rfc(until)} (labels: {List(all.Names)})");
        }

        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("labels");
            foreach ((string name, IReadOnlyList<string> values) in rows)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                JsonOut.Strings(w, "values", values.Take(MaxValues));
                w.WriteNumber("valuesOmitted", Math.Max(0, values.Count - MaxValues));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("labelsOmitted", Math.Max(0, names.Count - MaxLabels));
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        foreach ((string name, IReadOnlyList<string> values) in rows)
        {
            sb.Append(name).Append(": ").Append(List(values.Take(MaxValues))).Append('\n');
        }

        if (names.Count > MaxLabels)
        {
            sb.Append(CultureInfo.InvariantCulture, $"(+{names.Count - MaxLabels} more labels)\n");
        }

        return new ToolOutcome { Text = sb.Length == 0 ? "no labels with data in the range" : sb.ToString().TrimEnd(), Structured = s };
    }

    private static async Task<ToolOutcome> TypesAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        TypesDocument types = await api.TypesAsync(ct).ConfigureAwait(false);
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            JsonOut.Strings(w, "types", types.Types);
            w.WriteEndObject();
        });
        return new ToolOutcome { Text = types.Types.Count == 0 ? "no profiles stored yet" : string.Join("\n", types.Types), Structured = s };
    }

    private static async Task<ToolOutcome> TopAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Hour);
        int limit = a.Int("limit", 10, 1, 100);
        string order = a.Enum("order", "self", "self", "total");
        string? type = a.Str("type");
        string selector = await Scope.SelectorAsync(api, a, ct).ConfigureAwait(false);
        TopReport top = await api.TopAsync(selector, from, until, limit, order, type, ct).ConfigureAwait(false);
        string link = api.FlameLink(selector, from, until);
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("selector", selector);
            w.WriteString("from", Rfc(from));
            w.WriteString("until", Rfc(until));
            w.WriteString("sampleType", top.SampleType);
            w.WriteString("unit", top.Unit);
            w.WriteString("provenance", top.Provenance);
            w.WriteString("orderBy", top.OrderBy);
            w.WriteNumber("profileTotal", top.ProfileTotal);
            w.WriteStartArray("functions");
            foreach (TopRow r in top.Functions)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteNumber("self", r.Self);
                w.WriteNumber("total", r.Total);
                w.WriteNumber("selfPercent", r.SelfPercent);
                w.WriteNumber("totalPercent", r.TotalPercent);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("link", link);
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"top {top.Functions.Count} functions by {top.OrderBy} of {selector} from {Rfc(from)} to {Rfc(until)} ({top.SampleType}; {top.Provenance}; total {top.ProfileTotal} {top.Unit})\n");
        if (top.Functions.Count == 0)
        {
            sb.Append("no samples in the range\n");
        }

        foreach (TopRow r in top.Functions)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{N(r.SelfPercent),6}% self {r.Self} {top.Unit}, total {r.Total} ({N(r.TotalPercent)}%)  {r.Name}\n");
        }

        sb.Append("flame graph: ").Append(link);
        return new ToolOutcome { Text = sb.ToString(), Structured = s };
    }

    private static async Task<ToolOutcome> DiffAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Hour);
        long len = until - from;
        long now = TimeSpec.NowNs();
        bool ownBase = a.Has("base_query") || a.Has("base_service") || a.Has("base_host");

        // Two selections and one range: both sides use it; one selection: the base is the range just before.
        bool sameRange = ownBase && !a.Has("base_from") && !a.Has("base_until");
        long baseUntil = a.Time("base_until", sameRange ? until : from, now);
        long baseFrom = a.Time("base_from", baseUntil - len, now);
        if (baseUntil <= baseFrom)
        {
            throw new ToolArgException($"argument 'base_until' ({Rfc(baseUntil)}) must be after 'base_from' ({Rfc(baseFrom)})");
        }

        int limit = a.Int("limit", 10, 1, 100);
        string? type = a.Str("type");
        string selector = await Scope.SelectorAsync(api, a, ct).ConfigureAwait(false);
        string baseSelector = ownBase ? await Scope.SelectorAsync(api, a, ct, "base_").ConfigureAwait(false) : selector;
        FlameTree tree = await api.DiffAsync(selector, from, until, baseSelector, baseFrom, baseUntil, type, 200_000, ct).ConfigureAwait(false);
        long total = tree.Total;
        long baseTotal = tree.BaseTotalValue ?? 0;
        var byName = new Dictionary<string, (long Self, long BaseSelf)>(StringComparer.Ordinal);
        long[] baseSelfCol = tree.Nodes.BaseSelf ?? new long[tree.Nodes.Self.Length];
        for (int i = 1; i < tree.Nodes.Self.Length; i++)
        {
            string name = tree.Names[tree.Nodes.Name[i]];
            byName.TryGetValue(name, out var v);
            byName[name] = (v.Self + tree.Nodes.Self[i], v.BaseSelf + baseSelfCol[i]);
        }

        var rows = byName.Where(kv => kv.Value.Self != kv.Value.BaseSelf)
            .Select(kv => (Name: kv.Key, kv.Value.Self, kv.Value.BaseSelf, Delta: kv.Value.Self - kv.Value.BaseSelf,
                Pct: total == 0 ? 0 : Math.Round(100.0 * kv.Value.Self / total, 2), BasePct: baseTotal == 0 ? 0 : Math.Round(100.0 * kv.Value.BaseSelf / baseTotal, 2)))
            .OrderByDescending(r => Math.Abs(r.Delta)).ThenBy(r => r.Name, StringComparer.Ordinal).Take(limit).ToList();
        string link = api.FlameLink(selector, from, until);
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("selector", selector);
            w.WriteString("from", Rfc(from));
            w.WriteString("until", Rfc(until));
            w.WriteString("baseSelector", baseSelector);
            w.WriteString("baseFrom", Rfc(baseFrom));
            w.WriteString("baseUntil", Rfc(baseUntil));
            w.WriteString("type", tree.Type);
            w.WriteString("unit", tree.Unit);
            w.WriteString("provenance", tree.Provenance);
            w.WriteBoolean("partial", tree.Partial || tree.Truncated > 0);
            w.WriteNumber("total", total);
            w.WriteNumber("baseTotal", baseTotal);
            w.WriteStartArray("changes");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteNumber("self", r.Self);
                w.WriteNumber("baseSelf", r.BaseSelf);
                w.WriteNumber("delta", r.Delta);
                w.WriteNumber("selfPercent", r.Pct);
                w.WriteNumber("baseSelfPercent", r.BasePct);
                w.WriteNumber("deltaPoints", Math.Round(r.Pct - r.BasePct, 2));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("link", link);
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{selector} {Rfc(from)}..{Rfc(until)} (total {total} {tree.Unit}) vs {baseSelector} {Rfc(baseFrom)}..{Rfc(baseUntil)} (total {baseTotal} {tree.Unit}); {tree.Provenance}{(tree.Partial || tree.Truncated > 0 ? "; PARTIAL" : "")}\n");
        if (rows.Count == 0)
        {
            sb.Append("no function's self value changed\n");
        }

        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{(r.Delta > 0 ? "+" : "")}{r.Delta} {tree.Unit} ({N(r.BasePct)}% -> {N(r.Pct)}%, {(r.Pct >= r.BasePct ? "+" : "")}{N(Math.Round(r.Pct - r.BasePct, 2))} points)  {r.Name}\n");
        }

        sb.Append("flame graph: ").Append(link);
        return new ToolOutcome { Text = sb.ToString(), Structured = s };
    }

    private static void WriteFigures(Utf8JsonWriter w, string name, CostFigures f)
    {
        w.WriteStartObject(name);
        w.WriteNumber("usd", JsonOut.Round(f.Usd));
        w.WriteNumber("kwh", JsonOut.Round(f.Kwh));
        w.WriteNumber("kgCo2e", JsonOut.Round(f.KgCo2e));
        w.WriteNumber("cpuSeconds", JsonOut.Round(f.CpuSeconds));
        w.WriteNumber("gpuSeconds", JsonOut.Round(f.GpuSeconds));
        w.WriteString("energyBasis", f.EnergyBasis);
        w.WriteEndObject();
    }

    private static string Fig(CostFigures f) =>
        $"${Money(f.Usd)} (estimated), {N(JsonOut.Round(f.Kwh))} kWh ({f.EnergyBasis}), {N(JsonOut.Round(f.KgCo2e))} kg CO2e (estimated), {N(JsonOut.Round(f.CpuSeconds))} CPU s (measured)";

    private static async Task<ToolOutcome> CostAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Week);
        int limit = a.Int("limit", 5, 1, 50);
        string selector = await Scope.SelectorAsync(api, a, ct).ConfigureAwait(false);
        CostDocument c = await api.CostAsync(selector, from, until, limit, true, ct).ConfigureAwait(false);
        string link = api.FlameLink(selector, from, until);
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("selector", selector);
            w.WriteString("from", Rfc(from));
            w.WriteString("until", Rfc(until));
            w.WriteString("model", c.Model);
            WriteFigures(w, "total", c.Total);
            WriteFigures(w, "idle", c.Idle);
            WriteFigures(w, "projectedPerYear", c.ProjectedPerYear);
            w.WriteStartArray("functions");
            foreach (CostRow r in c.Functions.Take(limit))
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteNumber("cpuPercent", JsonOut.Round(r.CpuPercent));
                WriteFigures(w, "figures", r.Figures);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("hosts");
            foreach (CostRow r in c.Hosts.Take(limit))
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                if (r.Class is not null)
                {
                    w.WriteString("class", r.Class);
                }

                WriteFigures(w, "figures", r.Figures);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("gpus");
            foreach (GpuCostRow g in c.Gpus.OrderByDescending(g => g.Figures.Usd).Take(limit))
            {
                w.WriteStartObject();
                w.WriteString("host", g.Host);
                w.WriteNumber("index", g.Index);
                w.WriteString("model", g.Model);
                w.WriteNumber("utilPercent", JsonOut.Round(g.UtilPercent));
                w.WriteNumber("strandedIdleUsd", JsonOut.Round(g.StrandedIdleUsd));
                WriteFigures(w, "figures", g.Figures);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteBoolean("partial", c.Partial);
            JsonOut.Strings(w, "notes", c.Notes);
            JsonOut.Strings(w, "memoriesUsed", c.MemoriesUsed.Select(m => m.Id));
            w.WriteString("link", link);
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{(c.Partial ? "PARTIAL: " : "")}cost of {selector} from {Rfc(from)} to {Rfc(until)}\n");
        sb.Append("total: ").Append(Fig(c.Total)).Append('\n');
        sb.Append("idle/unattributed: ").Append(Fig(c.Idle)).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"per year (projection): ${Money(c.ProjectedPerYear.Usd)}, {N(JsonOut.Round(c.ProjectedPerYear.Kwh))} kWh, {N(JsonOut.Round(c.ProjectedPerYear.KgCo2e))} kg CO2e\n");
        foreach (CostRow r in c.Functions.Take(limit))
        {
            sb.Append(CultureInfo.InvariantCulture, $"function {r.Name}: ${Money(r.Figures.Usd)} (estimated), {N(JsonOut.Round(r.CpuPercent))}% of CPU (measured)\n");
        }

        foreach (CostRow r in c.Hosts.Take(limit))
        {
            sb.Append(CultureInfo.InvariantCulture, $"host {r.Name}: ${Money(r.Figures.Usd)} (estimated), {N(JsonOut.Round(r.Figures.Kwh))} kWh ({r.Figures.EnergyBasis})\n");
        }

        foreach (GpuCostRow g in c.Gpus.OrderByDescending(g => g.Figures.Usd).Take(limit))
        {
            sb.Append(CultureInfo.InvariantCulture, $"GPU {g.Host}#{g.Index} {g.Model}: ${Money(g.Figures.Usd)} (estimated), {N(JsonOut.Round(g.UtilPercent))}% busy (measured), ${Money(g.StrandedIdleUsd)} idle (estimated)\n");
        }

        foreach (string n in c.Notes.Take(5))
        {
            sb.Append("note: ").Append(n).Append('\n');
        }

        if (c.MemoriesUsed.Count > 0)
        {
            sb.Append("used memory: ").Append(string.Join("; ", c.MemoriesUsed.Select(m => $"{m.Id} \"{m.Text}\""))).Append('\n');
        }

        sb.Append("flame graph: ").Append(link);
        return new ToolOutcome { Text = sb.ToString(), Structured = s };
    }

    private static async Task<ToolOutcome> OpportunitiesAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        (long from, long until) = Window(a, Week);
        int limit = a.Int("limit", 5, 1, 50);
        double improve = a.Number("improve_percent", 10, 1, 100);
        string selector = await Scope.SelectorAsync(api, a, ct).ConfigureAwait(false);
        OpportunitiesDocument o = await api.OpportunitiesAsync(selector, from, until, limit, improve, true, ct).ConfigureAwait(false);
        var items = o.Items.Take(limit).ToList();
        string Abs(string link) => link.Length == 0 ? api.FlameLink(selector, from, until) : new Uri(api.Server, link).ToString();
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("selector", selector);
            w.WriteString("from", Rfc(from));
            w.WriteString("until", Rfc(until));
            w.WriteNumber("improvementPercent", o.ImprovementPercent);
            w.WriteStartObject("totalPerYear");
            w.WriteNumber("usd", JsonOut.Round(o.TotalPerYear.Usd));
            w.WriteNumber("kwh", JsonOut.Round(o.TotalPerYear.Kwh));
            w.WriteNumber("kgCo2e", JsonOut.Round(o.TotalPerYear.KgCo2e));
            w.WriteEndObject();
            w.WriteStartArray("items");
            foreach (Opportunity i in items)
            {
                w.WriteStartObject();
                w.WriteNumber("rank", i.Rank);
                w.WriteString("kind", i.Kind);
                w.WriteString("name", i.Name);
                w.WriteString("advice", i.Advice);
                w.WriteNumber("annualUsd", JsonOut.Round(i.Annual.Usd));
                w.WriteNumber("annualKwh", JsonOut.Round(i.Annual.Kwh));
                w.WriteNumber("annualKgCo2e", JsonOut.Round(i.Annual.KgCo2e));
                w.WriteNumber("ifImprovedUsd", JsonOut.Round(i.IfImproved.Usd));
                w.WriteNumber("ifEliminatedUsd", JsonOut.Round(i.IfEliminated.Usd));
                JsonOut.Strings(w, "owners", i.Owners.Select(x => $"{x.Org}/{x.Service} {N(Math.Round(x.Percent, 1))}%"));
                w.WriteString("link", Abs(i.Link));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteBoolean("partial", o.Partial);
            JsonOut.Strings(w, "notes", o.Notes);
            JsonOut.Strings(w, "memoriesUsed", o.MemoriesUsed.Select(m => m.Id));
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{(o.Partial ? "PARTIAL: " : "")}opportunities in {selector} from {Rfc(from)} to {Rfc(until)}; per year (projection) of ${Money(o.TotalPerYear.Usd)} in total\n");
        if (items.Count == 0)
        {
            sb.Append("nothing to rank in the range\n");
        }

        foreach (Opportunity i in items)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{i.Rank}. {i.Kind} {i.Name}: ${Money(i.Annual.Usd)}/year (projection); {N(o.ImprovementPercent)}% better saves ${Money(i.IfImproved.Usd)}/year. {i.Advice} {Abs(i.Link)}\n");
        }

        return new ToolOutcome { Text = sb.ToString().TrimEnd(), Structured = s };
    }

    private static async Task<ToolOutcome> FleetAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        string? query = a.Str("query");
        if (query is not null)
        {
            try
            {
                _ = Selector.Parse(query);
            }
            catch (OracException e)
            {
                throw new ToolArgException($"argument 'query': {e.Message}");
            }
        }

        FleetDocument fleet = await api.FleetAsync(query ?? "", ct).ConfigureAwait(false);
        const int Max = 100;
        var agents = fleet.Agents.OrderBy(x => x.Info.Hostname, StringComparer.Ordinal).ToList();
        int online = agents.Count(x => x.Status == "online");
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("count", agents.Count);
            w.WriteNumber("online", online);
            w.WriteStartArray("agents");
            foreach (AgentDocument d in agents.Take(Max))
            {
                w.WriteStartObject();
                w.WriteString("host", d.Info.Hostname);
                w.WriteString("id", d.Info.Id);
                w.WriteString("status", d.Status);
                w.WriteNumber("lastSeenMs", d.LastSeenMs);
                w.WriteNumber("cpus", d.Info.Cpus);
                w.WriteNumber("hz", d.Settings.Hz);
                w.WriteStartObject("labels");
                foreach (var kv in d.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteString(kv.Key, kv.Value);
                }

                w.WriteEndObject();
                JsonOut.Strings(w, "capabilities", d.Info.Capabilities);
                JsonOut.Strings(w, "runningTasks", d.RunningTasks);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("agentsOmitted", Math.Max(0, agents.Count - Max));
            w.WriteEndObject();
        });
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{agents.Count} agents, {online} online\n");
        foreach (AgentDocument d in agents.Take(Max))
        {
            sb.Append(CultureInfo.InvariantCulture, $"{d.Info.Hostname} {d.Status} {d.Info.Cpus} CPUs {d.Settings.Hz} Hz{(d.RunningTasks.Count > 0 ? $" running {string.Join(",", d.RunningTasks)}" : "")}\n");
        }

        return new ToolOutcome { Text = sb.ToString().TrimEnd(), Structured = s };
    }

    private static async Task<ToolOutcome> StartResearchAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        string kind = a.Enum("kind", "", TaskKinds.Profile, TaskKinds.Check);
        if (kind.Length == 0)
        {
            throw new ToolArgException("argument 'kind' is required: profile or check");
        }

        int seconds = a.Int("seconds", kind == TaskKinds.Check ? 60 : 30, 1, 300);
        string selector = await Scope.SelectorAsync(api, a, ct, fleet: true).ConfigureAwait(false);
        TaskDocument task = await api.StartTaskAsync(new TaskRequest { Kind = kind, Selector = selector == "{}" ? "" : selector, DurationMs = seconds * 1000L }, ct).ConfigureAwait(false);
        ToolOutcome o = TaskOutcome(api, task, null, null);
        return new ToolOutcome
        {
            Text = $"started {kind} task {task.Id} on {task.Parts.Count} hosts ({List(task.Parts.Select(p => p.Host))}) for {seconds} s; read it with research_result task_id={task.Id} wait_seconds={Math.Min(120, seconds + 30)}",
            Structured = o.Structured,
        };
    }

    private static async Task<ToolOutcome> ResearchResultAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        string id = a.Required("task_id");
        int wait = a.Int("wait_seconds", 0, 0, 120);
        int limit = a.Int("limit", 10, 1, 100);
        TaskDocument task = wait > 0 ? await api.WaitTaskAsync(id, TimeSpan.FromSeconds(wait), ct).ConfigureAwait(false) : await api.TaskAsync(id, 0, ct).ConfigureAwait(false);
        return await AnswerAsync(api, task, limit, ct).ConfigureAwait(false);
    }

    private static async Task<ToolOutcome> HealthCheckAsync(OracApi api, ToolArgs a, CancellationToken ct)
    {
        int seconds = a.Int("seconds", 60, 1, 60);
        string selector = await Scope.SelectorAsync(api, a, ct, fleet: true).ConfigureAwait(false);
        TaskDocument task = await api.StartTaskAsync(new TaskRequest { Kind = TaskKinds.Check, Selector = selector == "{}" ? "" : selector, DurationMs = seconds * 1000L }, ct).ConfigureAwait(false);
        task = await api.WaitTaskAsync(task.Id, TimeSpan.FromSeconds(seconds + 45), ct).ConfigureAwait(false);
        return await AnswerAsync(api, task, 10, ct).ConfigureAwait(false);
    }

    private static async Task<ToolOutcome> AnswerAsync(OracApi api, TaskDocument task, int limit, CancellationToken ct)
    {
        if (task.State == PartStates.Running)
        {
            return TaskOutcome(api, task, null, null);
        }

        if (task.Kind == TaskKinds.Profile)
        {
            TopReport? top = null;
            try
            {
                top = await api.TaskTopAsync(task.Id, limit, null, ct).ConfigureAwait(false);
            }
            catch (OracException) when (task.Parts.All(p => p.State != PartStates.Done))
            {
                // No host sent a profile: the state and reasons are the answer.
            }

            return TaskOutcome(api, task, top, null);
        }

        ResultsDocument results = await api.TaskResultsAsync(task.Id, ct).ConfigureAwait(false);
        return TaskOutcome(api, task, null, results);
    }

    private static ToolOutcome TaskOutcome(OracApi api, TaskDocument task, TopReport? top, ResultsDocument? results)
    {
        string link = api.TaskLink(task.Id);
        var missing = task.Missing.Count > 0 ? task.Missing : [.. task.Parts.Where(p => p.State is PartStates.Failed or PartStates.TimedOut).Select(p => p.Host)];
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{(task.Partial ? "PARTIAL: " : "")}{task.Kind} task {task.Id} on {task.Parts.Count} hosts, {N(task.DurationMs / 1000.0)} s each: {task.State}");
        if (missing.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; missing {string.Join(", ", missing)}");
        }

        sb.Append('\n');
        JsonElement s = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("taskId", task.Id);
            w.WriteString("kind", task.Kind);
            w.WriteString("selector", task.Selector.Length == 0 ? "{}" : task.Selector);
            w.WriteString("state", task.State);
            w.WriteBoolean("partial", task.Partial);
            JsonOut.Strings(w, "hosts", task.Parts.Select(p => p.Host));
            JsonOut.Strings(w, "missing", missing);
            w.WriteNumber("durationSeconds", task.DurationMs / 1000.0);
            if (top is not null)
            {
                w.WriteString("unit", top.Unit);
                w.WriteNumber("profileTotal", top.ProfileTotal);
                w.WriteStartArray("functions");
                foreach (TopRow r in top.Functions)
                {
                    w.WriteStartObject();
                    w.WriteString("name", r.Name);
                    w.WriteNumber("self", r.Self);
                    w.WriteNumber("total", r.Total);
                    w.WriteNumber("selfPercent", r.SelfPercent);
                    w.WriteNumber("totalPercent", r.TotalPercent);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (results is not null)
            {
                w.WriteStartArray("findings");
                foreach (PartResult r in results.Results)
                {
                    WriteFinding(w, r, sb);
                }

                w.WriteEndArray();
            }

            if (task.Kind == TaskKinds.Profile)
            {
                w.WriteString("link", link);
            }

            w.WriteEndObject();
        });
        if (top is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"merged profile: total {top.ProfileTotal} {top.Unit} ({top.Provenance})\n");
            foreach (TopRow r in top.Functions)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{N(r.SelfPercent),6}% self {r.Self} {top.Unit}  {r.Name}\n");
            }
        }

        if (task.Kind == TaskKinds.Profile)
        {
            sb.Append("flame graph: ").Append(link);
        }
        else if (task.State == PartStates.Running)
        {
            sb.Append(CultureInfo.InvariantCulture, $"still running: call research_result task_id={task.Id} wait_seconds=60");
        }

        return new ToolOutcome { Text = sb.ToString().TrimEnd(), Structured = s };
    }

    private static void WriteFinding(Utf8JsonWriter w, PartResult r, StringBuilder sb)
    {
        w.WriteStartObject();
        w.WriteString("host", r.Host);
        w.WriteString("state", r.State);
        bool partial = false;
        int count = 0;
        w.WriteStartArray("problems");
        var lines = new List<string>();
        if (r.Result is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("problems", out JsonElement problems) && problems.ValueKind == JsonValueKind.Array)
        {
            partial = root.TryGetProperty("partial", out JsonElement p) && p.ValueKind == JsonValueKind.True;
            foreach (JsonElement pr in problems.EnumerateArray())
            {
                if (count++ >= 20)
                {
                    continue;
                }

                w.WriteStartObject();
                string message = "";
                foreach (string f in (string[])["resource", "kind", "rule", "message"])
                {
                    string v = pr.ValueKind == JsonValueKind.Object && pr.TryGetProperty(f, out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : "";
                    w.WriteString(f, v);
                    if (f == "message")
                    {
                        message = v;
                    }
                }

                w.WriteEndObject();
                lines.Add(message);
            }
        }
        else if (r.State == PartStates.Done)
        {
            w.WriteEndArray();
            w.WriteString("reason", "unreadable result: not a check report (no 'problems' list)");
            w.WriteBoolean("partial", true);
            w.WriteEndObject();
            sb.Append(CultureInfo.InvariantCulture, $"{r.Host}: unreadable result\n");
            return;
        }

        w.WriteEndArray();
        w.WriteBoolean("partial", partial);
        if (r.Reason is not null)
        {
            w.WriteString("reason", r.Reason);
        }

        w.WriteEndObject();
        if (r.State != PartStates.Done)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Host}: {r.State}{(r.Reason is null ? "" : ": " + r.Reason)}\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Host}: {(count == 0 ? "no problems flagged" : $"{count} problems: {string.Join("; ", lines.Take(3))}{(count > 3 ? $"; +{count - 3} more" : "")}")} (measured by the agent){(partial ? " (partial)" : "")}\n");
        }
    }
}
