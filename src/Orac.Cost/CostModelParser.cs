using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orac.Cost;

/// <summary>
/// Reads a model file (docs/cost.md "The model file"): JSON with <c>//</c> and <c>/* */</c> comments and trailing
/// commas. The file adds to or replaces the built-in classes and regions by name. Every problem is one
/// <see cref="CostModelException"/> naming the file and the field path; unknown fields are errors so typos cannot vanish.
/// </summary>
internal static class CostModelParser
{
    /// <summary>Largest model file read, bytes.</summary>
    public const int MaxBytes = 4 << 20;

    private const int MaxNameLength = 200;
    private const int MaxRules = 10_000;

    private static readonly string[] s_rootFields = ["default_class", "classes", "regions", "hosts"];
    private static readonly string[] s_classFields =
    [
        "base", "source", "usd_per_hour", "usd_per_vcpu_hour", "vcpus", "cpu_watts_idle", "cpu_watts_max", "memory_gb",
        "memory_kwh_per_gb_hour", "pue", "region", "embodied_kg_co2e", "lifetime_years", "gpu",
    ];

    private static readonly string[] s_gpuFields = ["model", "count", "watts_idle", "watts_max", "usd_per_gpu_hour", "source"];
    private static readonly string[] s_regionFields = ["g_per_kwh", "hourly", "source"];
    private static readonly string[] s_ruleFields = ["match", "class"];
    private static readonly string[] s_matchFields = ["host", "labels", "gpu_model", "vcpus"];

