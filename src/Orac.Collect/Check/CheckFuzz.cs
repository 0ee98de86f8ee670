using Orac.Model;

namespace Orac.Collect.Check;

/// <summary>
/// Fuzz target: feeds the same bytes to every /proc parser of <c>orac check</c> (and the /dev/kmsg
/// record parser), then analyses whatever parsed as a since-boot snapshot. Only
/// <see cref="OracException"/> may escape a parser; the kmsg parser, which skips damaged records, the
/// analysis, the text and the JSON may throw nothing, and no figure may come out negative.
/// </summary>
public static class CheckFuzz
{
    /// <summary>Runs one input.</summary>
    public static void Run(byte[] data)
    {
        // Whatever parses becomes a since-boot snapshot (raw counters are the deltas, so hostile values
        // reach every sum and division), which must analyse, render and serialise without a negative figure.
        var s = new Snapshot
        {
            Load = Try(() => ProcParsers.LoadAvg(data, "loadavg")),
            Uptime = Try(() => ProcParsers.Uptime(data, "uptime")),
            Stat = TryRef(() => ProcParsers.Stat(data, "stat")),
            MemInfo = TryRef(() => ProcParsers.KeyValues(data, "meminfo")),
            Disks = TryRef(() => ProcParsers.DiskStats(data, "diskstats", _ => true)),
            Nets = TryRef(() => ProcParsers.NetDev(data, "net/dev")),
            Tcp = TryRef(() => ProcParsers.SnmpTcp(data, "net/snmp")),
            Files = Try(() => ProcParsers.FileNr(data, "file-nr")),
        };
        s.VmStat = s.MemInfo;
        if (Try(() => ProcParsers.Pressure(data, "pressure")) is Pressure p)
        {
            s.Pressure["io"] = p;
        }

        PidStat? ps = Try(() => ProcParsers.PidStat(data, "pid/stat"));
        ulong? rss = Try(() => ProcParsers.StatmResidentPages(data, "pid/statm"));
        if (ps is PidStat st)
        {
            s.Processes = new Dictionary<int, ProcessSample> { [st.Pid] = new ProcessSample(st, (rss ?? 0) * 4096) };
        }

        List<KmsgRecord> kmsg = ProcParsers.Kmsg(data, out int skipped);
        CheckReport r = CheckAnalyzer.Compare(null, s, s.Uptime is > 0 and double up ? up : 1, (kmsg, skipped, null));
        CheckText.Render(r);
        byte[] json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(r, CheckJsonContext.Default.CheckReport);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        NoNegative(doc.RootElement, "");
    }

    private static void NoNegative(System.Text.Json.JsonElement e, string name)
    {
        switch (e.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Object:
                foreach (System.Text.Json.JsonProperty p in e.EnumerateObject())
                {
                    NoNegative(p.Value, p.Name);
                }

                break;
            case System.Text.Json.JsonValueKind.Array:
                foreach (System.Text.Json.JsonElement x in e.EnumerateArray())
                {
                    NoNegative(x, name);
                }

                break;
            case System.Text.Json.JsonValueKind.Number when e.GetDouble() < 0 && name != "established":
                throw new InvalidOperationException($"negative figure {name} = {e.GetRawText()}");
            default:
                break;
        }
    }

    private static T? Try<T>(Func<T> parse)
        where T : struct
    {
        try
        {
            return parse();
        }
        catch (OracException)
        {
            return null;
        }
    }

    private static T? TryRef<T>(Func<T> parse)
        where T : class
    {
        try
        {
            return parse();
        }
        catch (OracException)
        {
            return null;
        }
    }
}
