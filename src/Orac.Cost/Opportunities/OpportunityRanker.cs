using System.Text;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cost.Opportunities;

/// <summary>Options of a ranking.</summary>
public sealed class OpportunityOptions
{
    /// <summary>The improvement priced in <c>IfImproved</c>, percent.</summary>
    public double ImprovementPercent { get; init; } = 10;

    /// <summary>Entries kept.</summary>
    public int Top { get; init; } = 20;

    /// <summary>Selector of the ranked data, used to build flame-graph links.</summary>
    public string Selector { get; init; } = "{}";
}

/// <summary>The ranked backlog (docs/cost.md "Opportunities"). Owner: the opportunities work.</summary>
public static class OpportunityRanker
{
    /// <summary>Kind of an entry for one function (summed over its owners).</summary>
    public const string KindFunction = "function";

    /// <summary>Kind of an entry for one shared library or the kernel.</summary>
    public const string KindLibrary = "library";

    /// <summary>Kind of an entry for one recognised pattern (<see cref="Patterns"/>).</summary>
    public const string KindPattern = "pattern";

    /// <summary>Kind of an entry for stranded GPU time.</summary>
    public const string KindGpu = "gpu";

    /// <summary>Functions named in a pattern entry's search link, largest first (keeps links short).</summary>
    public const int MaxLinkFunctions = 20;

    /// <summary>Owner service of GPU entries whose hosts have no service label.</summary>
    public const string NoService = "(none)";

    /// <summary>Advice for a function that matches no pattern.</summary>
    public const string FunctionAdvice = "Its own (self) CPU time is the cost: look at who calls it most (flame graph), then call it less or make its inner loop cheaper.";

    /// <summary>Advice for a library that matches no pattern.</summary>
    public const string LibraryAdvice = "Check how it is called (flame graph), then its version, build options and configuration; a newer or better-configured build is often the cheapest win.";

    /// <summary>The note added when the backlog has GPU entries.</summary>
    public const string GpuEnergyNote = "gpu entries: kWh and CO2e are the stranded time's share of each GPU's energy by cost (an upper bound for idle time, which draws less power than busy time)";

    /// <summary>Ranks functions, libraries, recognised patterns and GPU stranded time of <paramref name="current"/> by annual cost; trend against <paramref name="previous"/>.</summary>
    public static OpportunitiesDocument Rank(CostResult current, CostResult? previous, OpportunityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        options ??= new OpportunityOptions();
        var improve = options.ImprovementPercent;
        var doc = current.Document;

        var now = Aggregate(current);
        var before = previous is null ? null : Aggregate(previous);
        var link = LinkBase.From(options.Selector, doc.From, doc.Until);

        var items = new List<(Entry Entry, Savings Annual)>(now.Count);
        foreach (var e in now.Values)
        {
            // A pattern or library made of one function says nothing its function's entry (which names the pattern) does not.
            if (e.Kind is KindPattern or KindLibrary && e.FunctionCount == 1)
            {
                continue;
            }

            items.Add((e, Annual(e.Figures, current.YearFactor)));
        }

        items.Sort((a, b) =>
        {
            var c = b.Annual.Usd.CompareTo(a.Annual.Usd);
            if (c == 0)
            {
                c = string.CompareOrdinal(a.Entry.Name, b.Entry.Name);
            }

            return c != 0 ? c : string.CompareOrdinal(a.Entry.Kind, b.Entry.Kind);
        });

        var top = Math.Max(0, options.Top);
        var result = new List<Opportunity>(Math.Min(top, items.Count));
        var hasGpu = false;
        for (var i = 0; i < items.Count && result.Count < top; i++)
        {
            var (e, annual) = items[i];
            hasGpu |= e.Kind == KindGpu;
            double? trend = null;
            if (before is not null && before.TryGetValue(e.Key, out var old))
            {
                var oldAnnual = old.Figures.Usd * previous!.YearFactor;
                if (oldAnnual > 0)
                {
                    trend = ((annual.Usd - oldAnnual) / oldAnnual) * 100;
                }
            }

            var owners = e.Owners();
            result.Add(new Opportunity
            {
                Rank = result.Count + 1,
                Kind = e.Kind,
                Name = e.Name,
                Pattern = e.Pattern?.Id,
                Advice = e.Pattern?.Advice ?? (e.Kind == KindLibrary ? LibraryAdvice : FunctionAdvice),
                Annual = annual,
                IfImproved = Scale(annual, improve / 100),
                IfEliminated = annual,
                Owners = owners,
                TrendPercent = trend,
                Link = link.For(owners, e.SearchNames()),
            });
        }

        var notes = new List<string>(doc.Notes);
        if (hasGpu)
        {
            notes.Add(GpuEnergyNote);
        }

        return new OpportunitiesDocument
        {
            From = doc.From,
            Until = doc.Until,
            Selection = doc.Selection,
            ImprovementPercent = improve,
            Items = result,
            TotalPerYear = new Savings
            {
                Usd = doc.ProjectedPerYear.Usd,
                Kwh = doc.ProjectedPerYear.Kwh,
                KgCo2e = doc.ProjectedPerYear.KgCo2e + doc.ProjectedPerYear.EmbodiedKgCo2e,
            },
            Partial = doc.Partial,
            Notes = notes,
        };
    }

