using System.Runtime.InteropServices;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// One mmap'ed perf ring (a metadata page + 2^n data pages) of one event fd. The kernel writes
/// records and advances <c>data_head</c>; we read up to it (acquire) and then publish <c>data_tail</c>
/// (release) so the kernel may reuse the space.
/// </summary>
internal sealed unsafe class PerfRing : IDisposable
{
    private const int DataHeadOffset = 1024;
    private const int DataTailOffset = 1032;
    private const int DataOffsetOffset = 1040;
    private const int DataSizeOffset = 1048;

    private readonly byte* _base;
    private readonly nuint _length;
    private readonly byte* _data;
    private readonly int _dataSize;
    private readonly byte[] _scratch = new byte[65536];

    private PerfRing(int fd, byte* mapped, nuint length)
    {
        Fd = fd;
        _base = mapped;
        _length = length;
        ulong offset = *(ulong*)(mapped + DataOffsetOffset);
        ulong size = *(ulong*)(mapped + DataSizeOffset);
        int page = Environment.SystemPageSize;
        if (offset == 0 || size == 0)
        {
            offset = (ulong)page;
            size = length - (nuint)page;
        }

        _data = mapped + offset;
        _dataSize = (int)size;
    }

    /// <summary>The event fd this ring belongs to (closed by the owner, not here).</summary>
    public int Fd { get; }

    /// <summary>Maps <paramref name="dataPages"/> (a power of two) data pages for <paramref name="fd"/>; null with errno on failure.</summary>
    public static PerfRing? Map(int fd, int dataPages, out int errno)
    {
        int page = Environment.SystemPageSize;
        nuint length = (nuint)((dataPages + 1) * page);
        void* p = PerfNative.Mmap(null, length, PerfNative.ProtRead | PerfNative.ProtWrite, PerfNative.MapShared, fd, 0);
        if (p == (void*)-1)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new PerfRing(fd, (byte*)p, length);
    }

    /// <summary>Decodes everything the kernel has written since the last call.</summary>
    public void Drain(IPerfRecordSink sink, PerfDecodeStats stats)
    {
        ulong head = Volatile.Read(ref *(ulong*)(_base + DataHeadOffset));
        ulong tail = *(ulong*)(_base + DataTailOffset);
        if (head == tail)
        {
            return;
        }

        var ring = new ReadOnlySpan<byte>(_data, _dataSize);
        ulong newTail = PerfRingReader.Read(ring, tail, head, _scratch, sink, stats);
        Volatile.Write(ref *(ulong*)(_base + DataTailOffset), newTail);
    }

    public void Dispose() => PerfNative.Munmap(_base, _length);
}
