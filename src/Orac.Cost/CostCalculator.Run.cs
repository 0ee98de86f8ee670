using System.Globalization;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost;

// One computation (docs/cost.md "Attribution"). Per host: price the CPU pool per CPU-second, the active energy per
// CPU-second, the idle line over the observed time; then roll atoms up into functions, services, hosts and orgs.
public static partial class CostCalculator
{
    private sealed class Run(CostModel model, CostInput input, CostOptions options)
    {
        private readonly Dictionary<(string Org, string Service, string Function, string Module), Acc> _atoms = [];
        private readonly Dictionary<(string Org, string Host), (string Class, Acc Attributed, Acc Idle)> _hosts = [];
        private readonly List<(string Org, string Host)> _hostOrder = [];
        private readonly List<GpuCostRow> _gpus = [];
        private readonly List<string> _notes = [];
        private readonly Dictionary<string, List<string>> _hostNotes = new(StringComparer.Ordinal);
        private readonly List<string> _hostNoteOrder = [];
        private bool _partial;

        public CostResult Execute()
        {
            double periodSeconds = input.EndNs > input.StartNs ? (input.EndNs - input.StartNs) / 1e9 : 0;
            foreach (HostInput host in input.Hosts)
            {
                PriceHost(host);
            }

            FlushNotes();

            // Rows.
            Acc attributed = default;
            foreach (Acc a in _atoms.Values)
            {
                attributed.Add(a);
            }

            Acc idle = default;
            foreach ((string Org, string Host) key in _hostOrder)
            {
                idle.Add(_hosts[key].Idle);
            }

            Acc total = attributed;
            total.Add(idle);

            double baseSeconds = options.ProjectionBaseSeconds > 0 ? options.ProjectionBaseSeconds : periodSeconds;
            double yearFactor = baseSeconds > 0 ? SecondsPerYear / baseSeconds : 0;
            if (yearFactor == 0)
            {
                _notes.Add("no period length: no yearly projection");
            }

            double cpuTotal = attributed.Cpu;
            List<CostRow> functionRows = RollUp(a => (a.Function, a.Module), byFunction: true, withService: true, cpuTotal);
            int top = Math.Max(0, options.TopFunctions);
            int omitted = Math.Max(0, functionRows.Count - top);
            if (omitted > 0)
            {
                functionRows.RemoveRange(top, omitted);
            }

            List<CostRow> serviceRows = RollUp(a => (a.Org, a.Service), byFunction: false, withService: true, cpuTotal);
            List<CostRow> orgRows = RollUp(a => (a.Org, ""), byFunction: false, withService: false, cpuTotal);

            var hostRows = new List<(CostRow Row, CostRow Idle)>();
            foreach ((string Org, string Host) key in _hostOrder)
            {
                (string cls, Acc a, Acc i) = _hosts[key];
                hostRows.Add((
                    new CostRow { Name = key.Host, Org = key.Org, Class = cls, Figures = a.ToFigures(), CpuPercent = Percent(a.Cpu, cpuTotal) },
                    new CostRow { Name = key.Host, Org = key.Org, Class = cls, Figures = i.ToFigures() }));
            }

            hostRows.Sort((x, y) => CompareRows(x.Row, y.Row));

            var atoms = new List<FunctionCost>(_atoms.Count);
            foreach (KeyValuePair<(string Org, string Service, string Function, string Module), Acc> a in _atoms)
            {
                atoms.Add(new FunctionCost(a.Key.Org, a.Key.Service, a.Key.Function, a.Key.Module, a.Value.ToFigures()));
            }

            atoms.Sort((x, y) =>
            {
                int c = y.Figures.Usd.CompareTo(x.Figures.Usd);
                c = c != 0 ? c : y.Figures.CpuSeconds.CompareTo(x.Figures.CpuSeconds);
                c = c != 0 ? c : string.CompareOrdinal(x.Org, y.Org);
                c = c != 0 ? c : string.CompareOrdinal(x.Service, y.Service);
                c = c != 0 ? c : string.CompareOrdinal(x.Function, y.Function);
                return c != 0 ? c : string.CompareOrdinal(x.Module, y.Module);
            });

            var doc = new CostDocument
            {
                From = input.StartNs / 1_000_000,
                Until = input.EndNs / 1_000_000,
                Selection = input.Selection,
                Model = model.Source,
                Total = total.ToFigures(),
                Idle = idle.ToFigures(),
                ProjectedPerYear = total.ToFigures(yearFactor, Basis.Projection),
                Functions = functionRows,
                FunctionsOmitted = omitted,
                Services = serviceRows,
                Hosts = hostRows.ConvertAll(h => h.Row),
                HostIdle = hostRows.ConvertAll(h => h.Idle),
                Orgs = orgRows,
                Gpus = _gpus,
                Partial = _partial,
                Notes = _notes,
            };
            return new CostResult(doc, atoms, yearFactor);
        }

