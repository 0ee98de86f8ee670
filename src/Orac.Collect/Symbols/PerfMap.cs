using System.Text;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>
/// A JIT's perf map (<c>/tmp/perf-PID.map</c>: one <c>START SIZE NAME</c> line per method, hex,
/// written by .NET with <c>DOTNET_PerfMapEnabled=1</c>, Node with <c>--perf-basic-prof</c>, Java
/// agents). JITs append as they compile, so <see cref="Refresh"/> reads only the complete lines
/// added since the last read; a half-written last line waits for the next refresh. When ranges
/// overlap (code re-jitted at a reused address) the line written last wins. Not thread-safe: the
/// <see cref="Symbolizer"/> serialises calls.
/// </summary>
public sealed class PerfMap
{
    /// <summary>Most entries kept per map.</summary>
    public const int MaxEntries = 4_000_000;

    /// <summary>Longest line accepted, in bytes; longer lines are counted and skipped.</summary>
    public const int MaxLineBytes = 4096;

    private const int ChunkBytes = 16 << 20;

    private readonly List<Entry> _entries = [];
    private Entry[] _sorted = [];
    private ulong[] _starts = [];
    private bool _dirty;
    private long _consumed;
    private long _lineNumber;

    /// <summary>Creates an empty map read from <paramref name="path"/>.</summary>
    public PerfMap(string path) => Path = path;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Entries read so far.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Reads lines appended since the last call. Returns true when entries were added. A missing
    /// file is not an error (the JIT may not have written it yet); a file that shrank was rewritten
    /// (a new process with the same pid) and is read again from the start.
    /// </summary>
    public bool Refresh(ParseWarnings warnings)
    {
        try
        {
            using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(handle);
            if (length < _consumed)
            {
                _entries.Clear();
                _dirty = true;
                _consumed = 0;
                _lineNumber = 0;
            }

            int before = _entries.Count;
            byte[]? buf = null;
            while (length > _consumed)
            {
                buf ??= new byte[(int)Math.Min(ChunkBytes, length - _consumed)];
                int n = RandomAccess.Read(handle, buf.AsSpan(0, (int)Math.Min(buf.Length, length - _consumed)), _consumed);
                if (n <= 0)
                {
                    break;
                }

                int used = ParseLines(buf.AsSpan(0, n), warnings, atEnd: false);
                if (used == 0)
                {
                    if (n < ChunkBytes)
                    {
                        break; // an unfinished last line: wait for the JIT to finish it
                    }

                    used = n; // a full chunk without a newline: skip it as one overlong line
                    _lineNumber++;
                    warnings.Add("perf map lines skipped", $"{Path}:{_lineNumber}");
                }

                _consumed += used;
            }

            return _entries.Count > before;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Parses complete lines of <paramref name="data"/> (all of it when <paramref name="atEnd"/>),
    /// returning the bytes consumed. Bad lines are counted in <paramref name="warnings"/>.
    /// </summary>
    public int ParseLines(ReadOnlySpan<byte> data, ParseWarnings warnings, bool atEnd)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            int nl = data[pos..].IndexOf((byte)'\n');
            if (nl < 0 && !atEnd)
            {
                break;
            }

            ReadOnlySpan<byte> line = nl < 0 ? data[pos..] : data.Slice(pos, nl);
            pos = nl < 0 ? data.Length : pos + nl + 1;
            _lineNumber++;
            if (line.IsEmpty)
            {
                continue;
            }

            if (line.Length > MaxLineBytes || !TryParse(line, out ulong start, out ulong size, out ReadOnlySpan<byte> name))
            {
                warnings.Add("perf map lines skipped", $"{Path}:{_lineNumber}");
                continue;
            }

            if (_entries.Count >= MaxEntries)
            {
                warnings.Add("perf map entries over the limit skipped", $"{Path}:{_lineNumber}");
                continue;
            }

            _entries.Add(new Entry(start, start + size, _entries.Count, Encoding.UTF8.GetString(name)));
            _dirty = true;
        }

        return pos;
    }

    /// <summary>The method whose range holds <paramref name="address"/>, or null.</summary>
    public string? Find(ulong address)
    {
        if (_dirty)
        {
            _sorted = [.. _entries];
            Array.Sort(_sorted, static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Sequence.CompareTo(b.Sequence));
            _starts = new ulong[_sorted.Length];
            for (int i = 0; i < _sorted.Length; i++)
            {
                _starts[i] = _sorted[i].Start;
            }

            _dirty = false;
        }

        int best = -1;
        int i0 = ElfFile.UpperBound(_starts, address) - 1;
        for (int i = i0, k = 0; i >= 0 && k < 32; i--, k++)
        {
            if (address < _sorted[i].End && (best < 0 || _sorted[i].Sequence > _sorted[best].Sequence))
            {
                best = i;
            }
        }

        return best < 0 ? null : _sorted[best].Name;
    }

    private static bool TryParse(ReadOnlySpan<byte> line, out ulong start, out ulong size, out ReadOnlySpan<byte> name)
    {
        start = size = 0;
        name = default;
        line = line.TrimEnd((byte)'\r');
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0 || !TryHex(line[..sp1], out start) || !TryHex(rest[..sp2], out size))
        {
            return false;
        }

        name = rest[(sp2 + 1)..];
        return size != 0 && start + size > start && !name.IsEmpty && name.IndexOf((byte)0) < 0;
    }

    private static bool TryHex(ReadOnlySpan<byte> s, out ulong value)
    {
        if (s.Length > 2 && s[0] == (byte)'0' && (s[1] | 0x20) == (byte)'x')
        {
            s = s[2..];
        }

        return KernelSymbols.TryHex(s, out value);
    }

    private readonly record struct Entry(ulong Start, ulong End, int Sequence, string Name);
}
