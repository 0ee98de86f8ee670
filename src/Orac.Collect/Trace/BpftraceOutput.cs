using System.Globalization;
using System.Text;
using System.Text.Json;
using Orac.Model;

namespace Orac.Collect.Trace;

/// <summary>One bucket of a bpftrace histogram: values in [<see cref="Low"/>, <see cref="High"/>] (inclusive).</summary>
/// <param name="Low">Smallest value in the bucket; null for the open bucket below the first bound.</param>
/// <param name="High">Largest value in the bucket; null for the open bucket above the last bound.</param>
/// <param name="Count">How many values fell in the bucket.</param>
public readonly record struct HistogramBucket(long? Low, long? High, long Count);

/// <summary>
/// What <c>bpftrace -f json</c> (v0.17 line format: one JSON object per line) printed, read without
/// reflection. Bad lines are skipped and counted in <see cref="Warnings"/>; nothing here throws on input.
/// </summary>
public sealed class BpftraceOutput
{
    /// <summary>Hard cap on one line (a map with many stacks is one line).</summary>
    public const int MaxLineBytes = 64 << 20;

    /// <summary>Cap on printf events kept (execsnoop on a busy host); more are counted, not kept.</summary>
    public const int MaxPrintfs = 200_000;

    /// <summary>Cap on entries kept per map.</summary>
    public const int MaxMapEntries = 1_000_000;

    private static readonly JsonDocumentOptions s_json = new() { MaxDepth = 8 };

    /// <summary>printf texts in arrival order.</summary>
    public List<string> Printfs { get; } = [];

    /// <summary>Keyed maps by name (with the <c>@</c>): key text (bpftrace joins tuple keys with ',') → value.</summary>
    public Dictionary<string, List<KeyValuePair<string, long>>> Maps { get; } = new(StringComparer.Ordinal);

    /// <summary>Histograms by name (with the <c>@</c>), buckets ascending.</summary>
    public Dictionary<string, List<HistogramBucket>> Histograms { get; } = new(StringComparer.Ordinal);

    /// <summary>Probes bpftrace said it attached (0 until its <c>attached_probes</c> line).</summary>
    public int AttachedProbes { get; private set; }

    /// <summary>The line every catalogue program prints from its BEGIN probe, once all probes are attached.</summary>
    public const string StartedLine = "orac:started\n";

    /// <summary>True once the program's BEGIN probe ran (bpftrace prints attached_probes before attaching).</summary>
    public bool Started { get; private set; }

    /// <summary>Events bpftrace reported lost (its perf buffer overflowed); non-zero means partial.</summary>
    public long LostEvents { get; private set; }

    /// <summary>Skipped lines and dropped events, by kind.</summary>
    public ParseWarnings Warnings { get; } = new();

    /// <summary>Parses a whole captured stdout.</summary>
    public static BpftraceOutput Parse(ReadOnlySpan<byte> stdout)
    {
        var output = new BpftraceOutput();
        int lineNo = 0;
        while (!stdout.IsEmpty)
        {
            int nl = stdout.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? stdout : stdout[..nl];
            stdout = nl < 0 ? default : stdout[(nl + 1)..];
            lineNo++;
            output.AddLine(line, lineNo);
        }

        return output;
    }