        private List<CostRow> RollUp(Func<(string Org, string Service, string Function, string Module), (string A, string B)> keyOf, bool byFunction, bool withService, double cpuTotal)
        {
            // Group atoms; remember whether a group spans one org/service so rows can name their owner.
            var groups = new Dictionary<(string A, string B), (Acc Sum, string Name, string Org, string Service, bool ManyOrgs, bool ManyServices)>();
            foreach (KeyValuePair<(string Org, string Service, string Function, string Module), Acc> atom in _atoms)
            {
                (string A, string B) k = keyOf(atom.Key);
                if (!groups.TryGetValue(k, out var g))
                {
                    string name = byFunction ? atom.Key.Function : k.B.Length > 0 ? k.B : k.A;
                    g = (default, name, atom.Key.Org, atom.Key.Service, false, false);
                }

                g.Sum.Add(atom.Value);
                g.ManyOrgs |= g.Org != atom.Key.Org;
                g.ManyServices |= g.Service != atom.Key.Service;
                groups[k] = g;
            }

            var rows = new List<CostRow>(groups.Count);
            foreach (var g in groups.Values)
            {
                rows.Add(new CostRow
                {
                    Name = g.Name,
                    Org = g.ManyOrgs ? null : g.Org,
                    Service = withService && !g.ManyServices ? g.Service : null,
                    Figures = g.Sum.ToFigures(),
                    CpuPercent = Percent(g.Sum.Cpu, cpuTotal),
                });
            }

            rows.Sort(CompareRows);
            return rows;
        }

        private static int CompareRows(CostRow x, CostRow y)
        {
            int c = y.Figures.Usd.CompareTo(x.Figures.Usd);
            c = c != 0 ? c : y.Figures.CpuSeconds.CompareTo(x.Figures.CpuSeconds);
            c = c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
            return c != 0 ? c : string.CompareOrdinal(x.Org, y.Org);
        }

        private static double Percent(double part, double whole) => whole > 0 ? part * 100 / whole : 0;

        private void Note(string host, string what, bool partial = false)
        {
            // One line per kind of note, naming its hosts, so a fleet of a thousand hosts gives a readable list.
            if (!_hostNotes.TryGetValue(what, out List<string>? hosts))
            {
                _hostNotes[what] = hosts = [];
                _hostNoteOrder.Add(what);
            }

            if (!hosts.Contains(host))
            {
                hosts.Add(host);
            }

            _partial |= partial;
        }

        private void FlushNotes()
        {
            foreach (string what in _hostNoteOrder)
            {
                List<string> hosts = _hostNotes[what];
                string who = hosts.Count == 1 ? $"host {hosts[0]}"
                    : hosts.Count <= 5 ? $"hosts {string.Join(", ", hosts)}"
                    : $"{hosts.Count} hosts ({string.Join(", ", hosts.GetRange(0, 5))}, …)";
                _notes.Add($"{who}: {what}");
            }
        }

