using Orac.Cost;
using Orac.Cost.Gpu;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;
using Orac.Server.Fleet;
using Orac.Server.Memory;
using Orac.Storage;

namespace Orac.Server.Cost;

/// <summary>
/// Builds what the cost calculator prices from the server's own data (docs/cost.md "HTTP API"): CPU profiles per org,
/// host and service from the profile store (type <c>process_cpu:cpu:nanoseconds</c>), each host's observed time
/// (minutes with data × 60 s), CPU time per UTC hour, agent facts and labels from the fleet registry, and GPU and RAPL
/// readings from the metrics store. Thread-safe (it only reads).
/// </summary>
internal sealed class CostService
{
    /// <summary>The step of the per-host series: a host is observed for every minute in which it sent data.</summary>
    public const long ObservedStepNs = 60 * TimeSpec.NsPerSecond;

    /// <summary>The host name given to series without a <c>host</c> label.</summary>
    public const string UnknownHost = "(no host label)";

    private const long NsPerHour = 3600 * TimeSpec.NsPerSecond;

    private readonly IProfileStore _store;
    private readonly FleetRegistry _fleet;
    private readonly Func<MetricsStore?> _metrics;

    /// <summary>Prices with <paramref name="model"/>; <paramref name="metrics"/> gives the GPU/RAPL store, or null when there is none.</summary>
    public CostService(IProfileStore store, FleetRegistry fleet, Func<MetricsStore?> metrics, CostModel model)
    {
        _store = store;
        _fleet = fleet;
        _metrics = metrics;
        Model = model;
    }

    /// <summary>The model every answer is priced with (loaded once at start).</summary>
    public CostModel Model { get; }

    /// <summary>
    /// Prices the selection: <see cref="Input"/> then <see cref="CostCalculator.Compute"/>, with the server's own
    /// notes (unpriced data) added to the document. Without <paramref name="gpus"/>, GPU readings are left out (host
    /// rows then hold CPU figures only, which is what a priced CPU flame tree needs). <paramref name="memories"/> are
    /// the caller's saved memories: their price facts change the model for this answer only, and the ones that did are
    /// listed in <see cref="CostDocument.MemoriesUsed"/> with a note each (docs/ask.md "Memory").
    /// </summary>
    public CostResult Compute(IReadOnlyList<string> orgs, Selector selector, long fromNs, long untilNs, int topFunctions = 20, bool gpus = true, IReadOnlyList<MemoryItem>? memories = null)
    {
        (CostInput input, List<string> notes) = Input(orgs, selector, fromNs, untilNs, gpus);
        CostModel model = Model;
        List<MemoryItem> used = [];
        List<string> memoryNotes = [];
        if (memories is { Count: > 0 })
        {
            (model, used, memoryNotes) = PriceMemories.Apply(Model, memories, input);
        }

        CostResult result = CostCalculator.Compute(model, input, new CostOptions { TopFunctions = topFunctions });
        if (notes.Count == 0 && used.Count == 0)
        {
            return result;
        }

        // Unpriced data makes the answer partial; a remembered price does not.
        return result with { Document = result.Document.WithNotes(memoryNotes, notes, partial: notes.Count > 0, used) };
    }

    /// <summary>
    /// The calculator's input for <paramref name="orgs"/> × <paramref name="selector"/> over [fromNs, untilNs), and
    /// notes about data it leaves out (plain sample counts without a period, which cannot be turned into CPU seconds).
    /// </summary>
    public (CostInput Input, List<string> Notes) Input(IReadOnlyList<string> orgs, Selector selector, long fromNs, long untilNs, bool gpus = true)
    {
        CheckSelector(selector);
        var hosts = new List<HostInput>();
        var notes = new List<string>();
        long fromMs = fromNs / 1_000_000;
        long untilMs = untilNs / 1_000_000;
        MetricsStore? metrics = _metrics();
        foreach (string org in orgs)
        {
            var query = new ProfileQuery([org], ProfileTypeId.ProcessCpu, selector, fromNs, untilNs);
            IReadOnlyDictionary<string, Profile> byHost = _store.SelectGrouped(query, "host");
            var names = new SortedSet<string>(byHost.Keys, StringComparer.Ordinal);
            Dictionary<string, AgentState> agents = AgentsByHost(org);
            if (metrics is not null && gpus)
            {
                foreach (string h in metrics.Hosts(org, fromMs, untilMs))
                {
                    // GPU hosts count when the selection could select them: by their agent's labels, else by host name alone.
                    Dictionary<string, string> labels = agents.TryGetValue(h, out AgentState? a) ? FleetRegistry.Labels(a) : new() { ["host"] = h };
                    if (selector.Matches(n => labels.GetValueOrDefault(n)))
                    {
                        names.Add(h);
                    }
                }
            }

            foreach (string host in names)
            {
                hosts.Add(Host(org, host, selector, fromNs, untilNs, agents.GetValueOrDefault(host), metrics, gpus));
            }

            CountUnpriced(org, selector, fromNs, untilNs, notes);
        }

        var input = new CostInput { StartNs = fromNs, EndNs = untilNs, Selection = Describe(orgs, selector), Hosts = hosts };
        return (input, notes);
    }

