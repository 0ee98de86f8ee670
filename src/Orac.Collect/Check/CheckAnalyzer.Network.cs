using System.Globalization;

namespace Orac.Collect.Check;

/// <summary>The analysis of network interfaces and TCP.</summary>
internal sealed partial class CheckAnalyzer
{
    private void Nets()
    {
        List<NetCounters>? n1 = _t1.Nets;
        List<NetCounters>? n0 = _t0?.Nets;
        if (n1 is null || (_t0 is not null && n0 is null))
        {
            _r.Use.Add(new UseRow { Resource = "network", Utilization = "n/a (/proc/net/dev unreadable)", Flag = "n/a" });
            return;
        }

        foreach (NetCounters c1 in n1)
        {
            if (c1.Name == "lo")
            {
                continue;
            }

            NetCounters c0 = new(c1.Name, 0, 0, 0, 0, 0, 0, 0, 0);
            if (n0 is not null)
            {
                int i = n0.FindIndex(x => x.Name == c1.Name);
                if (i < 0)
                {
                    _r.Notes.Add($"interface {c1.Name} appeared during the window; not shown");
                    continue;
                }

                c0 = n0[i];
            }

            if (c1.RxBytes < c0.RxBytes || c1.RxPackets < c0.RxPackets || c1.RxErrors < c0.RxErrors || c1.RxDrops < c0.RxDrops
                || c1.TxBytes < c0.TxBytes || c1.TxPackets < c0.TxPackets || c1.TxErrors < c0.TxErrors || c1.TxDrops < c0.TxDrops)
            {
                _r.Notes.Add($"/proc/net/dev {c1.Name} counters went backwards (interface reset or 32-bit wrap); not shown");
                continue;
            }

            var f = new NetFigures
            {
                Name = c1.Name,
                RxMiBPerSecond = R((c1.RxBytes - c0.RxBytes) / 1048576.0 / _seconds),
                TxMiBPerSecond = R((c1.TxBytes - c0.TxBytes) / 1048576.0 / _seconds),
                RxPacketsPerSecond = R((c1.RxPackets - c0.RxPackets) / _seconds),
                TxPacketsPerSecond = R((c1.TxPackets - c0.TxPackets) / _seconds),
                Errors = SatAdd(c1.RxErrors - c0.RxErrors, c1.TxErrors - c0.TxErrors),
                Drops = SatAdd(c1.RxDrops - c0.RxDrops, c1.TxDrops - c0.TxDrops),
            };
            if (_t1.NetSpeedMbps.TryGetValue(c1.Name, out long mbps))
            {
                f.SpeedMbps = mbps;
                double bits = Math.Max(c1.RxBytes - c0.RxBytes, c1.TxBytes - c0.TxBytes) * 8.0 / _seconds;
                f.UtilizationPercent = R(Math.Min(100, 100.0 * bits / (mbps * 1e6)));
            }

            _r.Networks.Add(f);
            var row = new UseRow
            {
                Resource = $"net {f.Name}",
                Utilization = (f.UtilizationPercent is double u ? $"{F(u)}% of {mbps} Mb/s; " : "") + $"rx {f.RxMiBPerSecond:0.00} MiB/s, tx {f.TxMiBPerSecond:0.00} MiB/s",
                Saturation = $"{f.Drops} drops {Window}",
                Errors = $"{f.Errors} errors {Window}",
            };
            _r.Use.Add(row);
            if (f.UtilizationPercent > Thresholds.NetUtilPercent)
            {
                Flag(row, "utilization", "net-util", $"{f.Name} at {F(f.UtilizationPercent.Value)}% of its {mbps} Mb/s link (> {Thresholds.NetUtilPercent}%): the link is nearly full");
            }

            if (f.Drops > 0)
            {
                Flag(row, "saturation", "net-drops", $"{f.Name} dropped {f.Drops} packets {Window}: queues or buffers overflowed (or unwanted traffic was discarded)");
            }

            if (f.Errors > 0)
            {
                Flag(row, "errors", "net-errors", $"{f.Name} had {f.Errors} errors {Window}: check cabling, driver and NIC counters (ethtool -S)");
            }
        }
    }

    private static ulong SatAdd(ulong a, ulong b) => a + b < a ? ulong.MaxValue : a + b;

    private long? Count(Dictionary<string, long>? d0, Dictionary<string, long> d1, string key)
    {
        if (!d1.TryGetValue(key, out long v1))
        {
            return null;
        }

        long v0 = 0;
        if (_t0 is not null && (d0 is null || !d0.TryGetValue(key, out v0)))
        {
            return null;
        }

        if (v1 < v0 || v0 < 0)
        {
            _r.Notes.Add($"/proc/net/snmp Tcp {key} went backwards ({v0} -> {v1}); not shown");
            return null;
        }

        return v1 - v0;
    }

    private void Tcp()
    {
        var row = new UseRow { Resource = "TCP" };
        _r.Use.Add(row);
        Dictionary<string, long>? t1 = _t1.Tcp;
        Dictionary<string, long>? t0 = _t0?.Tcp;
        if (t1 is null || (_t0 is not null && t0 is null))
        {
            row.Flag = "n/a";
            row.Utilization = "n/a (/proc/net/snmp unreadable)";
            return;
        }

        double? PerSec(long? c) => c is long x ? R(x / _seconds) : null;
        long? outSegs = Count(t0, t1, "OutSegs");
        long? retrans = Count(t0, t1, "RetransSegs");
        var f = new TcpFigures
        {
            ActiveOpensPerSecond = PerSec(Count(t0, t1, "ActiveOpens")),
            PassiveOpensPerSecond = PerSec(Count(t0, t1, "PassiveOpens")),
            OutSegmentsPerSecond = PerSec(outSegs),
            RetransmitsPerSecond = PerSec(retrans),
            RetransmitPercent = outSegs > 0 && retrans is long rt ? R(100.0 * rt / outSegs.Value) : null,
            ResetsSentPerSecond = PerSec(Count(t0, t1, "OutRsts")),
            EstablishedResets = Count(t0, t1, "EstabResets"),
            AttemptFails = Count(t0, t1, "AttemptFails"),
            Established = t1.TryGetValue("CurrEstab", out long est) ? est : null,
        };
        _r.Tcp = f;
        row.Utilization = $"{f.Established?.ToString(CultureInfo.InvariantCulture) ?? "?"} established; {F(f.ActiveOpensPerSecond ?? 0)} active + {F(f.PassiveOpensPerSecond ?? 0)} passive opens/s";
        row.Saturation = $"{F(f.ResetsSentPerSecond ?? 0)} resets sent/s; {f.EstablishedResets ?? 0} established resets, {f.AttemptFails ?? 0} failed attempts {Window}";
        row.Errors = f.RetransmitPercent is double p ? $"retransmits {F(p)}% of segments ({F(f.RetransmitsPerSecond ?? 0)}/s)" : "retransmits - (no segments sent)";
        if (f.RetransmitPercent > Thresholds.RetransmitPercent)
        {
            Flag(row, "errors", "tcp-retransmits", $"{F(f.RetransmitPercent.Value)}% of TCP segments retransmitted {Window} (> {Thresholds.RetransmitPercent}%): packet loss or congestion on some path");
        }
    }
}