        private void PriceHost(HostInput host)
        {
            MachineClass cls = model.ClassFor(host.Host, host.Labels, host.Facts, host.ClassName, out string? classNote);
            if (classNote is not null)
            {
                Note(host.Host, classNote);
            }

            if (!model.Regions.TryGetValue(cls.Region, out RegionIntensity? region))
            {
                throw new CostModelException($"{model.Source}: classes.{cls.Name}.region: unknown region '{cls.Region}'");
            }

            string h = host.Host;
            double observed = host.ObservedSeconds;
            if (!double.IsFinite(observed) || observed < 0)
            {
                Note(h, $"observed time {observed.ToString(CultureInfo.InvariantCulture)} s is not a valid duration; treated as unknown", partial: true);
                observed = 0;
            }

            // Size: a class that leaves vCPUs / memory at 0 takes them from the agent's facts.
            int vcpus = cls.Vcpus;
            double memoryGb = cls.MemoryGb;
            if (vcpus == 0)
            {
                if (host.Facts is { Cpus: > 0 } f)
                {
                    vcpus = f.Cpus;
                    Note(h, $"class {cls.Name} leaves vcpus unset; vCPUs taken from the host's reported size (agent, or this machine for a file recorded here)");
                }
                else
                {
                    Note(h, $"class {cls.Name} leaves vcpus unset and the agent reported no CPU count: no idle CPU line, no embodied share", partial: true);
                }
            }

            if (memoryGb == 0 && host.Facts is { MemoryBytes: > 0 } mf)
            {
                memoryGb = mf.MemoryBytes / 1e9;
            }

            // Profiles → self CPU seconds per (service, function, module) on this host.
            var cpuByAtom = new Dictionary<(string Service, string Function, string Module), double>();
            double hostCpu = 0;
            foreach (WorkloadProfile w in host.Workloads)
            {
                hostCpu += SelfSeconds(h, w, cpuByAtom);
            }

            // Prices: the GPU pool is count × per-GPU price; the CPU pool is the rest of the machine plus per-vCPU pricing.
            double gpuPoolPerHour = cls.Gpu is GpuSpec gs ? gs.Count * gs.UsdPerGpuHour : 0;
            double cpuMachinePerHour = cls.UsdPerHour > 0 ? Math.Max(0, cls.UsdPerHour - gpuPoolPerHour) : 0;
            double cpuPoolPerHour = cpuMachinePerHour + (cls.UsdPerVcpuHour * vcpus);
            double usdPerCpuSecond;
            if (vcpus > 0)
            {
                usdPerCpuSecond = cpuPoolPerHour / vcpus / 3600;
            }
            else
            {
                usdPerCpuSecond = cls.UsdPerVcpuHour / 3600;
                if (cpuMachinePerHour > 0)
                {
                    Note(h, $"class {cls.Name} prices the whole machine but its vCPU count is unknown: CPU time priced at usd_per_vcpu_hour only", partial: true);
                }
            }

            // Active energy per CPU-second: measured (RAPL, Kepler's idle split) beats the class's estimate.
            MeasuredCpuEnergy? measured = host.CpuEnergy;
            if (measured is not null && !(double.IsFinite(measured.Joules) && measured.Joules >= 0 && double.IsFinite(measured.IdleWatts) && measured.IdleWatts >= 0 && double.IsFinite(measured.Seconds) && measured.Seconds > 0))
            {
                Note(h, $"measured CPU energy is not usable ({measured.Joules} J, idle {measured.IdleWatts} W over {measured.Seconds} s); estimated instead");
                measured = null;
            }

            double activeJoulesPerCpuSecond;
            double unattributedActiveJoules = 0;
            if (measured is not null)
            {
                double activeJoules = Math.Max(0, measured.Joules - (measured.IdleWatts * measured.Seconds));
                if (hostCpu > 0)
                {
                    activeJoulesPerCpuSecond = activeJoules / hostCpu;
                }
                else
                {
                    activeJoulesPerCpuSecond = 0;
                    unattributedActiveJoules = activeJoules;
                }

                Note(h, $"CPU energy measured ({measured.Source})");
            }
            else
            {
                activeJoulesPerCpuSecond = cls.CpuWattsMaxPerVcpu - cls.CpuWattsIdlePerVcpu;
            }

            double gramsActive = Intensity(region, host.CpuSecondsByUtcHour, h);
            double gramsFlat = Intensity(region, null, h);
            double embodiedPerSecond = cls.EmbodiedKgCo2e > 0 ? cls.EmbodiedKgCo2e / (cls.LifetimeYears * SecondsPerYear) : 0;
            double embodiedPerCpuSecond = vcpus > 0 ? embodiedPerSecond / vcpus : 0;

            Acc hostAttributed = default;
            foreach (KeyValuePair<(string Service, string Function, string Module), double> a in cpuByAtom)
            {
                double cpu = a.Value;
                double kwh = cpu * activeJoulesPerCpuSecond / JoulesPerKwh * cls.Pue;
                var acc = new Acc
                {
                    Cpu = cpu,
                    Usd = cpu * usdPerCpuSecond,
                    Kwh = kwh,
                    Co2 = kwh * gramsActive / 1000,
                    Emb = cpu * embodiedPerCpuSecond,
                    Measured = measured is not null,
                    Estimated = measured is null,
                };
                AddAtom((host.Org, a.Key.Service, a.Key.Function, a.Key.Module), acc);
                hostAttributed.Add(acc);
            }

            Acc hostIdle = default;
            PriceGpus(host, cls, observed, gramsFlat, ref hostAttributed, ref hostIdle);

            // The idle / unattributed line: unused billed CPU capacity, idle power, memory baseline, embodied rest.
            if (observed > 0)
            {
                double capacity = vcpus * observed;
                if (vcpus > 0 && hostCpu > capacity * (1 + 1e-9))
                {
                    Note(h, $"profiled CPU time {hostCpu:0.###} s exceeds capacity {capacity:0.###} s ({vcpus} vCPUs × {observed:0.###} s observed); idle clamped at 0");
                }

                double attributedCpuUsd = hostCpu * usdPerCpuSecond;
                double idleUsd = Math.Max(0, (cpuPoolPerHour * observed / 3600) - attributedCpuUsd);
                double idleCpuJoules = measured is not null
                    ? (measured.IdleWatts * observed) + unattributedActiveJoules
                    : cls.CpuWattsIdlePerVcpu * vcpus * observed;
                double memoryItKwh = memoryGb * cls.MemoryKwhPerGbHour * observed / 3600;
                double idleKwh = ((idleCpuJoules / JoulesPerKwh) + memoryItKwh) * cls.Pue;
                var idleAcc = new Acc
                {
                    Usd = idleUsd,
                    Kwh = idleKwh,
                    Co2 = idleKwh * gramsFlat / 1000,
                    Emb = Math.Max(0, (embodiedPerSecond * observed) - (hostCpu * embodiedPerCpuSecond)),
                    Measured = measured is not null && idleCpuJoules > 0,
                    Estimated = (measured is null && idleCpuJoules > 0) || memoryItKwh > 0,
                };
                if (!idleAcc.Measured && !idleAcc.Estimated)
                {
                    idleAcc.Estimated = true;
                }

                hostIdle.Add(idleAcc);
            }
            else
            {
                Note(h, $"observed time unknown: no idle / unattributed line (totals cover attributed use only)", partial: true);
            }

            var key = (host.Org, h);
            if (_hosts.TryGetValue(key, out var existing))
            {
                existing.Attributed.Add(hostAttributed);
                existing.Idle.Add(hostIdle);
                _hosts[key] = existing;
            }
            else
            {
                _hosts[key] = (cls.Name, hostAttributed, hostIdle);
                _hostOrder.Add(key);
            }
        }

