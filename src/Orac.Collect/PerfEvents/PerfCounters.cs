using Orac.Model;

namespace Orac.Collect.PerfEvents;

/// <summary>One counter's reading: the raw count, the time it was enabled and running (ns), and the estimate.</summary>
internal readonly record struct CounterReading(string Name, string Unit, ulong Raw, ulong EnabledNs, ulong RunningNs)
{
    /// <summary>True when the kernel multiplexed the counter (ran it part of the time).</summary>
    public bool Scaled => RunningNs > 0 && RunningNs < EnabledNs;

    /// <summary>True when it never ran: there is no measurement at all.</summary>
    public bool NeverRan => RunningNs == 0;

    /// <summary>The count scaled to the whole enabled time (equal to <see cref="Raw"/> unless multiplexed).</summary>
    public double Value => Scaled ? Raw * ((double)EnabledNs / RunningNs) : Raw;
}

/// <summary>
/// Counting mode of the perf_event layer (<c>orac pmc</c>): software counters always, hardware counters
/// where the PMU exists. Each counter is opened on its own (no group), read with
/// TOTAL_TIME_ENABLED|RUNNING so multiplexed counts can be scaled and said to be scaled.
/// </summary>
internal sealed unsafe class PerfCounters : IDisposable
{
    private static readonly (string Name, string Unit, uint Type, ulong Config)[] s_software =
    [
        ("task-clock", "ms", PerfNative.TypeSoftware, PerfNative.SwTaskClock),
        ("context-switches", "count", PerfNative.TypeSoftware, PerfNative.SwContextSwitches),
        ("cpu-migrations", "count", PerfNative.TypeSoftware, PerfNative.SwCpuMigrations),
        ("page-faults", "count", PerfNative.TypeSoftware, PerfNative.SwPageFaults),
    ];

    private static readonly (string Name, string Unit, uint Type, ulong Config)[] s_hardware =
    [
        ("cycles", "count", PerfNative.TypeHardware, PerfNative.HwCpuCycles),
        ("instructions", "count", PerfNative.TypeHardware, PerfNative.HwInstructions),
        ("cache-references", "count", PerfNative.TypeHardware, PerfNative.HwCacheReferences),
        ("cache-misses", "count", PerfNative.TypeHardware, PerfNative.HwCacheMisses),
        ("branch-misses", "count", PerfNative.TypeHardware, PerfNative.HwBranchMisses),
    ];

    private readonly List<(string Name, string Unit, List<int> Fds)> _counters = [];

    /// <summary>Every counter name this class opens: software first, then hardware.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. s_software.Select(e => e.Name), .. s_hardware.Select(e => e.Name)];

    private PerfCounters()
    {
    }

    /// <summary>False when the hardware counters could not be opened (no PMU, e.g. most VMs).</summary>
    public bool HasHardware { get; private set; }

    /// <summary>Why hardware counters are missing (errno name), when they are.</summary>
    public string? HardwareError { get; private set; }

    /// <summary>Opens the counters, disabled, for <paramref name="pid"/> (and its future children), or every CPU when null.</summary>
    public static PerfCounters Open(int? pid)
    {
        var c = new PerfCounters();
        try
        {
            foreach (var ev in s_software)
            {
                c.TryOpen(ev, pid, out int errno);
                if (errno != 0)
                {
                    PerfSampler.ThrowOpenFailure(new PerfEventSpec(ev.Name, ev.Type, ev.Config), pid ?? -1, -1, errno);
                }
            }

            c.HasHardware = true;
            foreach (var ev in s_hardware)
            {
                if (!c.TryOpen(ev, pid, out int errno))
                {
                    if (errno is PerfNative.EACCES or PerfNative.EPERM)
                    {
                        throw new OracException(PerfNative.PermissionMessage(errno));
                    }

                    c.HasHardware = false;
                    c.HardwareError = errno switch
                    {
                        PerfNative.ENOENT => "ENOENT",
                        PerfNative.EOPNOTSUPP => "EOPNOTSUPP",
                        PerfNative.ENODEV => "ENODEV",
                        _ => "errno " + errno,
                    };
                    c.CloseHardware();
                    break;
                }
            }

            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private bool TryOpen((string Name, string Unit, uint Type, ulong Config) ev, int? pid, out int errno)
    {
        var fds = new List<int>();
        int[] cpus = pid is null ? PerfNative.OnlineCpus() : [-1];
        errno = 0;
        foreach (int cpu in cpus)
        {
            var attr = new PerfEventAttr
            {
                Type = ev.Type,
                Config = ev.Config,
                ReadFormat = PerfNative.FormatTotalTimeEnabled | PerfNative.FormatTotalTimeRunning,
                Flags = PerfNative.FlagDisabled | PerfNative.FlagExcludeHv | (pid is null ? 0 : PerfNative.FlagInherit),
            };
            int fd = PerfNative.Open(ref attr, pid ?? -1, cpu, -1, out errno);
            if (fd < 0)
            {
                foreach (int f in fds)
                {
                    PerfNative.Close(f);
                }

                return false;
            }

            fds.Add(fd);
        }

        _counters.Add((ev.Name, ev.Unit, fds));
        return true;
    }

    private void CloseHardware()
    {
        for (int i = _counters.Count - 1; i >= 0; i--)
        {
            if (Array.Exists(s_hardware, h => h.Name == _counters[i].Name))
            {
                foreach (int fd in _counters[i].Fds)
                {
                    PerfNative.Close(fd);
                }

                _counters.RemoveAt(i);
            }
        }
    }

    /// <summary>Starts counting.</summary>
    public void Enable() => Ioctl(PerfNative.IocEnable);

    /// <summary>Stops counting.</summary>
    public void Disable() => Ioctl(PerfNative.IocDisable);

    /// <summary>Reads every counter, summed over CPUs. task-clock is converted from ns to ms.</summary>
    public List<CounterReading> Read()
    {
        var list = new List<CounterReading>(_counters.Count);
        ulong* buf = stackalloc ulong[3];
        foreach (var (name, unit, fds) in _counters)
        {
            ulong raw = 0, enabled = 0, running = 0;
            foreach (int fd in fds)
            {
                if (PerfNative.Read(fd, buf, 24) == 24)
                {
                    raw += buf[0];
                    enabled += buf[1];
                    running += buf[2];
                }
            }

            list.Add(new CounterReading(name, unit, raw, enabled, running));
        }

        return list;
    }

    private void Ioctl(ulong request)
    {
        foreach (var c in _counters)
        {
            foreach (int fd in c.Fds)
            {
                PerfNative.Ioctl(fd, request, 0);
            }
        }
    }

    public void Dispose()
    {
        foreach (var c in _counters)
        {
            foreach (int fd in c.Fds)
            {
                PerfNative.Close(fd);
            }
        }

        _counters.Clear();
    }
}
