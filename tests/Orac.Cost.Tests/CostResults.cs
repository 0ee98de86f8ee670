using Orac.Model.Wire;

namespace Orac.Cost.Tests;

/// <summary>Builds real <see cref="CostResult"/>s by hand (the calculator's output type) for ranking and report tests.</summary>
internal static class CostResults
{
    /// <summary>2026-11-22 00:00 UTC, Unix ms.</summary>
    public const long WeekStart = 1_795_305_600_000;

    /// <summary>One week, ms.</summary>
    public const long Week = 7L * 24 * 3600 * 1000;

    /// <summary>Weeks in a year (365.25 days).</summary>
    public const double WeeksPerYear = 365.25 / 7;

    public static FunctionCost Atom(string org, string service, string function, string module, double usd, double kwh = 0, double kgCo2e = 0, double cpuSeconds = 0) =>
        new(org, service, function, module, new CostFigures { Usd = usd, Kwh = kwh, KgCo2e = kgCo2e, CpuSeconds = cpuSeconds });

    /// <summary>A cost answer whose attributed total is the sum of <paramref name="atoms"/> plus <paramref name="idleUsd"/> of idle.</summary>
    public static CostResult Result(
        IReadOnlyList<FunctionCost> atoms,
        double yearFactor = WeeksPerYear,
        List<GpuCostRow>? gpus = null,
        bool partial = false,
        List<string>? notes = null,
        double idleUsd = 0,
        long from = WeekStart,
        string basis = Basis.Estimated)
    {
        var total = new CostFigures { Usd = idleUsd, EnergyBasis = basis };
        foreach (var a in atoms)
        {
            total.Usd += a.Figures.Usd;
            total.Kwh += a.Figures.Kwh;
            total.KgCo2e += a.Figures.KgCo2e;
            total.CpuSeconds += a.Figures.CpuSeconds;
        }

        foreach (var g in gpus ?? [])
        {
            total.Usd += g.Figures.Usd;
            total.Kwh += g.Figures.Kwh;
            total.KgCo2e += g.Figures.KgCo2e;
            total.GpuSeconds += g.Figures.GpuSeconds;
        }

        var doc = new CostDocument
        {
            From = from,
            Until = from + Week,
            Selection = "{}",
            Model = "built-in defaults",
            Total = total,
            Idle = new CostFigures { Usd = idleUsd },
            ProjectedPerYear = new CostFigures
            {
                Usd = total.Usd * yearFactor,
                Kwh = total.Kwh * yearFactor,
                KgCo2e = total.KgCo2e * yearFactor,
                CpuSeconds = total.CpuSeconds * yearFactor,
                EnergyBasis = Basis.Projection,
            },
            Gpus = gpus ?? [],
            Partial = partial,
            Notes = notes ?? [],
        };
        return new CostResult(doc, atoms, yearFactor);
    }
}
