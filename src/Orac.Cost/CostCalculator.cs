using Orac.Model;

namespace Orac.Cost;

/// <summary>
/// Prices CPU and GPU usage (docs/cost.md "Attribution"): CPU seconds from samples × period; active energy split by
/// CPU-time share (Kepler), idle never spread but its own line; measured power beats estimates; cost of unused
/// billed capacity is idle too; facility energy = IT × PUE; CO2e = facility kWh × grid intensity.
/// </summary>
public static class CostCalculator
{
    /// <summary>Prices <paramref name="input"/> with <paramref name="model"/>.</summary>
    public static CostResult Compute(CostModel model, CostInput input, CostOptions? options = null) =>
        throw new NotImplementedException("cost-core");

    /// <summary>CPU nanoseconds per value of column 0 of <paramref name="profile"/>: 1 for nanoseconds, the period for samples with a CPU-ns period; <paramref name="hz"/> for plain sample counts; else throws OracException saying to pass --hz.</summary>
    public static double NanosPerValue(Profile profile, double? hz = null) => throw new NotImplementedException("cost-core");
}
