using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Orac.Collect.PerfEvents;

/// <summary>One PERF_RECORD_SAMPLE as decoded (sample_type IP|TID|TIME|CPU|PERIOD|CALLCHAIN).</summary>
internal readonly record struct PerfSample(ulong Ip, int Pid, int Tid, ulong TimeNs, int Cpu, ulong Period);

/// <summary>What the ring-buffer decoder hands on. Implementations must not keep the spans.</summary>
internal interface IPerfRecordSink
{
    void OnSample(in PerfSample sample, ReadOnlySpan<ulong> callchain);

    void OnMmap(int pid, ulong start, ulong length, ulong fileOffset, string path);

    void OnComm(int pid, int tid, string comm);

    void OnFork(int pid, int ppid, int tid);

    void OnExit(int pid, int tid);
}

/// <summary>
/// Counts kept by the decoder: records lost by the kernel (the ring was full), malformed records skipped
/// (with the first one's description), and record types it does not use.
/// </summary>
internal sealed class PerfDecodeStats
{
    public long Records;
    public long Samples;
    public long Lost;
    public long Malformed;
    public long Ignored;
    public string? FirstMalformed;

    public void Bad(string what, ulong position)
    {
        Malformed++;
        FirstMalformed ??= $"{what} at ring offset {position}";
    }
}

/// <summary>
/// Decodes perf_event ring-buffer records (<c>struct perf_event_header</c> + body) from bytes. Never
/// throws on bad input: a record that is too short, too long or inconsistent is counted in
/// <see cref="PerfDecodeStats.Malformed"/> and skipped.
/// </summary>
internal static class PerfRecordDecoder
{
    public const uint RecordMmap = 1;
    public const uint RecordLost = 2;
    public const uint RecordComm = 3;
    public const uint RecordExit = 4;
    public const uint RecordFork = 7;
    public const uint RecordSample = 9;
    public const uint RecordMmap2 = 10;
    public const uint RecordLostSamples = 13;

    /// <summary>Records are at least a header (8 bytes); the kernel caps callchains far below this.</summary>
    public const int MaxCallchain = 1024;

    /// <summary>Decodes one whole record (header included). <paramref name="position"/> is only for messages.</summary>
    public static void Decode(ReadOnlySpan<byte> record, IPerfRecordSink sink, PerfDecodeStats stats, ulong position)
    {
        stats.Records++;
        if (record.Length < 8)
        {
            stats.Bad("record shorter than its 8-byte header", position);
            return;
        }

        uint type = BinaryPrimitives.ReadUInt32LittleEndian(record);
        int size = BinaryPrimitives.ReadUInt16LittleEndian(record[6..]);
        if (size < 8 || size > record.Length)
        {
            stats.Bad($"record size {size} outside 8..{record.Length}", position);
            return;
        }

        ReadOnlySpan<byte> body = record[8..size];
        switch (type)
        {
            case RecordSample:
                DecodeSample(body, sink, stats, position);
                break;
            case RecordMmap:
                if (body.Length < 32)
                {
                    stats.Bad("MMAP record too short", position);
                    return;
                }

                sink.OnMmap(I32(body, 0), U64(body, 8), U64(body, 16), U64(body, 24), CString(body[32..]));
                break;
            case RecordMmap2:
                // pid, tid, addr, len, pgoff, (maj,min,ino,ino_gen | build id: 24 bytes), prot, flags, filename
                if (body.Length < 64)
                {
                    stats.Bad("MMAP2 record too short", position);
                    return;
                }

                sink.OnMmap(I32(body, 0), U64(body, 8), U64(body, 16), U64(body, 24), CString(body[64..]));
                break;
            case RecordComm:
                if (body.Length < 8)
                {
                    stats.Bad("COMM record too short", position);
                    return;
                }

                sink.OnComm(I32(body, 0), I32(body, 4), CString(body[8..]));
                break;
            case RecordFork:
                if (body.Length < 16)
                {
                    stats.Bad("FORK record too short", position);
                    return;
                }

                sink.OnFork(I32(body, 0), I32(body, 4), I32(body, 8));
                break;
            case RecordExit:
                if (body.Length < 16)
                {
                    stats.Bad("EXIT record too short", position);
                    return;
                }

                sink.OnExit(I32(body, 0), I32(body, 8));
                break;
            case RecordLost:
                if (body.Length < 16)
                {
                    stats.Bad("LOST record too short", position);
                    return;
                }

                stats.Lost = SaturatingAdd(stats.Lost, U64(body, 8));
                break;
            case RecordLostSamples:
                if (body.Length < 8)
                {
                    stats.Bad("LOST_SAMPLES record too short", position);
                    return;
                }

                stats.Lost = SaturatingAdd(stats.Lost, U64(body, 0));
                break;
            default:
                stats.Ignored++;
                break;
        }
    }

