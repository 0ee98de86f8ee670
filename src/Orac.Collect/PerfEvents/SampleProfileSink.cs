using System.Globalization;
using Orac.Collect.Symbols;
using Orac.Model;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// Turns decoded samples into a <see cref="ProfileBuilder"/> profile: one frame per callchain entry,
/// root first, with the thread's command name as the root frame (as stackcollapse-perf does), kernel
/// frames above user frames. Names come from the <see cref="ISymbolResolver"/>, told about processes
/// as they are first seen and about new mappings as they arrive, so names survive a process's exit.
/// </summary>
internal sealed class SampleProfileSink : IPerfRecordSink
{
    /// <summary>PERF_CONTEXT_MAX: callchain entries at or above it are context markers, not addresses.</summary>
    private const ulong ContextMax = unchecked((ulong)-4095);
    private const ulong ContextKernel = unchecked((ulong)-128);
    private const ulong ContextUser = unchecked((ulong)-512);

    private readonly ISymbolResolver _resolver;
    private readonly ProfileBuilder _builder = new(new SampleType("cpu", "samples"));
    private readonly Dictionary<int, FrameId> _commByTid = [];
    private readonly HashSet<int> _seenPids = [];
    private readonly Dictionary<ulong, FrameId> _kernelFrames = [];
    private readonly Dictionary<(int Pid, ulong Ip), FrameId> _userFrames = [];
    private readonly FrameId[] _frames = new FrameId[PerfRecordDecoder.MaxCallchain + 1];
    private long _firstNs = long.MaxValue;
    private long _lastNs;

    public SampleProfileSink(ISymbolResolver resolver) => _resolver = resolver;

    /// <summary>Samples added so far.</summary>
    public long Samples { get; private set; }

    public void OnSample(in PerfSample sample, ReadOnlySpan<ulong> callchain)
    {
        int pid = sample.Pid;
        if (pid > 0 && _seenPids.Add(pid))
        {
            _resolver.NoteProcess(pid);
        }

        // Build leaf first, then reverse: the kernel writes the callchain leaf first.
        int n = 0;
        bool kernel = true;
        foreach (ulong ip in callchain)
        {
            if (ip >= ContextMax)
            {
                kernel = ip == ContextKernel || (ip != ContextUser && kernel);
                continue;
            }

            if (n >= _frames.Length - 1)
            {
                break;
            }

            _frames[n++] = kernel ? KernelFrame(ip) : UserFrame(pid, ip);
        }

        if (callchain.IsEmpty)
        {
            _frames[n++] = sample.Ip >= 0xffff800000000000UL ? KernelFrame(sample.Ip) : UserFrame(pid, sample.Ip);
        }

        _frames[n++] = CommFrame(pid, sample.Tid);
        StackId stack = StackId.Root;
        for (int i = n - 1; i >= 0; i--)
        {
            stack = _builder.Push(stack, _frames[i]);
        }

        _builder.Add(stack, 1);
        Samples++;
        long t = (long)Math.Min(sample.TimeNs, long.MaxValue);
        _firstNs = Math.Min(_firstNs, t);
        _lastNs = Math.Max(_lastNs, t);
    }

    public void OnMmap(int pid, ulong start, ulong length, ulong fileOffset, string path)
    {
        if (pid > 0)
        {
            _resolver.NoteMapping(pid, start, length, fileOffset, path);
        }
    }

    public void OnComm(int pid, int tid, string comm) => _commByTid[tid] = _builder.Frame(comm);

    public void OnFork(int pid, int ppid, int tid)
    {
        if (pid > 0 && pid == tid && _seenPids.Add(pid))
        {
            // A new process: read its maps while it still exists.
            _resolver.NoteProcess(pid);
        }
    }

    public void OnExit(int pid, int tid)
    {
    }

    /// <summary>Freezes the profile (the sink must not be used afterwards).</summary>
    public Profile Build(long periodNs)
    {
        long now = UnixNowNs();
        _builder.Metadata = new ProfileMetadata
        {
            Host = Environment.MachineName,
            Period = periodNs,
            PeriodType = new SampleType("cpu", "nanoseconds"),
            // Sample times are perf's clock (time since boot), not Unix time: anchor the span at now.
            StartNs = _firstNs == long.MaxValue ? 0 : now - (_lastNs - _firstNs),
            EndNs = _firstNs == long.MaxValue ? 0 : now,
        };
        return _builder.Build();
    }

    private static long UnixNowNs() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    private FrameId KernelFrame(ulong ip)
    {
        if (!_kernelFrames.TryGetValue(ip, out FrameId f))
        {
            f = _builder.Frame(_resolver.ResolveKernel(ip));
            _kernelFrames[ip] = f;
        }

        return f;
    }

    private FrameId UserFrame(int pid, ulong ip)
    {
        if (!_userFrames.TryGetValue((pid, ip), out FrameId f))
        {
            string name = _resolver.ResolveUser(pid, ip);
            f = _builder.Frame(name);

            // An unresolved address may resolve later (a JIT appends to its perf map after the code runs).
            if (!name.StartsWith('['))
            {
                _userFrames[(pid, ip)] = f;
            }
        }

        return f;
    }

    private FrameId CommFrame(int pid, int tid)
    {
        if (_commByTid.TryGetValue(tid, out FrameId f))
        {
            return f;
        }

        string name = pid == 0 ? "swapper" : ReadComm(pid, tid) ?? ":" + tid.ToString(CultureInfo.InvariantCulture);
        f = _builder.Frame(name);
        _commByTid[tid] = f;
        return f;
    }

    private static string? ReadComm(int pid, int tid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/task/{tid}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