    private static Pattern? BracketedModulePattern(string function, string? module)
    {
        if (!string.IsNullOrEmpty(module) || function.Length <= 2 || function[0] != '[' || function[^1] != ']')
        {
            return null;
        }

        string name = function[1..^1];
        int space = name.IndexOf(' ', StringComparison.Ordinal);
        return Patterns.ClassifyModule(space > 0 ? name[..space] : name);
    }

    /// <summary>The library a frame belongs to: the file name of its module, or the inside of a <c>[libfoo.so]</c> frame name; null for executables, unknown modules and JIT maps.</summary>
    public static string? LibraryOf(string function, string? module)
    {
        string name;
        if (!string.IsNullOrEmpty(module))
        {
            name = Patterns.FileName(module);
        }
        else if (function.Length > 2 && function[0] == '[' && function[^1] == ']')
        {
            // `[libc.so.6]`, or `[libc.so.6 <0x7f01>]` with perf addresses.
            name = function[1..^1];
            var space = name.IndexOf(' ', StringComparison.Ordinal);
            name = space > 0 ? name[..space] : name;
        }
        else
        {
            return null;
        }

        if (name is "kernel.kallsyms" or "[kernel.kallsyms]" or "vdso" or "[vdso]")
        {
            return name[0] == '[' ? name : "[" + name + "]";
        }

        return IsSharedObject(name) ? name : null;
    }