    /// <summary>
    /// The CPU profile of the selection with every host's values priced: each host's CPU nanoseconds times that host's
    /// attributed <paramref name="unit"/> per CPU nanosecond (from <paramref name="priced"/>), in microdollars,
    /// milliwatt-hours or milligrams CO2e, merged over hosts and orgs. Rows are rounded to whole units.
    /// </summary>
    public Profile Priced(IReadOnlyList<string> orgs, Selector selector, long fromNs, long untilNs, CostUnit unit, CostResult priced)
    {
        var perHost = new Dictionary<(string Org, string Host), double>();
        foreach (CostRow row in priced.Document.Hosts)
        {
            double value = unit.Of(row.Figures);
            double cpuNs = row.Figures.CpuSeconds * TimeSpec.NsPerSecond;
            perHost[(row.Org ?? "", row.Name)] = cpuNs > 0 ? value * unit.Scale / cpuNs : 0;
        }

        var builder = new ProfileBuilder(new SampleType(unit.SampleType, unit.Unit));
        foreach (string org in orgs)
        {
            var query = new ProfileQuery([org], ProfileTypeId.ProcessCpu, selector, fromNs, untilNs);
            foreach ((string host, Profile profile) in _store.SelectGrouped(query, "host"))
            {
                string name = host.Length == 0 ? UnknownHost : host;
                double factor = perHost.GetValueOrDefault((org, name));
                if (factor <= 0)
                {
                    continue;
                }

                var map = new ProfileRemapper(profile, builder);
                map.MapAllStacks();
                ReadOnlySpan<StackId> stacks = profile.SampleStacks;
                for (int r = 0; r < stacks.Length; r++)
                {
                    long v = (long)Math.Round(profile.Value(r) * factor, MidpointRounding.AwayFromZero);
                    if (v != 0)
                    {
                        builder.Add(map.Stack(stacks[r]), v);
                    }
                }
            }
        }

        return builder.Build();
    }

    /// <summary>Cost views price CPU time: a selector may name no other type.</summary>
    public static void CheckSelector(Selector selector)
    {
        if (selector.Type is { } t && t != ProfileTypeId.ProcessCpu)
        {
            throw new ApiException(400, $"cost prices CPU time: the selector's type {t} is not {ProfileTypeId.ProcessCpu}");
        }
    }

    /// <summary>The selection as text: the orgs and the selector's matchers.</summary>
    public static string Describe(IReadOnlyList<string> orgs, Selector selector) =>
        string.Join(",", orgs) + new Selector(selector.Matchers);