    private static void DecodeSample(ReadOnlySpan<byte> body, IPerfRecordSink sink, PerfDecodeStats stats, ulong position)
    {
        // ip u64, pid u32, tid u32, time u64, cpu u32, res u32, period u64, nr u64, ips[nr]
        const int Fixed = 48;
        if (body.Length < Fixed)
        {
            stats.Bad($"SAMPLE record body of {body.Length} bytes, expected at least {Fixed}", position);
            return;
        }

        ulong nr = U64(body, 40);
        if (nr > MaxCallchain || (ulong)(body.Length - Fixed) < nr * 8)
        {
            stats.Bad($"SAMPLE callchain of {nr} entries does not fit the record ({body.Length - Fixed} bytes left)", position);
            return;
        }

        var sample = new PerfSample(U64(body, 0), I32(body, 8), I32(body, 12), U64(body, 16), I32(body, 24), U64(body, 32));
        ReadOnlySpan<ulong> chain = MemoryMarshal.Cast<byte, ulong>(body.Slice(Fixed, (int)nr * 8));
        stats.Samples++;
        sink.OnSample(sample, chain);
    }

    private static long SaturatingAdd(long a, ulong b) => b > (ulong)(long.MaxValue - a) ? long.MaxValue : a + (long)b;

    private static int I32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadInt32LittleEndian(s[at..]);

    private static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    private static string CString(ReadOnlySpan<byte> s)
    {
        int end = s.IndexOf((byte)0);
        if (end < 0)
        {
            end = s.Length;
        }

        return Encoding.UTF8.GetString(s[..Math.Min(end, 4096)]);
    }
}

/// <summary>
/// Reads the records between <c>data_tail</c> and <c>data_head</c> out of a ring's data area (a power of
/// two in size), copying a record that wraps around the end into a scratch buffer so the decoder sees
/// it whole.
/// </summary>
internal static class PerfRingReader
{
    /// <summary>Decodes every record in [<paramref name="tail"/>, <paramref name="head"/>); returns the new tail (= head).</summary>
    public static ulong Read(ReadOnlySpan<byte> ring, ulong tail, ulong head, byte[] scratch, IPerfRecordSink sink, PerfDecodeStats stats)
    {
        ulong size = (ulong)ring.Length;
        if (size == 0 || (size & (size - 1)) != 0 || head < tail || head - tail > size)
        {
            stats.Bad($"ring positions tail {tail} head {head} do not fit a ring of {size} bytes", tail);
            return head;
        }

        Span<byte> header = stackalloc byte[8];
        while (head - tail >= 8)
        {
            CopyOut(ring, tail, header);
            int recordSize = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            if (recordSize < 8 || (ulong)recordSize > head - tail || recordSize > scratch.Length)
            {
                // The rest of this batch cannot be framed any more: skip it rather than misread it.
                stats.Bad($"record size {recordSize} with {head - tail} bytes left", tail);
                return head;
            }

            int at = (int)(tail & (size - 1));
            if (at + recordSize <= ring.Length)
            {
                PerfRecordDecoder.Decode(ring.Slice(at, recordSize), sink, stats, tail);
            }
            else
            {
                Span<byte> whole = scratch.AsSpan(0, recordSize);
                CopyOut(ring, tail, whole);
                PerfRecordDecoder.Decode(whole, sink, stats, tail);
            }

            tail += (ulong)recordSize;
        }

        if (head != tail)
        {
            stats.Bad($"{head - tail} trailing bytes, less than a record header", tail);
        }

        return head;
    }

    private static void CopyOut(ReadOnlySpan<byte> ring, ulong position, Span<byte> destination)
    {
        int at = (int)(position & ((ulong)ring.Length - 1));
        int first = Math.Min(destination.Length, ring.Length - at);
        ring.Slice(at, first).CopyTo(destination);
        if (first < destination.Length)
        {
            ring[..(destination.Length - first)].CopyTo(destination[first..]);
        }
    }
}
