namespace Orac.Model.Wire;

// Cost, energy and carbon documents (docs/cost.md): `orac cost`, `orac opportunities`, `orac report orgs`,
// GET /api/v1/cost, /api/v1/opportunities, /api/v1/report/orgs, and the GPU/power readings agents and
// exporters send (POST /api/v1/metrics). Times are Unix milliseconds. Every figure names its unit in its
// property name; every energy-derived figure says its basis.

/// <summary>How a figure was obtained.</summary>
public static class Basis
{
    /// <summary>Read from a counter or sampled on the host (CPU samples, RAPL, nvidia-smi/DCGM power).</summary>
    public const string Measured = "measured";

    /// <summary>Computed from model coefficients (watts per vCPU, price per hour, grid intensity).</summary>
    public const string Estimated = "estimated";

    /// <summary>A sum of measured and estimated parts.</summary>
    public const string Mixed = "mixed";

    /// <summary>Scaled from the period to a year: assumes the period repeats.</summary>
    public const string Projection = "projection";
}

/// <summary>The five quantities Orac prices, for one row or a total.</summary>
public sealed class CostFigures
{
    /// <summary>CPU time, seconds (measured: samples × period).</summary>
    public double CpuSeconds { get; set; }

    /// <summary>GPU busy time, seconds (measured: utilization × time).</summary>
    public double GpuSeconds { get; set; }

    /// <summary>Money, US dollars (estimated: usage priced at the model's rates).</summary>
    public double Usd { get; set; }

    /// <summary>Energy at the facility (IT energy × PUE), kilowatt-hours; basis in <see cref="EnergyBasis"/>.</summary>
    public double Kwh { get; set; }

    /// <summary>Operational emissions (facility kWh × grid intensity), kilograms CO2e (estimated).</summary>
    public double KgCo2e { get; set; }

    /// <summary>Embodied emissions amortised over the machine's life (SCI's M), kilograms CO2e (estimated); 0 when the model has none.</summary>
    public double EmbodiedKgCo2e { get; set; }

    /// <summary><see cref="Basis.Measured"/>, <see cref="Basis.Estimated"/> or <see cref="Basis.Mixed"/> for <see cref="Kwh"/> and what derives from it.</summary>
    public string EnergyBasis { get; set; } = Basis.Estimated;
}

/// <summary>One row of a cost table: a function, service, host or org.</summary>
public sealed class CostRow
{
    /// <summary>The function, service, host or org name.</summary>
    public required string Name { get; init; }

    /// <summary>Owning org, when the row belongs to one.</summary>
    public string? Org { get; init; }

    /// <summary>Owning service, for function rows that sit in a single service (else null).</summary>
    public string? Service { get; init; }

    /// <summary>Machine class the row was priced with (host rows).</summary>
    public string? Class { get; init; }

    /// <summary>The figures.</summary>
    public required CostFigures Figures { get; init; }

    /// <summary>Share of the selection's attributed CPU time, percent.</summary>
    public double CpuPercent { get; init; }
}

/// <summary>One GPU's figures over the period.</summary>
public sealed class GpuCostRow
{
    /// <summary>Host of the GPU.</summary>
    public required string Host { get; init; }

    /// <summary>Org of the host.</summary>
    public string? Org { get; init; }

    /// <summary>Service the host's GPUs are attributed to (label <c>service</c>/<c>service_name</c>), or null.</summary>
    public string? Service { get; init; }

    /// <summary>GPU index on the host.</summary>
    public int Index { get; init; }

    /// <summary>GPU model name.</summary>
    public string Model { get; init; } = "";

    /// <summary>Time the GPU was observed (billed), seconds.</summary>
    public double ObservedSeconds { get; init; }

    /// <summary>Average utilization (NVIDIA's GPU_UTIL: time a kernel was running), percent.</summary>
    public double UtilPercent { get; init; }

    /// <summary>Average SM activity (DCGM_FI_PROF_SM_ACTIVE), percent; null when not reported.</summary>
    public double? SmActivePercent { get; init; }

