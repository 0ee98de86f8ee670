using System.Buffers.Binary;
using System.Text;
using Orac.Collect.PerfEvents;

namespace Orac.Collect.Tests.PerfEvents;

/// <summary>Builds perf ring-buffer records byte by byte, as the kernel lays them out.</summary>
internal static class PerfRecordBytes
{
    public static byte[] Sample(int pid, int tid, ulong ip, params ulong[] callchain)
    {
        var body = new List<byte>();
        U64(body, ip);
        U32(body, (uint)pid);
        U32(body, (uint)tid);
        U64(body, 123_456_789);
        U32(body, 1);
        U32(body, 0);
        U64(body, 10_000_000);
        U64(body, (ulong)callchain.Length);
        foreach (ulong a in callchain)
        {
            U64(body, a);
        }

        return Record(PerfRecordDecoder.RecordSample, body);
    }

    public static byte[] Comm(int pid, int tid, string comm)
    {
        var body = new List<byte>();
        U32(body, (uint)pid);
        U32(body, (uint)tid);
        body.AddRange(Encoding.UTF8.GetBytes(comm));
        body.Add(0);
        Pad(body);
        return Record(PerfRecordDecoder.RecordComm, body);
    }

    public static byte[] Mmap2(int pid, ulong start, ulong length, ulong offset, string path)
    {
        var body = new List<byte>();
        U32(body, (uint)pid);
        U32(body, (uint)pid);
        U64(body, start);
        U64(body, length);
        U64(body, offset);
        body.AddRange(new byte[24]);
        U32(body, 5);
        U32(body, 2);
        body.AddRange(Encoding.UTF8.GetBytes(path));
        body.Add(0);
        Pad(body);
        return Record(PerfRecordDecoder.RecordMmap2, body);
    }

    public static byte[] Lost(ulong count)
    {
        var body = new List<byte>();
        U64(body, 1);
        U64(body, count);
        return Record(PerfRecordDecoder.RecordLost, body);
    }

    public static byte[] Record(uint type, List<byte> body)
    {
        var r = new List<byte>();
        U32(r, type);
        r.Add(0);
        r.Add(0);
        int size = body.Count + 8;
        r.Add((byte)size);
        r.Add((byte)(size >> 8));
        r.AddRange(body);
        return [.. r];
    }

    /// <summary>Lays <paramref name="records"/> into a ring of <paramref name="size"/> bytes starting at <paramref name="tail"/> (wrapping).</summary>
    public static byte[] Ring(int size, ulong tail, out ulong head, params byte[][] records)
    {
        byte[] ring = new byte[size];
        ulong pos = tail;
        foreach (byte[] r in records)
        {
            foreach (byte b in r)
            {
                ring[(int)(pos % (ulong)size)] = b;
                pos++;
            }
        }

        head = pos;
        return ring;
    }

    private static void Pad(List<byte> body)
    {
        while (body.Count % 8 != 0)
        {
            body.Add(0);
        }
    }

    private static void U32(List<byte> b, uint v)
    {
        Span<byte> s = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(s, v);
        b.AddRange(s.ToArray());
    }

    private static void U64(List<byte> b, ulong v)
    {
        Span<byte> s = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(s, v);
        b.AddRange(s.ToArray());
    }
}
