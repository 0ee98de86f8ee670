using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>
/// The function symbols of one ELF64 little-endian file (executable, PIE or shared object), from
/// <c>.symtab</c> and <c>.dynsym</c>, plus its <c>PT_LOAD</c> segments (to turn a file offset into
/// a symbol address) and its GNU build-id. Only headers, the symbol tables and their string tables
/// are read, each bounds-checked against the file's length; the file is closed after loading.
/// Immutable after <see cref="Load(string)"/>; lookups are thread-safe.
/// </summary>
public sealed class ElfFile
{
    /// <summary>Most function symbols kept per file; the rest are dropped (and counted in <see cref="SymbolsDropped"/>).</summary>
    public const int MaxSymbols = 4_000_000;

    /// <summary>Largest symbol or string table read, in bytes; a bigger one is skipped.</summary>
    public const long MaxTableBytes = 256L << 20;

    private const int MaxSections = 1 << 16;
    private const ulong MaxUnsizedExtent = 64 << 10;
    private const int MaxSegments = 1 << 12;
    private const int MaxNameBytes = 4096;
    private const int SymEntrySize = 24;
    private const uint ShtSymtab = 2;
    private const uint ShtDynsym = 11;
    private const uint ShtNote = 7;
    private const uint ShtNobits = 8;
    private const uint PtLoad = 1;
    private const uint PtNote = 4;

    private readonly Segment[] _loads;
    private ulong[] _starts = [];
    private ulong[] _ends = [];
    private int[] _nameRef = [];
    private byte[][] _strtabs = [];
    private string?[] _names = [];

    private ElfFile(string path, Segment[] loads, string? buildId)
    {
        Path = path;
        _loads = loads;
        BuildId = buildId;
    }

    /// <summary>The file this was read from (or the label given to <see cref="Parse"/>).</summary>
    public string Path { get; }

    /// <summary>The GNU build-id as lower-case hex, or null when the file has none.</summary>
    public string? BuildId { get; }

    /// <summary>Distinct function start addresses kept (after merging aliases).</summary>
    public int SymbolCount => _starts.Length;

    /// <summary>Function symbols dropped because of <see cref="MaxSymbols"/> or <see cref="MaxTableBytes"/>.</summary>
    public long SymbolsDropped { get; private set; }

    /// <summary>Reads the headers, build-id and function symbols of <paramref name="path"/>.</summary>
    /// <exception cref="OracException">The file is unreadable, not ELF64 little-endian, or damaged.</exception>
    public static ElfFile Load(string path)
    {
        using var source = new FileByteSource(path);
        ElfFile elf = ReadHeaders(source, out Section[] sections);
        elf.LoadSymbols(source, sections);
        return elf;
    }

    /// <summary>As <see cref="Load(string)"/>, from bytes in memory; <paramref name="name"/> labels messages.</summary>
    public static ElfFile Parse(byte[] data, string name)
    {
        using var source = new MemoryByteSource(data, name);
        ElfFile elf = ReadHeaders(source, out Section[] sections);
        elf.LoadSymbols(source, sections);
        return elf;
    }

