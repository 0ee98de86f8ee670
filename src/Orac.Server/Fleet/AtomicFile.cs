using Orac.Model;

namespace Orac.Server.Fleet;

/// <summary>Whole-file writes that never leave a half-written file: a temporary file, fsync, then rename over the old one.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> (mode 0600). IO errors become <see cref="OracException"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string tmp = path + ".tmp";
        try
        {
            File.Delete(tmp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var fs = new FileStream(tmp, options))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot write: {e.Message}");
        }
    }

    /// <summary>Creates a folder (mode 0700 where that exists).</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

/// <summary>Byte offsets for JSON errors (System.Text.Json reports a line and a byte position in it).</summary>
internal static class JsonOffsets
{
    /// <summary>The byte offset of (<paramref name="line"/>, <paramref name="bytePositionInLine"/>), both 0-based, in <paramref name="bytes"/>.</summary>
    public static long ByteOffset(ReadOnlySpan<byte> bytes, long? line, long? bytePositionInLine)
    {
        long target = line ?? 0;
        long offset = 0;
        for (long l = 0; l < target; l++)
        {
            int nl = bytes[(int)Math.Min(offset, bytes.Length)..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return bytes.Length;
            }

            offset += nl + 1;
        }

        return Math.Min(bytes.Length, offset + (bytePositionInLine ?? 0));
    }
}
