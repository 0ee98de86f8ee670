using System.Text;
using Orac.Formats.Pprof;
using Orac.Model;

namespace Orac.Formats.Tests;

public class PprofReaderTests
{
    /// <summary>Seeds for the pprof fuzz target: the well-formed cases of this class, raw and gzipped.</summary>
    internal static byte[][] Seeds =>
    [
        PprofBuilder.Typical(),
        Pb.Gzip(PprofBuilder.Typical()),
        new PprofBuilder().SampleType("alloc", "bytes").Function(1, "f").Location(1, 0, 0x10, 1).NumericLabelSample([1], [4096], "bytes", 4096, "bytes").ToArray(),
        new Pb().V(9, 5).M(1, new Pb().V(1, 1).V(2, 2)).M(2, new Pb().V(1, 1).V(2, 7)).M(4, new Pb().V(1, 1)).S(6, "").S(6, "t").S(6, "u").ToArray(),
    ];

    /// <summary>One line per sample row: stack, labels, values; sorted.</summary>
    internal static string Dump(Profile p)
    {
        var lines = new List<string>();
        for (int r = 0; r < p.SampleCount; r++)
        {
            var sb = new StringBuilder(p.StackToString(p.SampleStacks[r]));
            foreach (Label l in p.LabelSets.Get(p.SampleLabels[r]))
            {
                sb.Append(" {").Append(p.Strings.GetString(l.Key)).Append('=').Append(p.Strings.GetString(l.Value)).Append('}');
            }

            sb.Append(" =");
            for (int t = 0; t < p.SampleTypes.Count; t++)
            {
                sb.Append(' ').Append(p.Value(r, t));
            }

            lines.Add(sb.ToString());
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join("\n", lines);
    }

    [Fact]
    public void Typical_MapsTypesStacksInlinesLabelsAndMetadata()
    {
        Profile p = PprofReader.Read(PprofBuilder.Typical(), "t.pb");
        Assert.Equal([new SampleType("samples", "count"), new SampleType("cpu", "nanoseconds")], p.SampleTypes);
        Assert.Equal(
            """
            main = 1 10000000
            main;0xdead {thread=worker} {span=s1} = 2 20000000
            main;foo;bar {thread=worker} = 3 30000000
            """.TrimEnd().ReplaceLineEndings("\n"),
            Dump(p));
        Assert.Equal(6, p.Total(0));
        Assert.Equal(60_000_000, p.Total(1));
        Assert.Equal(10_000_000, p.Metadata.Period);
        Assert.Equal(new SampleType("cpu", "nanoseconds"), p.Metadata.PeriodType);
        Assert.Equal(1_700_000_000_000_000_000, p.Metadata.StartNs);
        Assert.Equal(1_700_000_005_000_000_000, p.Metadata.EndNs);
    }

    [Fact]
    public void InlinedLines_OuterFunctionNearerTheRoot()
    {
        // Location 20 lists bar (innermost) then foo; foo calls bar.
        Profile p = PprofReader.Read(PprofBuilder.Typical(), "t.pb");
        Assert.Contains("main;foo;bar {thread=worker} = 3 30000000", Dump(p).Split('\n'));
    }

    [Fact]
    public void Modules_AreMappingFileBasenames()
    {
        Profile p = PprofReader.Read(PprofBuilder.Typical(), "t.pb");
        var modules = new Dictionary<string, string>();
        for (int f = 0; f < p.Frames.Count; f++)
        {
            modules[p.FrameName((FrameId)f)] = p.Strings.GetString(p.Frames.Module((FrameId)f));
        }

        Assert.Equal("app", modules["main"]);
        Assert.Equal("app", modules["bar"]);
        Assert.Equal("", modules["0xdead"]);
    }

    [Fact]
    public void Gzip_GivesTheSameProfile_FromSpanAndStream()
    {
        string raw = Dump(PprofReader.Read(PprofBuilder.Typical(), "t.pb"));
        byte[] gz = Pb.Gzip(PprofBuilder.Typical());
        Assert.Equal(raw, Dump(PprofReader.Read(gz, "t.pb.gz")));
        Assert.Equal(raw, Dump(PprofReader.Read(new MemoryStream(gz), "t.pb.gz")));
        Assert.Equal(raw, Dump(PprofReader.Read(new MemoryStream(PprofBuilder.Typical()), "t.pb")));
    }

    [Fact]
    public void UnpackedRepeatedFields_ReadLikePacked()
    {
        var b = new PprofBuilder().SampleType("samples", "count").Function(1, "a").Function(2, "b").Location(1, 0, 0, 1).Location(2, 0, 0, 2);
        b.Raw(p => p.M(2, new Pb().V(1, 2).V(1, 1).V(2, 5)));
        b.Raw(p => p.M(2, new Pb().Packed(1, 2).V(1, 1).Packed(2, 4)));
        Profile prof = PprofReader.Read(b.ToArray(), "t");
        Assert.Equal("a;b = 9", Dump(prof));
    }

    [Fact]
    public void NumericLabels_AreSkippedAndCounted()
    {
        byte[] data = new PprofBuilder().SampleType("alloc", "bytes").Function(1, "f").Location(1, 0, 0x10, 1)
            .NumericLabelSample([1], [4096], "bytes", 4096, "bytes")
            .NumericLabelSample([1], [100], "bytes", 100, "bytes")
            .ToArray();
        var w = new ParseWarnings();
        Profile p = PprofReader.Read(data, "t", w);
        Assert.Equal("f = 4196", Dump(p));
        Assert.Equal(2, w.Count(PprofReader.NumericLabelsSkipped));
    }

    [Fact]
    public void SameLabelsInAnyOrder_AreOneLabelSet()
    {
        byte[] data = new PprofBuilder().SampleType("samples", "count").Function(1, "f").Location(1, 0, 0, 1)
            .Sample([1], [1], ("a", "1"), ("b", "2"))
            .Sample([1], [2], ("b", "2"), ("a", "1"))
            .Sample([1], [4], ("a", "1"))
            .Sample([1], [8], ("a", "1"), ("b", "2"))
            .ToArray();
        Assert.Equal("f {a=1} = 4\nf {a=1} {b=2} = 11", Dump(PprofReader.Read(data, "t")));
    }

    [Fact]
    public void UnknownFields_AreSkipped_AtEveryLevel()
    {
        var b = new PprofBuilder().SampleType("samples", "count").Function(1, "a").Location(1, 0, 0, 1);
        b.Raw(p => p
            .V(100, 7)
            .Tag(101, 1).Raw(1, 2, 3, 4, 5, 6, 7, 8)
            .Tag(102, 5).Raw(1, 2, 3, 4)
            .S(103, "future")
            .V(13, 1) // comment
            .V(14, 1) // default_sample_type
            .M(2, new Pb().Packed(1, 1).Packed(2, 3).V(99, 1).S(98, "x")));
        Assert.Equal("a = 3", Dump(PprofReader.Read(b.ToArray(), "t")));
    }

    [Fact]
    public void LocationWithoutLines_IsNamedByAddress()
    {
        byte[] data = new PprofBuilder().SampleType("samples", "count").Mapping(1, "/lib/x86_64-linux-gnu/libc.so.6")
            .Location(1, 1, 0x7f00abcd).Sample([1], [2]).ToArray();
        Profile p = PprofReader.Read(data, "t");
        Assert.Equal("0x7f00abcd = 2", Dump(p));
        Assert.Equal("libc.so.6", p.Strings.GetString(p.Frames.Module(p.Stacks.Frame(p.SampleStacks[0]))));
    }

    [Fact]
    public void Empty_IsAnEmptyProfile()
    {
        Profile p = PprofReader.Read([], "empty");
        Assert.Equal(0, p.SampleCount);
    }

    [Theory]
    // Field 9 (time_nanos), varint cut short.
    [InlineData(new byte[] { 0x48, 0xFF }, "t: pprof: truncated varint in Profile.time_nanos at byte 1")]
    // Field 9 with wire type 5 (fixed32) instead of a varint.
    [InlineData(new byte[] { 0x4D, 1, 2, 3, 4 }, "t: pprof: wire type 5 where 0 (Varint) was expected in Profile.time_nanos at byte 1")]
    // sample_type claiming 4 GiB.
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, "t: pprof: length 4294967295 exceeds the 0 bytes left in Profile.sample_type at byte 1")]
    // Field number 0.
    [InlineData(new byte[] { 0x02, 0x00 }, "t: pprof: invalid field number 0 in Profile field tag at byte 0")]
    // Group wire type.
    [InlineData(new byte[] { 0x0B, 0x0C }, "t: pprof: unsupported wire type 3 in Profile field 1 at byte 0")]
    // An 11-byte varint.
    [InlineData(new byte[] { 0x48, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, "t: pprof: varint overflows 64 bits in Profile.time_nanos at byte 1")]
    // Fixed64 unknown field cut short.
    [InlineData(new byte[] { 0xA1, 0x06, 1, 2 }, "t: pprof: truncated 8-byte fixed value in Profile field 100 at byte 2")]
    // Sample (field 2) sent as a varint.
    [InlineData(new byte[] { 0x10, 0x01 }, "t: pprof: wire type 0 where 2 (Len) was expected in Profile.sample at byte 1")]
    public void MalformedWire_NamesFieldAndOffset(byte[] data, string message)
    {
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void StringIndexOutOfRange_NamesFieldAndOffset()
    {
        // function { id: 1, name: 99 } then the string table [""]: the name varint is at byte 5.
        byte[] data = new Pb().M(5, new Pb().V(1, 1).V(2, 99)).S(6, "").ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Equal("t: pprof: string index 99 out of range (the string table has 1 entries) in Profile.function.name at byte 5", e.Message);
    }

    [Fact]
    public void UnknownLocationId_NamesSampleAndOffset()
    {
        // sample { location_id: [7], value: [1] } first: its payload starts at byte 2.
        byte[] data = new Pb().M(2, new Pb().Packed(1, 7).Packed(2, 1)).M(1, new Pb().V(1, 1).V(2, 2)).S(6, "").S(6, "samples").S(6, "count").ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Equal("t: pprof: unknown location id 7 in Profile.sample[0].location_id at byte 2", e.Message);
    }

    [Fact]
    public void UnknownFunctionId_NamesLocationAndOffset()
    {
        // location { id: 1, line { function_id: 9 } }: the function id varint is at byte 7.
        byte[] data = new Pb().M(4, new Pb().V(1, 1).M(4, new Pb().V(1, 9))).S(6, "").ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Equal("t: pprof: unknown function id 9 in location 1 in Profile.location.line.function_id at byte 7", e.Message);
    }

    [Fact]
    public void UnknownMappingId_IsAnError()
    {
        byte[] data = new Pb().M(4, new Pb().V(1, 1).V(2, 5)).S(6, "").ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Equal("t: pprof: unknown mapping id 5 in location 1 in Profile.location.mapping_id at byte 2", e.Message);
    }

    [Fact]
    public void ValueCountMismatch_IsAnError()
    {
        byte[] data = new PprofBuilder().SampleType("samples", "count").SampleType("cpu", "nanoseconds").Function(1, "a").Location(1, 0, 0, 1)
            .Sample([1], [1]).ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Contains("1 values where the profile declares 2 sample types in Profile.sample[0].value at byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SamplesWithoutSampleTypes_IsAnError()
    {
        byte[] data = new PprofBuilder().Function(1, "a").Location(1, 0, 0, 1).Sample([1], [1]).ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.StartsWith("t: pprof: samples present but the profile declares no sample_type in Profile.sample at byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesOverflowingTheTotal_AreAnError_NotAWrongTotal()
    {
        byte[] data = new PprofBuilder().SampleType("samples", "count").Function(1, "a").Location(1, 0, 0, 1)
            .Sample([1], [long.MaxValue]).Sample([1], [1]).ToArray();
        var e = Assert.Throws<OracException>(() => PprofReader.Read(data, "t"));
        Assert.Contains("sample values overflow a 64-bit total in Profile.sample[1].value", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StackDeeperThanTheCap_IsAnError()
    {
        // One location carrying 300 inlined lines, repeated 250 times in one sample: 75,000 frames.
        long[] lines = new long[300];
        Array.Fill(lines, 1);
        long[] locs = new long[250];
        Array.Fill(locs, 1);
        var b = new PprofBuilder().SampleType("samples", "count").Function(1, "f").Location(1, 0, 0, lines);
        b.Sample(locs, [1]);
        var e = Assert.Throws<OracException>(() => PprofReader.Read(b.ToArray(), "t"));
        Assert.Contains("stack deeper than 65536 frames in Profile.sample[0].location_id at byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManySamplesThroughDeepInlinedLocations_StayCheap()
    {
        // 2,000 samples x 100 lines per location x 20 locations: frames expand once per distinct step.
        var b = new PprofBuilder().SampleType("samples", "count");
        for (int l = 1; l <= 20; l++)
        {
            long[] lines = new long[100];
            Array.Fill(lines, l);
            b.Function(l, "f" + l.ToString(System.Globalization.CultureInfo.InvariantCulture)).Location(l, 0, l, lines);
        }

        for (int i = 0; i < 2000; i++)
        {
            b.Sample([(i % 20) + 1, 1, 2, 3, 4, 5, 6, 7, 8], [1]);
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Profile p = PprofReader.Read(b.ToArray(), "t");
        Assert.Equal(2000, p.Total());
        Assert.Equal(20, p.SampleCount);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public void DecompressionBomb_IsCappedAtMaxBytes()
    {
        byte[] bomb = Pb.Gzip(new byte[8 << 20]);
        Assert.True(bomb.Length < 256 << 10, $"{bomb.Length}");
        var e = Assert.Throws<OracException>(() => PprofReader.Read(new MemoryStream(bomb), "bomb.pb.gz", maxBytes: 1 << 20));
        Assert.Equal("bomb.pb.gz: pprof: decompressed data exceeds the 1048576-byte cap (a decompression bomb or a profile too large to ingest)", e.Message);
    }

    [Fact]
    public void RawInputOverTheCap_IsAnError()
    {
        var e = Assert.Throws<OracException>(() => PprofReader.Read(new MemoryStream(new byte[2048]), "big", maxBytes: 1024));
        Assert.Equal("big: pprof: input exceeds the 1024-byte cap (a decompression bomb or a profile too large to ingest)", e.Message);
    }

    [Fact]
    public void CorruptGzip_IsAClearError()
    {
        byte[] gz = Pb.Gzip(PprofBuilder.Typical());
        gz[12] ^= 0xFF;
        gz[13] ^= 0xFF;
        var e = Assert.Throws<OracException>(() => PprofReader.Read(gz, "bad.pb.gz"));
        Assert.StartsWith("bad.pb.gz: pprof: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedGzipPayload_NamesTheDecompressedOffset()
    {
        byte[] raw = PprofBuilder.Typical();
        byte[] gz = Pb.Gzip(raw[..(raw.Length - 3)]);
        var e = Assert.Throws<OracException>(() => PprofReader.Read(gz, "cut.pb.gz"));
        Assert.StartsWith("cut.pb.gz (after gunzip): pprof: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(" at byte ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--- contention:\ncycles/second=3000000000\n")]
    [InlineData("heap profile: 1: 2 [3: 4] @ heap/1048576\n")]
    public void LegacyTextProfiles_SayWhatTheyAre(string text)
    {
        var e = Assert.Throws<OracException>(() => PprofReader.Read(Encoding.ASCII.GetBytes(text), "old"));
        Assert.StartsWith("old: pprof: this looks like a legacy text profile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTruncation_IsAnErrorOrAProfile_NeverACrash()
    {
        byte[] raw = PprofBuilder.Typical();
        for (int n = 0; n < raw.Length; n++)
        {
            try
            {
                PprofReader.Read(raw.AsSpan(0, n), "cut");
            }
            catch (OracException e)
            {
                Assert.StartsWith("cut: pprof: ", e.Message, StringComparison.Ordinal);
            }
        }
    }
}
