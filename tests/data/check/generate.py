#!/usr/bin/env python3
"""Writes the orac check fixture trees: tests/data/check/<scenario>/{t0,t1}/proc/... (+ sys, dev).
Each scenario is a healthy 10-second window with one kind of trouble added; the expected figures are
in tests/Orac.Collect.Tests/Check/CheckFixtureTests.cs. Run it again after changing a scenario."""
import copy, os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))

NETDEV_HEAD = ("Inter-|   Receive                                                |  Transmit\n"
               " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
TCP_NAMES = "RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors".split()


def healthy():
    # Values at t0 and the change over the 10 s window; t1 = t0 + delta unless a scenario sets t1.
    return {
        "uptime": (1000.0, 1010.0),
        "loadavg": "0.20 0.30 0.25 1/120 5000",
        # cpu -> [user nice system idle iowait irq softirq steal] at t0 and delta
        "cpus": {0: ([50000, 100, 20000, 400000, 1000, 0, 500, 0], [100, 0, 50, 840, 10, 0, 0, 0]),
                 1: ([40000, 100, 21000, 410000, 900, 0, 400, 0], [50, 0, 50, 900, 0, 0, 0, 0])},
        "procs_running": (1, 1), "procs_blocked": (0, 0), "ctxt": (900000, 5000), "processes": (4000, 20),
        "psi": {"cpu": ((0.50, 0.40, 0.30, 5000000), 100000, None),
                "memory": ((0.00, 0.00, 0.00, 1000), 0, ((0.00, 0.00, 0.00, 500), 0)),
                "io": ((0.10, 0.10, 0.05, 200000), 10000, ((0.00, 0.00, 0.00, 100000), 0))},
        "meminfo": {"MemTotal": 8000000, "MemFree": 2000000, "MemAvailable": 6000000, "Buffers": 100000, "Cached": 3500000,
                    "SwapCached": 0, "SwapTotal": 2097152, "SwapFree": 2097152, "Dirty": 120},
        "vmstat": {"nr_free_pages": (500000, 0), "pgpgin": (800000, 1000), "pgpgout": (1600000, 2000), "pswpin": (0, 0),
                   "pswpout": (0, 0), "pgmajfault": (3000, 10), "oom_kill": (0, 0)},
        # name -> ([reads merged sectors_read ms_reading writes merged sectors_written ms_writing inflight io_ticks weighted], delta)
        "disks": {"sda": ([20000, 100, 800000, 30000, 50000, 2000, 4000000, 90000, 0, 60000, 120000],
                          [100, 0, 2048, 200, 400, 0, 20480, 800, 0, 1000, 1000]),
                  "sda1": ([19000, 100, 790000, 29000, 49000, 2000, 3990000, 88000, 0, 59000, 117000],
                           [100, 0, 2048, 200, 400, 0, 20480, 800, 0, 1000, 1000]),
                  "loop0": ([50, 0, 400, 10, 0, 0, 0, 0, 0, 20, 10], [500, 0, 4000, 0, 0, 0, 0, 0, 0, 10000, 0])},
        "whole_disks": ["sda", "loop0"],
        # name -> ([rx_bytes rx_packets rx_errs rx_drop tx_bytes tx_packets tx_errs tx_drop], delta)
        "nets": {"lo": ([500000, 4000, 0, 0, 500000, 4000, 0, 0], [1000, 10, 0, 0, 1000, 10, 0, 0]),
                 "eth0": ([900000000, 800000, 0, 0, 300000000, 400000, 0, 0], [10485760, 10000, 0, 0, 5242880, 5000, 0, 0])},
        "speed": {"eth0": "1000", "lo": None},
        "tcp": {"RtoAlgorithm": (1, 0), "RtoMin": (200, 0), "RtoMax": (120000, 0), "MaxConn": (-1, 0), "ActiveOpens": (1000, 50),
                "PassiveOpens": (2000, 100), "AttemptFails": (10, 2), "EstabResets": (5, 1), "CurrEstab": (40, 2), "InSegs": (500000, 9000),
                "OutSegs": (600000, 10000), "RetransSegs": (300, 10), "InErrs": (0, 0), "OutRsts": (100, 20), "InCsumErrors": (0, 0)},
        "file_nr": ("1984 0 1000000", "2048 0 1000000"),
        # pid -> (comm, state, utime0, stime0, start ticks, rss pages, delta ticks (utime))
        "procs": {1: ("systemd", "S", 300, 200, 1, 3000, 0),
                  100: ("nginx", "S", 4000, 1000, 5000, 2560, 50),
                  200: ("postgres", "S", 9000, 3000, 6000, 25600, 30)},
        "kmsg": "6,1,0,-;Linux version 6.1.0 (fixture)\n4,2,5000000,-;ACPI: warning only\n",
    }


def scenario_cpu_saturated():
    s = healthy()
    s["uptime"] = (4990.0, 5000.0)
    s["loadavg"] = "9.50 6.00 3.00 10/200 6000"
    s["cpus"] = {i: ([50000, 100, 20000, 400000, 1000, 0, 500, 0], [950, 0, 40, 10, 0, 0, 0, 0]) for i in range(4)}
    s["procs_running"] = (9, 11)
    s["psi"]["cpu"] = ((35.00, 20.00, 10.00, 9000000), 3000000, None)
    s["procs"][4242] = ("my (app) x", "R", 100000, 2000, 490000, 51200, 3000)
    s["kmsg"] = ("3,5,1000000000,-;old error outside the hour\n"
                 " SUBSYSTEM=pci\n"
                 "3,9,4995000000,-;mce: [Hardware Error]: CPU 2: Machine Check Exception\n"
                 "4,10,4996000000,-;only a warning\n")
    return s


def scenario_cpu_imbalance():
    # One CPU pegged by a single thread while the others idle, on a guest whose hypervisor steals time.
    s = healthy()
    base = [50000, 100, 20000, 400000, 1000, 0, 500, 300]
    s["cpus"] = {0: (base, [950, 0, 0, 50, 0, 0, 0, 0])}
    s["cpus"].update({i: (base, [100, 0, 0, 750, 0, 0, 0, 150]) for i in range(1, 4)})
    s["procs"][777] = ("spinner", "R", 100, 0, 95000, 256, 950)
    return s


def scenario_swapping():
    s = healthy()
    s["meminfo"].update({"MemFree": 100000, "MemAvailable": 400000, "SwapFree": 1048576})
    s["vmstat"].update({"pswpin": (100000, 5000), "pswpout": (300000, 2000), "pgmajfault": (3000, 3000), "oom_kill": (2, 1)})
    s["psi"]["memory"] = ((30.00, 20.00, 5.00, 9000000), 2500000, ((10.00, 5.00, 1.00, 4000000), 1000000))
    return s


def scenario_disk_saturated():
    s = healthy()
    s["cpus"] = {i: ([50000, 100, 20000, 400000, 1000, 0, 500, 0], [100, 0, 50, 250, 600, 0, 0, 0]) for i in range(2)}
    s["disks"]["sda"] = (s["disks"]["sda"][0], [2000, 0, 409600, 200000, 3000, 0, 614400, 300000, 30, 9500, 500000])
    s["procs_blocked"] = (4, 6)
    s["psi"]["io"] = ((45.00, 30.00, 10.00, 9000000), 4000000, ((20.00, 10.00, 5.00, 5000000), 2000000))
    return s


def scenario_network():
    s = healthy()
    s["nets"]["eth0"] = ([900000000, 800000, 10, 20, 300000000, 400000, 0, 5], [10485760, 10000, 3, 7, 112500000, 80000, 0, 0])
    s["speed"]["eth0"] = "100"
    # eth1 is reset (or a 32-bit counter wrapped) between the snapshots: rx_bytes goes backwards.
    s["nets"]["eth1"] = ([4294967000, 100, 0, 0, 1000, 10, 0, 0], None)
    s["nets_t1"] = {"eth1": [1000, 110, 0, 0, 2000, 20, 0, 0]}
    s["tcp"]["RetransSegs"] = (300, 250)
    s["file_nr"] = ("880000 10000 1000000", "900000 10000 1000000")
    return s


def scenario_damaged():
    s = healthy()
    s["psi"] = {}  # an old kernel: no /proc/pressure
    s["vmstat"]["pswpin"] = (5000, -4000)  # goes backwards
    s["t1_diskstats_garbage"] = "   8       0 sda 12 x\xff 3\n"
    s["no_t1_snmp"] = True
    s["procs"][300] = ("broken", "S", 0, 0, 1, 1, 0)
    s["bad_stat_pid"] = 300
    s["kmsg"] = "3,1,1000,-;fine error\nthis is not a record\n\x01\x02;\n3,x,1,-;bad\n"
    return s


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="latin-1", newline="") as f:
        f.write(text)


