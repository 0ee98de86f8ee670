using System.Text;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Model.Tests;

public class ProfileJsonTests
{
    private static Profile Sample()
    {
        var b = new ProfileBuilder(new SampleType("cpu", "samples"), new SampleType("cpu", "nanoseconds"));
        b.Add(b.Stack([b.Frame("main"), b.Frame("work"), b.Frame("hot")]), [3, 30]);
        b.Add(b.Stack([b.Frame("main"), b.Frame("work")]), [1, 10]);
        b.Add(b.Stack([b.Frame("main"), b.Frame("work"), b.Frame("hot")]), [2, 20]);
        b.Add(b.Stack([b.Frame("other;name with spaces 12")]), [5, 50]);
        return b.Build();
    }

    private static string Folded(Profile p, int type)
    {
        var lines = new List<string>();
        for (int i = 0; i < p.SampleCount; i++)
        {
            lines.Add($"{p.StackToString(p.SampleStacks[i])} {p.Value(i, type)}");
        }

        var sums = lines.GroupBy(l => l[..l.LastIndexOf(' ')], StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))}");
        return string.Join('\n', sums.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WriteThenRead_KeepsStacksValuesAndUnits()
    {
        Profile p = Sample();
        var ms = new MemoryStream();
        ProfileJson.Write(ProfileJson.ToDocument(p, "test", partial: true, "stopped by Ctrl-C"), ms);
        string text = Encoding.UTF8.GetString(ms.ToArray());
        Assert.Contains("\"format\": \"orac-profile\"", text, StringComparison.Ordinal);
        Assert.Contains("\"partialReason\": \"stopped by Ctrl-C\"", text, StringComparison.Ordinal);

        Profile back = ProfileJson.Read(new MemoryStream(ms.ToArray()), "x.json");
        Assert.Equal(p.SampleTypes, back.SampleTypes);
        Assert.Equal(Folded(p, 0), Folded(back, 0));
        Assert.Equal(Folded(p, 1), Folded(back, 1));
        Assert.Equal(p.Total(1), back.Total(1));
    }

    [Fact]
    public void WriteThenRead_KeepsHostPeriodAndTimeRange()
    {
        var b = new ProfileBuilder(SampleType.Samples)
        {
            Metadata = new ProfileMetadata { Host = "box-1", Period = 10_101_010, PeriodType = new SampleType("cpu", "nanoseconds"), StartNs = 1_700_000_000_000_000_000, EndNs = 1_700_000_020_000_000_000 },
        };
        b.Add(b.Stack([b.Frame("main")]), [7]);
        var ms = new MemoryStream();
        ProfileJson.Write(ProfileJson.ToDocument(b.Build(), "test"), ms);
        Profile back = ProfileJson.Read(new MemoryStream(ms.ToArray()), "x.json");
        Assert.Equal("box-1", back.Metadata.Host);
        Assert.Equal(10_101_010, back.Metadata.Period);
        Assert.Equal(new SampleType("cpu", "nanoseconds"), back.Metadata.PeriodType);
        Assert.Equal(20_000_000_000, back.Metadata.EndNs - back.Metadata.StartNs);
    }

    [Fact]
    public void Read_OlderFileWithoutPeriodType_AssumesCpuForNanoseconds()
    {
        string json = "{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"period\":1000,\"periodUnit\":\"nanoseconds\",\"frames\":[\"a\"],\"samples\":[{\"stack\":[0],\"values\":[1]}]}";
        Profile back = ProfileJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "old.json");
        Assert.Equal(new SampleType("cpu", "nanoseconds"), back.Metadata.PeriodType);
        Assert.Equal(1000, back.Metadata.Period);
    }

    [Theory]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"startNs\":20,\"endNs\":10}", "endNs must not be before startNs")]
    [InlineData("not json", "not an Orac profile")]
    [InlineData("{\"format\":\"pprof\"}", "not an Orac profile")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":9}", "version 9 is not supported")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[]}", "no sample types")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"frames\":[\"a\"],\"samples\":[{\"stack\":[1],\"values\":[1]}]}", "refers to frame 1, but there are 1 frames")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"frames\":[\"a\"],\"samples\":[{\"stack\":[0],\"values\":[1,2]}]}", "has 2 values for 1 sample types")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"frames\":[\"a\"],\"samples\":[{\"stack\":[0],\"values\":[-1]}]}", "negative value")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":null}", "no sample types")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[null]}", "sample type 0 is null")]
    [InlineData("{\"format\":\"orac-profile\",\"version\":1,\"sampleTypes\":[{\"type\":\"cpu\",\"unit\":\"samples\"}],\"frames\":null,\"samples\":[null]}", "sample 0 is null")]
    public void Read_BadDocument_IsOneClearError(string json, string message)
    {
        var e = Assert.Throws<OracException>(() => ProfileJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "bad.json"));
        Assert.StartsWith("bad.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
