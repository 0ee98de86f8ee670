namespace Orac.Collect.Symbols;

/// <summary>
/// Turns sampled instruction pointers into function names. The sampler tells it about processes
/// and mappings as it sees them (so names survive a process's exit) and asks for one name per frame.
/// A name that cannot be resolved is <c>[module]</c> (the mapped file's base name) or
/// <c>[unknown]</c>, as perf prints it: never a wrong name.
/// </summary>
public interface ISymbolResolver
{
    /// <summary>Reads <c>/proc/PID/maps</c> (and the perf map of a JIT) now, before the process can exit.</summary>
    void NoteProcess(int pid);

    /// <summary>A new executable mapping seen in the sample stream (PERF_RECORD_MMAP2).</summary>
    void NoteMapping(int pid, ulong start, ulong length, ulong fileOffset, string path);

    /// <summary>The name of a kernel address (from /proc/kallsyms).</summary>
    string ResolveKernel(ulong address);

    /// <summary>The name of a user address in process <paramref name="pid"/>.</summary>
    string ResolveUser(int pid, ulong address);
}