        private double SelfSeconds(string host, WorkloadProfile w, Dictionary<(string Service, string Function, string Module), double> cpuByAtom)
        {
            Profile p = w.Profile;
            double nanosPerValue = NanosPerValue(p, options.Hz);
            string service = w.Service.Length > 0 ? w.Service : "(unknown)";
            var self = new long[p.Frames.Count];
            long noStack = 0, negative = 0;
            ReadOnlySpan<StackId> stacks = p.SampleStacks;
            ReadOnlySpan<long> values = p.Values;
            int width = p.SampleTypes.Count;
            for (int r = 0; r < stacks.Length; r++)
            {
                long v = values[r * width];
                if (v <= 0)
                {
                    negative += v < 0 ? 1 : 0;
                    continue;
                }

                if (stacks[r] == StackId.Root)
                {
                    noStack = SaturatingAdd(noStack, v);
                }
                else
                {
                    int f = (int)p.Stacks.Frame(stacks[r]);
                    self[f] = SaturatingAdd(self[f], v);
                }
            }

            if (negative > 0)
            {
                Note(host, $"service {service}: {negative} samples with negative values skipped (a diff profile cannot be priced)", partial: true);
            }

            double sum = 0;
            for (int f = 0; f < self.Length; f++)
            {
                if (self[f] == 0)
                {
                    continue;
                }

                var frame = (FrameId)f;
                string module = p.Strings.GetString(p.Frames.Module(frame));
                double seconds = self[f] * nanosPerValue / 1e9;
                var k = (service, p.FrameName(frame), module);
                cpuByAtom[k] = cpuByAtom.GetValueOrDefault(k) + seconds;
                sum += seconds;
            }

            if (noStack > 0)
            {
                double seconds = noStack * nanosPerValue / 1e9;
                var k = (service, NoStackFunction, "");
                cpuByAtom[k] = cpuByAtom.GetValueOrDefault(k) + seconds;
                sum += seconds;
            }

            return sum;
        }

        private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

