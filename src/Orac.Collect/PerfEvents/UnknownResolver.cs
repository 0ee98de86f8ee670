using Orac.Collect.Symbols;

namespace Orac.Collect.PerfEvents;

/// <summary>Resolves nothing: every frame is <c>[unknown]</c>. For tests of the sampler alone.</summary>
internal sealed class UnknownResolver : ISymbolResolver
{
    public void NoteProcess(int pid)
    {
    }

    public void NoteMapping(int pid, ulong start, ulong length, ulong fileOffset, string path)
    {
    }

    public string ResolveKernel(ulong address) => "[unknown]";

    public string ResolveUser(int pid, ulong address) => "[unknown]";
}
