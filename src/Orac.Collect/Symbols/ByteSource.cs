using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;
using Orac.Model;

namespace Orac.Collect.Symbols;

/// <summary>
/// Random-access bytes of a file or a buffer, read with bounds checks: a read that would leave the
/// source throws <see cref="OracException"/> naming the source and the offset, so a hostile header
/// can never make a parser read (or allocate) past what is really there.
/// </summary>
internal abstract class ByteSource : IDisposable
{
    protected ByteSource(string name) => Name = name;

    /// <summary>The file path (or a label) used in messages.</summary>
    public string Name { get; }

    /// <summary>Length in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>Reads exactly <paramref name="dest"/>.Length bytes at <paramref name="offset"/>, or throws.</summary>
    public void Read(ulong offset, Span<byte> dest, string what)
    {
        if (offset > (ulong)Length || (ulong)dest.Length > (ulong)Length - offset)
        {
            ThrowOutOfRange(what, offset, (ulong)dest.Length);
        }

        ReadCore((long)offset, dest, what);
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array, or throws.</summary>
    public byte[] ReadArray(ulong offset, ulong count, string what)
    {
        if (offset > (ulong)Length || count > (ulong)Length - offset || count > int.MaxValue)
        {
            ThrowOutOfRange(what, offset, count);
        }

        var data = new byte[count];
        ReadCore((long)offset, data, what);
        return data;
    }

    protected abstract void ReadCore(long offset, Span<byte> dest, string what);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    [DoesNotReturn]
    private void ThrowOutOfRange(string what, ulong offset, ulong count) =>
        throw new OracException($"{Name}: {what} at byte offset {offset} (+{count} bytes) lies outside the file ({Length} bytes): truncated or damaged");
}

/// <summary>A file read with <see cref="RandomAccess"/>: only the bytes asked for are read.</summary>
internal sealed class FileByteSource : ByteSource
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;

    public FileByteSource(string path)
        : base(path)
    {
        try
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _length = RandomAccess.GetLength(_handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read: {e.Message}", e);
        }
    }

    public override long Length => _length;

    protected override void ReadCore(long offset, Span<byte> dest, string what)
    {
        int done = 0;
        try
        {
            while (done < dest.Length)
            {
                int n = RandomAccess.Read(_handle, dest[done..], offset + done);
                if (n <= 0)
                {
                    throw new OracException($"{Name}: {what} at byte offset {offset}: file shrank while reading");
                }

                done += n;
            }
        }
        catch (IOException e)
        {
            throw new OracException($"{Name}: cannot read {what} at byte offset {offset}: {e.Message}", e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Bytes already in memory (tests and fuzzing).</summary>
internal sealed class MemoryByteSource : ByteSource
{
    private readonly byte[] _data;

    public MemoryByteSource(byte[] data, string name)
        : base(name) => _data = data;

    public override long Length => _data.Length;

    protected override void ReadCore(long offset, Span<byte> dest, string what) =>
        _data.AsSpan((int)offset, dest.Length).CopyTo(dest);
}
