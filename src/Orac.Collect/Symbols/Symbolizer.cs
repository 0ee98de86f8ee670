using System.Diagnostics;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>Where a <see cref="Symbolizer"/> finds the system's files; tests point these elsewhere.</summary>
public sealed class SymbolizerOptions
{
    /// <summary>The proc file system (<c>/proc</c>).</summary>
    public string ProcRoot { get; init; } = "/proc";

    /// <summary>The kernel symbol file (<c>/proc/kallsyms</c>).</summary>
    public string KallsymsPath { get; init; } = "/proc/kallsyms";

    /// <summary>Where JITs write <c>perf-PID.map</c> (<c>/tmp</c>).</summary>
    public string PerfMapDirectory { get; init; } = "/tmp";

    /// <summary>
    /// Shortest time between two reads of kallsyms: a kernel address that is not found re-reads it
    /// (modules and BPF programs come and go) at most this often. Default 60 s.
    /// </summary>
    public TimeSpan KallsymsRereadInterval { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Names sampled addresses: kernel addresses from /proc/kallsyms, user addresses from the
/// <c>.symtab</c>/<c>.dynsym</c> of the ELF file mapped there (found through the process's
/// <c>/proc/PID/maps</c>, read by <see cref="NoteProcess"/> and kept after the process exits), JIT
/// code from <c>/tmp/perf-PID.map</c> (re-read incrementally on a miss, since JITs append).
/// Loaded ELF files are cached across processes by build-id (else by path, size and mtime), so a
/// library shared by a thousand processes is read once. What cannot be named is <c>[module]</c>
/// (the mapped file's base name) or <c>[unknown]</c>: never a wrong name.
/// Thread-safe: every public member takes one lock, which is uncontended with a single sampler thread.
/// Process state is kept until <see cref="ForgetProcess"/>; a later <see cref="NoteProcess"/> of a
/// reused pid replaces it.
/// </summary>
public sealed class Symbolizer : ISymbolResolver
{
    /// <summary>The frame for an address with no mapping or no usable symbol source.</summary>
    public const string Unknown = "[unknown]";

    private static readonly long s_mapsRereadTicks = Stopwatch.Frequency / 5;

    private readonly object _gate = new();
    private readonly SymbolizerOptions _options;
    private readonly Dictionary<int, ProcessState> _processes = [];
    private readonly Dictionary<string, ElfFile?> _byIdentity = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ElfFile> _byBuildId = new(StringComparer.Ordinal);
    private KernelSymbols? _kernel;
    private long _kernelLoadedAt;
    private uint _ownUid = FileIdentity.UnknownUid;
    private ElfFile? _vdso;
    private bool _vdsoTried;

    /// <summary>Creates a symbolizer for this host (/proc, /proc/kallsyms, /tmp).</summary>
    public Symbolizer()
        : this(new SymbolizerOptions())
    {
    }

    /// <summary>Creates a symbolizer reading the files named in <paramref name="options"/>.</summary>
    public Symbolizer(SymbolizerOptions options) => _options = options;

    /// <summary>Skipped input and unusable sources (hidden kallsyms, unreadable modules), counted.</summary>
    public ParseWarnings Warnings { get; } = new();

    /// <summary>Distinct ELF files whose symbols are loaded (after build-id sharing).</summary>
    public int ModulesLoaded
    {
        get
        {
            lock (_gate)
            {
                return _byBuildId.Count + CountWithoutBuildId();
            }
        }
    }

    /// <inheritdoc/>
    public void NoteProcess(int pid)
    {
        lock (_gate)
        {
            ProcessState state = GetState(pid);
            ReadMaps(state);
            uint uid = ProcessUid(pid);
            if (uid != FileIdentity.UnknownUid && uid != state.Uid)
            {
                // A new owner (or a reused pid): decide about its perf map again.
                state.Uid = uid;
                state.PerfMapTrusted = state.PerfMapRejected = false;
            }

            RefreshPerfMap(state);
        }
    }

    /// <inheritdoc/>
    public void NoteMapping(int pid, ulong start, ulong length, ulong fileOffset, string path)
    {
        if (length == 0 || start + length < start)
        {
            return;
        }

        lock (_gate)
        {
            ProcessState state = GetState(pid);
            var map = new ProcMapping(start, start + length, fileOffset, 0, path);
            FileIdentity? seen = null;

            // The event carries no inode: take the file as the process sees it now (its mount
            // namespace), so a same-named host file with other contents is not used for it later.
            if (!map.IsAnonymous && !map.IsSpecial && !map.IsDeleted && path.Length > 0 && path[0] == '/'
                && FileIdentity.TryGet($"{_options.ProcRoot}/{pid}/root{path}", out FileIdentity id))
            {
                map = map with { Inode = id.Inode };
                seen = id;
            }

            state.Insert(new MappingState(map) { Expected = seen });
        }
    }

    /// <summary>Drops what is kept about <paramref name="pid"/> (its mappings and perf map); cached ELF files stay.</summary>
    public void ForgetProcess(int pid)
    {
        lock (_gate)
        {
            _processes.Remove(pid);
        }
    }

    /// <summary>Processes whose mappings are kept.</summary>
    public int ProcessCount
    {
        get
        {
            lock (_gate)
            {
                return _processes.Count;
            }
        }
    }

    /// <summary>
    /// Forgets every process that no longer exists (no <c>PROC/PID</c>), so a long-running sampler does not keep
    /// the mappings of every process it ever saw; returns how many. Frames already named keep their names.
    /// </summary>
    public int ForgetExited()
    {
        int[] pids;
        lock (_gate)
        {
            pids = [.. _processes.Keys];
        }

        int n = 0;
        foreach (int pid in pids)
        {
            if (!Directory.Exists($"{_options.ProcRoot}/{pid}"))
            {
                ForgetProcess(pid);
                n++;
            }
        }

        return n;
    }

    /// <inheritdoc/>
    public string ResolveKernel(ulong address)
    {
        lock (_gate)
        {
            if (address < KernelSymbols.KernelBase)
            {
                return Unknown;
            }

            if (_kernelLoadedAt == 0)
            {
                LoadKernel();
            }

            string? name = _kernel?.Find(address);
            if (name is null && _kernel is { Hidden: false } && Stopwatch.GetElapsedTime(_kernelLoadedAt) >= _options.KallsymsRereadInterval)
            {
                // A module or BPF program loaded since the last read.
                LoadKernel();
                name = _kernel?.Find(address);
            }

            return name ?? Unknown;
        }
    }

    /// <inheritdoc/>
    public string ResolveUser(int pid, ulong address)
    {
        if (address >= KernelSymbols.KernelBase)
        {
            return ResolveKernel(address);
        }

        lock (_gate)
        {
            if (!_processes.TryGetValue(pid, out ProcessState? state))
            {
                state = GetState(pid);
                ReadMaps(state);
                state.Uid = ProcessUid(pid);
            }

            MappingState? m = state.Find(address);
            if (m is null && !state.Exited && Stopwatch.GetTimestamp() - state.MapsReadAt > s_mapsRereadTicks)
            {
                // A mapping made after the last read (dlopen, a new JIT area): read the maps again, at most 5 times a second.
                ReadMaps(state);
                m = state.Find(address);
            }

            if (m is null || m.Map.IsAnonymous)
            {
                return FindJitted(state, address) ?? Unknown;
            }

            ElfFile? elf = m.Map.IsSpecial ? (m.Map.Path == "[vdso]" ? Vdso() : null) : ModuleFor(state, m);
            if (elf is not null && elf.TryFileOffsetToAddress(address - m.Map.Start + m.Map.Offset, out ulong vaddr) && elf.FindSymbol(vaddr) is { } name)
            {
                return name;
            }

            return state.PerfMap?.Find(address) ?? m.ModuleName;
        }
    }

    /// <summary>
    /// The vDSO image, read once from this process's own memory: the kernel maps the same image into
    /// every (64-bit) process, so its <c>.dynsym</c> names <c>clock_gettime</c> and friends everywhere.
    /// </summary>
    private ElfFile? Vdso()
    {
        if (_vdsoTried)
        {
            return _vdso;
        }

        _vdsoTried = true;
        try
        {
            string self = $"{_options.ProcRoot}/self";
            using var maps = new FileStream($"{self}/maps", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            foreach (ProcMapping m in ProcMaps.Read(maps, $"{self}/maps", new ParseWarnings()))
            {
                if (m.Path == "[vdso]" && m.End - m.Start <= 1 << 20)
                {
                    byte[] image = new byte[m.End - m.Start];
                    using var mem = File.OpenHandle($"{self}/mem", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                    int done = 0;
                    while (done < image.Length)
                    {
                        int n = RandomAccess.Read(mem, image.AsSpan(done), (long)m.Start + done);
                        if (n <= 0)
                        {
                            return null;
                        }

                        done += n;
                    }

                    _vdso = ElfFile.Parse(image, "[vdso]");
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
            Warnings.Add("vdso not readable: its frames show as [vdso]", e.Message);
        }

        return _vdso;
    }

    private void LoadKernel()
    {
        bool first = _kernelLoadedAt == 0;
        _kernelLoadedAt = Stopwatch.GetTimestamp();
        try
        {
            // Re-reads count bad lines again; only the first read reports them.
            _kernel = KernelSymbols.Load(_options.KallsymsPath, first ? Warnings : new ParseWarnings());
        }
        catch (OracException e)
        {
            if (first)
            {
                Warnings.Add("kernel symbols unavailable: kernel frames show as [unknown]", e.Message);
            }
        }
    }

    private int CountWithoutBuildId()
    {
        int n = 0;
        foreach (KeyValuePair<string, ElfFile?> kv in _byIdentity)
        {
            if (kv.Value is { BuildId: null })
            {
                n++;
            }
        }

        return n;
    }

    private ProcessState GetState(int pid)
    {
        if (!_processes.TryGetValue(pid, out ProcessState? state))
        {
            state = new ProcessState(pid);
            _processes.Add(pid, state);
        }

        return state;
    }

    private PerfMap PerfMapOf(ProcessState state) => state.PerfMap ??= new PerfMap(PerfMapPath(state.Pid));

    /// <summary>
    /// <c>/tmp/perf-PID.map</c>; for a process in another PID namespace (a container) whose map is not
    /// there, the map it wrote in its own /tmp under its own pid: <c>/proc/PID/root/tmp/perf-NSPID.map</c>.
    /// </summary>
    private string PerfMapPath(int pid)
    {
        string host = Path.Combine(_options.PerfMapDirectory, $"perf-{pid}.map");
        if (File.Exists(host))
        {
            return host;
        }

        int nsPid = NamespacePid(pid);
        return nsPid > 0 && nsPid != pid ? $"{_options.ProcRoot}/{pid}/root/tmp/perf-{nsPid}.map" : host;
    }

    /// <summary>The pid in the process's innermost PID namespace (last field of <c>NSpid:</c> in /proc/PID/status), or 0.</summary>
    private int NamespacePid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"{_options.ProcRoot}/{pid}/status"))
            {
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                {
                    string[] f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    return int.TryParse(f[^1], out int ns) ? ns : 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private string? FindJitted(ProcessState state, ulong address)
    {
        PerfMap map = PerfMapOf(state);
        return map.Find(address) ?? (RefreshPerfMap(state) ? map.Find(address) : null);
    }

    /// <summary>
    /// Reads what the JIT appended, once the map is trusted: /tmp is writable by everyone, so (as
    /// perf does) a map counts only when owned by root, by the user Orac runs as, or by the process's
    /// own user; anyone else could plant names for another user's process.
    /// </summary>
    private bool RefreshPerfMap(ProcessState state)
    {
        PerfMap map = PerfMapOf(state);
        if (state.PerfMapRejected)
        {
            return false;
        }

        if (!state.PerfMapTrusted)
        {
            // A symlink is judged by its own owner: whoever planted it in /tmp.
            if (!FileIdentity.TryGet(map.Path, out FileIdentity id, followLinks: false))
            {
                return false; // not written yet
            }

            uint owner = id.OwnerUid;
            if (owner != FileIdentity.UnknownUid && owner != 0 && owner != OwnUid() && owner != state.Uid)
            {
                state.PerfMapRejected = true;
                Warnings.Add("perf maps ignored (owned by another user than the process's)", $"{map.Path} (owner uid {owner})");
                return false;
            }

            state.PerfMapTrusted = true;
        }

        return map.Refresh(Warnings);
    }

    private uint OwnUid()
    {
        if (_ownUid == FileIdentity.UnknownUid)
        {
            _ownUid = ProcessUid(Environment.ProcessId);
        }

        return _ownUid;
    }

    /// <summary>The effective uid in /proc/PID/status (<c>Uid:</c> real effective saved fs), or <see cref="FileIdentity.UnknownUid"/>.</summary>
    private uint ProcessUid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"{_options.ProcRoot}/{pid}/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    string[] f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    return f.Length > 2 && uint.TryParse(f[2], out uint uid) ? uid : FileIdentity.UnknownUid;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return FileIdentity.UnknownUid;
    }

    /// <summary>Reads /proc/PID/maps into <paramref name="state"/>; a process that is gone keeps what was read before.</summary>
    private void ReadMaps(ProcessState state)
    {
        state.MapsReadAt = Stopwatch.GetTimestamp();
        string path = $"{_options.ProcRoot}/{state.Pid}/maps";
        List<ProcMapping> maps;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            maps = ProcMaps.Read(stream, path, Warnings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            state.Exited = true;
            return;
        }

        if (maps.Count == 0)
        {
            // A zombie's maps are empty: keep the mappings seen while it ran.
            state.Exited = state.Mappings.Count > 0 || state.Exited;
            return;
        }

        state.Exited = false;
        var fresh = new List<MappingState>(maps.Count);
        foreach (ProcMapping m in maps)
        {
            // Keep what was already resolved for an unchanged mapping.
            MappingState? old = state.Find(m.Start);
            if (old is not null && old.Map == m)
            {
                fresh.Add(old);
                continue;
            }

            // Remember now, while the process runs, which file is mapped (inode, size, mtime):
            // after it exits, a file at the same path counts only if it is still that file.
            var added = new MappingState(m);
            if (!m.IsAnonymous && !m.IsSpecial && !m.IsDeleted && m.Path.Length > 0)
            {
                if (FileIdentity.TryGet(m.Path, out FileIdentity id) && (id.Inode == m.Inode || id.Inode == 0))
                {
                    added.Expected = id;
                }
                else if (FileIdentity.TryGet($"{_options.ProcRoot}/{state.Pid}/root{m.Path}", out id) && (id.Inode == m.Inode || id.Inode == 0))
                {
                    added.Expected = id;
                }
            }

            fresh.Add(added);
        }

        state.Mappings = fresh;
    }

    /// <summary>
    /// The ELF file behind a mapping. The plain path counts only when its inode matches the one in
    /// the maps (else it is another file, e.g. in another mount namespace or replaced since), then
    /// the path seen from the process's root (<c>/proc/PID/root/…</c>, for containers), then
    /// <c>/proc/PID/map_files/START-END</c> (the mapped file itself, deleted or not, while the process lives).
    /// </summary>
    private ElfFile? ModuleFor(ProcessState state, MappingState m)
    {
        if (m.Resolved)
        {
            return m.Elf;
        }

        m.Resolved = true;
        string file = m.Map.FilePath;
        if (file.Length > 0 && file[0] == '/')
        {
            if (!m.Map.IsDeleted && TryModule(file, m, out ElfFile? elf))
            {
                return m.Elf = elf;
            }

            if (!m.Map.IsDeleted && TryModule($"{_options.ProcRoot}/{state.Pid}/root{file}", m, out elf))
            {
                return m.Elf = elf;
            }

            if (TryModule($"{_options.ProcRoot}/{state.Pid}/map_files/{m.Map.Start:x}-{m.Map.End:x}", m, out elf))
            {
                return m.Elf = elf;
            }
        }

        return null;
    }

    private bool TryModule(string path, MappingState m, out ElfFile? elf)
    {
        elf = null;
        ulong inode = m.Map.Inode;
        if (!FileIdentity.TryGet(path, out FileIdentity id) || (inode != 0 && id.Inode != 0 && id.Inode != inode))
        {
            return false;
        }

        // Inode numbers are reused: when the file was seen while the process ran, size and mtime must match too.
        if (m.Expected is { } expected && (expected.Size != id.Size || expected.MtimeNs != id.MtimeNs))
        {
            return false;
        }

        string key = $"{path}\n{id.Size}\n{id.MtimeNs}";
        if (_byIdentity.TryGetValue(key, out elf))
        {
            return true;
        }

        try
        {
            using var source = new FileByteSource(path);
            ElfFile header = ElfFile.ReadHeaders(source, out ElfFile.Section[] sections);
            if (header.BuildId is not null && _byBuildId.TryGetValue(header.BuildId, out ElfFile? known))
            {
                elf = known;
            }
            else
            {
                header.LoadSymbolsFrom(source, sections);
                elf = header;
                if (header.BuildId is not null)
                {
                    _byBuildId[header.BuildId] = header;
                }
            }
        }
        catch (OracException e)
        {
            Warnings.Add("mapped files without usable symbols (shown as [module])", e.Message);
            elf = null;
        }

        _byIdentity[key] = elf;
        return true;
    }

    private sealed class MappingState(ProcMapping map)
    {
        public ProcMapping Map { get; } = map;

        /// <summary>The <c>[module]</c> frame, built once (it is returned per sample).</summary>
        public string ModuleName { get; } = map.ModuleName;

        public bool Resolved { get; set; }

        public ElfFile? Elf { get; set; }

        /// <summary>The mapped file as seen while the process ran, when it was.</summary>
        public FileIdentity? Expected { get; set; }
    }

    private sealed class ProcessState(int pid)
    {
        public int Pid { get; } = pid;

        /// <summary>Executable mappings sorted by start, not overlapping.</summary>
        public List<MappingState> Mappings { get; set; } = [];

        public PerfMap? PerfMap { get; set; }

        /// <summary>The process's effective uid, read while it ran; <see cref="FileIdentity.UnknownUid"/> when not known.</summary>
        public uint Uid { get; set; } = FileIdentity.UnknownUid;

        public bool PerfMapTrusted { get; set; }

        public bool PerfMapRejected { get; set; }

        public bool Exited { get; set; }

        public long MapsReadAt { get; set; }

        public MappingState? Find(ulong address)
        {
            int lo = 0, hi = Mappings.Count;
            while (lo < hi)
            {
                int mid = (int)((uint)(lo + hi) >> 1);
                if (Mappings[mid].Map.Start <= address)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo > 0 && address < Mappings[lo - 1].Map.End ? Mappings[lo - 1] : null;
        }

        /// <summary>Adds a mapping; older mappings it overlaps are cut back to what it does not cover.</summary>
        public void Insert(MappingState added)
        {
            ProcMapping a = added.Map;
            var result = new List<MappingState>(Mappings.Count + 2);
            foreach (MappingState old in Mappings)
            {
                ProcMapping o = old.Map;
                if (o.End <= a.Start || o.Start >= a.End)
                {
                    result.Add(old);
                    continue;
                }

                if (o.Start < a.Start)
                {
                    result.Add(new MappingState(o with { End = a.Start }));
                }

                if (o.End > a.End)
                {
                    result.Add(new MappingState(o with { Start = a.End, Offset = o.Offset + (a.End - o.Start) }));
                }
            }

            result.Add(added);
            result.Sort(static (x, y) => x.Map.Start.CompareTo(y.Map.Start));
            Mappings = result;
        }
    }
}
