using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Collect.Trace;

/// <summary>How to run one catalogue tool.</summary>
public sealed class TraceRunOptions
{
    /// <summary>Seconds the program runs before it exits by itself (its <c>interval:s:$1</c> probe).</summary>
    public int DurationSeconds { get; init; } = 5;

    /// <summary>Process id filter, 0 for every process (only for tools that take one).</summary>
    public int Pid { get; init; }

    /// <summary>The bpftrace executable: a path, or a name looked up in PATH.</summary>
    public string Bpftrace { get; init; } = "bpftrace";

    /// <summary>Called once when the program's BEGIN probe ran, i.e. every probe is attached (tests start their workload here).</summary>
    public Action? OnAttached { get; init; }

    /// <summary>Where to say things like "mounted tracefs" (stderr in the CLI); may be null.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>What one bpftrace run produced.</summary>
public sealed class TraceRun
{
    /// <summary>The parsed output.</summary>
    public required BpftraceOutput Output { get; init; }

    /// <summary>bpftrace's stderr lines (capped at 1000).</summary>
    public required IReadOnlyList<string> Stderr { get; init; }

    /// <summary>bpftrace's exit status.</summary>
    public int ExitCode { get; init; }

    /// <summary>True when the run was stopped early by the caller (Ctrl-C).</summary>
    public bool Interrupted { get; init; }

    /// <summary>True when bpftrace overran its deadline and was stopped by Orac.</summary>
    public bool TimedOut { get; init; }

    /// <summary>True when stdout passed the byte cap and the rest was dropped.</summary>
    public bool Truncated { get; init; }

    /// <summary>Seconds from the program's start (all probes attached) to bpftrace's exit; 0 if it never started.</summary>
    public double TracedSeconds { get; init; }
}

/// <summary>
/// Runs a catalogue tool's program with <c>bpftrace -f json</c>, captures its output and maps the ways
/// it can fail to one-line <see cref="OracException"/>s. The program ends itself after the duration;
/// on cancellation (Ctrl-C) or a missed deadline bpftrace gets SIGINT, which makes it print its maps
/// and exit, and SIGKILL if it still has not exited 5 s later.
/// </summary>
public static partial class BpftraceRunner
{
    /// <summary>Cap on captured stdout.</summary>
    public const int MaxStdoutBytes = 256 << 20;

    /// <summary>Seconds allowed beyond the duration for bpftrace to compile, attach and print.</summary>
    public const int GraceSeconds = 30;

    /// <summary>The one line shown when bpftrace is missing.</summary>
    public const string NotInstalled = "bpftrace is not installed: apt-get install bpftrace";

    /// <summary>The one line shown when bpftrace lacks privilege.</summary>
    public const string NotPermitted = "bpftrace needs root or CAP_BPF+CAP_PERFMON (run orac trace as root)";

    private const int SigInt = 2;

