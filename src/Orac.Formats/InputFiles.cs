using System.IO.Compression;
using Orac.Model;

namespace Orac.Formats;

/// <summary>
/// Opens inputs named on a command line: a path, or <c>-</c> for standard input. Gzip is detected by
/// its magic bytes (1f 8b) and decompressed on the fly; zstd is recognised and refused with a hint.
/// </summary>
public static class InputFiles
{
    /// <summary>Display name used for standard input in messages.</summary>
    public const string StdinName = "<stdin>";

    /// <summary>Opens <paramref name="path"/> ("-" is <paramref name="stdin"/>), unwrapping gzip. Throws <see cref="OracException"/> for a missing or unreadable file.</summary>
    public static Stream Open(string path, Stream stdin)
    {
        Stream raw;
        if (path == "-")
        {
            raw = stdin;
        }
        else
        {
            try
            {
                raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                throw new OracException($"{path}: no such file");
            }
            catch (DirectoryNotFoundException)
            {
                throw new OracException($"{path}: no such file or directory");
            }
            catch (UnauthorizedAccessException)
            {
                throw new OracException($"{path}: permission denied (or it is a directory)");
            }
            catch (IOException e)
            {
                throw new OracException($"{path}: cannot open: {e.Message}");
            }
        }

        return Unwrap(raw, DisplayName(path));
    }

    /// <summary>The name to show in messages for <paramref name="path"/>.</summary>
    public static string DisplayName(string path) => path == "-" ? StdinName : path;

    /// <summary>Peeks at the first bytes of <paramref name="raw"/> and returns a stream that decompresses gzip when present.</summary>
    public static Stream Unwrap(Stream raw, string name)
    {
        var peek = new PeekableStream(raw);
        ReadOnlySpan<byte> head = peek.Peek(4);
        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            var tail = new TailTrackingStream(peek);
            return new GzipCheckedStream(new GZipStream(tail, CompressionMode.Decompress, leaveOpen: false), tail, name);
        }

        if (head.Length >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        {
            throw new OracException($"{name}: input is zstd-compressed; decompress it first (zstd -d --long=27)");
        }

        return peek;
    }
}

/// <summary>
/// A read-only stream that can look at its first bytes without consuming them, so a format can be
/// told from its content (gzip magic, perf script vs folded) and the whole stream still read after.
/// </summary>
public sealed class PeekableStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    private byte[] _head = [];
    private int _headLen;
    private int _headPos;
    private bool _peeked;

    /// <summary>Returns up to <paramref name="n"/> first bytes (fewer at end of input). Only the first call reads; later calls return the same bytes.</summary>
    public ReadOnlySpan<byte> Peek(int n)
    {
        if (!_peeked)
        {
            _peeked = true;
            _head = new byte[n];
            while (_headLen < n)
            {
                int r = Inner.Read(_head, _headLen, n - _headLen);
                if (r == 0)
                {
                    break;
                }

                _headLen += r;
            }
        }

        return _head.AsSpan(0, _headLen);
    }

    public override int Read(Span<byte> buffer)
    {
        if (_headPos < _headLen)
        {
            int n = Math.Min(buffer.Length, _headLen - _headPos);
            _head.AsSpan(_headPos, n).CopyTo(buffer);
            _headPos += n;
            return n;
        }

        return Inner.Read(buffer);
    }
}

/// <summary>A read-only pass-through stream that remembers the last 8 bytes read (a gzip trailer).</summary>
internal sealed class TailTrackingStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    private readonly byte[] _tail = new byte[8];

    /// <summary>Bytes read so far.</summary>
    public long Total { get; private set; }

    /// <summary>The gzip trailer's ISIZE: the last 4 bytes read, little-endian (valid when <see cref="Total"/> &gt;= 8).</summary>
    public uint LastUInt32 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_tail.AsSpan(4));

    public override int Read(Span<byte> buffer)
    {
        int n = Inner.Read(buffer);
        if (n >= 8)
        {
            buffer.Slice(n - 8, 8).CopyTo(_tail);
        }
        else if (n > 0)
        {
            Buffer.BlockCopy(_tail, n, _tail, 0, 8 - n);
            buffer[..n].CopyTo(_tail.AsSpan(8 - n));
        }

        Total += n;
        return n;
    }
}

/// <summary>
/// Decompressed gzip that refuses to end early: .NET's GZipStream reports a clean end of input when
/// the file is cut short, which would give a silently wrong total. At the end, the decompressed length
/// must match the trailer's ISIZE (length mod 2^32); otherwise the read fails with one clear error.
/// Corrupt deflate data also becomes an <see cref="OracException"/> naming the input and byte offset.
/// </summary>
internal sealed class GzipCheckedStream(GZipStream gzip, TailTrackingStream raw, string name) : ReadOnlyWrapperStream(gzip)
{
    private long _total;
    private bool _checked;

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = Inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new OracException($"{name}: corrupt gzip data near compressed byte {raw.Total}: {e.Message}", e);
        }

        _total += n;
        if (n == 0 && buffer.Length > 0 && !_checked)
        {
            _checked = true;
            if (raw.Total < 18 || raw.LastUInt32 != (uint)_total)
            {
                throw new OracException(
                    $"{name}: gzip input is truncated or corrupt: {_total} bytes decompressed from {raw.Total} compressed, "
                    + $"but the gzip trailer does not match (concatenated gzip members are not supported: decompress with zcat first)");
            }
        }

        return n;
    }
}

/// <summary>
/// A forward-only, read-only stream over another, which it disposes: subclasses implement
/// <see cref="Stream.Read(Span{byte})"/>; everything else is fixed here.
/// </summary>
public abstract class ReadOnlyWrapperStream(Stream inner) : Stream
{
    /// <summary>The stream read from.</summary>
    protected Stream Inner { get; } = inner;

    /// <inheritdoc/>
    public abstract override int Read(Span<byte> buffer);

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
