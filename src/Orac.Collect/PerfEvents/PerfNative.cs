using System.Runtime.InteropServices;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// <c>struct perf_event_attr</c> as the kernel reads it (PERF_ATTR_SIZE_VER8, 136 bytes), blittable.
/// Bit flags live in <see cref="Flags"/>; see <see cref="PerfNative"/> for the bit numbers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfEventAttr
{
    public uint Type;
    public uint Size;
    public ulong Config;
    public ulong SamplePeriodOrFreq;
    public ulong SampleType;
    public ulong ReadFormat;
    public ulong Flags;
    public uint WakeupEventsOrWatermark;
    public uint BpType;
    public ulong Config1;
    public ulong Config2;
    public ulong BranchSampleType;
    public ulong SampleRegsUser;
    public uint SampleStackUser;
    public int ClockId;
    public ulong SampleRegsIntr;
    public uint AuxWatermark;
    public ushort SampleMaxStack;
    public ushort Reserved2;
    public uint AuxSampleSize;
    public uint Reserved3;
    public ulong SigData;
    public ulong Config3;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

/// <summary>The libc calls and kernel constants of the perf_event layer (x86-64 Linux).</summary>
internal static unsafe partial class PerfNative
{
    public const long SysPerfEventOpen = 298;

    public const uint TypeHardware = 0;
    public const uint TypeSoftware = 1;

    public const ulong SwCpuClock = 0;
    public const ulong SwTaskClock = 1;
    public const ulong SwPageFaults = 2;
    public const ulong SwContextSwitches = 3;
    public const ulong SwCpuMigrations = 4;

    public const ulong HwCpuCycles = 0;
    public const ulong HwInstructions = 1;
    public const ulong HwCacheReferences = 2;
    public const ulong HwCacheMisses = 3;
    public const ulong HwBranchMisses = 5;

    public const ulong SampleIp = 1 << 0;
    public const ulong SampleTid = 1 << 1;
    public const ulong SampleTime = 1 << 2;
    public const ulong SampleCallchain = 1 << 5;
    public const ulong SampleCpu = 1 << 7;
    public const ulong SamplePeriod = 1 << 8;

    public const ulong FormatTotalTimeEnabled = 1 << 0;
    public const ulong FormatTotalTimeRunning = 1 << 1;

    public const ulong FlagDisabled = 1UL << 0;
    public const ulong FlagInherit = 1UL << 1;
    public const ulong FlagExcludeHv = 1UL << 6;
    public const ulong FlagMmap = 1UL << 8;
    public const ulong FlagComm = 1UL << 9;
    public const ulong FlagFreq = 1UL << 10;
    public const ulong FlagTask = 1UL << 13;
    public const ulong FlagWatermark = 1UL << 14;
    public const ulong FlagSampleIdAll = 1UL << 18;
    public const ulong FlagMmap2 = 1UL << 23;
    public const ulong FlagCommExec = 1UL << 24;

    public const ulong IocEnable = 0x2400;
    public const ulong IocDisable = 0x2401;
    public const ulong IocSetOutput = 0x2405;

    public const ulong PerfFlagFdCloexec = 1UL << 3;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EACCES = 13;
    public const int EOPNOTSUPP = 95;

    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;
    public const short PollIn = 1;
    public const int SigCont = 18;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall5(long number, PerfEventAttr* attr, long pid, long cpu, long groupFd, ulong flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, long arg);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* addr, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, ulong count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>perf_event_open(2); returns the fd or -1 with <paramref name="errno"/> set.</summary>
    public static int Open(ref PerfEventAttr attr, int pid, int cpu, int groupFd, out int errno)
    {
        attr.Size = (uint)sizeof(PerfEventAttr);
        long fd;
        fixed (PerfEventAttr* a = &attr)
        {
            fd = Syscall5(SysPerfEventOpen, a, pid, cpu, groupFd, PerfFlagFdCloexec);
        }

        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)fd;
    }

    /// <summary>The CPUs online now, from <c>/sys/devices/system/cpu/online</c> ("0-3,5").</summary>
    public static int[] OnlineCpus()
    {
        var cpus = new List<int>();
        try
        {
            string text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int dash = part.IndexOf('-', StringComparison.Ordinal);
                int lo = int.Parse(dash < 0 ? part : part[..dash], System.Globalization.CultureInfo.InvariantCulture);
                int hi = dash < 0 ? lo : int.Parse(part[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                for (int c = lo; c <= hi && c < 4096; c++)
                {
                    cpus.Add(c);
                }
            }
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or UnauthorizedAccessException)
        {
            cpus.Clear();
        }

        if (cpus.Count == 0)
        {
            for (int c = 0; c < Environment.ProcessorCount; c++)
            {
                cpus.Add(c);
            }
        }

        return [.. cpus];
    }

    /// <summary>The current <c>kernel.perf_event_paranoid</c> value, or null when it cannot be read.</summary>
    public static string? Paranoid()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The one line that says why perf_event_open was refused and how to fix it.</summary>
    public static string PermissionMessage(int errno) =>
        $"not permitted to open perf events ({(errno == EACCES ? "EACCES" : "EPERM")}): kernel.perf_event_paranoid is {Paranoid() ?? "unknown"} and this process is not root and lacks CAP_PERFMON; "
        + "fix: run as root, or 'sudo setcap cap_perfmon,cap_sys_ptrace+ep orac', or 'sudo sysctl kernel.perf_event_paranoid=-1'";
}
