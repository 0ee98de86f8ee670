using System.Globalization;
using System.Text;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cost.Gpu;

/// <summary>Readings parsed from a text format, with skipped lines counted (first reason kept).</summary>
public sealed record GpuParseResult(IReadOnlyList<GpuReading> Readings, long Skipped, string? FirstSkip);

/// <summary>GPU telemetry formats (docs/cost.md "GPUs"). Owner: the gpu work.</summary>
public static class GpuFormats
{
    /// <summary>Longest line read, characters; longer lines are skipped (counted).</summary>
    public const int MaxLineChars = 16 * 1024;

    /// <summary>Most readings one parse returns; further rows are skipped (counted).</summary>
    public const int MaxReadings = 1_000_000;

    /// <summary>Highest GPU index accepted.</summary>
    public const int MaxGpuIndex = 1023;

    /// <summary>Longest model name or UUID kept, characters.</summary>
    public const int MaxNameChars = 256;

    /// <summary>Highest board power accepted as real, watts (anything above is a broken reading).</summary>
    public const double MaxWatts = 100_000;

    // DCGM's "blank" values (dcgm_structs.h / dcgmvalue.h in NVIDIA/DCGM): a field that could not be read carries
    // DCGM_INT64_BLANK (0x7ffffffffffffff0) and up for int64 fields, DCGM_FP64_BLANK (2^47 = 140737488355328.0) and
    // up for double fields. dcgm-exporter prints them as plain numbers.
    private const double Int64Blank = 9.2233720368547758e18; // (double)0x7ffffffffffffff0
    private const double Fp64Blank = 140737488355328.0;

    // DCGM field ids (dcgm_fields.h in NVIDIA/DCGM): DCGM_FI_DEV_POWER_USAGE 155 (W, double),
    // DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION 156 (mJ since the driver was last reloaded, int64),
    // DCGM_FI_DEV_GPU_UTIL 203 (%, int64), DCGM_FI_DEV_FB_USED 252 (MB, int64),
    // DCGM_FI_PROF_GR_ENGINE_ACTIVE 1001 (ratio 0–1, double), DCGM_FI_PROF_SM_ACTIVE 1002 (ratio 0–1, double).
    private const int FieldPower = 155;
    private const int FieldEnergy = 156;
    private const int FieldUtil = 203;
    private const int FieldFbUsed = 252;
    private const int FieldGrEngineActive = 1001;
    private const int FieldSmActive = 1002;

