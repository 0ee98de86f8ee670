using Orac.Model;

namespace Orac.Collect.Check;

/// <summary>
/// Fuzz target: feeds the same bytes to every /proc parser of <c>orac check</c> (and the /dev/kmsg
/// record parser). Only <see cref="OracException"/> may escape a parser, and the kmsg parser, which
/// skips damaged records, may throw nothing.
/// </summary>
public static class CheckFuzz
{
    /// <summary>Runs one input.</summary>
    public static void Run(byte[] data)
    {
        Swallow(() => ProcParsers.LoadAvg(data, "loadavg"));
        Swallow(() => ProcParsers.Uptime(data, "uptime"));
        Swallow(() => ProcParsers.Stat(data, "stat"));
        Swallow(() => ProcParsers.Pressure(data, "pressure"));
        Swallow(() => ProcParsers.KeyValues(data, "meminfo"));
        Swallow(() => ProcParsers.DiskStats(data, "diskstats", _ => true));
        Swallow(() => ProcParsers.NetDev(data, "net/dev"));
        Swallow(() => ProcParsers.SnmpTcp(data, "net/snmp"));
        Swallow(() => ProcParsers.FileNr(data, "file-nr"));
        Swallow(() => ProcParsers.PidStat(data, "pid/stat"));
        Swallow(() => ProcParsers.StatmResidentPages(data, "pid/statm"));
        ProcParsers.Kmsg(data, out _);
    }

    private static void Swallow<T>(Func<T> parse)
    {
        try
        {
            parse();
        }
        catch (OracException)
        {
        }
    }
}
