using Orac.Model;

namespace Orac.Collect.PerfEvents;

/// <summary>The event a sampler or counter opens.</summary>
internal readonly record struct PerfEventSpec(string Name, uint Type, ulong Config)
{
    public static PerfEventSpec CpuClock => new("cpu-clock", PerfNative.TypeSoftware, PerfNative.SwCpuClock);

    /// <summary>The events <c>-e</c> accepts for sampling.</summary>
    public static PerfEventSpec? Parse(string name) => name switch
    {
        "cpu-clock" => CpuClock,
        "task-clock" => new("task-clock", PerfNative.TypeSoftware, PerfNative.SwTaskClock),
        "cycles" or "cpu-cycles" => new("cycles", PerfNative.TypeHardware, PerfNative.HwCpuCycles),
        "instructions" => new("instructions", PerfNative.TypeHardware, PerfNative.HwInstructions),
        _ => null,
    };
}

/// <summary>
/// Samples on-CPU stacks through perf_event_open: one event and one ring per CPU (system-wide), or per
/// CPU and target process with the rings of a CPU merged by PERF_EVENT_IOC_SET_OUTPUT. Callers poll
/// <see cref="Poll"/> until done, then <see cref="Stop"/>.
/// </summary>
internal sealed class PerfSampler : IDisposable
{
    /// <summary>Data pages per ring (power of two): 256 KiB per CPU holds ~250 deep stacks between polls.</summary>
    public const int DataPages = 64;

    private readonly List<int> _fds = [];
    private readonly List<PerfRing> _rings = [];
    private PollFd[] _poll = [];

    private PerfSampler()
    {
    }

    /// <summary>How records were decoded (lost, malformed).</summary>
    public PerfDecodeStats Stats { get; } = new();

    /// <summary>Number of CPUs sampled.</summary>
    public int Cpus { get; private set; }

    /// <summary>
    /// Opens (disabled) the sampling events. <paramref name="pids"/> null means every process
    /// (system-wide); otherwise each pid and, through inherit, the children it starts later.
    /// Throws <see cref="OracException"/> with one line on refusal.
    /// </summary>
    public static PerfSampler Open(PerfEventSpec ev, int frequencyHz, IReadOnlyList<int>? pids)
    {
        var s = new PerfSampler();
        try
        {
            s.OpenAll(ev, frequencyHz, pids);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private void OpenAll(PerfEventSpec ev, int frequencyHz, IReadOnlyList<int>? pids)
    {
        int[] cpus = PerfNative.OnlineCpus();
        Cpus = cpus.Length;
        // An event on a pid follows only that thread (and, through inherit, what it starts later): the
        // threads a running process already has are opened one by one. A thread that exits between the
        // listing and the open is skipped; the process itself must exist.
        (int Tid, bool Required)[] targets = pids is null ? [(-1, true)] : pids.SelectMany(ThreadsOf).ToArray();
        foreach (int cpu in cpus)
        {
            int ringFd = -1;
            foreach ((int pid, bool required) in targets)
            {
                var attr = new PerfEventAttr
                {
                    Type = ev.Type,
                    Config = ev.Config,
                    SamplePeriodOrFreq = (ulong)frequencyHz,
                    SampleType = PerfNative.SampleIp | PerfNative.SampleTid | PerfNative.SampleTime | PerfNative.SampleCpu
                        | PerfNative.SamplePeriod | PerfNative.SampleCallchain,
                    Flags = PerfNative.FlagDisabled | PerfNative.FlagFreq | PerfNative.FlagMmap | PerfNative.FlagMmap2
                        | PerfNative.FlagComm | PerfNative.FlagCommExec | PerfNative.FlagTask | PerfNative.FlagSampleIdAll
                        | PerfNative.FlagExcludeHv | PerfNative.FlagWatermark | (pid >= 0 ? PerfNative.FlagInherit : 0),
                    WakeupEventsOrWatermark = (uint)(DataPages * Environment.SystemPageSize / 2),
                    SampleMaxStack = 127,
                };

                int fd = PerfNative.Open(ref attr, pid, cpu, -1, out int errno);
                if (fd < 0 && !required && errno == 3 /* ESRCH: the thread has exited */)
                {
                    continue;
                }

                if (fd < 0)
                {
                    ThrowOpenFailure(ev, pid, cpu, errno);
                }

                _fds.Add(fd);
                if (ringFd < 0)
                {
                    PerfRing ring = PerfRing.Map(fd, DataPages, out int mapErrno)
                        ?? throw new OracException($"record: cannot map the perf ring buffer of CPU {cpu} (errno {mapErrno}); with a non-root user raise kernel.perf_event_mlock_kb");
                    _rings.Add(ring);
                    ringFd = fd;
                }
                else if (PerfNative.Ioctl(fd, PerfNative.IocSetOutput, ringFd) != 0)
                {
                    throw new OracException($"record: PERF_EVENT_IOC_SET_OUTPUT failed on CPU {cpu} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
                }
            }

        }

        _poll = new PollFd[_rings.Count];
        for (int i = 0; i < _rings.Count; i++)
        {
            _poll[i] = new PollFd { Fd = _rings[i].Fd, Events = PerfNative.PollIn };
        }
    }

    /// <summary>The process's threads (its own id first, required to exist), from /proc/PID/task.</summary>
    private static IEnumerable<(int Tid, bool Required)> ThreadsOf(int pid)
    {
        yield return (pid, true);
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            yield break;
        }
        catch (UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (string t in tasks)
        {
            if (int.TryParse(Path.GetFileName(t), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int tid) && tid != pid)
            {
                yield return (tid, false);
            }
        }
    }

    internal static void ThrowOpenFailure(PerfEventSpec ev, int pid, int cpu, int errno)
    {
        switch (errno)
        {
            case PerfNative.EACCES or PerfNative.EPERM:
                throw new OracException(PerfNative.PermissionMessage(errno));
            case PerfNative.ESRCH:
                throw new OracException($"no process with pid {pid}");
            case PerfNative.ENOENT or PerfNative.EOPNOTSUPP or PerfNative.ENODEV when ev.Type == PerfNative.TypeHardware:
                throw new OracException($"event '{ev.Name}' is not available: no hardware PMU on this machine (use the default cpu-clock)");
            default:
                throw new OracException($"perf_event_open of '{ev.Name}' (pid {pid}, cpu {cpu}) failed with errno {errno}");
        }
    }

    /// <summary>Enables every event.</summary>
    public void Enable()
    {
        foreach (int fd in _fds)
        {
            PerfNative.Ioctl(fd, PerfNative.IocEnable, 0);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for data, then drains every ring into <paramref name="sink"/>.</summary>
    public unsafe void Poll(int timeoutMs, IPerfRecordSink sink)
    {
        fixed (PollFd* p = _poll)
        {
            PerfNative.Poll(p, (ulong)_poll.Length, timeoutMs);
        }

        Drain(sink);
    }

    /// <summary>Drains every ring now.</summary>
    public void Drain(IPerfRecordSink sink)
    {
        foreach (PerfRing ring in _rings)
        {
            ring.Drain(sink, Stats);
        }
    }

    /// <summary>Disables every event and drains what is left.</summary>
    public void Stop(IPerfRecordSink sink)
    {
        foreach (int fd in _fds)
        {
            PerfNative.Ioctl(fd, PerfNative.IocDisable, 0);
        }

        Drain(sink);
    }

    public void Dispose()
    {
        foreach (PerfRing ring in _rings)
        {
            ring.Dispose();
        }

        foreach (int fd in _fds)
        {
            PerfNative.Close(fd);
        }

        _rings.Clear();
        _fds.Clear();
    }
}