        private void PriceGpus(HostInput host, MachineClass cls, double hostObserved, double grams, ref Acc hostAttributed, ref Acc hostIdle)
        {
            string h = host.Host;
            GpuSpec? spec = cls.Gpu;
            string service = host.Labels.TryGetValue("service", out string? s) && s.Length > 0 ? s
                : host.Labels.TryGetValue("service_name", out string? sn) && sn.Length > 0 ? sn : GpuFunction;
            if (host.Gpus.Count > 0 && spec is null)
            {
                Note(h, $"{host.Gpus.Count} GPUs reported but class {cls.Name} has none: GPU time not priced, energy only where measured", partial: true);
            }

            foreach (GpuUsage g in host.Gpus)
            {
                double observed = Finite(g.ObservedSeconds);
                double busy = Math.Min(Finite(g.BusySeconds), observed);
                double util = observed > 0 ? busy / observed : 0;
                double price = spec?.UsdPerGpuHour ?? 0;
                bool measured = g.MeasuredJoules is double mj && double.IsFinite(mj) && mj >= 0;
                double joules = measured ? g.MeasuredJoules!.Value
                    : spec is null ? 0 : (spec.WattsIdle + (util * (spec.WattsMax - spec.WattsIdle))) * observed;
                double kwh = joules / JoulesPerKwh * cls.Pue;
                var acc = new Acc
                {
                    Gpu = busy,
                    Usd = price * observed / 3600,
                    Kwh = kwh,
                    Co2 = kwh * grams / 1000,
                    Measured = measured,
                    Estimated = !measured,
                };
                string model = g.Model.Length > 0 ? g.Model : spec?.Model ?? "";
                AddAtom((host.Org, service, GpuFunction, model), acc);
                hostAttributed.Add(acc);
                _gpus.Add(new GpuCostRow
                {
                    Host = h,
                    Org = host.Org,
                    Service = service == GpuFunction ? null : service,
                    Index = g.Index,
                    Model = model,
                    ObservedSeconds = observed,
                    UtilPercent = util * 100,
                    SmActivePercent = g.SmActivePercent,
                    Figures = acc.ToFigures(),
                    StrandedIdleUsd = price * Math.Min(Finite(g.LowUtilSeconds), observed) / 3600,
                    StrandedTrapUsd = price * Math.Min(Finite(g.TrapSeconds), observed) / 3600,
                });
            }

            // Billed GPUs of the class that sent no readings are idle capacity: priced, idle power, never attributed.
            int missing = spec is null ? 0 : spec.Count - host.Gpus.Count;
            if (missing > 0 && hostObserved > 0)
            {
                double kwh = spec!.WattsIdle * missing * hostObserved / JoulesPerKwh * cls.Pue;
                hostIdle.Add(new Acc
                {
                    Usd = spec.UsdPerGpuHour * missing * hostObserved / 3600,
                    Kwh = kwh,
                    Co2 = kwh * grams / 1000,
                    Estimated = true,
                });
                Note(h, $"class {cls.Name} has {spec.Count} GPUs, {host.Gpus.Count} sent readings: {missing} priced as idle (price and idle watts, estimated)");
            }
        }

        private static double Finite(double v) => double.IsFinite(v) && v > 0 ? v : 0;

        private void AddAtom((string Org, string Service, string Function, string Module) key, in Acc acc)
        {
            Acc sum = _atoms.GetValueOrDefault(key);
            sum.Add(acc);
            _atoms[key] = sum;
        }

        /// <summary>
        /// Grid intensity, g/kWh: a constant region's value; for an hourly table, the table weighted by CPU seconds per
        /// UTC hour when given (active energy), else its plain mean (idle energy is spread evenly over the day).
        /// </summary>
        private double Intensity(RegionIntensity region, double[]? weights, string host)
        {
            if (region.Hourly is not { Count: 24 } hourly)
            {
                return region.GramsPerKwh;
            }

            if (weights is not null && weights.Length != 24)
            {
                Note(host, $"CPU seconds by UTC hour has {weights.Length} values, not 24; hourly grid intensity spread evenly");
                weights = null;
            }

            double sum = 0, weight = 0;
            for (int i = 0; i < 24; i++)
            {
                double w = weights is null ? 1 : Finite(weights[i]);
                sum += w * hourly[i];
                weight += w;
            }

            if (weight == 0)
            {
                for (int i = 0; i < 24; i++)
                {
                    sum += hourly[i];
                }

                weight = 24;
            }

            return sum / weight;
        }
    }
}
