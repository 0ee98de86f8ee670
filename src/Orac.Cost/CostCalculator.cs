using System.Globalization;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost;

/// <summary>
/// Prices CPU and GPU usage (docs/cost.md "Attribution"): CPU seconds from samples × period; active energy split by
/// CPU-time share (Kepler), idle never spread but its own line; measured power beats estimates; cost of unused
/// billed capacity is idle too; facility energy = IT × PUE; CO2e = facility kWh × grid intensity.
/// </summary>
public static partial class CostCalculator
{
    /// <summary>Seconds in the year the projection scales to (365.25 days).</summary>
    public const double SecondsPerYear = 365.25 * 86400;

    /// <summary>Function name of the atom that carries a host's GPU figures (module = GPU model).</summary>
    public const string GpuFunction = "(gpu)";

    /// <summary>Function name of CPU time whose sample had no stack.</summary>
    public const string NoStackFunction = "(no stack)";

    private const double JoulesPerKwh = 3.6e6;

    /// <summary>Prices <paramref name="input"/> with <paramref name="model"/>.</summary>
    public static CostResult Compute(CostModel model, CostInput input, CostOptions? options = null)
    {
        options ??= new CostOptions();
        var run = new Run(model, input, options);
        return run.Execute();
    }

    /// <summary>CPU nanoseconds per value of column 0 of <paramref name="profile"/>: 1 for nanoseconds, the period for samples with a CPU-ns period; <paramref name="hz"/> for plain sample counts; else throws OracException saying to pass --hz.</summary>
    public static double NanosPerValue(Profile profile, double? hz = null)
    {
        if (profile.SampleTypes.Count == 0)
        {
            throw new OracException("the profile has no value columns; nothing to price");
        }

        SampleType t = profile.SampleTypes[0];
        if (IsCpuTime(t.Type))
        {
            double? scale = NanosPerUnit(t.Unit);
            if (scale is double s)
            {
                return s;
            }
        }

        bool counts = t.Unit is "count" or "samples" || (t.Type == "samples" && t.Unit.Length == 0);
        if (!counts)
        {
            throw new OracException($"the profile's values are {t}, not CPU time: cost needs cpu/nanoseconds, or sample counts with a CPU period");
        }

        ProfileMetadata m = profile.Metadata;
        if (m.Period > 0 && IsCpuTime(m.PeriodType.Type) && NanosPerUnit(m.PeriodType.Unit) is double periodScale)
        {
            return m.Period * periodScale;
        }

        if (hz is double h && double.IsFinite(h) && h > 0)
        {
            return 1e9 / h;
        }

        throw new OracException(hz is null
            ? $"the profile holds plain sample counts ({t}) with no CPU period: pass --hz N (the sampling frequency) to turn samples into CPU time"
            : $"--hz must be a positive number of samples per second (got {hz.Value.ToString(CultureInfo.InvariantCulture)})");
    }

    private static bool IsCpuTime(string type) =>
        type.StartsWith("cpu", StringComparison.OrdinalIgnoreCase) || type.StartsWith("task-clock", StringComparison.OrdinalIgnoreCase);

    private static double? NanosPerUnit(string unit) => unit switch
    {
        "nanoseconds" or "ns" => 1,
        "microseconds" or "us" => 1e3,
        "milliseconds" or "ms" => 1e6,
        "seconds" or "s" => 1e9,
        _ => null,
    };

    /// <summary>Running sums of the five quantities plus which energy bases went into them.</summary>
    internal struct Acc
    {
        public double Cpu;
        public double Gpu;
        public double Usd;
        public double Kwh;
        public double Co2;
        public double Emb;
        public bool Measured;
        public bool Estimated;

        public void Add(in Acc o)
        {
            Cpu += o.Cpu;
            Gpu += o.Gpu;
            Usd += o.Usd;
            Kwh += o.Kwh;
            Co2 += o.Co2;
            Emb += o.Emb;
            Measured |= o.Measured;
            Estimated |= o.Estimated;
        }

        public readonly string Basis => Measured && Estimated ? Orac.Model.Wire.Basis.Mixed
            : Measured ? Orac.Model.Wire.Basis.Measured : Orac.Model.Wire.Basis.Estimated;

        public readonly CostFigures ToFigures(double factor = 1, string? basis = null) => new()
        {
            CpuSeconds = Cpu * factor,
            GpuSeconds = Gpu * factor,
            Usd = Usd * factor,
            Kwh = Kwh * factor,
            KgCo2e = Co2 * factor,
            EmbodiedKgCo2e = Emb * factor,
            EnergyBasis = basis ?? Basis,
        };
    }
}