    private HostInput Host(string org, string host, Selector selector, long fromNs, long untilNs, AgentState? agent, MetricsStore? metrics, bool withGpus)
    {
        var hostSelector = new Selector([.. selector.Matchers, new LabelMatcher("host", MatchOp.Equal, host)]);
        var query = new ProfileQuery([org], ProfileTypeId.ProcessCpu, hostSelector, fromNs, untilNs);
        var workloads = new List<WorkloadProfile>();
        foreach ((string service, Profile profile) in _store.SelectGrouped(query, "service_name"))
        {
            workloads.Add(new WorkloadProfile(service, profile));
        }

        workloads.Sort((a, b) => string.CompareOrdinal(a.Service, b.Service));

        // One series at a 60 s step gives both the observed minutes and the CPU time per UTC hour of day.
        double[] byHour = new double[24];
        var minutes = new HashSet<long>();
        foreach (SeriesPoint p in _store.Series(query, ObservedStepNs))
        {
            minutes.Add((p.TimeNs - fromNs) / ObservedStepNs);
            int hour = (int)(((p.TimeNs % (24 * NsPerHour)) + (24 * NsPerHour)) % (24 * NsPerHour) / NsPerHour);
            byHour[hour] += p.Value / (double)TimeSpec.NsPerSecond;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (workloads.Count > 0)
        {
            SeriesLabelsOf(query, labels);
        }

        HostFacts? facts = null;
        if (agent is not null)
        {
            foreach (KeyValuePair<string, string> kv in FleetRegistry.Labels(agent))
            {
                labels[kv.Key] = kv.Value;
            }

            facts = new HostFacts(agent.Info.Cpus, agent.Info.MemoryBytes, agent.Info.Gpus);
        }

        labels["host"] = host;
        var gpus = new List<GpuUsage>();
        MeasuredCpuEnergy? rapl = null;
        if (metrics is not null)
        {
            long fromMs = fromNs / 1_000_000;
            long untilMs = untilNs / 1_000_000;
            IReadOnlyList<GpuReading> readings = withGpus ? metrics.Gpus(org, host, fromMs, untilMs) : [];
            foreach (IGrouping<int, GpuReading> g in readings.GroupBy(r => r.Index).OrderBy(g => g.Key))
            {
                gpus.Add(GpuFormats.Reduce([.. g], fromMs, untilMs));
            }

            IReadOnlyList<PowerReading> power = metrics.Power(org, host, fromMs, untilMs);
            if (power.Count > 1)
            {
                rapl = GpuFormats.ReduceRapl(power, fromMs, untilMs);
            }

            // A minute with readings counts as observed too: a GPU host may send no CPU profiles.
            long stepMs = ObservedStepNs / 1_000_000;
            foreach (GpuReading r in readings)
            {
                minutes.Add((r.Time - fromMs) / stepMs);
            }

            foreach (PowerReading r in power)
            {
                minutes.Add((r.Time - fromMs) / stepMs);
            }
        }

        return new HostInput
        {
            Org = org,
            Host = host.Length == 0 ? UnknownHost : host,
            Labels = labels,
            Facts = facts,
            ObservedSeconds = minutes.Count * (ObservedStepNs / (double)TimeSpec.NsPerSecond),
            Workloads = workloads,
            CpuSecondsByUtcHour = workloads.Count > 0 ? byHour : null,
            CpuEnergy = rapl,
            Gpus = gpus,
        };
    }

    // Labels with a single value across the host's selected series (e.g. region, class) describe the host.
    private void SeriesLabelsOf(ProfileQuery query, Dictionary<string, string> labels)
    {
        foreach (string name in _store.Labels(query))
        {
            if (name is "service_name" or "host" or "pyroscope_spy")
            {
                continue;
            }

            IReadOnlyList<string> values = _store.Labels(query, name);
            if (values.Count == 1)
            {
                labels[name] = values[0];
            }
        }
    }

    // Several agents may have reported the same host name (re-installs): the one seen last describes it.
    private Dictionary<string, AgentState> AgentsByHost(string org)
    {
        var map = new Dictionary<string, AgentState>(StringComparer.Ordinal);
        foreach (AgentState a in _fleet.Select(org, Selector.All, onlineOnly: false))
        {
            if (!map.TryGetValue(a.Info.Hostname, out AgentState? seen) || seen.LastSeenMs < a.LastSeenMs)
            {
                map[a.Info.Hostname] = a;
            }
        }

        return map;
    }

    private void CountUnpriced(string org, Selector selector, long fromNs, long untilNs, List<string> notes)
    {
        var query = new ProfileQuery([org], ProfileTypeId.ProcessCpuSamples, selector, fromNs, untilNs);
        IReadOnlyList<string> services = _store.Labels(query, "service_name");
        if (services.Count > 0)
        {
            notes.Add($"org {org}: CPU profiles of {services.Count} service(s) ({string.Join(", ", services.Take(5))}{(services.Count > 5 ? ", …" : "")}) " +
                $"hold plain sample counts without a sampling rate and are not priced; push them with sampleRate or as CPU nanoseconds");
        }
    }
}

/// <summary>A priced unit of the flame tree (<c>GET /api/v1/query?unit=</c>).</summary>
/// <param name="Name">The parameter value: <c>usd</c>, <c>kwh</c> or <c>co2e</c>.</param>
/// <param name="SampleType">The value column's type.</param>
/// <param name="Unit">The value column's unit.</param>
/// <param name="Of">Which figure of a cost row it prices.</param>
/// <param name="Scale">Tree units per figure unit (1e6 for each).</param>
internal sealed record CostUnit(string Name, string SampleType, string Unit, Func<CostFigures, double> Of, double Scale)
{
    /// <summary>US dollars as microdollars.</summary>
    public static CostUnit Usd { get; } = new("usd", "cost", "microdollars", f => f.Usd, 1e6);

    /// <summary>Facility kilowatt-hours as milliwatt-hours.</summary>
    public static CostUnit Kwh { get; } = new("kwh", "energy", "milliwatt-hours", f => f.Kwh, 1e6);

    /// <summary>Kilograms CO2e (operational) as milligrams.</summary>
    public static CostUnit Co2e { get; } = new("co2e", "emissions", "milligrams CO2e", f => f.KgCo2e, 1e6);

    /// <summary>The unit named <paramref name="name"/>, or null.</summary>
    public static CostUnit? Parse(string name) => name switch
    {
        "usd" => Usd,
        "kwh" => Kwh,
        "co2e" => Co2e,
        _ => null,
    };
}