    /// <summary>
    /// Reads only the headers and build-id (cheap); symbols are read by <see cref="LoadSymbolsFrom"/>.
    /// Used by the module cache to find an already-loaded copy by build-id first.
    /// </summary>
    internal static ElfFile ReadHeaders(ByteSource source, out Section[] sections)
    {
        Span<byte> eh = stackalloc byte[64];
        if (source.Length < 64)
        {
            throw new OracException($"{source.Name}: not an ELF file ({source.Length} bytes, shorter than an ELF64 header)");
        }

        source.Read(0, eh, "ELF header");
        if (eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
        {
            throw new OracException($"{source.Name}: not an ELF file (magic {eh[0]:x2} {eh[1]:x2} {eh[2]:x2} {eh[3]:x2} at byte offset 0)");
        }

        if (eh[4] != 2 || eh[5] != 1)
        {
            throw new OracException($"{source.Name}: unsupported ELF class {eh[4]} / data encoding {eh[5]} at byte offset 4: only ELF64 little-endian is supported");
        }

        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh[0x20..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(eh[0x28..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh[0x36..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh[0x38..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh[0x3a..]);
        ulong shnum = BinaryPrimitives.ReadUInt16LittleEndian(eh[0x3c..]);

        var loads = new List<Segment>();
        var noteSegments = new List<Segment>();
        if (phnum > 0)
        {
            if (phentsize < 56)
            {
                throw new OracException($"{source.Name}: program header entry size {phentsize} at byte offset 54 is below 56");
            }

            byte[] ph = source.ReadArray(phoff, (ulong)phnum * (ulong)phentsize, "program headers");
            for (int i = 0; i < phnum && i < MaxSegments; i++)
            {
                ReadOnlySpan<byte> p = ph.AsSpan(i * phentsize, 56);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(p);
                var seg = new Segment(
                    BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(p[32..]));
                if (type == PtLoad && seg.FileSize > 0)
                {
                    loads.Add(seg);
                }
                else if (type == PtNote)
                {
                    noteSegments.Add(seg);
                }
            }
        }

        sections = [];
        if (shoff != 0)
        {
            if (shentsize < 64)
            {
                throw new OracException($"{source.Name}: section header entry size {shentsize} at byte offset 58 is below 64");
            }

            Span<byte> first = stackalloc byte[64];
            source.Read(shoff, first, "section header 0");
            if (shnum == 0)
            {
                // More than 0xff00 sections: the real count is in section 0's sh_size.
                shnum = BinaryPrimitives.ReadUInt64LittleEndian(first[32..]);
            }

            if (shnum > MaxSections)
            {
                throw new OracException($"{source.Name}: {shnum} sections (header at byte offset {shoff}) exceeds the limit of {MaxSections}");
            }

            byte[] sh = source.ReadArray(shoff, shnum * (ulong)shentsize, "section headers");
            sections = new Section[shnum];
            for (int i = 0; i < (int)shnum; i++)
            {
                ReadOnlySpan<byte> s = sh.AsSpan(i * shentsize, 64);
                sections[i] = new Section(
                    BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[24..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(s[40..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[56..]));
            }
        }

        string? buildId = null;
        foreach (Section s in sections)
        {
            if (s.Type == ShtNote && buildId is null)
            {
                buildId = FindBuildId(source, s.Offset, s.Size);
            }
        }

        foreach (Segment n in noteSegments)
        {
            buildId ??= FindBuildId(source, n.Offset, n.FileSize);
        }

        return new ElfFile(source.Name, [.. loads], buildId);
    }

    /// <summary>The first NT_GNU_BUILD_ID note in the note area, or null; a damaged note area yields null.</summary>
    private static string? FindBuildId(ByteSource source, ulong offset, ulong size)
    {
        if (size == 0 || size > 1 << 20 || offset > (ulong)source.Length || size > (ulong)source.Length - offset)
        {
            return null;
        }

        byte[] notes = source.ReadArray(offset, size, "note section");
        int pos = 0;
        while (pos + 12 <= notes.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(notes.AsSpan(pos));
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(notes.AsSpan(pos + 4));
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes.AsSpan(pos + 8));
            long nameEnd = pos + 12L + ((namesz + 3L) & ~3L);
            long descEnd = nameEnd + ((descsz + 3L) & ~3L);
            if (nameEnd > notes.Length || nameEnd + descsz > notes.Length)
            {
                return null;
            }

            if (type == 3 && namesz == 4 && notes.AsSpan(pos + 12, 4).SequenceEqual("GNU\0"u8) && descsz is > 0 and <= 64)
            {
                return Convert.ToHexStringLower(notes, (int)nameEnd, (int)descsz);
            }

            pos = (int)Math.Min(descEnd, notes.Length);
        }

        return null;
    }

    /// <summary>Reads and indexes the function symbols of <c>.symtab</c> and <c>.dynsym</c>.</summary>
    internal void LoadSymbolsFrom(ByteSource source, Section[] sections) => LoadSymbols(source, sections);

    private void LoadSymbols(ByteSource source, Section[] sections)
    {
        var strtabs = new List<byte[]>();
        var cands = new List<Candidate>();
        bool sawSymtab = false, sawDynsym = false;
        for (int i = 0; i < sections.Length; i++)
        {
            Section s = sections[i];
            if (s.Type is not (ShtSymtab or ShtDynsym) || s.Size == 0)
            {
                continue;
            }

            // A file has at most one of each; more would let a hostile file make us read one table many times over.
            ref bool seen = ref s.Type == ShtSymtab ? ref sawSymtab : ref sawDynsym;
            if (seen)
            {
                continue;
            }

            seen = true;

            if ((s.EntSize != SymEntrySize && s.EntSize != 0) || s.Link >= (uint)sections.Length)
            {
                throw new OracException($"{source.Name}: symbol table section {i} has entry size {s.EntSize} / string table link {s.Link} ({sections.Length} sections)");
            }

            Section str = sections[s.Link];
            if (s.Size > MaxTableBytes || str.Size > MaxTableBytes || str.Type == ShtNobits)
            {
                SymbolsDropped += (long)(s.Size / SymEntrySize);
                continue;
            }

            byte[] strtab = source.ReadArray(str.Offset, str.Size, $"string table (section {s.Link})");
            int tableIndex = strtabs.Count;
            strtabs.Add(strtab);
            ulong count = s.Size / SymEntrySize;
            const int Chunk = 4096;
            byte[] buf = new byte[Chunk * SymEntrySize];
            for (ulong first = 0; first < count; first += Chunk)
            {
                int n = (int)Math.Min(Chunk, count - first);
                source.Read(s.Offset + (first * SymEntrySize), buf.AsSpan(0, n * SymEntrySize), $"symbol table (section {i})");
                for (int k = 0; k < n; k++)
                {
                    ReadOnlySpan<byte> e = buf.AsSpan(k * SymEntrySize, SymEntrySize);
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(e);
                    byte info = e[4];
                    int type = info & 0xf;
                    int bind = info >> 4;
                    ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
                    ulong value = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
                    ulong size = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);

                    // STT_FUNC and STT_GNU_IFUNC, defined (not SHN_UNDEF), with a non-empty name.
                    if ((type != 2 && type != 10) || shndx == 0 || value == 0 || name == 0 || name >= (uint)strtab.Length || strtab[name] == 0)
                    {
                        continue;
                    }

                    if (cands.Count >= MaxSymbols)
                    {
                        SymbolsDropped++;
                        continue;
                    }

                    ulong sectionEnd = ulong.MaxValue;
                    if (shndx < sections.Length && sections[shndx].Addr <= value)
                    {
                        ulong end = sections[shndx].Addr + sections[shndx].Size;
                        sectionEnd = end < sections[shndx].Addr ? ulong.MaxValue : end;
                    }

                    cands.Add(new Candidate(value, size, sectionEnd, tableIndex, (int)name, Rank(bind, strtab, name)));
                }
            }
        }

        cands.Sort((a, b) => CompareCandidates(strtabs, a, b));
        var starts = new List<ulong>(cands.Count);
        var ends = new List<ulong>(cands.Count);
        var refs = new List<int>(cands.Count);
        var tables = new List<(int Table, int Offset)>(cands.Count);
        for (int i = 0; i < cands.Count;)
        {
            // Aliases share a start: the best-ranked name wins; the size is the largest known one.
            Candidate best = cands[i];
            ulong size = best.Size;
            ulong sectionEnd = best.SectionEnd;
            int j = i + 1;
            for (; j < cands.Count && cands[j].Start == best.Start; j++)
            {
                size = Math.Max(size, cands[j].Size);
                sectionEnd = Math.Min(sectionEnd, cands[j].SectionEnd);
            }

            // Size 0: up to the next symbol or the section's end; without a known section, at most MaxUnsizedExtent.
            ulong end = size != 0 && best.Start + size > best.Start ? best.Start + size
                : sectionEnd != ulong.MaxValue ? sectionEnd
                : best.Start + MaxUnsizedExtent > best.Start ? best.Start + MaxUnsizedExtent : ulong.MaxValue;
            if (size == 0 && j < cands.Count)
            {
                end = Math.Min(end, cands[j].Start);
            }

            starts.Add(best.Start);
            ends.Add(end);
            refs.Add(tables.Count);
            tables.Add((best.Table, best.NameOffset));
            i = j;
        }

        _starts = [.. starts];
        _ends = [.. ends];
        _strtabs = [.. strtabs];
        _nameRef = new int[tables.Count * 2];
        for (int i = 0; i < tables.Count; i++)
        {
            _nameRef[2 * i] = tables[i].Table;
            _nameRef[(2 * i) + 1] = tables[i].Offset;
        }

        _names = new string?[_starts.Length];
    }

    /// <summary>
    /// Orders aliases: visible (global or weak) before local, fewer leading underscores, global
    /// before weak, then by name bytes so the choice is deterministic.
    /// </summary>
    private static int Rank(int bind, byte[] strtab, uint name)
    {
        int visible = bind == 0 ? 1 : 0;
        int underscores = 0;
        while (underscores < 3 && name + underscores < strtab.Length && strtab[name + underscores] == (byte)'_')
        {
            underscores++;
        }

        int weak = bind == 1 ? 0 : 1;
        return (visible << 8) | (underscores << 4) | weak;
    }

    private static int CompareCandidates(List<byte[]> tables, Candidate a, Candidate b)
    {
        int c = a.Start.CompareTo(b.Start);
        if (c != 0)
        {
            return c;
        }

        c = a.Rank.CompareTo(b.Rank);
        return c != 0 ? c : NameBytes(tables, a.Table, a.NameOffset).SequenceCompareTo(NameBytes(tables, b.Table, b.NameOffset));
    }

    private static ReadOnlySpan<byte> NameBytes(IReadOnlyList<byte[]> tables, int table, int offset)
    {
        ReadOnlySpan<byte> s = tables[table].AsSpan(offset);
        int nul = s.IndexOf((byte)0);
        s = nul >= 0 ? s[..nul] : s;
        return s.Length > MaxNameBytes ? s[..MaxNameBytes] : s;
    }

    /// <summary>
    /// The symbol address of byte <paramref name="fileOffset"/> of the file, through the
    /// <c>PT_LOAD</c> segment that holds it: <c>fileOffset - p_offset + p_vaddr</c>.
    /// </summary>
    public bool TryFileOffsetToAddress(ulong fileOffset, out ulong address)
    {
        foreach (Segment s in _loads)
        {
            if (fileOffset >= s.Offset && fileOffset - s.Offset < s.FileSize)
            {
                address = fileOffset - s.Offset + s.Vaddr;
                return true;
            }
        }

        address = 0;
        return false;
    }

    /// <summary>
    /// The function containing symbol address <paramref name="address"/>: the greatest start at or
    /// below it whose extent (its size, or up to the next symbol or its section's end when the size
    /// is 0) covers it. Null when none does: never the name of a function that ends earlier.
    /// </summary>
    public string? FindSymbol(ulong address) => TryFindSymbol(address, out string? name, out _, out _) ? name : null;

    /// <summary>As <see cref="FindSymbol"/>, also giving the symbol's start and end (exclusive).</summary>
    public bool TryFindSymbol(ulong address, [NotNullWhen(true)] out string? name, out ulong start, out ulong end)
    {
        int i = UpperBound(_starts, address) - 1;

        // A few steps back cover a function nested inside a larger one (e.g. cold parts, aliases of other sizes).
        for (int k = 0; i >= 0 && k < 8; i--, k++)
        {
            if (address < _ends[i])
            {
                start = _starts[i];
                end = _ends[i];
                name = Name(i);
                return true;
            }
        }

        name = null;
        start = end = 0;
        return false;
    }

    private string Name(int i)
    {
        string? n = Volatile.Read(ref _names[i]);
        if (n is null)
        {
            n = Encoding.UTF8.GetString(NameBytes(_strtabs, _nameRef[2 * i], _nameRef[(2 * i) + 1]));
            Volatile.Write(ref _names[i], n);
        }

        return n;
    }

    /// <summary>Index of the first element greater than <paramref name="value"/>.</summary>
    internal static int UpperBound(ulong[] sorted, ulong value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    internal readonly record struct Section(uint Type, ulong Addr, ulong Offset, ulong Size, uint Link, ulong EntSize);

    private readonly record struct Segment(ulong Offset, ulong Vaddr, ulong FileSize);

    private readonly record struct Candidate(ulong Start, ulong Size, ulong SectionEnd, int Table, int NameOffset, int Rank);
}
