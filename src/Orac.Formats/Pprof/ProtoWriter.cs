using System.Buffers;

namespace Orac.Formats.Pprof;

/// <summary>A minimal protobuf wire encoder into a growable buffer (varints and length-delimited fields).</summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>Forgets everything written.</summary>
    public void Clear() => _buffer.ResetWrittenCount();

    /// <summary>Writes a raw varint.</summary>
    public void Varint(ulong value)
    {
        Span<byte> s = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            s[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        s[n++] = (byte)value;
        _buffer.Advance(n);
    }

    /// <summary>Writes a varint field; zero values are omitted (proto3 defaults).</summary>
    public void Field(int field, long value)
    {
        if (value != 0)
        {
            Varint(((ulong)field << 3) | (ulong)WireType.Varint);
            Varint((ulong)value);
        }
    }

    /// <summary>Writes a length-delimited field (always, even when empty).</summary>
    public void Bytes(int field, ReadOnlySpan<byte> payload)
    {
        Varint(((ulong)field << 3) | (ulong)WireType.Len);
        Varint((ulong)payload.Length);
        payload.CopyTo(_buffer.GetSpan(payload.Length));
        _buffer.Advance(payload.Length);
    }

    /// <summary>Writes a packed repeated varint field (omitted when empty).</summary>
    public void Packed(int field, ReadOnlySpan<long> values, ProtoWriter scratch)
    {
        if (values.IsEmpty)
        {
            return;
        }

        scratch.Clear();
        foreach (long v in values)
        {
            scratch.Varint((ulong)v);
        }

        Bytes(field, scratch.WrittenSpan);
    }
}
