using Orac.Model.Wire;

namespace Orac.Cost.Gpu;

/// <summary>Readings parsed from a text format, with skipped lines counted (first reason kept).</summary>
public sealed record GpuParseResult(IReadOnlyList<GpuReading> Readings, long Skipped, string? FirstSkip);

/// <summary>GPU telemetry formats (docs/gpu.md). Owner: the gpu work.</summary>
public static class GpuFormats
{
    /// <summary>nvidia-smi <c>--query-gpu=… --format=csv</c> output (headers with [unit], [N/A], yyyy/MM/dd HH:mm:ss.fff).</summary>
    public static GpuParseResult ParseNvidiaSmiCsv(TextReader text, string name) => throw new NotImplementedException("gpu");

    /// <summary>dcgm-exporter Prometheus text; fields by name or numeric DCGM id; blank sentinels ≥ 0x7ffffffffffffff0 missing.</summary>
    public static GpuParseResult ParseDcgm(TextReader text, string name, long scrapeTimeMs) => throw new NotImplementedException("gpu");

    /// <summary>Reduces one GPU's readings in [startMs, endMs) to usage (energy counters with reset handling; gaps over <paramref name="maxGapMs"/> not counted).</summary>
    public static GpuUsage Reduce(IReadOnlyList<GpuReading> readings, long startMs, long endMs, double idleUtilPercent = 10, long maxGapMs = 120_000) =>
        throw new NotImplementedException("gpu");

    /// <summary>Measured CPU energy from RAPL package readings in [startMs, endMs): counter increases (wraps handled), idle = the lowest interval power (Kepler); null with fewer than two readings.</summary>
    public static MeasuredCpuEnergy? ReduceRapl(IReadOnlyList<PowerReading> readings, long startMs, long endMs) => throw new NotImplementedException("gpu");
}