def emit(name, s):
    root = os.path.join(HERE, name)
    shutil.rmtree(root, ignore_errors=True)
    for t in (0, 1):
        d = os.path.join(root, f"t{t}")
        p = os.path.join(d, "proc")
        up = s["uptime"][t]
        write(f"{p}/uptime", f"{up:.2f} {up * 1.8:.2f}\n")
        write(f"{p}/loadavg", s["loadavg"] + "\n")
        lines = []
        tot = [0] * 8
        per = []
        for cpu, (base, delta) in sorted(s["cpus"].items()):
            v = [b + t * dd for b, dd in zip(base, delta)]
            tot = [a + b for a, b in zip(tot, v)]
            per.append(f"cpu{cpu} " + " ".join(map(str, v)) + " 0 0")
        lines.append("cpu  " + " ".join(map(str, tot)) + " 0 0")
        lines += per
        lines.append("intr 123456 0 0 0")
        lines.append(f"ctxt {s['ctxt'][0] + t * s['ctxt'][1]}")
        lines.append("btime 1764370000")
        lines.append(f"processes {s['processes'][0] + t * s['processes'][1]}")
        lines.append(f"procs_running {s['procs_running'][t]}")
        lines.append(f"procs_blocked {s['procs_blocked'][t]}")
        lines.append("softirq 1000 0 0 0 0 0 0 0 0 0 0")
        write(f"{p}/stat", "\n".join(lines) + "\n")
        for res, (some, dsome, full) in s["psi"].items():
            a10, a60, a300, total = some
            text = f"some avg10={a10:.2f} avg60={a60:.2f} avg300={a300:.2f} total={total + t * dsome}\n"
            if full is not None:
                (f10, f60, f300, ftotal), dfull = full
                text += f"full avg10={f10:.2f} avg60={f60:.2f} avg300={f300:.2f} total={ftotal + t * dfull}\n"
            elif res == "cpu":
                text += "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
            write(f"{p}/pressure/{res}", text)
        write(f"{p}/meminfo", "".join(f"{k + ':':<16}{v:>8} kB\n" for k, v in s["meminfo"].items()))
        write(f"{p}/vmstat", "".join(f"{k} {v0 + t * dv}\n" for k, (v0, dv) in s["vmstat"].items()))
        dl = []
        for i, (dev, (base, delta)) in enumerate(s["disks"].items()):
            v = [b + t * dd for b, dd in zip(base, delta)]
            v[8] = base[8] if t == 0 else delta[8]  # in-flight is a gauge
            major, minor = (7, 0) if dev.startswith("loop") else (8, 0 if dev == "sda" else 1)
            dl.append(f"{major:>4} {minor:>7} {dev} " + " ".join(map(str, v)) + " 0 0 0 0 0 0")
        text = "\n".join(dl) + "\n"
        if t == 1 and "t1_diskstats_garbage" in s:
            text += s["t1_diskstats_garbage"]
        write(f"{p}/diskstats", text)
        nl = []
        for dev, (base, delta) in s["nets"].items():
            if t == 1 and dev in s.get("nets_t1", {}):
                v = s["nets_t1"][dev]
            else:
                v = [b + t * dd for b, dd in zip(base, delta or [0] * 8)]
            rb, rp, re, rd, tb, tp, te, td = v
            nl.append(f"{dev + ':':>7} {rb:>10} {rp:>8} {re:>4} {rd:>4}    0     0          0         0 {tb:>10} {tp:>8} {te:>4} {td:>4}    0     0       0          0")
        write(f"{p}/net/dev", NETDEV_HEAD + "\n".join(nl) + "\n")
        tcpv = [str(s["tcp"][n][0] + t * s["tcp"][n][1]) for n in TCP_NAMES]
        if not (t == 1 and s.get("no_t1_snmp")):
            write(f"{p}/net/snmp",
                  "Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 12345\n"
                  "Tcp: " + " ".join(TCP_NAMES) + "\nTcp: " + " ".join(tcpv) + "\n"
                  "Udp: InDatagrams NoPorts InErrors OutDatagrams\nUdp: 100 2 0 100\n")
        write(f"{p}/sys/fs/file-nr", s["file_nr"][t].replace(" ", "\t") + "\n")
        write(f"{p}/sys/fs/file-max", s["file_nr"][t].split()[2] + "\n")
        for pid, (comm, state, ut, st, start, rss, dticks) in s["procs"].items():
            u = ut + t * dticks
            fields = [str(pid), f"({comm})", state, "1", str(pid), str(pid), "0", "-1", "4194560", "100", "0", "0", "0",
                      str(u), str(st), "0", "0", "20", "0", "1", "0", str(start), str(rss * 4096 * 2), str(rss)] + ["0"] * 28
            text = " ".join(fields) + "\n"
            if s.get("bad_stat_pid") == pid and t == 1:
                text = f"{pid} (broken) S 1 2 3\n"
            write(f"{p}/{pid}/stat", text)
            write(f"{p}/{pid}/statm", f"{rss * 2} {rss} 100 10 0 {rss} 0\n")
        write(f"{p}/self/stat", "not a pid directory, ignored\n")
        for dev in s["whole_disks"]:
            write(f"{d}/sys/block/{dev}/dev", "8:0\n")
        for dev, speed in s["speed"].items():
            if speed is not None:
                write(f"{d}/sys/class/net/{dev}/speed", speed + "\n")
        write(f"{d}/dev/kmsg", s["kmsg"])


SCENARIOS = {
    "healthy": healthy(),
    "cpu-saturated": scenario_cpu_saturated(),
    "cpu-imbalance": scenario_cpu_imbalance(),
    "swapping": scenario_swapping(),
    "disk-saturated": scenario_disk_saturated(),
    "network": scenario_network(),
    "damaged": scenario_damaged(),
}

if __name__ == "__main__":
    for name, s in SCENARIOS.items():
        emit(name, s)