    // Metric names dcgm-exporter prints, including the newer spellings some headers give the same ids.
    private static readonly Dictionary<string, int> s_dcgmNames = new(StringComparer.Ordinal)
    {
        ["DCGM_FI_DEV_POWER_USAGE"] = FieldPower,
        ["DCGM_FI_DEV_BOARD_POWER_WATTS"] = FieldPower,
        ["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] = FieldEnergy,
        ["DCGM_FI_DEV_GPU_UTIL"] = FieldUtil,
        ["DCGM_FI_DEV_GPU_UTIL_RATIO"] = FieldUtil,
        ["DCGM_FI_DEV_FB_USED"] = FieldFbUsed,
        ["DCGM_FI_PROF_GR_ENGINE_ACTIVE"] = FieldGrEngineActive,
        ["DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO"] = FieldGrEngineActive,
        ["DCGM_FI_PROF_SM_ACTIVE"] = FieldSmActive,
        ["DCGM_FI_PROF_SM_UTIL_RATIO"] = FieldSmActive,
    };

    private static readonly string[] s_timestampFormats = ["yyyy/MM/dd HH:mm:ss.fff", "yyyy/MM/dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.fff", "yyyy-MM-dd HH:mm:ss"];

    /// <summary>
    /// nvidia-smi <c>--query-gpu=… --format=csv</c> output (headers with [unit], values with units, [N/A],
    /// yyyy/MM/dd HH:mm:ss.fff timestamps read as UTC). <c>nounits</c> is accepted; <c>noheader</c> is not (the header
    /// names the columns). Columns are found by name in any order; <c>timestamp</c> and <c>index</c> are required,
    /// others optional, unknown ones ignored. A repeated header line (concatenated logs) starts a new column layout.
    /// Throws <see cref="OracException"/> naming the file and line when the header is unusable; bad rows are skipped.
    /// </summary>
    public static GpuParseResult ParseNvidiaSmiCsv(TextReader text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new LineReader(text, MaxLineChars);
        var skips = new Skips(name);
        var readings = new List<GpuReading>();
        SmiColumns? cols = null;
        string? line;
        while ((line = reader.Next(out bool tooLong)) is not null)
        {
            long lineNo = reader.LineNumber;
            if (tooLong)
            {
                skips.Add(lineNo, $"line longer than {MaxLineChars} characters");
                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] fields = line.Split(',');
            if (cols is null || IsHeader(fields))
            {
                cols = SmiColumns.From(fields, name, lineNo);
                continue;
            }

            if (readings.Count >= MaxReadings)
            {
                skips.Add(lineNo, $"more than {MaxReadings} readings");
                continue;
            }

            if (fields.Length != cols.Count)
            {
                skips.Add(lineNo, $"{fields.Length} columns, the header has {cols.Count}");
                continue;
            }

            if (ParseSmiRow(fields, cols, out string? why) is GpuReading r)
            {
                readings.Add(r);
            }
            else
            {
                skips.Add(lineNo, why!);
            }
        }

        return new GpuParseResult(readings, skips.Count, skips.First);
    }

    private static bool IsHeader(string[] fields)
    {
        foreach (string f in fields)
        {
            if (f.AsSpan().Trim().StartsWith("timestamp", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static GpuReading? ParseSmiRow(string[] fields, SmiColumns cols, out string? why)
    {
        string ts = fields[cols.Timestamp].Trim();
        if (!DateTime.TryParseExact(ts, s_timestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime when))
        {
            why = $"bad timestamp '{Escape(ts)}' (expected yyyy/MM/dd HH:mm:ss.fff)";
            return null;
        }

        string idx = fields[cols.Index].Trim();
        if (!int.TryParse(idx, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index > MaxGpuIndex)
        {
            why = $"bad index '{Escape(idx)}'";
            return null;
        }

        if (!SmiNumber(fields, cols.Util, "utilization.gpu", 0, 100, out double? util, out why)
            || !SmiNumber(fields, cols.Power, "power.draw", 0, MaxWatts, out double? power, out why)
            || !SmiNumber(fields, cols.Memory, "memory.used", 0, 1e9, out double? memory, out why))
        {
            return null;
        }

        why = null;
        return new GpuReading
        {
            Time = new DateTimeOffset(when, TimeSpan.Zero).ToUnixTimeMilliseconds(),
            Index = index,
            Uuid = cols.Uuid < 0 ? null : Clip(NotAvailable(fields[cols.Uuid].Trim()) ? "" : fields[cols.Uuid].Trim()) is { Length: > 0 } u ? u : null,
            Model = cols.Name < 0 ? "" : Clip(fields[cols.Name].Trim()),
            UtilPercent = util,
            PowerWatts = power,
            MemoryUsedMib = memory,
        };
    }

    /// <summary>A number column: missing column or [N/A]-style value → null; a unit suffix is dropped; out of range → false.</summary>
    private static bool SmiNumber(string[] fields, int col, string what, double min, double max, out double? value, out string? why)
    {
        value = null;
        why = null;
        if (col < 0)
        {
            return true;
        }

        string v = fields[col].Trim();
        if (NotAvailable(v))
        {
            return true;
        }

        int space = v.IndexOf(' ', StringComparison.Ordinal);
        string number = space > 0 ? v[..space] : v;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d) || d < min || d > max)
        {
            why = $"bad {what} '{Escape(v)}'";
            return false;
        }

        value = d;
        return true;
    }

    private static bool NotAvailable(string v) =>
        v.Length == 0 || v.StartsWith('[') || v.Equals("N/A", StringComparison.OrdinalIgnoreCase) || v.Equals("Not Supported", StringComparison.OrdinalIgnoreCase);

    private sealed class SmiColumns
    {
        public int Count { get; private init; }

        public int Timestamp { get; private init; } = -1;

        public int Index { get; private init; } = -1;

        public int Uuid { get; private init; } = -1;

        public int Name { get; private init; } = -1;

        public int Util { get; private init; } = -1;

        public int Power { get; private init; } = -1;

        public int Memory { get; private init; } = -1;

        public static SmiColumns From(string[] header, string file, long line)
        {
            int ts = -1, index = -1, uuid = -1, name = -1, util = -1, power = -1, memory = -1;
            for (int i = 0; i < header.Length; i++)
            {
                string h = header[i].Trim();
                int unit = h.IndexOf(" [", StringComparison.Ordinal);
                string key = (unit > 0 ? h[..unit] : h).Trim().ToLowerInvariant();
                switch (key)
                {
                    case "timestamp": ts = i; break;
                    case "index": index = i; break;
                    case "uuid": case "gpu_uuid": uuid = i; break;
                    case "name": case "gpu_name": name = i; break;
                    case "utilization.gpu": util = i; break;

                    // Newer drivers split power.draw into .average and .instant; power.draw stays the averaged one.
                    case "power.draw": power = i; break;
                    case "power.draw.average": power = power < 0 ? i : power; break;
                    case "memory.used": memory = i; break;
                    default: break;
                }

                // Units other than those the values are read in would silently scale figures: refuse them.
                if (unit > 0 && (key, h[(unit + 1)..].Trim()) is ("power.draw", not "[W]") or ("memory.used", not "[MiB]") or ("utilization.gpu", not "[%]"))
                {
                    throw new OracException($"{file}:{line}: column '{Escape(h)}' has a unit Orac does not read (expected W, MiB, %)");
                }
            }

            if (ts < 0 || index < 0)
            {
                throw new OracException($"{file}:{line}: not an nvidia-smi --query-gpu CSV header (needs the columns timestamp and index; got '{Escape(string.Join(',', header))}'). Run nvidia-smi --query-gpu=timestamp,index,uuid,name,utilization.gpu,power.draw,memory.used --format=csv");
            }

            return new SmiColumns { Count = header.Length, Timestamp = ts, Index = index, Uuid = uuid, Name = name, Util = util, Power = power, Memory = memory };
        }
    }

    /// <summary>
    /// dcgm-exporter's Prometheus text: samples <c>NAME{gpu="0",UUID="…",modelName="…"} VALUE [TIMESTAMP_MS]</c>.
    /// Fields are known by name (old and new spellings) or as <c>DCGM_FI_&lt;id&gt;</c> by numeric id; other metrics are
    /// ignored. Blank sentinels (int64 ≥ 0x7ffffffffffffff0, double ≥ 2^47) and NaN are missing values. Samples
    /// without a timestamp take <paramref name="scrapeTimeMs"/>. Samples of one GPU at one time form one reading.
    /// MIG instance samples (a non-empty <c>GPU_I_ID</c>) are skipped, counted: only whole-GPU figures are read.
    /// </summary>
    public static GpuParseResult ParseDcgm(TextReader text, string name, long scrapeTimeMs)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new LineReader(text, MaxLineChars);
        var skips = new Skips(name);
        var byKey = new Dictionary<(int Gpu, long Time), DcgmReading>();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.Next(out bool tooLong)) is not null)
        {
            long lineNo = reader.LineNumber;
            if (tooLong)
            {
                skips.Add(lineNo, $"line longer than {MaxLineChars} characters");
                continue;
            }

            ReadOnlySpan<char> s = line.AsSpan().Trim();
            if (s.IsEmpty || s[0] == '#')
            {
                continue;
            }

            labels.Clear();
            if (!ParsePromSample(s, labels, out string metric, out double value, out long? ts, out string? why))
            {
                skips.Add(lineNo, why!);
                continue;
            }

            if (FieldOf(metric) is not int field)
            {
                continue;
            }

            if (labels.TryGetValue("GPU_I_ID", out string? mig) && mig.Length > 0)
            {
                skips.Add(lineNo, "MIG instance sample (only whole-GPU samples are read)");
                continue;
            }

            if (!labels.TryGetValue("gpu", out string? g) || !int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out int gpu) || gpu > MaxGpuIndex)
            {
                skips.Add(lineNo, $"{metric}: no usable gpu=\"N\" label");
                continue;
            }

            bool intField = field is FieldEnergy or FieldUtil or FieldFbUsed;
            if (double.IsNaN(value) || (intField ? value >= Int64Blank : value >= Fp64Blank))
            {
                continue; // blank: DCGM could not read the field
            }

            (double min, double max) = field switch
            {
                FieldUtil => (0.0, 100.0),
                FieldPower => (0.0, MaxWatts),
                FieldGrEngineActive or FieldSmActive => (0.0, 1.0),
                _ => (0.0, double.MaxValue),
            };
            if (!double.IsFinite(value) || value < min || value > max)
            {
                skips.Add(lineNo, $"{metric}: value {value.ToString(CultureInfo.InvariantCulture)} out of range");
                continue;
            }

            long time = ts ?? scrapeTimeMs;
            if (!byKey.TryGetValue((gpu, time), out DcgmReading? r))
            {
                if (byKey.Count >= MaxReadings)
                {
                    skips.Add(lineNo, $"more than {MaxReadings} readings");
                    continue;
                }

                r = new DcgmReading { Time = time, Index = gpu };
                byKey[(gpu, time)] = r;
            }

            if (labels.TryGetValue("UUID", out string? uuid) && uuid.Length > 0)
            {
                r.Uuid = Clip(uuid);
            }

            if (labels.TryGetValue("modelName", out string? model) && model.Length > 0)
            {
                r.Model = Clip(model);
            }

            switch (field)
            {
                case FieldPower: r.Power = value; break;
                case FieldEnergy: r.Energy = value; break;
                case FieldUtil: r.Util = value; break;
                case FieldFbUsed: r.FbUsed = value; break;
                case FieldGrEngineActive: r.GrActive = value * 100; break;
                default: r.SmActive = value * 100; break;
            }
        }

        var readings = new List<GpuReading>(byKey.Count);
        foreach (DcgmReading r in byKey.Values)
        {
            readings.Add(new GpuReading
            {
                Time = r.Time,
                Index = r.Index,
                Uuid = r.Uuid,
                Model = r.Model,

                // GR engine activity is the profiling counterpart of GPU_UTIL (share of time the graphics/compute
                // engine was busy): used only when GPU_UTIL itself is not exported.
                UtilPercent = r.Util ?? r.GrActive,
                SmActivePercent = r.SmActive,
                PowerWatts = r.Power,
                EnergyMillijoules = r.Energy,
                MemoryUsedMib = r.FbUsed,
            });
        }

        readings.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Index.CompareTo(b.Index));
        return new GpuParseResult(readings, skips.Count, skips.First);
    }

    private static int? FieldOf(string metric)
    {
        if (s_dcgmNames.TryGetValue(metric, out int id))
        {
            return id;
        }

        // Keyed by numeric id: DCGM_FI_<id>.
        const string Prefix = "DCGM_FI_";
        if (metric.StartsWith(Prefix, StringComparison.Ordinal)
            && int.TryParse(metric.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n is FieldPower or FieldEnergy or FieldUtil or FieldFbUsed or FieldGrEngineActive or FieldSmActive)
        {
            return n;
        }

        return null;
    }

    /// <summary>Parses one Prometheus text sample line (not a comment).</summary>
    private static bool ParsePromSample(ReadOnlySpan<char> s, Dictionary<string, string> labels, out string metric, out double value, out long? ts, out string? why)
    {
        metric = "";
        value = 0;
        ts = null;
        int i = 0;
        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '_' or ':'))
        {
            i++;
        }

        if (i == 0 || char.IsAsciiDigit(s[0]))
        {
            why = $"not a metric sample: '{Escape(s.ToString())}'";
            return false;
        }

        metric = s[..i].ToString();
        if (i < s.Length && s[i] == '{')
        {
            i++;
            var sb = new StringBuilder();
            while (true)
            {
                while (i < s.Length && s[i] is ' ' or ',')
                {
                    i++;
                }

                if (i < s.Length && s[i] == '}')
                {
                    i++;
                    break;
                }

                int nameStart = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }

                if (i == nameStart || i + 1 >= s.Length || s[i] != '=' || s[i + 1] != '"')
                {
                    why = $"{metric}: bad label set at column {i + 1}";
                    return false;
                }

                string labelName = s[nameStart..i].ToString();
                i += 2;
                sb.Clear();
                bool closed = false;
                while (i < s.Length)
                {
                    char c = s[i++];
                    if (c == '"')
                    {
                        closed = true;
                        break;
                    }

                    if (c == '\\' && i < s.Length)
                    {
                        char e = s[i++];
                        sb.Append(e == 'n' ? '\n' : e);
                    }
                    else
                    {
                        sb.Append(c);
                    }
                }

                if (!closed)
                {
                    why = $"{metric}: unterminated label value";
                    return false;
                }

                labels[labelName] = sb.ToString();
            }
        }

        ReadOnlySpan<char> rest = s[i..].Trim();
        int sp = rest.IndexOfAny(' ', '\t');
        ReadOnlySpan<char> v = sp < 0 ? rest : rest[..sp];
        ReadOnlySpan<char> t = sp < 0 ? [] : rest[sp..].Trim();
        if (v.IsEmpty || !TryPromFloat(v, out value))
        {
            why = $"{metric}: bad value '{Escape(v.ToString())}'";
            return false;
        }

        if (!t.IsEmpty)
        {
            if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms) || ms <= 0)
            {
                why = $"{metric}: bad timestamp '{Escape(t.ToString())}'";
                return false;
            }

            ts = ms;
        }

        why = null;
        return true;
    }

    private static bool TryPromFloat(ReadOnlySpan<char> v, out double value)
    {
        if (v.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (v.Equals("+Inf", StringComparison.OrdinalIgnoreCase) || v.Equals("Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (v.Equals("-Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private sealed class DcgmReading
    {
        public long Time { get; init; }

        public int Index { get; init; }

        public string? Uuid { get; set; }

        public string Model { get; set; } = "";

        public double? Util { get; set; }

        public double? GrActive { get; set; }

        public double? SmActive { get; set; }

        public double? Power { get; set; }

        public double? Energy { get; set; }

        public double? FbUsed { get; set; }
    }

    /// <summary>
    /// Reduces one GPU's readings in [startMs, endMs) to usage. A reading describes the interval that ends at it (nvidia-smi
    /// and DCGM average utilization and power over the time before the sample). The interval between consecutive
    /// readings counts when it is at most <paramref name="maxGapMs"/>; the first reading of a run (the first, or the
    /// first after a longer gap) stands for the run's median interval (none when the run has one reading), clipped at
    /// <paramref name="startMs"/>. Energy is the energy counter's increase between readings when both have it (a
    /// decrease is a counter reset, a driver reload: the new value is what was used since), else power × interval;
    /// seconds with neither are filled at the average measured power of those with one.
    /// </summary>
    public static GpuUsage Reduce(IReadOnlyList<GpuReading> readings, long startMs, long endMs, double idleUtilPercent = 10, long maxGapMs = 120_000)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var list = new List<GpuReading>(readings.Count);
        foreach (GpuReading r in readings)
        {
            if (r.Time >= startMs && r.Time < endMs)
            {
                list.Add(r);
            }
        }

        list.Sort(static (a, b) => a.Time.CompareTo(b.Time));
        if (list.Count == 0)
        {
            return new GpuUsage { Index = readings.Count > 0 ? readings[0].Index : 0, Model = readings.Count > 0 ? readings[0].Model : "" };
        }

        // Interval (ms) each reading stands for; 0 = not counted.
        long[] dt = new long[list.Count];
        bool[] follows = new bool[list.Count]; // the interval runs from the previous reading (energy counters apply)
        int runStart = 0;
        for (int i = 1; i <= list.Count; i++)
        {
            bool runEnds = i == list.Count || list[i].Time - list[i - 1].Time > maxGapMs;
            if (i < list.Count && !runEnds)
            {
                dt[i] = list[i].Time - list[i - 1].Time; // 0 for a duplicate time: counted once
                follows[i] = true;
            }

            if (runEnds)
            {
                dt[runStart] = Math.Min(MedianPositive(dt, runStart + 1, i), list[runStart].Time - startMs);
                runStart = i;
            }
        }

        double observed = 0, busy = 0, low = 0, trap = 0, smWeighted = 0, smSeconds = 0, joules = 0, energySeconds = 0;
        bool anyEnergy = false;
        string model = "";
        for (int i = 0; i < list.Count; i++)
        {
            GpuReading r = list[i];
            if (r.Model.Length > 0)
            {
                model = r.Model;
            }

            double sec = dt[i] / 1000.0;
            if (sec <= 0)
            {
                continue;
            }

            observed += sec;
            if (r.UtilPercent is double u)
            {
                busy += u / 100 * sec;
                if (u < idleUtilPercent)
                {
                    low += sec;
                }
            }

            if (r.SmActivePercent is double sm)
            {
                smWeighted += sm * sec;
                smSeconds += sec;
                if (r.UtilPercent is >= 50 && sm < 25)
                {
                    trap += sec;
                }
            }

            if (follows[i] && r.EnergyMillijoules is double e1 && list[i - 1].EnergyMillijoules is double e0)
            {
                joules += (e1 >= e0 ? e1 - e0 : e1) / 1000;
                energySeconds += sec;
                anyEnergy = true;
            }
            else if (r.PowerWatts is double w)
            {
                joules += w * sec;
                energySeconds += sec;
                anyEnergy = true;
            }
        }

        double? measured = null;
        if (anyEnergy)
        {
            measured = energySeconds > 0 && energySeconds < observed ? joules * observed / energySeconds : joules;
        }

        return new GpuUsage
        {
            Index = list[0].Index,
            Model = model,
            ObservedSeconds = observed,
            BusySeconds = busy,
            SmActivePercent = smSeconds > 0 ? smWeighted / smSeconds : null,
            MeasuredJoules = measured,
            LowUtilSeconds = low,
            TrapSeconds = trap,
        };
    }

    private static long MedianPositive(long[] values, int from, int to)
    {
        var list = new List<long>(Math.Max(0, to - from));
        for (int i = from; i < to; i++)
        {
            if (values[i] > 0)
            {
                list.Add(values[i]);
            }
        }

        if (list.Count == 0)
        {
            return 0;
        }

        list.Sort();
        return list[list.Count / 2];
    }

    /// <summary>Longest interval between RAPL readings that is counted, ms: the counter may wrap more than once unseen over longer ones.</summary>
    public const long MaxRaplGapMs = 10 * 60 * 1000;

    /// <summary>
    /// Measured CPU energy from RAPL package readings in [startMs, endMs). Only <c>package-N</c> domains are summed (core
    /// and uncore are inside the package; dram and psys are not CPU). Each domain's counter increase between consecutive
    /// readings counts; a decrease is a wrap at <see cref="PowerReading.MaxEnergyMicrojoules"/> (without a known range
    /// the interval is dropped); intervals longer than <see cref="MaxRaplGapMs"/> are dropped. Idle power is the lowest
    /// summed package power over any interval (Kepler's rule). Null with no counted interval.
    /// </summary>
    public static MeasuredCpuEnergy? ReduceRapl(IReadOnlyList<PowerReading> readings, long startMs, long endMs)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var byDomain = new Dictionary<string, List<PowerReading>>(StringComparer.Ordinal);
        foreach (PowerReading r in readings)
        {
            if (r.Time < startMs || r.Time >= endMs || !r.Domain.StartsWith("package", StringComparison.Ordinal))
            {
                continue;
            }

            if (!byDomain.TryGetValue(r.Domain, out List<PowerReading>? l))
            {
                byDomain[r.Domain] = l = [];
            }

            l.Add(r);
        }

        // Per interval end time: summed joules and the longest interval.
        var intervals = new SortedDictionary<long, (double Joules, long Ms)>();
        foreach (List<PowerReading> l in byDomain.Values)
        {
            l.Sort(static (a, b) => a.Time.CompareTo(b.Time));
            for (int i = 1; i < l.Count; i++)
            {
                long ms = l[i].Time - l[i - 1].Time;
                if (ms <= 0 || ms > MaxRaplGapMs)
                {
                    continue;
                }

                long e0 = l[i - 1].EnergyMicrojoules, e1 = l[i].EnergyMicrojoules, max = l[i].MaxEnergyMicrojoules;
                double uj;
                if (e1 >= e0)
                {
                    uj = e1 - e0;
                }
                else if (max > 0 && e0 <= max)
                {
                    uj = (double)(max - e0) + e1;
                }
                else
                {
                    continue;
                }

                (double j, long m) = intervals.GetValueOrDefault(l[i].Time);
                intervals[l[i].Time] = (j + (uj / 1e6), Math.Max(m, ms));
            }
        }

        if (intervals.Count == 0)
        {
            return null;
        }

        double joules = 0, seconds = 0, idle = double.MaxValue;
        foreach ((double j, long ms) in intervals.Values)
        {
            joules += j;
            seconds += ms / 1000.0;
            idle = Math.Min(idle, j / (ms / 1000.0));
        }

        var names = new List<string>(byDomain.Keys);
        names.Sort(StringComparer.Ordinal);
        return new MeasuredCpuEnergy(joules, idle, seconds, "RAPL " + string.Join('+', names));
    }

    private static string Clip(string s) => s.Length > MaxNameChars ? s[..MaxNameChars] : s;

    /// <summary>Shows text in an error: control characters as '?', at most 80 characters.</summary>
    internal static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 80 ? s[..80] : s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return s.Length > 80 ? sb.Append('…').ToString() : sb.ToString();
    }

    private sealed class Skips(string name)
    {
        public long Count { get; private set; }

        public string? First { get; private set; }

        public void Add(long line, string why)
        {
            Count++;
            First ??= $"{name}:{line}: {why}";
        }
    }
}

