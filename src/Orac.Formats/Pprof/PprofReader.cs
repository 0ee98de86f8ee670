using System.IO.Compression;
using Orac.Model;

namespace Orac.Formats.Pprof;

/// <summary>
/// Reads pprof profiles (google/pprof <c>proto/profile.proto</c>, raw or gzip-compressed) into a
/// <see cref="Profile"/> with a self-contained protobuf wire decoder. Sample types keep pprof's
/// type/unit strings; each location's lines (innermost inlined function first in pprof) become
/// one frame each, outer functions nearer the root; a location without lines is named
/// <c>0x&lt;address&gt;</c>; a mapping's file basename becomes the frame's module. String labels
/// become label sets; numeric labels are skipped and counted (<see cref="NumericLabelsSkipped"/>).
/// Bad input throws <see cref="OracException"/> naming the field and the byte offset (in the
/// decompressed data for gzip input). Unknown fields are skipped.
/// </summary>
public static partial class PprofReader
{
    /// <summary>Default cap on input bytes, compressed and decompressed (256 MiB).</summary>
    public const long DefaultMaxBytes = 256 << 20;

    /// <summary>Most frames one sample's stack may have after inline expansion.</summary>
    public const int MaxStackDepth = 1 << 16;

    /// <summary>
    /// Most frames that expanding distinct (caller stack, location) steps may push in one profile:
    /// bounds the work and memory a small hostile file (deep inlined locations reached from many
    /// different callers) can cause.
    /// </summary>
    public const long MaxExpandedFrames = 1 << 26;

    /// <summary>Most sample types (value columns) a profile may declare.</summary>
    public const int MaxSampleTypes = 256;

    /// <summary>Warning kind for numeric labels, which Orac's label sets do not hold.</summary>
    public const string NumericLabelsSkipped = "pprof numeric labels skipped";

    /// <summary>Reads a raw or gzip-compressed pprof profile held in memory.</summary>
    public static Profile Read(ReadOnlySpan<byte> data, string name) => Read(data, name, null, DefaultMaxBytes);

    /// <summary>Reads a raw or gzip-compressed pprof profile held in memory, counting skipped numeric labels in <paramref name="warnings"/>.</summary>
    public static Profile Read(ReadOnlySpan<byte> data, string name, ParseWarnings? warnings, long maxBytes = DefaultMaxBytes)
    {
        if (IsGzip(data))
        {
            byte[] raw = Gunzip(new MemoryStream(data.ToArray(), writable: false), name, maxBytes);
            return Decode(raw, name + " (after gunzip)", warnings);
        }

        if (data.Length > maxBytes)
        {
            throw new OracException($"{name}: pprof: input of {data.Length} bytes exceeds the {maxBytes}-byte cap");
        }

        return Decode(data, name, warnings);
    }

    /// <summary>Reads a raw or gzip-compressed pprof profile from <paramref name="input"/>; at most <paramref name="maxBytes"/> bytes are read or decompressed.</summary>
    public static Profile Read(Stream input, string name, long maxBytes = 256 << 20) => Read(input, name, null, maxBytes);

    /// <summary>As <see cref="Read(Stream, string, long)"/>, counting skipped numeric labels in <paramref name="warnings"/>.</summary>
    public static Profile Read(Stream input, string name, ParseWarnings? warnings, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(input);
        byte[] data = ReadCapped(input, name, maxBytes, "input");
        if (IsGzip(data))
        {
            byte[] raw = Gunzip(new MemoryStream(data, writable: false), name, maxBytes);
            return Decode(raw, name + " (after gunzip)", warnings);
        }

        return Decode(data, name, warnings);
    }

    private static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    private static byte[] Gunzip(Stream compressed, string name, long maxBytes)
    {
        try
        {
            using var gz = new GZipStream(compressed, CompressionMode.Decompress);
            return ReadCapped(gz, name, maxBytes, "decompressed data");
        }
        catch (InvalidDataException e)
        {
            throw new OracException($"{name}: pprof: not valid gzip data: {e.Message}", e);
        }
    }

    private static byte[] ReadCapped(Stream input, string name, long maxBytes, string what)
    {
        long cap = Math.Min(maxBytes, Array.MaxLength);
        var ms = new MemoryStream();
        byte[] buffer = new byte[81920];
        int n;
        while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (ms.Length + n > cap)
            {
                throw new OracException($"{name}: pprof: {what} exceeds the {maxBytes}-byte cap (a decompression bomb or a profile too large to ingest)");
            }

            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }
}
