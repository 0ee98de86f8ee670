using System.IO.Compression;
using System.Text;

namespace Orac.Formats.Tests;

/// <summary>A tiny protobuf encoder for building pprof test inputs byte by byte.</summary>
internal sealed class Pb
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public Pb Varint(ulong v)
    {
        while (v >= 0x80)
        {
            _bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        _bytes.Add((byte)v);
        return this;
    }

    public Pb Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    /// <summary>A varint field (written even when zero).</summary>
    public Pb V(int field, long v) => Tag(field, 0).Varint((ulong)v);

    public Pb Bytes(int field, byte[] payload)
    {
        Tag(field, 2).Varint((ulong)payload.Length);
        _bytes.AddRange(payload);
        return this;
    }

    public Pb S(int field, string s) => Bytes(field, Encoding.UTF8.GetBytes(s));

    public Pb M(int field, Pb message) => Bytes(field, message.ToArray());

    public Pb Packed(int field, params long[] values)
    {
        var inner = new Pb();
        foreach (long v in values)
        {
            inner.Varint((ulong)v);
        }

        return M(field, inner);
    }

    public Pb Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }
}

/// <summary>Builds pprof profiles from named parts: strings are interned into the table automatically.</summary>
internal sealed class PprofBuilder
{
    private readonly List<string> _strings = [""];
    private readonly Pb _body = new();

    public long Str(string s)
    {
        int i = _strings.IndexOf(s);
        if (i < 0)
        {
            _strings.Add(s);
            i = _strings.Count - 1;
        }

        return i;
    }

    public PprofBuilder SampleType(string type, string unit)
    {
        _body.M(1, new Pb().V(1, Str(type)).V(2, Str(unit)));
        return this;
    }

    public PprofBuilder Function(long id, string name)
    {
        _body.M(5, new Pb().V(1, id).V(2, Str(name)).V(3, Str(name)));
        return this;
    }

    public PprofBuilder Mapping(long id, string file)
    {
        _body.M(3, new Pb().V(1, id).V(2, 0x400000).V(3, 0x500000).V(5, Str(file)));
        return this;
    }

    /// <summary>A location with one line per function id, innermost first (pprof's order).</summary>
    public PprofBuilder Location(long id, long mapping, long address, params long[] functionIds)
    {
        var loc = new Pb().V(1, id);
        if (mapping != 0)
        {
            loc.V(2, mapping);
        }

        loc.V(3, address);
        foreach (long f in functionIds)
        {
            loc.M(4, new Pb().V(1, f).V(2, 42));
        }

        _body.M(4, loc);
        return this;
    }

    /// <summary>A sample: location ids leaf first, values, and string labels as key=value pairs.</summary>
    public PprofBuilder Sample(long[] leafFirst, long[] values, params (string Key, string Value)[] labels)
    {
        var s = new Pb().Packed(1, leafFirst).Packed(2, values);
        foreach ((string k, string v) in labels)
        {
            s.M(3, new Pb().V(1, Str(k)).V(2, Str(v)));
        }

        _body.M(2, s);
        return this;
    }

    public PprofBuilder NumericLabelSample(long[] leafFirst, long[] values, string key, long num, string unit)
    {
        _body.M(2, new Pb().Packed(1, leafFirst).Packed(2, values).M(3, new Pb().V(1, Str(key)).V(3, num).V(4, Str(unit))));
        return this;
    }

    public PprofBuilder Raw(Action<Pb> write)
    {
        write(_body);
        return this;
    }

    public byte[] ToArray()
    {
        var all = new Pb().Raw(_body.ToArray());
        foreach (string s in _strings)
        {
            all.S(6, s);
        }

        return all.ToArray();
    }

    /// <summary>main -> foo -> bar (bar inlined into foo's location), cpu and samples columns, labels.</summary>
    public static byte[] Typical()
    {
        var b = new PprofBuilder()
            .SampleType("samples", "count")
            .SampleType("cpu", "nanoseconds")
            .Mapping(1, "/usr/bin/app")
            .Function(1, "main")
            .Function(2, "foo")
            .Function(3, "bar")
            .Location(10, 1, 0x401000, 1)
            .Location(20, 1, 0x402000, 3, 2)
            .Location(30, 0, 0xdead)
            .Sample([20, 10], [3, 30_000_000], ("thread", "worker"))
            .Sample([10], [1, 10_000_000])
            .Sample([30, 10], [2, 20_000_000], ("thread", "worker"), ("span", "s1"));
        b.Raw(p => p.V(9, 1_700_000_000_000_000_000).V(10, 5_000_000_000).M(11, new Pb().V(1, b.Str("cpu")).V(2, b.Str("nanoseconds"))).V(12, 10_000_000));
        return b.ToArray();
    }
}