/// <summary>Fuzz targets <c>nvidia-smi-csv</c> and <c>dcgm-text</c> (fuzz/Orac.Fuzz).</summary>
public static class GpuFormatsFuzz
{
    /// <summary>Parses <paramref name="data"/> as nvidia-smi CSV and reduces what it read.</summary>
    public static void NvidiaSmi(byte[] data)
    {
        try
        {
            GpuParseResult r = GpuFormats.ParseNvidiaSmiCsv(new StringReader(Encoding.UTF8.GetString(data)), "fuzz.csv");
            Check(r, data.Length);
        }
        catch (OracException)
        {
        }
    }

    /// <summary>Parses <paramref name="data"/> as dcgm-exporter text and reduces what it read.</summary>
    public static void Dcgm(byte[] data)
    {
        GpuParseResult r = GpuFormats.ParseDcgm(new StringReader(Encoding.UTF8.GetString(data)), "fuzz.prom", 1_800_000_000_000);
        Check(r, data.Length);
    }

    private static void Check(GpuParseResult r, int bytes)
    {
        if (r.Readings.Count > bytes || r.Skipped < 0 || (r.Skipped > 0) != (r.FirstSkip is not null))
        {
            throw new InvalidOperationException("parse result does not hold together");
        }

        var byGpu = new Dictionary<int, List<GpuReading>>();
        foreach (GpuReading g in r.Readings)
        {
            if (!byGpu.TryGetValue(g.Index, out List<GpuReading>? l))
            {
                byGpu[g.Index] = l = [];
            }

            l.Add(g);
        }

        foreach (List<GpuReading> l in byGpu.Values)
        {
            GpuUsage u = GpuFormats.Reduce(l, long.MinValue / 4, long.MaxValue / 4);
            if (u.ObservedSeconds < 0 || u.BusySeconds < 0 || u.BusySeconds > u.ObservedSeconds + 1e-6 || u.LowUtilSeconds > u.ObservedSeconds + 1e-6
                || u.TrapSeconds > u.ObservedSeconds + 1e-6 || u.MeasuredJoules < 0 || double.IsNaN(u.MeasuredJoules ?? 0))
            {
                throw new InvalidOperationException("GPU usage does not hold together");
            }
        }
    }
}