    /// <summary>Runs <paramref name="tool"/>; throws <see cref="OracException"/> when bpftrace cannot run or attach.</summary>
    public static TraceRun Run(TraceTool tool, TraceRunOptions options, CancellationToken cancel)
    {
        string exe = Resolve(options.Bpftrace) ?? throw new OracException(NotInstalled);
        EnsureTracefs(options.Log);
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Maps (and the kernel stack map behind kstack) hold 4,096 keys by default: on a busy host with many
        // threads offcpu's per-thread maps and per-stack sums fill up and drop updates. 64 Ki keys cost a few
        // MB of kernel memory for the length of one trace.
        psi.Environment["BPFTRACE_MAP_KEYS_MAX"] = "65536";
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add("json");
        psi.ArgumentList.Add("-e");
        psi.ArgumentList.Add(tool.Program);
        psi.ArgumentList.Add(options.DurationSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add(options.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception)
        {
            throw new OracException(NotInstalled);
        }

        process.StandardInput.Close();
        bool truncated = false;
        var output = new BpftraceOutput();
        long startedAt = 0;
        void OnStarted()
        {
            Volatile.Write(ref startedAt, Stopwatch.GetTimestamp());
            options.OnAttached?.Invoke();
        }

        Thread outReader = new(() => truncated = ReadStdout(process.StandardOutput.BaseStream, output, OnStarted)) { IsBackground = true, Name = "bpftrace stdout" };
        var stderr = new List<string>();
        Thread errReader = new(() => ReadStderr(process.StandardError, stderr)) { IsBackground = true, Name = "bpftrace stderr" };
        outReader.Start();
        errReader.Start();

        bool interrupted = false, timedOut = false;
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = TimeSpan.FromSeconds(options.DurationSeconds + GraceSeconds);
        TimeSpan? signalledAt = null;
        while (!process.WaitForExit(50))
        {
            if (signalledAt is null && (cancel.IsCancellationRequested || deadline.Elapsed > limit))
            {
                interrupted = cancel.IsCancellationRequested;
                timedOut = !interrupted;
                _ = Kill(process.Id, SigInt);
                signalledAt = deadline.Elapsed;
            }
            else if (signalledAt is TimeSpan at && deadline.Elapsed - at > TimeSpan.FromSeconds(5))
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.WaitForExit();
        long exitedAt = Stopwatch.GetTimestamp();

        // A terminal's Ctrl-C reaches bpftrace (same process group) as well as Orac; it may exit first.
        interrupted |= cancel.IsCancellationRequested;
        outReader.Join();
        errReader.Join();
        var run = new TraceRun
        {
            Output = output,
            Stderr = stderr,
            ExitCode = process.ExitCode,
            Interrupted = interrupted,
            TimedOut = timedOut,
            Truncated = truncated,
            TracedSeconds = startedAt == 0 ? 0 : Math.Round(Stopwatch.GetElapsedTime(startedAt, exitedAt).TotalSeconds, 1),
        };

        // bpftrace 0.17 prints attached_probes before it has attached them all: an exit status with an
        // ERROR line (not the benign ones) is an attach failure too.
        if (!interrupted && !timedOut && (output.AttachedProbes == 0 || (run.ExitCode != 0 && HasError(stderr))))
        {
            throw new OracException(Failure(tool.Name, run.ExitCode, stderr));
        }

        return run;
    }

    /// <summary>The one-line message for a bpftrace that did not attach, from its stderr.</summary>
    public static string Failure(string tool, int exitCode, IReadOnlyList<string> stderr)
    {
        string? first = null;
        foreach (string line in stderr)
        {
            if (IsBenign(line))
            {
                continue;
            }

            if (line.Contains("root user", StringComparison.Ordinal)
                || line.Contains("Operation not permitted", StringComparison.Ordinal)
                || line.Contains("Permission denied", StringComparison.Ordinal)
                || line.Contains("EPERM", StringComparison.Ordinal))
            {
                return NotPermitted;
            }

            if (first is null && line.Contains("ERROR", StringComparison.Ordinal))
            {
                first = line.Trim();
            }
        }

        first ??= FirstNonBenign(stderr) ?? $"exit status {exitCode}, no message";
        return $"trace {tool}: bpftrace could not attach: {(first.Length > 300 ? first[..300] + "…" : first)}";
    }

    /// <summary>stderr lines bpftrace prints on every run here that do not affect the result.</summary>
    public static bool IsBenign(string line) =>
        line.Contains("RLIMIT_MEMLOCK", StringComparison.Ordinal)
        || line.Contains("available_filter_functions", StringComparison.Ordinal)
        || string.IsNullOrWhiteSpace(line);

    private static bool HasError(IReadOnlyList<string> stderr)
    {
        foreach (string line in stderr)
        {
            if (!IsBenign(line) && line.Contains("ERROR", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string? FirstNonBenign(IReadOnlyList<string> stderr)
    {
        foreach (string line in stderr)
        {
            if (!IsBenign(line))
            {
                return line.Trim();
            }
        }

        return null;
    }

    /// <summary><paramref name="name"/> if it is a path to a file, else the first match in PATH, else null.</summary>
    public static string? Resolve(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    // bpftrace 0.17 finds tracepoints through tracefs; a fresh container or VM may not have it mounted.
    private static void EnsureTracefs(TextWriter? log)
    {
        if (TracefsMounted())
        {
            return;
        }

        try
        {
            using Process? mount = Process.Start(new ProcessStartInfo("mount", ["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            });
            if (mount is not null && mount.WaitForExit(10_000) && mount.ExitCode == 0)
            {
                log?.WriteLine("orac: mounted tracefs at /sys/kernel/tracing (bpftrace needs it for tracepoints)");
                return;
            }
        }
        catch (Win32Exception)
        {
            // No mount(8): the message below says what to do.
        }

        throw new OracException("tracefs is not mounted and orac could not mount it (needs root): mount -t tracefs nodev /sys/kernel/tracing");
    }

    private static bool TracefsMounted()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/mounts"))
            {
                // "nodev /sys/kernel/tracing tracefs rw,... 0 0"
                string[] f = line.Split(' ');
                if (f.Length > 2 && f[2] == "tracefs")
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
            // No /proc: let bpftrace say what it misses.
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }

        return false;
    }

    private static bool ReadStdout(Stream stdout, BpftraceOutput output, Action? onAttached)
    {
        var pending = new MemoryStream();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int lineNo = 0;
        bool attached = false, truncated = false;
        int n;
        while ((n = stdout.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (truncated)
            {
                continue; // keep draining so bpftrace never blocks on a full pipe
            }

            total += n;
            if (total > MaxStdoutBytes)
            {
                truncated = true;
                continue;
            }

            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                ReadOnlySpan<byte> line;
                if (pending.Length > 0)
                {
                    pending.Write(buffer, start, i - start);
                    line = pending.GetBuffer().AsSpan(0, (int)pending.Length);
                }
                else
                {
                    line = buffer.AsSpan(start, i - start);
                }

                output.AddLine(line, ++lineNo);
                pending.SetLength(0);
                start = i + 1;
                if (!attached && output.Started)
                {
                    attached = true;
                    onAttached?.Invoke();
                }
            }

            pending.Write(buffer, start, n - start);
        }

        if (!truncated && pending.Length > 0)
        {
            output.AddLine(pending.GetBuffer().AsSpan(0, (int)pending.Length), ++lineNo);
        }

        return truncated;
    }

    private static void ReadStderr(StreamReader stderr, List<string> lines)
    {
        string? line;
        while ((line = stderr.ReadLine()) is not null)
        {
            lock (lines)
            {
                if (lines.Count < 1000)
                {
                    lines.Add(line.Length > 1000 ? line[..1000] : line);
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
