using System.Diagnostics.CodeAnalysis;
using Orac.Model;

namespace Orac.Formats.Pprof;

/// <summary>Protobuf wire types (the low three bits of a field tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A minimal protobuf wire decoder over one message's bytes. Every read is bounds-checked and
/// failures throw <see cref="OracException"/> naming the input, the field and the absolute byte
/// offset (<see cref="Base"/> + position), so a hostile file can only produce a clear error.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _name;
    private int _pos;

    /// <summary>Creates a reader over <paramref name="data"/>, which starts at absolute offset <paramref name="baseOffset"/> of the input.</summary>
    public ProtoReader(ReadOnlySpan<byte> data, int baseOffset, string name)
    {
        _data = data;
        Base = baseOffset;
        _name = name;
        _pos = 0;
    }

    /// <summary>Absolute offset of this message's first byte in the (decompressed) input.</summary>
    public int Base { get; }

    /// <summary>Absolute offset of the next byte to read.</summary>
    public readonly int Offset => Base + _pos;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool AtEnd => _pos >= _data.Length;

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(string message, out int field, out WireType wire)
    {
        field = 0;
        wire = 0;
        if (_pos >= _data.Length)
        {
            return false;
        }

        int at = Offset;
        ulong tag = ReadVarint(message + " field tag");
        ulong number = tag >> 3;
        wire = (WireType)(int)(tag & 7);
        if (number == 0 || number > 536_870_911)
        {
            Throw(_name, at, message + " field tag", $"invalid field number {number}");
        }

        if (wire is WireType.StartGroup or WireType.EndGroup || (int)wire > 5)
        {
            Throw(_name, at, $"{message} field {number}", $"unsupported wire type {(int)wire}");
        }

        field = (int)number;
        return true;
    }

    /// <summary>Reads a base-128 varint (at most 10 bytes).</summary>
    public ulong ReadVarint(string field)
    {
        int start = Offset;
        ulong result = 0;
        for (int i = 0; i < 10; i++)
        {
            if (_pos >= _data.Length)
            {
                Throw(_name, start, field, "truncated varint");
            }

            byte b = _data[_pos++];
            if (i == 9 && b > 1)
            {
                Throw(_name, start, field, "varint overflows 64 bits");
            }

            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return result;
            }
        }

        Throw(_name, start, field, "varint longer than 10 bytes");
        return 0;
    }

    /// <summary>Reads a length-delimited payload; <paramref name="payloadOffset"/> is its absolute start.</summary>
    public ReadOnlySpan<byte> ReadBytes(string field, out int payloadOffset)
    {
        int start = Offset;
        ulong len = ReadVarint(field + " length");
        int left = _data.Length - _pos;
        if (len > (ulong)left)
        {
            Throw(_name, start, field, $"length {len} exceeds the {left} bytes left");
        }

        payloadOffset = Offset;
        ReadOnlySpan<byte> payload = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return payload;
    }

    /// <summary>Reads an integer scalar that must be a varint.</summary>
    public ulong ReadScalar(WireType wire, string field)
    {
        Expect(wire, WireType.Varint, field);
        return ReadVarint(field);
    }

    /// <summary>Reads a nested message payload as a new reader.</summary>
    public ProtoReader ReadMessage(WireType wire, string field)
    {
        Expect(wire, WireType.Len, field);
        ReadOnlySpan<byte> payload = ReadBytes(field, out int at);
        return new ProtoReader(payload, at, _name);
    }

    /// <summary>
    /// Reads one repeated varint field occurrence, packed (a length-delimited run) or not, calling
    /// appending each value to <paramref name="into"/>. Returns the number of values read.
    /// </summary>
    public int ReadRepeatedVarint(WireType wire, string field, List<ulong> into)
    {
        if (wire == WireType.Varint)
        {
            into.Add(ReadVarint(field));
            return 1;
        }

        Expect(wire, WireType.Len, field);
        ReadOnlySpan<byte> payload = ReadBytes(field, out int at);
        var inner = new ProtoReader(payload, at, _name);
        int n = 0;
        while (!inner.AtEnd)
        {
            into.Add(inner.ReadVarint(field));
            n++;
        }

        return n;
    }

    /// <summary>Skips a field of any supported wire type (unknown fields are forward compatible).</summary>
    public void Skip(WireType wire, string field)
    {
        int start = Offset;
        switch (wire)
        {
            case WireType.Varint:
                ReadVarint(field);
                break;
            case WireType.Fixed64:
                Advance(8, start, field);
                break;
            case WireType.Fixed32:
                Advance(4, start, field);
                break;
            case WireType.Len:
                ReadBytes(field, out _);
                break;
            default:
                Throw(_name, start, field, $"unsupported wire type {(int)wire}");
                break;
        }
    }

    private void Advance(int n, int start, string field)
    {
        if (_data.Length - _pos < n)
        {
            Throw(_name, start, field, $"truncated {n}-byte fixed value");
        }

        _pos += n;
    }

    private readonly void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected)
        {
            // The tag has already been read; point at it roughly (the value starts here).
            Throw(_name, Offset, field, $"wire type {(int)actual} where {(int)expected} ({expected}) was expected");
        }
    }

    /// <summary>Throws the one error shape of the pprof reader.</summary>
    [DoesNotReturn]
    public static void Throw(string name, long offset, string field, string problem) =>
        throw new OracException($"{name}: pprof: {problem} in {field} at byte {offset}");
}
