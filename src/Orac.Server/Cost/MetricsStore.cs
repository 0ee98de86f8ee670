using Orac.Model.Wire;

namespace Orac.Server.Cost;

/// <summary>
/// GPU and RAPL readings per org and host (docs/cost.md "GPUs"), kept for the cost views. Owner: the gpu work
/// (storage on disk under DATA/metrics, retention, bounds). Thread-safe.
/// </summary>
internal sealed class MetricsStore
{
    /// <summary>Keeps a batch for <paramref name="org"/>.</summary>
    public void Add(string org, MetricsBatch batch) => throw new NotImplementedException("gpu");

    /// <summary>Hosts of <paramref name="org"/> with readings in [fromMs, untilMs).</summary>
    public IReadOnlyList<string> Hosts(string org, long fromMs, long untilMs) => throw new NotImplementedException("gpu");

    /// <summary>GPU readings of one host in [fromMs, untilMs), in time order.</summary>
    public IReadOnlyList<GpuReading> Gpus(string org, string host, long fromMs, long untilMs) => throw new NotImplementedException("gpu");

    /// <summary>RAPL readings of one host in [fromMs, untilMs), in time order.</summary>
    public IReadOnlyList<PowerReading> Power(string org, string host, long fromMs, long untilMs) => throw new NotImplementedException("gpu");
}