    /// <summary>Figures for this GPU (GpuSeconds, Usd, Kwh, KgCo2e).</summary>
    public required CostFigures Figures { get; init; }

    /// <summary>Cost of time with low utilization (below the idle threshold), US dollars (estimated).</summary>
    public double StrandedIdleUsd { get; init; }

    /// <summary>Cost of time with high utilization but low SM activity (the utilization trap), US dollars (estimated).</summary>
    public double StrandedTrapUsd { get; init; }
}

/// <summary>Answer of <c>orac cost</c> and <c>GET /api/v1/cost</c>.</summary>
public sealed class CostDocument
{
    /// <summary>Start of the period, Unix ms.</summary>
    public long From { get; init; }

    /// <summary>End of the period, Unix ms.</summary>
    public long Until { get; init; }

    /// <summary>What was priced: the selector or file names.</summary>
    public string Selection { get; init; } = "";

    /// <summary>Where the model came from: a file path or <c>built-in defaults</c>.</summary>
    public string Model { get; init; } = "";

    /// <summary>Everything selected: attributed plus idle.</summary>
    public required CostFigures Total { get; init; }

    /// <summary>Idle / unattributed: idle power, unused billed capacity, memory baseline. Never spread over workloads.</summary>
    public required CostFigures Idle { get; init; }

    /// <summary>Total scaled to a year (basis <see cref="Basis.Projection"/>).</summary>
    public required CostFigures ProjectedPerYear { get; init; }

    /// <summary>Functions by self CPU time, largest cost first (top N; <see cref="FunctionsOmitted"/> counts the rest).</summary>
    public List<CostRow> Functions { get; init; } = [];

    /// <summary>Function rows left out of <see cref="Functions"/>.</summary>
    public int FunctionsOmitted { get; init; }

    /// <summary>Per service, largest first.</summary>
    public List<CostRow> Services { get; init; } = [];

    /// <summary>Per host (attributed figures; idle per host in <see cref="HostIdle"/>), largest first.</summary>
    public List<CostRow> Hosts { get; init; } = [];

    /// <summary>Each host's idle / unattributed figures, same order as <see cref="Hosts"/>.</summary>
    public List<CostRow> HostIdle { get; init; } = [];

    /// <summary>Per org, largest first.</summary>
    public List<CostRow> Orgs { get; init; } = [];

    /// <summary>Per GPU.</summary>
    public List<GpuCostRow> Gpus { get; init; } = [];

    /// <summary>True when some data was missing (a host without a class, a gap in readings); see <see cref="Notes"/>.</summary>
    public bool Partial { get; init; }

    /// <summary>Assumptions and gaps, one line each (e.g. "host b: no RAPL, energy estimated").</summary>
    public List<string> Notes { get; init; } = [];

    /// <summary>The caller's memories (price facts) these figures used (docs/ask.md "Memory"); empty when none applied or with <c>memory=off</c>.</summary>
    public List<MemoryItem> MemoriesUsed { get; init; } = [];

    /// <summary>
    /// A copy with <paramref name="before"/> and <paramref name="after"/> around the notes, partial when this is or
    /// <paramref name="partial"/>, and <paramref name="memoriesUsed"/> (when given) as <see cref="MemoriesUsed"/>.
    /// </summary>
    public CostDocument WithNotes(IEnumerable<string> before, IEnumerable<string> after, bool partial, List<MemoryItem>? memoriesUsed = null) => new()
    {
        From = From,
        Until = Until,
        Selection = Selection,
        Model = Model,
        Total = Total,
        Idle = Idle,
        ProjectedPerYear = ProjectedPerYear,
        Functions = Functions,
        FunctionsOmitted = FunctionsOmitted,
        Services = Services,
        Hosts = Hosts,
        HostIdle = HostIdle,
        Orgs = Orgs,
        Gpus = Gpus,
        Partial = Partial || partial,
        Notes = [.. before, .. Notes, .. after],
        MemoriesUsed = memoriesUsed ?? MemoriesUsed,
    };
}

/// <summary>Savings of one opportunity per year.</summary>
public sealed class Savings
{
    /// <summary>US dollars per year (projection).</summary>
    public double Usd { get; init; }