    private static bool IsSharedObject(string file)
    {
        if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".dylib", StringComparison.Ordinal))
        {
            return true;
        }

        // libfoo.so, libfoo.so.1.2, _json.cpython-311-x86_64-linux-gnu.so
        var i = file.IndexOf(".so", StringComparison.Ordinal);
        while (i >= 0)
        {
            var end = i + 3;
            if (end == file.Length || file[end] == '.')
            {
                return true;
            }

            i = file.IndexOf(".so", end, StringComparison.Ordinal);
        }

        return false;
    }

    private static Savings Annual(CostFigures f, double yearFactor) => new()
    {
        Usd = f.Usd * yearFactor,
        Kwh = f.Kwh * yearFactor,
        KgCo2e = (f.KgCo2e + f.EmbodiedKgCo2e) * yearFactor,
    };

    private static Savings Scale(Savings s, double factor) => new() { Usd = s.Usd * factor, Kwh = s.Kwh * factor, KgCo2e = s.KgCo2e * factor };

    /// <summary>Every entry of a cost answer keyed by (kind, name), with figures of the answer's period.</summary>
    private static Dictionary<(string Kind, string Name), Entry> Aggregate(CostResult r)
    {
        var entries = new Dictionary<(string Kind, string Name), Entry>();
        var owners = new Owners();

        // Function rules depend on the function name alone, module rules and libraries on the module alone.
        var byFunction = new Dictionary<string, Pattern?>(StringComparer.Ordinal);
        var byModule = new Dictionary<string, (string? Library, Pattern? Pattern)>(StringComparer.Ordinal);
        foreach (var a in r.Atoms)
        {
            // GPU time is no function to optimise: its stranded part is the gpu entries.
            if (a.Function == CostCalculator.GpuFunction)
            {
                continue;
            }

            if (!byFunction.TryGetValue(a.Function, out var pattern))
            {
                // A `[module]` frame (an unsymbolised address: folded files, stripped binaries) is classified by its module.
                pattern = Patterns.ClassifyFunction(a.Function) ?? BracketedModulePattern(a.Function, a.Module);
                byFunction.Add(a.Function, pattern);
            }

            var module = a.Module ?? "";
            if (!byModule.TryGetValue(module, out var mod))
            {
                var lib = module.Length > 0 ? LibraryOf("", module) : null;
                mod = (lib, module.Length > 0 ? Patterns.ClassifyModule(module) : null);
                byModule.Add(module, mod);
            }

            pattern ??= mod.Pattern;
            var owner = owners.Id(a.Org, a.Service);
            Get(entries, KindFunction, a.Function, pattern, owners).Add(owner, a.Figures, null);
            var library = module.Length > 0 ? mod.Library : LibraryOf(a.Function, null);
            if (library is not null)
            {
                Get(entries, KindLibrary, library, module.Length > 0 ? mod.Pattern : Patterns.ClassifyModule(library), owners).Add(owner, a.Figures, a.Function);
            }

            if (pattern is not null)
            {
                Get(entries, KindPattern, pattern.Name, pattern, owners).Add(owner, a.Figures, a.Function);
            }
        }

        foreach (var g in r.Document.Gpus)
        {
            AddGpu(entries, owners, Patterns.GpuIdle, g, g.StrandedIdleUsd);
            AddGpu(entries, owners, Patterns.GpuTrap, g, g.StrandedTrapUsd);
        }

        return entries;
    }

    private static void AddGpu(Dictionary<(string Kind, string Name), Entry> entries, Owners owners, Pattern pattern, GpuCostRow g, double usd)
    {
        if (!(usd > 0))
        {
            return;
        }

        // Energy and CO2e of the stranded time: its share of the GPU's cost, applied to the GPU's energy (GpuEnergyNote).
        var share = g.Figures.Usd > 0 ? Math.Min(1, usd / g.Figures.Usd) : 0;
        var f = new CostFigures
        {
            Usd = usd,
            Kwh = g.Figures.Kwh * share,
            KgCo2e = g.Figures.KgCo2e * share,
            EmbodiedKgCo2e = g.Figures.EmbodiedKgCo2e * share,
            GpuSeconds = g.ObservedSeconds * share,
            EnergyBasis = g.Figures.EnergyBasis,
        };
        // One entry per service (per host for GPUs without one): who can act on it.
        var name = pattern.Name + (g.Service is null ? ": host " + g.Host : ": service " + g.Service);
        Get(entries, KindGpu, name, pattern, owners).Add(owners.Id(g.Org ?? "", g.Service ?? NoService), f, null);
    }

    private static Entry Get(Dictionary<(string Kind, string Name), Entry> entries, string kind, string name, Pattern? pattern, Owners owners)
    {
        if (!entries.TryGetValue((kind, name), out var e))
        {
            e = new Entry(kind, name, pattern, owners);
            entries.Add((kind, name), e);
        }

        return e;
    }

    /// <summary>(org, service) pairs of one answer, by id.</summary>
    private sealed class Owners
    {
        private readonly Dictionary<(string Org, string Service), int> _ids = [];
        private readonly List<(string Org, string Service)> _names = [];

        public int Id(string org, string service)
        {
            if (!_ids.TryGetValue((org, service), out var id))
            {
                id = _names.Count;
                _ids.Add((org, service), id);
                _names.Add((org, service));
            }

            return id;
        }

        public (string Org, string Service) this[int id] => _names[id];
    }

    /// <summary>One backlog entry being summed. Most functions have one owner, so a second one is what allocates.</summary>
    private sealed class Entry(string kind, string name, Pattern? pattern, Owners owners)
    {
        private int _soleOwner = -1;
        private double _soleUsd;
        private double _soleTime;
        private Dictionary<int, (double Usd, double Time)>? _owners;
        private Dictionary<string, double>? _functions;

        public (string Kind, string Name) Key => (Kind, Name);

        public string Kind { get; } = kind;

        public string Name { get; } = name;

        public Pattern? Pattern { get; } = pattern;

        public CostFigures Figures { get; } = new();

        /// <summary>Distinct functions summed (pattern and library entries; 0 for others).</summary>
        public int FunctionCount => _functions?.Count ?? 0;

        public void Add(int owner, CostFigures f, string? function)
        {
            Figures.CpuSeconds += f.CpuSeconds;
            Figures.GpuSeconds += f.GpuSeconds;
            Figures.Usd += f.Usd;
            Figures.Kwh += f.Kwh;
            Figures.KgCo2e += f.KgCo2e;
            Figures.EmbodiedKgCo2e += f.EmbodiedKgCo2e;
            var time = f.CpuSeconds + f.GpuSeconds;
            if (_owners is null && (_soleOwner < 0 || _soleOwner == owner))
            {
                _soleOwner = owner;
                _soleUsd += f.Usd;
                _soleTime += time;
            }
            else
            {
                if (_owners is null)
                {
                    _owners = new() { [_soleOwner] = (_soleUsd, _soleTime) };
                }

                var (u, t) = _owners.GetValueOrDefault(owner);
                _owners[owner] = (u + f.Usd, t + time);
            }

            if (function is not null)
            {
                _functions ??= new(StringComparer.Ordinal);
                _functions[function] = _functions.GetValueOrDefault(function) + f.Usd;
            }
        }

        /// <summary>Owners by share of cost (of CPU/GPU time when nothing is priced), largest first.</summary>
        public List<OwnerShare> Owners()
        {
            var parts = new List<(int Owner, double Usd, double Time)>();
            if (_owners is null)
            {
                parts.Add((_soleOwner, _soleUsd, _soleTime));
            }
            else
            {
                foreach (var (id, (u, t)) in _owners)
                {
                    parts.Add((id, u, t));
                }
            }

            double usd = 0, time = 0;
            foreach (var w in parts)
            {
                usd += w.Usd;
                time += w.Time;
            }

            var byUsd = usd > 0;
            var total = byUsd ? usd : time;
            var list = new List<OwnerShare>(parts.Count);
            foreach (var w in parts)
            {
                var (org, service) = owners[w.Owner];
                var part = byUsd ? w.Usd : w.Time;
                list.Add(new OwnerShare { Org = org, Service = service, Percent = total > 0 ? part / total * 100 : 100.0 / parts.Count });
            }

            list.Sort((a, b) =>
            {
                var c = b.Percent.CompareTo(a.Percent);
                if (c == 0)
                {
                    c = string.CompareOrdinal(a.Org, b.Org);
                }

                return c != 0 ? c : string.CompareOrdinal(a.Service, b.Service);
            });
            return list;
        }

        /// <summary>Function names the link searches for: the entry's own name for functions, else its largest functions.</summary>
        public List<string> SearchNames()
        {
            if (Kind == KindFunction)
            {
                return [Name];
            }

            var names = _functions is null ? [] : new List<KeyValuePair<string, double>>(_functions);
            names.Sort((a, b) =>
            {
                var c = b.Value.CompareTo(a.Value);
                return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
            });
            var list = new List<string>(Math.Min(MaxLinkFunctions, names.Count));
            for (var i = 0; i < names.Count && i < MaxLinkFunctions; i++)
            {
                list.Add(names[i].Key);
            }

            return list;
        }
    }

    /// <summary>
    /// Builds links to the web UI's profile view, whose state is the query string (docs/ui.md): <c>service</c>,
    /// <c>label=k=v</c>, <c>from</c>/<c>until</c> (Unix ms) and <c>search</c> as <c>/regex/</c>. The org comes from
    /// the viewer's token. Matchers the view cannot express (<c>!=</c>, <c>=~</c>, <c>!~</c>) are left out, so such
    /// a link shows a wider selection than was ranked.
    /// </summary>
    private sealed class LinkBase
    {
        private readonly string? _service;
        private readonly List<KeyValuePair<string, string>> _labels = [];
        private readonly long _from;
        private readonly long _until;

        private LinkBase(string? service, long from, long until)
        {
            _service = service;
            _from = from;
            _until = until;
        }

        public static LinkBase From(string selectorText, long from, long until)
        {
            Selector sel;
            try
            {
                sel = Selector.Parse(selectorText);
            }
            catch (Orac.Model.OracException)
            {
                // A selector the server already accepted parses; a bad one here only costs the link its filter.
                sel = Selector.All;
            }

            string? service = null;
            var labels = new List<KeyValuePair<string, string>>();
            foreach (var m in sel.Matchers)
            {
                if (m.Op != MatchOp.Equal)
                {
                    continue;
                }

                if (m.Name == "service_name")
                {
                    service = m.Value;
                }
                else
                {
                    labels.Add(new(m.Name, m.Value));
                }
            }

            var link = new LinkBase(service, from, until);
            link._labels.AddRange(labels);
            return link;
        }

        public string For(List<OwnerShare> owners, List<string> functions)
        {
            var service = owners.Count == 1 && owners[0].Service != NoService ? owners[0].Service : _service;
            var sb = new StringBuilder("/?");
            if (!string.IsNullOrEmpty(service))
            {
                sb.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
            }

            foreach (var (k, v) in _labels)
            {
                sb.Append("label=").Append(Uri.EscapeDataString(k + "=" + v)).Append('&');
            }

            if (_until > _from)
            {
                sb.Append("from=").Append(_from).Append("&until=").Append(_until).Append('&');
            }

            if (functions.Count > 0)
            {
                sb.Append("search=").Append(Uri.EscapeDataString(SearchRegex(functions)));
            }
            else
            {
                sb.Length--;
            }

            return sb.ToString();
        }
    }

    /// <summary>The UI's search text matching exactly these function names: <c>/^(?:a|b)$/</c>, escaped as the UI escapes a clicked name.</summary>
    public static string SearchRegex(IReadOnlyList<string> functions)
    {
        var sb = new StringBuilder("/^");
        if (functions.Count > 1)
        {
            sb.Append("(?:");
        }

        for (var i = 0; i < functions.Count; i++)
        {
            if (i > 0)
            {
                sb.Append('|');
            }

            foreach (var ch in functions[i])
            {
                if (".*+?^${}()|[]\\/".Contains(ch, StringComparison.Ordinal))
                {
                    sb.Append('\\');
                }

                sb.Append(ch);
            }
        }

        if (functions.Count > 1)
        {
            sb.Append(')');
        }

        return sb.Append("$/").ToString();
    }
}