    public static CostModel Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                throw new CostModelException($"{path}: model file is {info.Length} bytes; the limit is {MaxBytes}");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CostModelException($"{path}: cannot read the model file ({e.Message})");
        }

        return Parse(bytes, path);
    }

    public static CostModel Parse(string text, string name) => Parse(Encoding.UTF8.GetBytes(text), name);

    public static CostModel Parse(ReadOnlySpan<byte> utf8, string name)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new CostModelException($"{name}: model is {utf8.Length} bytes; the limit is {MaxBytes}");
        }

        if (utf8.StartsWith("\xEF\xBB\xBF"u8))
        {
            utf8 = utf8[3..];
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            // JsonDocument checks UTF-8 only when a string is read; say where the bad bytes are up front.
            int at = 0, line = 1, lineStart = 0;
            while (at < utf8.Length && Rune.DecodeFromUtf8(utf8[at..], out _, out int used) == System.Buffers.OperationStatus.Done)
            {
                if (utf8[at] == (byte)'\n')
                {
                    line++;
                    lineStart = at + 1;
                }

                at += used;
            }

            throw new CostModelException($"{name}: line {line}, byte {at - lineStart + 1}: not valid UTF-8 (0x{utf8[at]:x2})");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
                MaxDepth = 32,
            });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long col = (e.BytePositionInLine ?? 0) + 1;
            throw new CostModelException($"{name}: line {line}, byte {col}: not valid JSON ({FirstSentence(e.Message)})");
        }

        using (doc)
        {
            return new Reader(name).Read(doc.RootElement);
        }
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: … | LineNumber: … | BytePositionInLine: …", which the caller already says.
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        return (cut >= 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private sealed class Reader(string name)
    {
        private readonly CostModel _builtIn = CostModel.Defaults;
        private readonly Dictionary<string, JsonElement> _classElements = new(StringComparer.Ordinal);
        private readonly Dictionary<string, MachineClass> _classes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RegionIntensity> _regions = new(StringComparer.Ordinal);
        private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);

        public CostModel Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Fail("(top level)", "must be an object with default_class, classes, regions, hosts", root);
            }

            Dictionary<string, JsonElement> fields = Fields(root, "", s_rootFields);
            foreach (KeyValuePair<string, RegionIntensity> r in _builtIn.Regions)
            {
                _regions[r.Key] = r.Value;
            }

            if (fields.TryGetValue("regions", out JsonElement regions))
            {
                foreach ((string regionName, JsonElement value) in Members(regions, "regions"))
                {
                    _regions[regionName] = ReadRegion(regionName, value);
                }
            }

            if (fields.TryGetValue("classes", out JsonElement classes))
            {
                foreach ((string className, JsonElement value) in Members(classes, "classes"))
                {
                    _classElements[className] = value;
                }
            }

            foreach (KeyValuePair<string, MachineClass> c in _builtIn.Classes)
            {
                if (!_classElements.ContainsKey(c.Key))
                {
                    _classes[c.Key] = c.Value;
                }
            }

            foreach (string className in _classElements.Keys)
            {
                Resolve(className);
            }

            // Built-in classes keep their regions, which a file may have replaced but never removes.
            string defaultClass = _builtIn.DefaultClass;
            if (fields.TryGetValue("default_class", out JsonElement dc))
            {
                defaultClass = ClassRef(dc, "default_class");
            }

            var rules = new List<HostRule>();
            if (fields.TryGetValue("hosts", out JsonElement hosts))
            {
                if (hosts.ValueKind != JsonValueKind.Array)
                {
                    Fail("hosts", "must be an array of {match, class} rules", hosts);
                }

                int i = 0;
                foreach (JsonElement rule in hosts.EnumerateArray())
                {
                    if (i >= MaxRules)
                    {
                        Fail("hosts", $"at most {MaxRules} rules", null);
                    }

                    rules.Add(ReadRule(rule, $"hosts[{i}]"));
                    i++;
                }
            }

            // The built-in GPU rules come after the file's, so GPU hosts still find a GPU class unless a rule says otherwise.
            rules.AddRange(_builtIn.Rules);
            return new CostModel(name, _classes, _regions, rules, defaultClass);
        }

        private RegionIntensity ReadRegion(string regionName, JsonElement value)
        {
            string path = Path("regions", regionName);
            if (value.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "must be an object {g_per_kwh, hourly, source}", value);
            }

            Dictionary<string, JsonElement> f = Fields(value, path, s_regionFields);
            _builtIn.Regions.TryGetValue(regionName, out RegionIntensity? builtIn);
            double? g = f.TryGetValue("g_per_kwh", out JsonElement ge) ? Number(ge, path + ".g_per_kwh", 0, 10_000, "a number of grams CO2e per kWh, 0–10000") : null;
            IReadOnlyList<double>? hourly = builtIn?.Hourly;
            if (f.TryGetValue("hourly", out JsonElement he))
            {
                hourly = he.ValueKind == JsonValueKind.Null ? null : Hourly(he, path + ".hourly");
            }

            if (g is null)
            {
                if (hourly is not null)
                {
                    double sum = 0;
                    foreach (double h in hourly)
                    {
                        sum += h;
                    }

                    g = sum / 24;
                }
                else if (builtIn is not null)
                {
                    g = builtIn.GramsPerKwh;
                }
                else
                {
                    Fail(path + ".g_per_kwh", "required for a new region (or give hourly)", null);
                }
            }

            string source = f.TryGetValue("source", out JsonElement se) ? Str(se, path + ".source") : name;
            return new RegionIntensity(regionName, g.Value, hourly, source);
        }

        private double[] Hourly(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 24)
            {
                Fail(path, "must be an array of 24 numbers (g/kWh for UTC hours 0–23)", e);
            }

            var values = new double[24];
            int i = 0;
            foreach (JsonElement v in e.EnumerateArray())
            {
                values[i] = Number(v, $"{path}[{i}]", 0, 10_000, "a number of grams CO2e per kWh, 0–10000");
                i++;
            }

            return values;
        }

        private MachineClass Resolve(string className)
        {
            if (_classes.TryGetValue(className, out MachineClass? done))
            {
                return done;
            }

            string path = Path("classes", className);
            JsonElement e = _classElements[className];
            if (e.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "must be an object", e);
            }

            Dictionary<string, JsonElement> f = Fields(e, path, s_classFields);
            MachineClass parent;
            if (f.TryGetValue("base", out JsonElement be))
            {
                string baseName = Str(be, path + ".base");
                if (baseName == className)
                {
                    // "base": its own name means the built-in class of that name.
                    parent = _builtIn.Classes.TryGetValue(baseName, out MachineClass? same)
                        ? same
                        : Throw<MachineClass>(path + ".base", $"names the class itself, and there is no built-in '{baseName}'", be);
                }
                else if (_classElements.ContainsKey(baseName))
                {
                    if (!_resolving.Add(className) || _resolving.Contains(baseName))
                    {
                        Fail(path + ".base", $"classes inherit from each other in a cycle ({className} → {baseName})", be);
                    }

                    parent = Resolve(baseName);
                    _resolving.Remove(className);
                }
                else if (_builtIn.Classes.TryGetValue(baseName, out MachineClass? builtInBase))
                {
                    parent = builtInBase;
                }
                else
                {
                    parent = Throw<MachineClass>(path + ".base", $"unknown class '{baseName}' (known: {Known()})", be);
                }
            }
            else
            {
                // No base: a built-in of the same name supplies unset fields, else the built-in 'default'.
                parent = _builtIn.Classes.TryGetValue(className, out MachineClass? same) ? same : _builtIn.Classes["default"];
            }

            double Num(string field, double current, double min, double max, string what) =>
                f.TryGetValue(field, out JsonElement v) ? Number(v, $"{path}.{field}", min, max, what) : current;

            double usd = Num("usd_per_hour", parent.UsdPerHour, 0, 1e6, "a number of US dollars per hour, 0–1000000");
            double usdVcpu = Num("usd_per_vcpu_hour", parent.UsdPerVcpuHour, 0, 1e4, "a number of US dollars per vCPU-hour, 0–10000");
            int vcpus = f.TryGetValue("vcpus", out JsonElement ve) ? Int(ve, path + ".vcpus", 0, 1_000_000, "a whole number of vCPUs, 0–1000000 (0 = from the agent's facts)") : parent.Vcpus;
            double idle = Num("cpu_watts_idle", parent.CpuWattsIdlePerVcpu, 0, 1000, "a number of watts per vCPU, 0–1000");
            double max = Num("cpu_watts_max", parent.CpuWattsMaxPerVcpu, 0, 1000, "a number of watts per vCPU, 0–1000");
            if (max < idle)
            {
                Fail(path + (f.ContainsKey("cpu_watts_max") ? ".cpu_watts_max" : ".cpu_watts_idle"), $"cpu_watts_max must be ≥ cpu_watts_idle ({Show(idle)})", f.TryGetValue("cpu_watts_max", out JsonElement me) ? me : f["cpu_watts_idle"]);
            }

            double memGb = Num("memory_gb", parent.MemoryGb, 0, 1e7, "a number of GB, 0–10000000 (0 = from the agent's facts)");
            double memKwh = Num("memory_kwh_per_gb_hour", parent.MemoryKwhPerGbHour, 0, 1, "a number of kWh per GB-hour, 0–1");
            double pue = Num("pue", parent.Pue, 1, 10, "a number ≥ 1 (and ≤ 10)");
            string region = parent.Region;
            if (f.TryGetValue("region", out JsonElement re))
            {
                region = Str(re, path + ".region");
                if (!_regions.ContainsKey(region))
                {
                    Fail(path + ".region", $"unknown region '{region}' (known: {KnownRegions()})", re);
                }
            }

            double embodied = Num("embodied_kg_co2e", parent.EmbodiedKgCo2e, 0, 1e7, "a number of kg CO2e, 0–10000000");
            double lifetime = Num("lifetime_years", parent.LifetimeYears, 0.01, 100, "a number of years, 0.01–100");
            GpuSpec? gpu = parent.Gpu;
            if (f.TryGetValue("gpu", out JsonElement ge))
            {
                gpu = ge.ValueKind == JsonValueKind.Null ? null : ReadGpu(ge, path + ".gpu", parent.Gpu);
            }

            if (gpu is not null && usd > 0 && usd + 1e-9 < gpu.Count * gpu.UsdPerGpuHour)
            {
                Fail(path + ".usd_per_hour", $"is the whole machine's price and must be ≥ gpu.count × gpu.usd_per_gpu_hour ({gpu.Count} × {Show(gpu.UsdPerGpuHour)})", f.TryGetValue("usd_per_hour", out JsonElement ue) ? ue : null);
            }

            string source = f.TryGetValue("source", out JsonElement se) ? Str(se, path + ".source") : $"{name} (unset fields from {parent.Name})";
            var result = new MachineClass(className, usd, vcpus, idle, max, memGb, memKwh, gpu, pue, region, embodied, lifetime, source)
            {
                UsdPerVcpuHour = usdVcpu,
            };
            _classes[className] = result;
            return result;
        }

        private GpuSpec ReadGpu(JsonElement e, string path, GpuSpec? parent)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "must be an object {model, count, watts_idle, watts_max, usd_per_gpu_hour} or null", e);
            }

            Dictionary<string, JsonElement> f = Fields(e, path, s_gpuFields);
            string? model = f.TryGetValue("model", out JsonElement me) ? Str(me, path + ".model") : parent?.Model;
            int? count = f.TryGetValue("count", out JsonElement ce) ? Int(ce, path + ".count", 0, 1024, "a whole number of GPUs, 0–1024") : parent?.Count;
            double? idle = f.TryGetValue("watts_idle", out JsonElement ie) ? Number(ie, path + ".watts_idle", 0, 100_000, "a number of watts, 0–100000") : parent?.WattsIdle;
            double? max = f.TryGetValue("watts_max", out JsonElement xe) ? Number(xe, path + ".watts_max", 0, 100_000, "a number of watts, 0–100000") : parent?.WattsMax;
            double? usd = f.TryGetValue("usd_per_gpu_hour", out JsonElement ue) ? Number(ue, path + ".usd_per_gpu_hour", 0, 1e5, "a number of US dollars per GPU-hour, 0–100000") : parent?.UsdPerGpuHour;
            if (model is null)
            {
                Fail(path + ".model", "required (the class inherits no GPU)", null);
            }

            if (count is null)
            {
                Fail(path + ".count", "required (the class inherits no GPU)", null);
            }

            if (idle is null)
            {
                Fail(path + ".watts_idle", "required (the class inherits no GPU)", null);
            }

            if (max is null)
            {
                Fail(path + ".watts_max", "required (the class inherits no GPU)", null);
            }

            if (usd is null)
            {
                Fail(path + ".usd_per_gpu_hour", "required (the class inherits no GPU)", null);
            }

            if (max < idle)
            {
                Fail(path + ".watts_max", $"must be ≥ watts_idle ({Show(idle.Value)})", f.TryGetValue("watts_max", out JsonElement w) ? w : null);
            }

            string source = f.TryGetValue("source", out JsonElement se) ? Str(se, path + ".source") : parent?.Source ?? name;
            return new GpuSpec(model, count.Value, idle.Value, max.Value, usd.Value, source);
        }

        private HostRule ReadRule(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "must be an object {match, class}", e);
            }

            Dictionary<string, JsonElement> f = Fields(e, path, s_ruleFields);
            if (!f.TryGetValue("class", out JsonElement ce))
            {
                Fail(path + ".class", "required", null);
            }

            string className = ClassRef(ce, path + ".class");
            string? host = null, gpu = null;
            int? vcpus = null;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (f.TryGetValue("match", out JsonElement m))
            {
                string mp = path + ".match";
                if (m.ValueKind != JsonValueKind.Object)
                {
                    Fail(mp, "must be an object {host, labels, gpu_model, vcpus}", m);
                }

                Dictionary<string, JsonElement> mf = Fields(m, mp, s_matchFields);
                if (mf.TryGetValue("host", out JsonElement he))
                {
                    host = Str(he, mp + ".host");
                }

                if (mf.TryGetValue("gpu_model", out JsonElement ge))
                {
                    gpu = Str(ge, mp + ".gpu_model");
                }

                if (mf.TryGetValue("vcpus", out JsonElement ve))
                {
                    vcpus = Int(ve, mp + ".vcpus", 1, 1_000_000, "a whole number of vCPUs, 1–1000000");
                }

                if (mf.TryGetValue("labels", out JsonElement le))
                {
                    foreach ((string key, JsonElement value) in Members(le, mp + ".labels"))
                    {
                        labels[key] = Str(value, Path(mp + ".labels", key));
                    }
                }
            }
            else
            {
                Fail(path + ".match", "required (use {} to match every host)", null);
            }

            return new HostRule(className, host, labels, gpu, vcpus);
        }

        private string ClassRef(JsonElement e, string path)
        {
            string className = Str(e, path);
            return _classes.ContainsKey(className)
                ? className
                : Throw<string>(path, $"unknown class '{className}' (known: {Known()})", e);
        }

        private string Known()
        {
            var names = new SortedSet<string>(_classes.Keys, StringComparer.Ordinal);
            names.UnionWith(_classElements.Keys);
            return string.Join(", ", names);
        }

        private string KnownRegions()
        {
            var names = new List<string>(_regions.Keys);
            names.Sort(StringComparer.Ordinal);
            return string.Join(", ", names);
        }

        private IEnumerable<(string Name, JsonElement Value)> Members(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "must be an object keyed by name", e);
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in e.EnumerateObject())
            {
                if (p.Name.Length == 0 || p.Name.Length > MaxNameLength)
                {
                    Fail(Path(path, p.Name), $"names must be 1–{MaxNameLength} characters", null);
                }

                if (!seen.Add(p.Name))
                {
                    Fail(Path(path, p.Name), "defined twice", null);
                }

                yield return (p.Name, p.Value);
            }
        }

        private Dictionary<string, JsonElement> Fields(JsonElement e, string path, string[] known)
        {
            var f = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty p in e.EnumerateObject())
            {
                string fieldPath = path.Length == 0 ? p.Name : Path(path, p.Name);
                if (Array.IndexOf(known, p.Name) < 0)
                {
                    Fail(fieldPath, $"unknown field (known: {string.Join(", ", known)})", null);
                }

                if (!f.TryAdd(p.Name, p.Value))
                {
                    Fail(fieldPath, "given twice", null);
                }
            }

            return f;
        }

        private double Number(JsonElement e, string path, double min, double max, string what)
        {
            double v = 0;
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out v) || !double.IsFinite(v))
            {
                Fail(path, $"must be {what}", e);
            }

            if (v < min || v > max)
            {
                Fail(path, $"must be {what}", e);
            }

            return v;
        }

        private int Int(JsonElement e, string path, int min, int max, string what)
        {
            double v = Number(e, path, min, max, what);
            if (v != Math.Floor(v))
            {
                Fail(path, $"must be {what}", e);
            }

            return (int)v;
        }

        private string Str(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.String)
            {
                Fail(path, "must be a string", e);
            }

            string s = e.GetString()!;
            if (s.Length == 0 || s.Length > MaxNameLength * 5)
            {
                Fail(path, $"must be a string of 1–{MaxNameLength * 5} characters", e);
            }

            return s;
        }

        [DoesNotReturn]
        private void Fail(string path, string what, JsonElement? got) => Throw<int>(path, what, got);

        [DoesNotReturn]
        private T Throw<T>(string path, string what, JsonElement? got) =>
            throw new CostModelException($"{name}: {path}: {what}{(got is JsonElement g ? $" (got {Show(g)})" : "")}");
    }

    /// <summary>A field path: <c>classes.gpu-node</c>, or <c>classes["a.b"]</c> when the name needs quoting.</summary>
    private static string Path(string parent, string child)
    {
        bool plain = child.Length > 0;
        foreach (char c in child)
        {
            plain &= char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
        }

        return plain ? $"{parent}.{child}" : $"{parent}[{Quote(child)}]";
    }

    private static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Show(JsonElement e)
    {
        string raw = e.GetRawText();
        return Quote(raw.Length > 60 ? raw[..57] + "…" : raw, quote: false);
    }

    /// <summary>Escapes control and non-ASCII-printable characters so a message stays one readable line.</summary>
    private static string Quote(string s, bool quote = true)
    {
        var sb = new StringBuilder(s.Length + 2);
        if (quote)
        {
            sb.Append('"');
        }

        int n = 0;
        foreach (char c in s)
        {
            if (++n > 80)
            {
                sb.Append('…');
                break;
            }

            if (c < 0x20 || c == 0x7f || char.IsSurrogate(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else if (quote && c is '"' or '\\')
            {
                sb.Append('\\').Append(c);
            }
            else
            {
                sb.Append(c);
            }
        }

        if (quote)
        {
            sb.Append('"');
        }

        return sb.ToString();
    }
}
