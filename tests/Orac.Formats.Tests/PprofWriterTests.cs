using CsCheck;
using Orac.Formats.Pprof;
using Orac.Model;

namespace Orac.Formats.Tests;

public class PprofWriterTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WriteThenRead_KeepsStacksValuesTypesLabelsModulesAndMetadata(bool gzip)
    {
        Profile p = PprofReader.Read(PprofBuilder.Typical(), "t.pb");
        var ms = new MemoryStream();
        PprofWriter.Write(p, ms, gzip);
        byte[] bytes = ms.ToArray();
        Assert.Equal(gzip, bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b);
        Profile back = PprofReader.Read(bytes, "back");
        Assert.Equal(PprofReaderTests.Dump(p), PprofReaderTests.Dump(back));
        Assert.Equal(p.SampleTypes, back.SampleTypes);
        Assert.Equal(p.Metadata, back.Metadata);
        for (int f = 0; f < back.Frames.Count; f++)
        {
            if (back.FrameName((FrameId)f) == "main")
            {
                Assert.Equal("app", back.Strings.GetString(back.Frames.Module((FrameId)f)));
            }
        }
    }

    [Fact]
    public void StringTable_StartsWithEmptyString()
    {
        var b = new ProfileBuilder(new SampleType("cpu", "nanoseconds"));
        b.Add(b.Stack([b.Frame("a")]), 5);
        var ms = new MemoryStream();
        PprofWriter.Write(b.Build(), ms, gzip: false);
        byte[] bytes = ms.ToArray();
        // The first string_table entry (field 6, wire type 2) has length 0.
        int i = bytes.AsSpan().IndexOf((byte)0x32);
        while (i >= 0 && i + 1 < bytes.Length && bytes[i + 1] != 0)
        {
            int next = bytes.AsSpan(i + 1).IndexOf((byte)0x32);
            i = next < 0 ? -1 : i + 1 + next;
        }

        Assert.True(i >= 0, "no empty string_table entry");
        Assert.Equal("a = 5", PprofReaderTests.Dump(PprofReader.Read(bytes, "t")));
    }

    [Fact]
    public void RandomProfiles_RoundTrip()
    {
        Gen<(string Stack, long Value)[]> gen = Gen.Select(
            Gen.Int[0, 3].Array[1, 6].Select(fs => string.Join(';', fs.Select(f => "f" + f.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            Gen.Long[0, 1_000_000]).Array[0, 20];
        gen.Sample(rows =>
        {
            var b = new ProfileBuilder(new SampleType("wall", "nanoseconds"), SampleType.Samples);
            foreach ((string stack, long v) in rows)
            {
                StackId s = StackId.Root;
                foreach (string f in stack.Split(';'))
                {
                    s = b.Push(s, b.Frame(f));
                }

                b.Add(s, [v, 1]);
            }

            Profile p = b.Build();
            var ms = new MemoryStream();
            PprofWriter.Write(p, ms);
            Profile back = PprofReader.Read(ms.ToArray(), "back");
            Assert.Equal(PprofReaderTests.Dump(p), PprofReaderTests.Dump(back));
            Assert.Equal(p.Total(0), back.Total(0));
        });
    }
}
