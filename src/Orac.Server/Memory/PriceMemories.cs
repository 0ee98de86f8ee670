using System.Globalization;
using Orac.Cost;
using Orac.Model.Wire;

namespace Orac.Server.Memory;

/// <summary>
/// The caller's price memories applied to the cost model of one request (docs/ask.md "Memory"): a <c>gpu-price</c>
/// fact sets the per-GPU price of every class whose GPUs are of that model (the fact's subject found in the class's
/// GPU model, or in a GPU model its hosts reported, case-insensitively: "H100" matches "NVIDIA H100 80GB HBM3"); a
/// <c>vcpu-price</c> fact prices the CPU part of every class at that price per vCPU-hour (the rest of the machine's
/// price, the GPU pool, is kept). The newest fact wins where several apply. The model itself is never changed.
/// </summary>
internal static class PriceMemories
{
    /// <summary>
    /// The model to price <paramref name="input"/> with, the memories that changed the price of a class one of its
    /// hosts is priced with (oldest first), and one note per such memory.
    /// </summary>
    public static (CostModel Model, List<MemoryItem> Used, List<string> Notes) Apply(CostModel model, IReadOnlyList<MemoryItem> items, CostInput input)
    {
        MemoryItem? vcpu = null;
        var gpuFacts = new List<MemoryItem>();
        foreach (MemoryItem m in items)
        {
            if (m.Fact.UsdPerHour is not double usd || !double.IsFinite(usd) || usd < 0)
            {
                continue;
            }

            if (m.Fact.Kind == "vcpu-price")
            {
                vcpu = m;
            }
            else if (m.Fact.Kind == "gpu-price" && !string.IsNullOrWhiteSpace(m.Fact.Subject))
            {
                gpuFacts.Add(m);
            }
        }

        if (vcpu is null && gpuFacts.Count == 0)
        {
            return (model, [], []);
        }

        // The classes the hosts are priced with, and the GPU models each class's hosts reported.
        var reported = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (HostInput h in input.Hosts)
        {
            MachineClass cls;
            try
            {
                cls = model.ClassFor(h.Host, h.Labels, h.Facts, h.ClassName);
            }
            catch (CostModelException)
            {
                // The calculator reports the same error for this host.
                continue;
            }

            if (!reported.TryGetValue(cls.Name, out List<string>? models))
            {
                reported[cls.Name] = models = [];
            }

            foreach (GpuUsage g in h.Gpus)
            {
                models.Add(g.Model);
            }

            if (h.Facts is not null)
            {
                models.AddRange(h.Facts.Gpus);
            }
        }

        var classes = new Dictionary<string, MachineClass>(model.Classes, StringComparer.Ordinal);
        var used = new List<MemoryItem>();
        var notes = new List<string>();
        foreach ((string name, List<string> models) in reported.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            MachineClass cls = model.Classes[name];
            MachineClass priced = cls;
            double gpuPoolOld = cls.Gpu is GpuSpec gs ? gs.Count * gs.UsdPerGpuHour : 0;
            double gpuPoolNew = gpuPoolOld;
            MemoryItem? gpuItem = null;
            if (cls.Gpu is GpuSpec spec)
            {
                for (int i = gpuFacts.Count - 1; i >= 0 && gpuItem is null; i--)
                {
                    string subject = gpuFacts[i].Fact.Subject!.Trim();
                    if (spec.Model.Contains(subject, StringComparison.OrdinalIgnoreCase) || models.Exists(m => m.Contains(subject, StringComparison.OrdinalIgnoreCase)))
                    {
                        gpuItem = gpuFacts[i];
                    }
                }

                if (gpuItem is not null)
                {
                    double price = gpuItem.Fact.UsdPerHour!.Value;
                    gpuPoolNew = spec.Count * price;
                    priced = priced with { Gpu = spec with { UsdPerGpuHour = price, Source = $"memory {gpuItem.Id}" } };
                    Use(gpuItem, $"class {name}: ${Num(price)} per GPU-hour instead of ${Num(spec.UsdPerGpuHour)}");
                }
            }

            // The CPU part of the machine's price: what is left after the GPU pool, plus per-vCPU pricing.
            double cpuMachine = cls.UsdPerHour > 0 ? Math.Max(0, cls.UsdPerHour - gpuPoolOld) : 0;
            double perVcpu = cls.UsdPerVcpuHour;
            if (vcpu is not null)
            {
                double price = vcpu.Fact.UsdPerHour!.Value;
                cpuMachine = 0;
                perVcpu = price;
                Use(vcpu, $"class {name}: ${Num(price)} per vCPU-hour for its CPU part");
            }

            if (!ReferenceEquals(priced, cls) || vcpu is not null)
            {
                double machine = cls.UsdPerHour > 0 ? cpuMachine + gpuPoolNew : 0;
                classes[name] = priced with { UsdPerHour = machine, UsdPerVcpuHour = perVcpu };
            }
        }

        if (used.Count == 0)
        {
            return (model, [], []);
        }

        used.Sort((a, b) => MemoryFiles.IdNumber(a.Id).CompareTo(MemoryFiles.IdNumber(b.Id)));
        return (new CostModel(model.Source, classes, model.Regions, model.Rules, model.DefaultClass), used, notes);

        void Use(MemoryItem item, string what)
        {
            if (!used.Contains(item))
            {
                used.Add(item);
            }

            notes.Add($"used memory {item.Id}: {item.Text} ({what})");
        }
    }

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