    /// <summary>Reads one line of output (blank lines are bpftrace's separators and are ignored).</summary>
    public void AddLine(ReadOnlySpan<byte> line, int lineNo)
    {
        line = line.Trim("\r\t "u8);
        if (line.IsEmpty)
        {
            return;
        }

        string where = "line " + lineNo.ToString(CultureInfo.InvariantCulture);
        if (line.Length > MaxLineBytes)
        {
            Warnings.Add("bpftrace output lines over 64 MiB skipped", where);
            return;
        }

        if (line[0] != (byte)'{')
        {
            Warnings.Add("bpftrace output lines that are not JSON skipped", where + ": " + Escape(line));
            return;
        }

        byte[] bytes = line.ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            // comm and arguments are whatever bytes a process chose; keep the event, mark the bytes.
            bytes = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes));
            Warnings.Add("bpftrace output lines with invalid UTF-8 read with U+FFFD in its place", where);
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes, s_json);
            if (!Read(doc.RootElement))
            {
                Warnings.Add("bpftrace output lines of an unexpected shape skipped", where + ": " + Escape(line));
            }
        }
        catch (JsonException)
        {
            Warnings.Add("bpftrace output lines that are not valid JSON skipped", where + ": " + Escape(line));
        }
    }

    private bool Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("data", out JsonElement data))
        {
            return false;
        }

        switch (type.GetString())
        {
            case "attached_probes":
                if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("probes", out JsonElement probes) && probes.TryGetInt32(out int n) && n >= 0)
                {
                    AttachedProbes = n;
                    return true;
                }

                return false;
            case "lost_events":
                if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("events", out JsonElement lost) && lost.TryGetInt64(out long l) && l >= 0)
                {
                    LostEvents = SatAdd(LostEvents, l);
                    return true;
                }

                return false;
            case "printf" or "join":
                if (data.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                if (!Started && data.ValueEquals(StartedLine))
                {
                    Started = true;
                    return true;
                }

                if (Printfs.Count >= MaxPrintfs)
                {
                    Warnings.AddCount("printf events over the cap of 200000 dropped", 1);
                    return true;
                }

                Printfs.Add(data.GetString()!);
                return true;
            case "map":
                return ReadMaps(data);
            case "hist" or "lhist":
                return ReadHists(data);
            default:
                return false;
        }
    }

    private bool ReadMaps(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var parsed = new List<(string, List<KeyValuePair<string, long>>)>();
        foreach (JsonProperty map in data.EnumerateObject())
        {
            var entries = new List<KeyValuePair<string, long>>();
            if (map.Value.ValueKind == JsonValueKind.Object)
            {
                // Helper maps holding stacks or strings per thread (printed when bpftrace is stopped by
                // SIGINT before the program clears them) carry no figures: all-text maps are ignored.
                if (AllText(map.Value))
                {
                    continue;
                }

                foreach (JsonProperty e in map.Value.EnumerateObject())
                {
                    if (!e.Value.TryGetInt64Strict(out long v))
                    {
                        return false;
                    }

                    if (entries.Count < MaxMapEntries)
                    {
                        entries.Add(new(e.Name, v));
                    }
                    else
                    {
                        Warnings.AddCount("map entries over the cap of 1000000 dropped", 1);
                    }
                }
            }
            else if (map.Value.TryGetInt64Strict(out long scalar))
            {
                // A map without keys prints a bare number.
                entries.Add(new("", scalar));
            }
            else
            {
                return false;
            }

            parsed.Add((map.Name, entries));
        }

        foreach ((string name, List<KeyValuePair<string, long>> entries) in parsed)
        {
            Maps[name] = entries;
        }

        return true;
    }

    private static bool AllText(JsonElement map)
    {
        bool any = false;
        foreach (JsonProperty e in map.EnumerateObject())
        {
            if (e.Value.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    private bool ReadHists(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var parsed = new List<(string, List<HistogramBucket>)>();
        foreach (JsonProperty hist in data.EnumerateObject())
        {
            // A keyed histogram (@h[k] = hist(...)) prints an object of arrays; the catalogue has none.
            if (hist.Value.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            var buckets = new List<HistogramBucket>();
            long? previousHigh = null;
            bool first = true;
            foreach (JsonElement b in hist.Value.EnumerateArray())
            {
                if (b.ValueKind != JsonValueKind.Object
                    || !b.TryGetProperty("count", out JsonElement c) || !c.TryGetInt64Strict(out long count) || count < 0)
                {
                    return false;
                }

                long? low = null, high = null;
                if (b.TryGetProperty("min", out JsonElement mn))
                {
                    if (!mn.TryGetInt64Strict(out long v))
                    {
                        return false;
                    }

                    low = v;
                }

                if (b.TryGetProperty("max", out JsonElement mx))
                {
                    if (!mx.TryGetInt64Strict(out long v))
                    {
                        return false;
                    }

                    high = v;
                }

                // Only the first bucket may be open below, only the last open above; bounds ascend without overlap.
                if ((low is null && !first) || (previousHigh is null && !first) || (low is long lo && high is long hi && lo > hi)
                    || (low is long lo2 && previousHigh is long ph && lo2 <= ph) || (low is null && high is null))
                {
                    return false;
                }

                buckets.Add(new HistogramBucket(low, high, count));
                previousHigh = high;
                first = false;
            }

            parsed.Add((hist.Name, buckets));
        }

        foreach ((string name, List<HistogramBucket> buckets) in parsed)
        {
            Histograms[name] = buckets;
        }

        return parsed.Count > 0;
    }

    private static long SatAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    /// <summary>Up to 80 bytes of <paramref name="line"/>, control characters escaped, for a warning.</summary>
    internal static string Escape(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> head = line.Length > 80 ? line[..80] : line;
        var sb = new StringBuilder();
        foreach (char ch in Encoding.UTF8.GetString(head))
        {
            if (char.IsControl(ch))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:x2}");
            }
            else
            {
                sb.Append(ch);
            }
        }

        if (line.Length > 80)
        {
            sb.Append('…');
        }

        return sb.ToString();
    }
}

/// <summary>Strict JSON number reading.</summary>
internal static class JsonElementExtensions
{
    /// <summary>True when the element is a JSON number that fits a long exactly.</summary>
    public static bool TryGetInt64Strict(this JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value);
    }
}
