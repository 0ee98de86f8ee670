using System.Diagnostics;
using System.Text.Json.Serialization;
using Orac.Model;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// <c>orac pmc --json</c> and the agent's <c>pmc</c> task result: each counter's value with its unit, its rate,
/// and whether it was measured or scaled from a multiplexed run. Values are measured by the kernel's counters.
/// </summary>
public sealed class PmcReport
{
    /// <summary>What was counted: <c>all CPUs</c>, <c>pid N</c> or <c>command '…'</c>.</summary>
    public string Target { get; set; } = "";

    /// <summary>Wall-clock seconds the counters were enabled (measured).</summary>
    public double Seconds { get; set; }

    /// <summary>True when counting stopped early (Ctrl-C, agent stopping).</summary>
    public bool Partial { get; set; }

    /// <summary>Why it is partial.</summary>
    public string? PartialReason { get; set; }

    /// <summary>False when the hardware counters could not be opened (no PMU, e.g. most VMs).</summary>
    public bool HasHardware { get; set; }

    /// <summary>Why hardware counters are missing (errno name), when they are.</summary>
    public string? HardwareError { get; set; }

    /// <summary>One per counter, in the order they were opened.</summary>
    public List<PmcCounter> Counters { get; set; } = [];

    /// <summary>Instructions per cycle, derived from the measured counters; null without both.</summary>
    public double? Ipc { get; set; }

    /// <summary>Exit code of the counted command, when one was run.</summary>
    public int? CommandExitCode { get; set; }

    /// <summary>Counter names <see cref="CountSystemWide"/> knows (software and hardware).</summary>
    public static IReadOnlyList<string> KnownEvents => PerfCounters.Names;

    /// <summary>Builds the report from readings taken over <paramref name="elapsed"/>.</summary>
    internal static PmcReport Build(string target, List<CounterReading> readings, TimeSpan elapsed, PerfCounters counters, IReadOnlyCollection<string>? only)
    {
        var r = new PmcReport
        {
            Target = target,
            Seconds = Math.Round(elapsed.TotalSeconds, 3),
            HasHardware = counters.HasHardware,
            HardwareError = counters.HardwareError,
        };
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        double? cycles = null, instructions = null;
        foreach (CounterReading c in readings)
        {
            if (only is { Count: > 0 } && !only.Contains(c.Name))
            {
                continue;
            }

            if (c.NeverRan)
            {
                r.Counters.Add(new PmcCounter { Name = c.Name, Unit = c.Unit, Provenance = "not counted: the counter never ran" });
                continue;
            }

            double v = c.Name == "task-clock" ? c.Value / 1e6 : c.Value;
            if (c.Name == "cycles")
            {
                cycles = c.Value;
            }
            else if (c.Name == "instructions")
            {
                instructions = c.Value;
            }

            r.Counters.Add(new PmcCounter
            {
                Name = c.Name,
                Unit = c.Unit,
                Value = Math.Round(v, 3),
                Rate = c.Name == "task-clock" ? Math.Round(c.Value / 1e9 / seconds, 3) : Math.Round(c.Value / seconds, 1),
                RateUnit = c.Name == "task-clock" ? "CPUs used" : "count/s",
                Provenance = c.Scaled ? "measured, scaled" : "measured",
                RunningPercent = Math.Round(c.EnabledNs == 0 ? 0 : 100.0 * c.RunningNs / c.EnabledNs, 1),
            });
        }

        if (cycles is double cy && instructions is double ins && cy > 0)
        {
            r.Ipc = Math.Round(ins / cy, 3);
        }

        return r;
    }

    /// <summary>
    /// Counts every CPU for <paramref name="duration"/> (or until <paramref name="cancel"/>) and returns the report,
    /// keeping only <paramref name="only"/> when given. Throws <see cref="OracException"/> when the counters cannot open.
    /// </summary>
    public static PmcReport CountSystemWide(TimeSpan duration, IReadOnlyCollection<string>? only, CancellationToken cancel)
    {
        if (only is not null)
        {
            foreach (string name in only)
            {
                if (!PerfCounters.Names.Contains(name))
                {
                    throw new OracException($"unknown counter '{name}' (known: {string.Join(", ", PerfCounters.Names)})");
                }
            }
        }

        using PerfCounters counters = PerfCounters.Open(null);
        var watch = Stopwatch.StartNew();
        counters.Enable();
        bool interrupted = cancel.WaitHandle.WaitOne(duration);
        counters.Disable();
        TimeSpan elapsed = watch.Elapsed;
        PmcReport r = Build("all CPUs", counters.Read(), elapsed, counters, only);
        if (interrupted)
        {
            r.Partial = true;
            r.PartialReason = $"stopped after {elapsed.TotalSeconds:0.0} s of {duration.TotalSeconds:0.0} s";
        }

        return r;
    }
}

/// <summary>One counter of a <see cref="PmcReport"/>.</summary>
public sealed class PmcCounter
{
    /// <summary>Counter name (perf's spelling: task-clock, cycles, …).</summary>
    public string Name { get; set; } = "";

    /// <summary><c>ms</c> for task-clock, else <c>count</c>.</summary>
    public string Unit { get; set; } = "";

    /// <summary>The value in <see cref="Unit"/>, scaled to the whole enabled time when multiplexed; null when it never ran.</summary>
    public double? Value { get; set; }

    /// <summary>Value per wall-clock second, in <see cref="RateUnit"/>.</summary>
    public double? Rate { get; set; }

    /// <summary><c>CPUs used</c> for task-clock, else <c>count/s</c>.</summary>
    public string? RateUnit { get; set; }

    /// <summary>Percent of the enabled time the counter actually ran (100 unless multiplexed).</summary>
    public double? RunningPercent { get; set; }

    /// <summary><c>measured</c>, <c>measured, scaled</c>, or why there is no value.</summary>
    public string Provenance { get; set; } = "";
}

/// <summary>Source-generated JSON for <see cref="PmcReport"/> (Native AOT: no reflection).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PmcReport))]
public sealed partial class PmcJsonContext : JsonSerializerContext
{
}
