using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Orac.Model;

namespace Orac.Agent;

/// <summary>One upload waiting in the spool: where it goes, what it carries, how many samples it holds.</summary>
public sealed class SpoolEntry
{
    /// <summary>The upload id sent as <c>X-Orac-Upload-Id</c>: <c>AGENTID-SEQ</c>.</summary>
    public required string UploadId { get; init; }

    /// <summary>Request path and query, e.g. <c>/api/v1/profiles?service=host&amp;…</c>.</summary>
    public required string PathAndQuery { get; init; }

    /// <summary>The body's content type.</summary>
    public required string ContentType { get; init; }

    /// <summary>Profile samples in the body (counted by the agent when it took them).</summary>
    public required long Samples { get; init; }

    /// <summary>The request body as it goes on the wire.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }
}

/// <summary>
/// The on-disk form of one spooled upload. Little-endian:
/// <code>
///  0  "OSPL"            magic
///  4  u16 version (1)   u16 flags (0)
///  8  i64 samples
/// 16  u32 body length   u32 CRC32 of the body
/// 24  u16 length + UTF-8 upload id, u16 length + UTF-8 path and query, u16 length + UTF-8 content type
///  …  u32 CRC32 of every header byte before it
///  …  body
/// </code>
/// A file must be exactly header + body long; anything else (cut short, trailing bytes, a checksum that
/// does not match, a field out of bounds) is one <see cref="OracException"/> naming the file and the byte offset.
/// </summary>
public static class SpoolFile
{
    /// <summary>The format version this build writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Largest body a spool file may hold (bytes); the agent's uploads are far smaller.</summary>
    public const int MaxBodyBytes = 64 << 20;

    /// <summary>Longest upload id, bytes.</summary>
    public const int MaxIdBytes = 200;

    /// <summary>Longest path and query, bytes.</summary>
    public const int MaxPathBytes = 16 << 10;

    /// <summary>Longest content type, bytes.</summary>
    public const int MaxContentTypeBytes = 200;

    private const int FixedBytes = 24;

    private static ReadOnlySpan<byte> Magic => "OSPL"u8;

