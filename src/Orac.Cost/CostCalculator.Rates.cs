using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost;

/// <summary>
/// What one CPU-second of a host's profile is worth, as <see cref="CostCalculator.Compute"/> attributes it: for pricing
/// flame graphs frame by frame (<c>GET /api/v1/query?unit=usd|kwh|co2e</c>).
/// </summary>
/// <param name="Class">Machine class the host was priced with.</param>
/// <param name="UsdPerCpuSecond">US dollars per CPU-second (estimated).</param>
/// <param name="KwhPerCpuSecond">Facility kilowatt-hours per CPU-second (active energy × PUE).</param>
/// <param name="KgCo2ePerCpuSecond">Operational kilograms CO2e per CPU-second.</param>
/// <param name="EmbodiedKgCo2ePerCpuSecond">Embodied kilograms CO2e per CPU-second.</param>
/// <param name="EnergyBasis"><see cref="Basis.Measured"/> when the host's measured CPU energy was used, else <see cref="Basis.Estimated"/>.</param>
public sealed record CpuRates(string Class, double UsdPerCpuSecond, double KwhPerCpuSecond, double KgCo2ePerCpuSecond, double EmbodiedKgCo2ePerCpuSecond, string EnergyBasis);

public static partial class CostCalculator
{
    /// <summary>
    /// Per-CPU-second rates of <paramref name="host"/>: its attributed CPU figures divided by its profiled CPU seconds
    /// (so measured energy is shared exactly as in <see cref="Compute"/>); a host without profiled CPU gets the
    /// class's estimated rates. GPU figures are not included.
    /// </summary>
    public static CpuRates RatesFor(CostModel model, HostInput host, CostOptions? options = null)
    {
        CpuRates? rates = FromAtoms(model, host, options);
        if (rates is not null)
        {
            return rates;
        }

        // No CPU time to divide by: price one synthetic CPU-second with the estimate.
        var b = new ProfileBuilder(new SampleType("cpu", "nanoseconds"));
        b.Add(b.Stack([b.Frame("cpu")]), 1_000_000_000);
        var probe = new HostInput
        {
            Org = host.Org,
            Host = host.Host,
            Labels = host.Labels,
            Facts = host.Facts,
            ClassName = host.ClassName,
            ObservedSeconds = host.ObservedSeconds,
            CpuSecondsByUtcHour = host.CpuSecondsByUtcHour,
            Workloads = [new WorkloadProfile("probe", b.Build())],
        };
        return FromAtoms(model, probe, options)!;
    }

    private static CpuRates? FromAtoms(CostModel model, HostInput host, CostOptions? options)
    {
        CostResult r = Compute(model, new CostInput { Hosts = [host] }, options);
        Acc sum = default;
        foreach (FunctionCost a in r.Atoms)
        {
            if (a.Function != GpuFunction)
            {
                CostFigures f = a.Figures;
                sum.Add(new Acc { Cpu = f.CpuSeconds, Usd = f.Usd, Kwh = f.Kwh, Co2 = f.KgCo2e, Emb = f.EmbodiedKgCo2e, Measured = f.EnergyBasis == Basis.Measured, Estimated = f.EnergyBasis != Basis.Measured });
            }
        }

        return sum.Cpu > 0
            ? new CpuRates(r.Document.Hosts[0].Class ?? "", sum.Usd / sum.Cpu, sum.Kwh / sum.Cpu, sum.Co2 / sum.Cpu, sum.Emb / sum.Cpu, sum.Basis)
            : null;
    }
}
