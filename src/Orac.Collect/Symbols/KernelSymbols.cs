using System.Text;
using Orac.Formats;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>
/// Kernel symbols from <c>/proc/kallsyms</c> (<c>ADDRESS TYPE NAME [\t[MODULE]]</c>), sorted for
/// binary search. kallsyms gives no sizes: a symbol spans up to the next symbol's start (data
/// symbols count as bounds too) and at most <see cref="MaxExtent"/>. A module suffix is stripped.
/// When every address reads 0 (kptr_restrict, or not root) the table is <see cref="Hidden"/>.
/// Immutable after parsing; lookups are thread-safe.
/// </summary>
public sealed class KernelSymbols
{
    /// <summary>Most symbols kept; more lines are counted as skipped.</summary>
    public const int MaxSymbols = 8_000_000;

    /// <summary>Longest extent given to one symbol, in bytes (kallsyms has no sizes; nothing in the kernel is a 1 MiB function).</summary>
    public const ulong MaxExtent = 1 << 20;

    /// <summary>The lowest kernel address on x86-64 and arm64 (canonical upper half).</summary>
    public const ulong KernelBase = 0xffff_8000_0000_0000;

    private const int MaxNameBytes = 512;

    private readonly ulong[] _starts;
    private readonly int[] _nameOffsets;
    private readonly bool[] _isText;
    private readonly byte[] _names;
    private readonly string?[] _cache;

    private KernelSymbols(ulong[] starts, int[] nameOffsets, bool[] isText, byte[] names, bool hidden)
    {
        _starts = starts;
        _nameOffsets = nameOffsets;
        _isText = isText;
        _names = names;
        _cache = new string?[starts.Length];
        Hidden = hidden;
    }

    /// <summary>True when the file listed symbols but every address was 0: kernel frames cannot be named.</summary>
    public bool Hidden { get; }

    /// <summary>Distinct symbol addresses kept.</summary>
    public int Count => _starts.Length;

    /// <summary>Reads kallsyms text from <paramref name="stream"/>; bad lines are counted in <paramref name="warnings"/>.</summary>
    public static KernelSymbols Read(Stream stream, string where, ParseWarnings warnings)
    {
        var reader = new LineReader(stream, maxLineBytes: 4096, bufferSize: 64 << 10);
        var entries = new List<Entry>();
        var names = new ByteBuffer(1 << 20);
        bool sawZero = false;
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            if (!TryParse(line, out ulong address, out byte type, out ReadOnlySpan<byte> name))
            {
                warnings.Add("kallsyms lines skipped", $"{where}:{reader.LineNumber}");
                continue;
            }

            // Absolute symbols (per-CPU offsets and the like) are not code addresses.
            if (type is (byte)'a' or (byte)'A' or (byte)'U')
            {
                continue;
            }

            if (address == 0)
            {
                sawZero = true;
                continue;
            }

            if (entries.Count >= MaxSymbols)
            {
                warnings.Add("kallsyms symbols over the limit skipped", $"{where}:{reader.LineNumber}");
                continue;
            }

            bool text = type is (byte)'t' or (byte)'T' or (byte)'w' or (byte)'W';
            int rank = (type is (byte)'T' or (byte)'W' ? 0 : 1 << 4) | Math.Min(LeadingUnderscores(name), 3);
            entries.Add(new Entry(address, names.Count, name.Length, text, rank));
            names.Append(name);
        }

        if (reader.LongLinesSkipped.Count > 0)
        {
            warnings.AddCount("kallsyms lines skipped", reader.LongLinesSkipped.Count);
        }

        byte[] blob = names.Data;
        entries.Sort((a, b) =>
        {
            int c = a.Address.CompareTo(b.Address);
            if (c != 0)
            {
                return c;
            }

            // Aliases: text before data, global before local, fewer underscores, then name bytes.
            c = b.Text.CompareTo(a.Text);
            c = c != 0 ? c : a.Rank.CompareTo(b.Rank);
            return c != 0 ? c : blob.AsSpan(a.NameOffset, a.NameLength).SequenceCompareTo(blob.AsSpan(b.NameOffset, b.NameLength));
        });