    /// <summary>Kilowatt-hours per year (projection).</summary>
    public double Kwh { get; init; }

    /// <summary>Kilograms CO2e per year (projection).</summary>
    public double KgCo2e { get; init; }
}

/// <summary>Who owns part of an opportunity.</summary>
public sealed class OwnerShare
{
    /// <summary>Org.</summary>
    public required string Org { get; init; }

    /// <summary>Service.</summary>
    public required string Service { get; init; }

    /// <summary>This owner's share of the opportunity's cost, percent.</summary>
    public double Percent { get; init; }
}

/// <summary>One entry of the ranked backlog.</summary>
public sealed class Opportunity
{
    /// <summary>1-based rank by annual cost.</summary>
    public int Rank { get; init; }

    /// <summary><c>function</c>, <c>library</c>, <c>pattern</c> or <c>gpu</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Function, library or pattern name (patterns: e.g. <c>memory copies</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Pattern id (e.g. <c>memcpy</c>, <c>gc</c>, <c>locks</c>) for function/library entries that match one, else null.</summary>
    public string? Pattern { get; init; }

    /// <summary>One line of advice for an engineer.</summary>
    public string Advice { get; init; } = "";

    /// <summary>Cost per year (projection).</summary>
    public required Savings Annual { get; init; }

    /// <summary>What an improvement of <see cref="OpportunitiesDocument.ImprovementPercent"/> would save per year.</summary>
    public required Savings IfImproved { get; init; }

    /// <summary>What eliminating it would save per year.</summary>
    public required Savings IfEliminated { get; init; }

    /// <summary>Owners, largest share first.</summary>
    public List<OwnerShare> Owners { get; init; } = [];

    /// <summary>Change of cost against the previous period of the same length, percent; null when it had no data.</summary>
    public double? TrendPercent { get; init; }

    /// <summary>UI link to the filtered flame graph (relative to the server), e.g. <c>/#/?query=…&amp;search=…</c>.</summary>
    public string Link { get; init; } = "";
}

/// <summary>Answer of <c>orac opportunities</c> and <c>GET /api/v1/opportunities</c>.</summary>
public sealed class OpportunitiesDocument
{
    /// <summary>Start of the period, Unix ms.</summary>
    public long From { get; init; }

    /// <summary>End of the period, Unix ms.</summary>
    public long Until { get; init; }

    /// <summary>What was ranked.</summary>
    public string Selection { get; init; } = "";

    /// <summary>The improvement priced in <see cref="Opportunity.IfImproved"/>, percent.</summary>
    public double ImprovementPercent { get; init; } = 10;

    /// <summary>The ranked backlog.</summary>
    public List<Opportunity> Items { get; init; } = [];

    /// <summary>Total of the selection per year (projection), for scale.</summary>
    public required Savings TotalPerYear { get; init; }

    /// <summary>True when the underlying cost answer was partial.</summary>
    public bool Partial { get; init; }

    /// <summary>Assumptions and gaps.</summary>
    public List<string> Notes { get; init; } = [];

    /// <summary>The caller's memories (price facts) these figures used (docs/ask.md "Memory"); empty when none applied or with <c>memory=off</c>.</summary>
    public List<MemoryItem> MemoriesUsed { get; init; } = [];
}

/// <summary>One org in <c>orac report orgs</c>.</summary>
public sealed class OrgReportRow
{
    /// <summary>Org name.</summary>
    public required string Org { get; init; }

    /// <summary>This period's figures (attributed + idle of the org's hosts).</summary>
    public required CostFigures Figures { get; init; }

    /// <summary>Change of cost (US dollars) from the previous period, percent; null when the previous period had no data.</summary>
    public double? ChangePercent { get; init; }

    /// <summary>This period's figures scaled to a year (basis <see cref="Basis.Projection"/>).</summary>
    public CostFigures ProjectedPerYear { get; init; } = new();

    /// <summary>True when the org's cost answer was partial.</summary>
    public bool Partial { get; init; }

