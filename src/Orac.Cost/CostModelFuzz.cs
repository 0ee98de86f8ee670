using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost;

/// <summary>
/// Fuzz target <c>cost-model</c>: any bytes either fail as one <see cref="CostModelException"/> or give a model whose
/// every class prices a small host to finite, non-negative figures that add up (attributed + idle = total).
/// </summary>
public static class CostModelFuzz
{
    private static readonly Profile s_profile = BuildProfile();

    /// <summary>Runs one input.</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        CostModel model;
        try
        {
            model = CostModelParser.Parse(data, "fuzz.jsonc");
        }
        catch (CostModelException)
        {
            return;
        }

        Check(model.Classes.ContainsKey(model.DefaultClass), "default class missing");
        var facts = new HostFacts(8, 16L << 30, ["NVIDIA H100 80GB HBM3"]);
        var labels = new Dictionary<string, string> { ["service"] = "s", ["team"] = "batch-1" };
        _ = model.ClassFor("web-1", labels, facts);
        foreach (MachineClass c in model.Classes.Values)
        {
            Check(model.Regions.ContainsKey(c.Region), $"class {c.Name}: region {c.Region} missing");
            var input = new CostInput
            {
                StartNs = 0,
                EndNs = 3_600_000_000_000,
                Hosts =
                [
                    new HostInput
                    {
                        Org = "o",
                        Host = "h",
                        ClassName = c.Name,
                        Facts = facts,
                        Labels = labels,
                        ObservedSeconds = 3600,
                        Workloads = [new WorkloadProfile("s", s_profile)],
                        Gpus = [new GpuUsage { Model = "H100", ObservedSeconds = 3600, BusySeconds = 1800, LowUtilSeconds = 600 }],
                    },
                ],
            };
            CostDocument d = CostCalculator.Compute(model, input).Document;
            foreach (CostFigures f in (CostFigures[])[d.Total, d.Idle, d.ProjectedPerYear])
            {
                Check(double.IsFinite(f.Usd) && f.Usd >= 0 && double.IsFinite(f.Kwh) && f.Kwh >= 0 && double.IsFinite(f.KgCo2e) && f.KgCo2e >= 0 && double.IsFinite(f.EmbodiedKgCo2e) && f.EmbodiedKgCo2e >= 0, $"class {c.Name}: bad figure");
            }

            double attributed = 0;
            foreach (CostRow r in d.Hosts)
            {
                attributed += r.Figures.Usd;
            }

            Check(Math.Abs(attributed + d.Idle.Usd - d.Total.Usd) <= 1e-9 * Math.Max(1, d.Total.Usd), $"class {c.Name}: attributed + idle ≠ total");
        }
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException("cost-model fuzz: " + what);
        }
    }

    private static Profile BuildProfile()
    {
        var b = new ProfileBuilder(new SampleType("cpu", "nanoseconds"));
        FrameId main = b.Frame("main"), work = b.Frame("work");
        b.Add(b.Stack([main, work]), 3_000_000_000_000);
        b.Add(b.Stack([main]), 1_000_000_000_000);
        return b.Build();
    }
}