        var starts = new List<ulong>(entries.Count);
        var offsets = new List<int>(entries.Count);
        var isText = new List<bool>(entries.Count);
        var packed = new ByteBuffer(names.Count + entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            if (i > 0 && entries[i].Address == entries[i - 1].Address)
            {
                continue;
            }

            starts.Add(entries[i].Address);
            offsets.Add(packed.Count);
            isText.Add(entries[i].Text);
            packed.Append(blob.AsSpan(entries[i].NameOffset, entries[i].NameLength));
            packed.Append([0]);
        }

        bool hidden = sawZero && starts.Count == 0;
        if (hidden)
        {
            warnings.Add("kallsyms addresses are all 0 (kptr_restrict or not root): kernel frames show as [unknown]", where);
        }

        return new KernelSymbols([.. starts], [.. offsets], [.. isText], packed.Data, hidden);
    }

    /// <summary>Reads <paramref name="path"/> (normally /proc/kallsyms).</summary>
    public static KernelSymbols Load(string path, ParseWarnings warnings)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            return Read(stream, path, warnings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read kernel symbols: {e.Message}", e);
        }
    }

    /// <summary>The function at <paramref name="address"/>, or null (not code, past the last symbol, or hidden).</summary>
    public string? Find(ulong address)
    {
        int i = ElfFile.UpperBound(_starts, address) - 1;
        if (i < 0 || !_isText[i])
        {
            return null;
        }

        ulong extent = address - _starts[i];
        if (extent >= MaxExtent || (i + 1 < _starts.Length && address >= _starts[i + 1]))
        {
            return null;
        }

        string? n = Volatile.Read(ref _cache[i]);
        if (n is null)
        {
            ReadOnlySpan<byte> s = _names.AsSpan(_nameOffsets[i]);
            n = Encoding.UTF8.GetString(s[..s.IndexOf((byte)0)]);
            Volatile.Write(ref _cache[i], n);
        }

        return n;
    }

    private static bool TryParse(ReadOnlySpan<byte> line, out ulong address, out byte type, out ReadOnlySpan<byte> name)
    {
        address = 0;
        type = 0;
        name = default;
        int sp = line.IndexOf((byte)' ');
        if (sp is <= 0 or > 16 || !TryHex(line[..sp], out address) || line.Length < sp + 4 || line[sp + 2] != (byte)' ')
        {
            return false;
        }

        type = line[sp + 1];
        if (!char.IsAsciiLetter((char)type))
        {
            return false;
        }

        name = line[(sp + 3)..];
        int tab = name.IndexOfAny((byte)'\t', (byte)' ');
        if (tab >= 0)
        {
            // "\t[module]" follows the name for module symbols; anything else after it is malformed.
            ReadOnlySpan<byte> rest = name[(tab + 1)..].Trim((byte)' ');
            if (rest.Length < 2 || rest[0] != (byte)'[' || rest[^1] != (byte)']')
            {
                return false;
            }

            name = name[..tab];
        }

        name = name.TrimEnd((byte)'\r');
        return name.Length is > 0 and <= MaxNameBytes && name.IndexOf((byte)0) < 0;
    }

    internal static bool TryHex(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (s.Length is 0 or > 16)
        {
            return false;
        }

        foreach (byte b in s)
        {
            int d = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)d;
        }

        return true;
    }

    private static int LeadingUnderscores(ReadOnlySpan<byte> name)
    {
        int n = 0;
        while (n < name.Length && name[n] == (byte)'_')
        {
            n++;
        }

        return n;
    }

    /// <summary>A growable byte array (List&lt;byte&gt; adds one byte per call).</summary>
    private sealed class ByteBuffer(int capacity)
    {
        public byte[] Data { get; private set; } = new byte[Math.Max(capacity, 16)];

        public int Count { get; private set; }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (Count + bytes.Length > Data.Length)
            {
                byte[] bigger = new byte[Math.Max(Data.Length * 2, Count + bytes.Length)];
                Data.AsSpan(0, Count).CopyTo(bigger);
                Data = bigger;
            }

            bytes.CopyTo(Data.AsSpan(Count));
            Count += bytes.Length;
        }
    }

    private readonly record struct Entry(ulong Address, int NameOffset, int NameLength, bool Text, int Rank);
}