    /// <summary>The file's bytes for <paramref name="entry"/>.</summary>
    public static byte[] Encode(SpoolEntry entry)
    {
        byte[] id = Encoding.UTF8.GetBytes(entry.UploadId);
        byte[] path = Encoding.UTF8.GetBytes(entry.PathAndQuery);
        byte[] type = Encoding.UTF8.GetBytes(entry.ContentType);
        if (id.Length > MaxIdBytes || path.Length > MaxPathBytes || type.Length > MaxContentTypeBytes || entry.Body.Length > MaxBodyBytes || entry.Samples < 0)
        {
            throw new ArgumentException("spool entry out of bounds", nameof(entry));
        }

        int header = FixedBytes + 2 + id.Length + 2 + path.Length + 2 + type.Length + 4;
        byte[] file = new byte[header + entry.Body.Length];
        Span<byte> s = file;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(s[8..], entry.Samples);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], (uint)entry.Body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], Crc32.HashToUInt32(entry.Body.Span));
        int at = FixedBytes;
        foreach (byte[] field in new[] { id, path, type })
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s[at..], (ushort)field.Length);
            field.CopyTo(s[(at + 2)..]);
            at += 2 + field.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(s[at..], Crc32.HashToUInt32(s[..at]));
        entry.Body.Span.CopyTo(s[(at + 4)..]);
        return file;
    }

    /// <summary>
    /// Reads a whole spool file. <paramref name="name"/> names it in errors. Anything that does not hold
    /// together is one <see cref="OracException"/>: what is wrong and at which byte.
    /// </summary>
    public static SpoolEntry Decode(string name, ReadOnlyMemory<byte> data)
    {
        Header h = ReadHeader(name, data.Span);
        long expected = (long)h.HeaderBytes + h.BodyLength;
        if (data.Length < expected)
        {
            Throw(name, data.Length, $"cut short: the body needs {h.BodyLength:N0} bytes from byte {h.HeaderBytes}, the file ends after {data.Length - h.HeaderBytes:N0}");
        }

        if (data.Length > expected)
        {
            Throw(name, expected, $"{data.Length - expected:N0} bytes after the body's end");
        }

        ReadOnlyMemory<byte> body = data.Slice(h.HeaderBytes, (int)h.BodyLength);
        if (Crc32.HashToUInt32(body.Span) != h.BodyCrc)
        {
            Throw(name, h.HeaderBytes, "the body's CRC32 does not match (damaged)");
        }

        return new SpoolEntry { UploadId = h.UploadId, PathAndQuery = h.PathAndQuery, ContentType = h.ContentType, Samples = h.Samples, Body = body };
    }

    /// <summary>The header alone (sample count and sizes), for indexing the spool without reading bodies.</summary>
    internal static Header ReadHeader(string name, ReadOnlySpan<byte> s)
    {
        if (s.Length < FixedBytes)
        {
            Throw(name, s.Length, $"cut short: {s.Length} bytes, the fixed header alone is {FixedBytes}");
        }

        if (!s[..4].SequenceEqual(Magic))
        {
            Throw(name, 0, $"not an Orac spool file (magic {Escape(s[..4])}, expected \"OSPL\")");
        }

        int version = BinaryPrimitives.ReadUInt16LittleEndian(s[4..]);
        if (version != Version)
        {
            Throw(name, 4, $"spool format version {version}, this build reads {Version}");
        }

        int flags = BinaryPrimitives.ReadUInt16LittleEndian(s[6..]);
        if (flags != 0)
        {
            Throw(name, 6, $"unknown flags 0x{flags:x4}");
        }

        long samples = BinaryPrimitives.ReadInt64LittleEndian(s[8..]);
        if (samples < 0)
        {
            Throw(name, 8, $"negative sample count {samples}");
        }

        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(s[16..]);
        if (bodyLength > MaxBodyBytes)
        {
            Throw(name, 16, $"body length {bodyLength:N0} bytes is over the {MaxBodyBytes:N0} allowed");
        }

        uint bodyCrc = BinaryPrimitives.ReadUInt32LittleEndian(s[20..]);
        int at = FixedBytes;
        string id = Field(name, s, ref at, MaxIdBytes, "upload id");
        string path = Field(name, s, ref at, MaxPathBytes, "path");
        string type = Field(name, s, ref at, MaxContentTypeBytes, "content type");
        if (s.Length < at + 4)
        {
            Throw(name, s.Length, "cut short inside the header checksum");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(s[at..]) != Crc32.HashToUInt32(s[..at]))
        {
            Throw(name, at, "the header's CRC32 does not match (damaged)");
        }

        if (id.Length == 0 || path.Length == 0 || path[0] != '/')
        {
            Throw(name, FixedBytes, "empty upload id or a path that does not start with '/'");
        }

        return new Header(id, path, type, samples, bodyLength, bodyCrc, at + 4);
    }

    private static string Field(string name, ReadOnlySpan<byte> s, ref int at, int max, string what)
    {
        if (s.Length < at + 2)
        {
            Throw(name, s.Length, $"cut short before the {what}'s length");
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
        if (length > max)
        {
            Throw(name, at, $"{what} of {length} bytes is over the {max} allowed");
        }

        if (s.Length < at + 2 + length)
        {
            Throw(name, s.Length, $"cut short inside the {what} ({length} bytes from byte {at + 2})");
        }

        ReadOnlySpan<byte> bytes = s.Slice(at + 2, length);
        if (bytes.IndexOfAnyInRange((byte)0, (byte)31) >= 0 || bytes.Contains((byte)127))
        {
            Throw(name, at + 2, $"{what} holds a control character: {Escape(bytes)}");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            Throw(name, at + 2, $"{what} is not valid UTF-8: {Escape(bytes)}");
            return "";
        }

        at += 2 + length;
        return text;
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in bytes[..Math.Min(bytes.Length, 40)])
        {
            sb.Append(b is >= 32 and < 127 && b != '"' && b != '\\' ? (char)b : string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"));
        }

        return sb.Append(bytes.Length > 40 ? "\"…" : "\"").ToString();
    }

    [DoesNotReturn]
    private static void Throw(string name, long offset, string what) =>
        throw new OracException(string.Create(CultureInfo.InvariantCulture, $"{name}: byte {offset}: {what}"));

    /// <summary>A parsed header.</summary>
    internal readonly record struct Header(string UploadId, string PathAndQuery, string ContentType, long Samples, uint BodyLength, uint BodyCrc, int HeaderBytes);
}

/// <summary>The "agent-spool" fuzz target: any bytes as a spool file either decode or fail with one <see cref="OracException"/>.</summary>
public static class SpoolFuzz
{
    /// <summary>Decodes <paramref name="data"/> as a spool file.</summary>
    public static void Run(byte[] data)
    {
        try
        {
            SpoolEntry e = SpoolFile.Decode("fuzz.upload", data);
            if (e.Body.Length > data.Length || e.Samples < 0)
            {
                throw new InvalidOperationException("decoded entry larger than its file");
            }

            // A decoded entry encodes back to the same bytes (the format has one spelling).
            if (!SpoolFile.Encode(e).AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("spool file does not round-trip");
            }
        }
        catch (OracException)
        {
        }
    }

    /// <summary>A valid spool file: a seed for the fuzzer and the tests.</summary>
    public static byte[] Seed(string id, string path, long samples, byte[] body) =>
        SpoolFile.Encode(new SpoolEntry { UploadId = id, PathAndQuery = path, ContentType = "application/json", Samples = samples, Body = body });
}
