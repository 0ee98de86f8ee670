using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>
/// Fuzz target: arbitrary bytes as an ELF file; the symbols found must be looked up without
/// crashing. <see cref="OracException"/> is an accepted outcome; any other exception is a bug.
/// </summary>
public static class ElfFuzz
{
    /// <summary>Parses <paramref name="data"/> as ELF and looks up addresses around every segment.</summary>
    public static void Run(byte[] data)
    {
        ElfFile elf;
        try
        {
            elf = ElfFile.Parse(data, "fuzz");
        }
        catch (OracException)
        {
            return;
        }

        for (ulong off = 0; off < (ulong)data.Length + 64; off += 61)
        {
            if (elf.TryFileOffsetToAddress(off, out ulong vaddr))
            {
                _ = elf.FindSymbol(vaddr);
            }

            _ = elf.FindSymbol(off);
        }

        _ = elf.FindSymbol(ulong.MaxValue);
    }
}

/// <summary>Fuzz target: arbitrary bytes as a JIT perf map, parsed whole and in two pieces, then looked up.</summary>
public static class PerfMapFuzz
{
    /// <summary>Parses <paramref name="data"/> as <c>/tmp/perf-PID.map</c> lines and looks up addresses.</summary>
    public static void Run(byte[] data)
    {
        var warnings = new ParseWarnings();
        var whole = new PerfMap("fuzz");
        whole.ParseLines(data, warnings, atEnd: true);

        var pieces = new PerfMap("fuzz");
        int half = data.Length / 2;
        int used = pieces.ParseLines(data.AsSpan(0, half), warnings, atEnd: false);
        pieces.ParseLines(data.AsSpan(used), warnings, atEnd: true);
        if (pieces.Count != whole.Count)
        {
            throw new InvalidOperationException($"perf map parsed in pieces gave {pieces.Count} entries, whole {whole.Count}");
        }

        foreach (ulong a in (ReadOnlySpan<ulong>)[0, 1, 0x1000, 0x2000, 0x4010, 0x7fff_0000_0000, ulong.MaxValue])
        {
            if (whole.Find(a) != pieces.Find(a))
            {
                throw new InvalidOperationException($"perf map lookup of {a:x} differs between whole and pieces");
            }
        }
    }
}

/// <summary>Fuzz target: arbitrary bytes as <c>/proc/PID/maps</c>.</summary>
public static class ProcMapsFuzz
{
    /// <summary>Parses <paramref name="data"/> as maps and checks every kept mapping is well-formed.</summary>
    public static void Run(byte[] data)
    {
        List<ProcMapping> maps = ProcMaps.Read(new MemoryStream(data), "fuzz", new ParseWarnings());
        for (int i = 0; i < maps.Count; i++)
        {
            if (maps[i].End <= maps[i].Start || (i > 0 && maps[i].Start < maps[i - 1].Start))
            {
                throw new InvalidOperationException($"mapping {i} is empty or out of order");
            }

            if (maps[i].ModuleName.Length == 0)
            {
                throw new InvalidOperationException($"mapping {i} has an empty module name");
            }
        }
    }
}

/// <summary>Fuzz target: arbitrary bytes as <c>/proc/kallsyms</c>.</summary>
public static class KallsymsFuzz
{
    /// <summary>Parses <paramref name="data"/> as kallsyms and looks up kernel addresses.</summary>
    public static void Run(byte[] data)
    {
        KernelSymbols k = KernelSymbols.Read(new MemoryStream(data), "fuzz", new ParseWarnings());
        foreach (ulong a in (ReadOnlySpan<ulong>)[0, 0xffffffff81000000, 0xffffffff81000101, 0xffffffffc0001040, ulong.MaxValue])
        {
            if (k.Find(a) is { Length: 0 })
            {
                throw new InvalidOperationException($"empty kernel symbol name at {a:x}");
            }
        }
    }
}
