using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Orac.Collect.PerfEvents;
using Orac.Collect.Trace;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>Finds out what the agent says about its host when it registers (<see cref="AgentInfo"/>).</summary>
public static class AgentInfoProbe
{
    /// <summary>Agent capability names (docs/fleet.md).</summary>
    public static class Capabilities
    {
        /// <summary>perf_event CPU sampling of every CPU.</summary>
        public const string Sample = "sample";

        /// <summary>Hardware performance counters.</summary>
        public const string Pmc = "pmc";

        /// <summary>bpftrace installed and the agent is root.</summary>
        public const string Bpftrace = "bpftrace";

        /// <summary>/proc readable (the host check).</summary>
        public const string Check = "check";

        /// <summary>An NVIDIA GPU was found.</summary>
        public const string Gpu = "gpu";
    }

    /// <summary>The agent's version string.</summary>
    public static string Version { get; } = typeof(AgentInfoProbe).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>The agent id kept in <c>STATE/agent-id</c>, generated (and written) on first use, starting with <paramref name="hostname"/>.</summary>
    public static string LoadOrCreateId(string stateDirectory, string? hostname = null)
    {
        string path = Path.Combine(stateDirectory, "agent-id");
        try
        {
            Directory.CreateDirectory(stateDirectory);
            if (File.Exists(path))
            {
                string id = File.ReadAllText(path).Trim();
                if (!IsValidId(id))
                {
                    throw new OracException($"{path}: not an agent id (1–64 of A-Z a-z 0-9 . _ -): '{Escape(id)}'; delete the file to get a new id");
                }

                return id;
            }

            // Host name first (readable in logs and upload ids), then random bytes so clones of one image differ.
            string host = new string([.. (hostname ?? Environment.MachineName).Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(40)]);
            string fresh = (host.Length > 0 ? host + "-" : "") + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            string temp = path + ".tmp";
            File.WriteAllText(temp, fresh + "\n");
            File.Move(temp, path, overwrite: true);
            return fresh;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{stateDirectory}: cannot keep the agent id there: {e.Message} (pass --state DIR)");
        }
    }

    /// <summary>
    /// A host name for <c>--hostname</c>: 1–253 of letters, digits, '.', '_' and '-', starting with a letter or digit
    /// (DNS names and the usual container names).
    /// </summary>
    public static bool IsValidHostname(string name) =>
        name.Length is >= 1 and <= 253 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>1–64 of [A-Za-z0-9._-].</summary>
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Everything <see cref="AgentInfo"/> carries, probed now.</summary>
    public static AgentInfo Probe(string id, string hostname, IReadOnlyDictionary<string, string> labels, bool canSample, int hz = 0, string nvidiaSmi = "nvidia-smi")
    {
        List<string> gpus = NvidiaGpus(nvidiaSmi);
        return new AgentInfo
        {
            Id = id,
            Hostname = hostname,
            Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal),
            Kernel = ReadTrimmed("/proc/sys/kernel/osrelease") ?? "",
            CpuModel = CpuModel() ?? "",
            Cpus = Environment.ProcessorCount,
            MemoryBytes = MemTotalBytes(),
            Gpus = gpus,
            Version = Version,
            Capabilities = CapabilitiesOf(canSample, gpus.Count > 0),
            Hz = hz,
        };
    }

    private static List<string> CapabilitiesOf(bool canSample, bool gpu)
    {
        var caps = new List<string>();
        if (canSample)
        {
            caps.Add(Capabilities.Sample);
        }

        if (HasHardwarePmu())
        {
            caps.Add(Capabilities.Pmc);
        }

        if (BpftraceRunner.Resolve("bpftrace") is not null && SelfOverhead.IsRoot)
        {
            caps.Add(Capabilities.Bpftrace);
        }

        if (File.Exists("/proc/stat") && File.Exists("/proc/meminfo"))
        {
            caps.Add(Capabilities.Check);
        }

        if (gpu)
        {
            caps.Add(Capabilities.Gpu);
        }

        return caps;
    }

    /// <summary>True when the hardware counters open (the kernel lists PMU events and cycles can be counted).</summary>
    public static bool HasHardwarePmu()
    {
        if (!Directory.Exists("/sys/bus/event_source/devices/cpu/events"))
        {
            return false;
        }

        try
        {
            using PerfCounters c = PerfCounters.Open(null);
            return c.HasHardware;
        }
        catch (OracException)
        {
            return false;
        }
    }

    /// <summary>True when the perf_event sampler opens on every CPU (root, CAP_PERFMON or a permissive perf_event_paranoid).</summary>
    public static bool CanSample(out string? why)
    {
        try
        {
            using PerfSampler s = PerfSampler.Open(PerfEventSpec.CpuClock, 1, null);
            why = null;
            return true;
        }
        catch (OracException e)
        {
            why = e.Message;
            return false;
        }
    }

    private static string? CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    public static long MemTotalBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    {
                        return kb * 1024;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }

    /// <summary>GPU names from <c>nvidia-smi -L</c> (3 s at most); empty when it is absent or fails.</summary>
    public static List<string> NvidiaGpus(string nvidiaSmi = "nvidia-smi")
    {
        string? exe = BpftraceRunner.Resolve(nvidiaSmi);
        if (exe is null)
        {
            return [];
        }

        try
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-L");
            using Process p = Process.Start(psi) ?? throw new IOException("not started");
            Task<string> output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(3000))
            {
                p.Kill(entireProcessTree: true);
                return [];
            }

            var gpus = new List<string>();
            foreach (string line in output.GetAwaiter().GetResult().Split('\n'))
            {
                // "GPU 0: NVIDIA H200 (UUID: GPU-…)"
                if (line.StartsWith("GPU ", StringComparison.Ordinal) && line.IndexOf(": ", StringComparison.Ordinal) is int at and > 0)
                {
                    string name = line[(at + 2)..];
                    int uuid = name.IndexOf(" (UUID", StringComparison.Ordinal);
                    gpus.Add((uuid > 0 ? name[..uuid] : name).Trim());
                }
            }

            return gpus;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return [];
        }
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 80 ? s[..80] : s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }
}