    /// <summary>The org's top three opportunities.</summary>
    public List<Opportunity> Top { get; init; } = [];
}

/// <summary>Answer of <c>orac report orgs</c> and <c>GET /api/v1/report/orgs</c> (admin only).</summary>
public sealed class OrgReportDocument
{
    /// <summary>Start of the period, Unix ms.</summary>
    public long From { get; init; }

    /// <summary>End of the period, Unix ms.</summary>
    public long Until { get; init; }

    /// <summary>Per org, largest cost first.</summary>
    public List<OrgReportRow> Orgs { get; init; } = [];

    /// <summary>Fleet totals.</summary>
    public required CostFigures Total { get; init; }

    /// <summary>Change of the fleet's cost from the previous period, percent; null when it had no data.</summary>
    public double? ChangePercent { get; init; }

    /// <summary>Fleet totals scaled to a year (basis <see cref="Basis.Projection"/>).</summary>
    public CostFigures ProjectedPerYear { get; init; } = new();

    /// <summary>The improvement priced in the opportunities' <see cref="Opportunity.IfImproved"/>, percent.</summary>
    public double ImprovementPercent { get; init; } = 10;

    /// <summary>True when any org's answer was partial.</summary>
    public bool Partial { get; init; }

    /// <summary>Assumptions and gaps.</summary>
    public List<string> Notes { get; init; } = [];
}

/// <summary>One GPU reading (nvidia-smi row or DCGM scrape).</summary>
public sealed class GpuReading
{
    /// <summary>Time, Unix ms.</summary>
    public long Time { get; init; }

    /// <summary>GPU index on the host.</summary>
    public int Index { get; init; }

    /// <summary>GPU UUID when known.</summary>
    public string? Uuid { get; init; }

    /// <summary>Model name.</summary>
    public string Model { get; init; } = "";

    /// <summary>GPU utilization, percent; null when not reported.</summary>
    public double? UtilPercent { get; init; }

    /// <summary>SM activity, percent (DCGM_FI_PROF_SM_ACTIVE × 100); null when not reported.</summary>
    public double? SmActivePercent { get; init; }

    /// <summary>Board power draw, watts; null when not reported.</summary>
    public double? PowerWatts { get; init; }

    /// <summary>Energy counter since boot/driver load, millijoules (DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION); null when not reported.</summary>
    public double? EnergyMillijoules { get; init; }

    /// <summary>Memory used, MiB; null when not reported.</summary>
    public double? MemoryUsedMib { get; init; }
}

/// <summary>One CPU power reading: a RAPL domain's cumulative energy counter.</summary>
public sealed class PowerReading
{
    /// <summary>Time, Unix ms.</summary>
    public long Time { get; init; }

    /// <summary>Domain, e.g. <c>package-0</c>, <c>dram</c>.</summary>
    public required string Domain { get; init; }

    /// <summary>Counter value, microjoules (<c>energy_uj</c>).</summary>
    public long EnergyMicrojoules { get; init; }

    /// <summary>Counter range (<c>max_energy_range_uj</c>): the counter wraps to 0 after it.</summary>
    public long MaxEnergyMicrojoules { get; init; }
}

/// <summary>A batch of readings from one host (<c>POST /api/v1/metrics?host=H</c> with <c>format=json</c>).</summary>
public sealed class MetricsBatch
{
    /// <summary>Host the readings are from.</summary>
    public required string Host { get; init; }

    /// <summary>GPU readings.</summary>
    public List<GpuReading> Gpus { get; init; } = [];

    /// <summary>RAPL readings.</summary>
    public List<PowerReading> Power { get; init; } = [];
}

/// <summary>Answer of <c>POST /api/v1/metrics</c>.</summary>
public sealed class MetricsIngestResult
{
    /// <summary>Readings kept.</summary>
    public long Readings { get; init; }

    /// <summary>Lines or values skipped as malformed, with the first reason.</summary>
    public long Skipped { get; init; }

    /// <summary>The first skip's reason (line and what was wrong), or null.</summary>
    public string? FirstSkip { get; init; }
}
