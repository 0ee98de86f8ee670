using System.Text;
using Orac.Formats;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>One mapping of a process: <c>[Start, End)</c>, mapped from <see cref="Path"/> at <see cref="Offset"/>.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">Address after the last byte.</param>
/// <param name="Offset">File offset mapped at <paramref name="Start"/>.</param>
/// <param name="Inode">Inode of the file (0 when unknown or anonymous).</param>
/// <param name="Path">The path as the kernel printed it: empty for anonymous memory, <c>[vdso]</c> and the like for special ones, may end in <c> (deleted)</c>.</param>
public readonly record struct ProcMapping(ulong Start, ulong End, ulong Offset, ulong Inode, string Path)
{
    /// <summary>True for anonymous memory (where JITs put code): no path, <c>[anon:…]</c>, <c>//anon</c> or a memfd.</summary>
    public bool IsAnonymous => Path.Length == 0 || Path.StartsWith("[anon", StringComparison.Ordinal) || Path.StartsWith("//anon", StringComparison.Ordinal) || Path.StartsWith("/memfd:", StringComparison.Ordinal);

    /// <summary>True for kernel-provided areas such as <c>[vdso]</c>, <c>[vsyscall]</c>, <c>[stack]</c>.</summary>
    public bool IsSpecial => Path.Length > 0 && Path[0] == '[' && !IsAnonymous;

    /// <summary>True when the file was deleted (or replaced) after it was mapped.</summary>
    public bool IsDeleted => Path.EndsWith(" (deleted)", StringComparison.Ordinal);

    /// <summary>The path without a <c> (deleted)</c> suffix.</summary>
    public string FilePath => IsDeleted ? Path[..^" (deleted)".Length] : Path;

    /// <summary>The frame shown when no symbol matches: <c>[base name]</c>, the special name as is, or <c>[unknown]</c> for anonymous memory.</summary>
    public string ModuleName
    {
        get
        {
            if (IsAnonymous)
            {
                return "[unknown]";
            }

            if (IsSpecial)
            {
                return Path;
            }

            string name = System.IO.Path.GetFileName(FilePath);
            return name.Length == 0 ? "[unknown]" : "[" + name + "]";
        }
    }
}

/// <summary>
/// Parses <c>/proc/PID/maps</c>: <c>START-END PERMS OFFSET MAJ:MIN INODE [PATH]</c>. Only
/// executable mappings are kept (only they hold sampled instruction pointers). Malformed lines are
/// counted in the warnings, never guessed at.
/// </summary>
public static class ProcMaps
{
    /// <summary>Most mappings kept per process.</summary>
    public const int MaxMappings = 1 << 20;

    /// <summary>Reads the executable mappings from <paramref name="stream"/>, sorted by start.</summary>
    public static List<ProcMapping> Read(Stream stream, string where, ParseWarnings warnings)
    {
        var reader = new LineReader(stream, maxLineBytes: 8192, bufferSize: 64 << 10);
        var result = new List<ProcMapping>();
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            if (!TryParse(line, out ProcMapping m, out bool exec))
            {
                warnings.Add("maps lines skipped", $"{where}:{reader.LineNumber}");
                continue;
            }

            if (exec)
            {
                if (result.Count >= MaxMappings)
                {
                    warnings.Add("maps lines over the limit skipped", $"{where}:{reader.LineNumber}");
                    break;
                }

                result.Add(m);
            }
        }

        if (reader.LongLinesSkipped.Count > 0)
        {
            warnings.AddCount("maps lines skipped", reader.LongLinesSkipped.Count);
        }

        result.Sort((a, b) => a.Start.CompareTo(b.Start));
        return result;
    }

    private static bool TryParse(ReadOnlySpan<byte> line, out ProcMapping mapping, out bool exec)
    {
        mapping = default;
        exec = false;
        Span<Range> f = stackalloc Range[6];
        int n = SplitFields(line, f);
        if (n < 5)
        {
            return false;
        }

        ReadOnlySpan<byte> range = line[f[0]];
        int dash = range.IndexOf((byte)'-');
        if (dash <= 0 || !KernelSymbols.TryHex(range[..dash], out ulong start) || !KernelSymbols.TryHex(range[(dash + 1)..], out ulong end) || end <= start)
        {
            return false;
        }

        ReadOnlySpan<byte> perms = line[f[1]];
        if (perms.Length != 4 || !KernelSymbols.TryHex(line[f[2]], out ulong offset) || line[f[3]].IndexOf((byte)':') <= 0)
        {
            return false;
        }

        ulong inode = 0;
        foreach (byte b in line[f[4]])
        {
            if (b is < (byte)'0' or > (byte)'9' || inode > ulong.MaxValue / 10)
            {
                return false;
            }

            inode = (inode * 10) + (ulong)(b - '0');
        }

        string path = n == 6 ? Encoding.UTF8.GetString(line[f[5]]) : "";
        if (path.Length > 0 && path[0] != '/' && path[0] != '[')
        {
            return false;
        }

        exec = perms[2] == (byte)'x';
        mapping = new ProcMapping(start, end, offset, inode, path);
        return true;
    }

    /// <summary>Five space-separated fields, then the rest of the line (the path, which may hold spaces) as a sixth.</summary>
    private static int SplitFields(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        int pos = 0, n = 0;
        while (n < 5)
        {
            while (pos < line.Length && line[pos] == (byte)' ')
            {
                pos++;
            }

            if (pos >= line.Length)
            {
                return n;
            }

            int end = line[pos..].IndexOf((byte)' ');
            end = end < 0 ? line.Length : pos + end;
            fields[n++] = new Range(pos, end);
            pos = end;
        }

        while (pos < line.Length && line[pos] == (byte)' ')
        {
            pos++;
        }

        int stop = line.Length;
        if (stop > pos && line[stop - 1] == (byte)'\r')
        {
            stop--;
        }

        if (pos < stop)
        {
            fields[n++] = new Range(pos, stop);
        }

        return n;
    }
}
