using System.Text;
using Orac.Formats.Speedscope;
using Orac.Model;
using Orac.Tests.Shared;
using Xunit.Abstractions;

namespace Orac.Formats.Tests;

public class SpeedscopeReaderTests
{
    private static Profile Load(string file) =>
        SpeedscopeReader.Read(File.OpenRead(Path.Combine(TestPaths.Data, "speedscope", file)), file);

    private static OracException Fails(string file) =>
        Assert.Throws<OracException>(() => Load(file));

    private static Profile FromText(string json) => SpeedscopeReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "t.json");

    [Fact]
    public void Sampled_Milliseconds_ScaledToNanoseconds()
    {
        Profile p = Load("sampled-ms.speedscope.json");
        Assert.Equal([new SampleType("cpu", "nanoseconds")], p.SampleTypes);
        Assert.Equal(
            "main = 1000000\nmain;idle = 250000\nmain;work = 3500000",
            PprofReaderTests.Dump(p));
    }

    [Fact]
    public void Evented_Microseconds_GivesSelfTimePerStack()
    {
        Profile p = Load("evented-us.speedscope.json");
        Assert.Equal(
            "main = 40000\nmain;eval = 30000\nmain;eval;inner = 10000\nmain;parse = 20000",
            PprofReaderTests.Dump(p));
        Assert.Equal(100_000, p.Total());
    }

    [Fact]
    public void AllProfiles_AreMerged()
    {
        Profile p = Load("merged-two-profiles.speedscope.json");
        Assert.Equal("a = 22\na;b = 20", PprofReaderTests.Dump(p));
    }

    [Fact]
    public void DifferentKindsOfUnit_GetTheirOwnColumns()
    {
        Profile p = Load("mixed-units.speedscope.json");
        Assert.Equal([new SampleType("space", "bytes"), SampleType.Samples], p.SampleTypes);
        Assert.Equal("alloc = 4096 1\ntick = 0 2", PprofReaderTests.Dump(p));
    }

    [Fact]
    public void ClosingTheWrongFrame_NamesTheEvent()
    {
        Assert.Equal(
            "unbalanced-close.speedscope.json: speedscope: closes frame 0 but the innermost open frame is B (opened by event 1; events must nest) at $.profiles[0].events[2]",
            Fails("unbalanced-close.speedscope.json").Message);
    }

    [Fact]
    public void UnclosedFrames_NameTheOpeningEvent()
    {
        Assert.Equal(
            "unclosed.speedscope.json: speedscope: 1 frame(s) never closed (unbalanced events; the innermost was opened by event 0) at $.profiles[0].events",
            Fails("unclosed.speedscope.json").Message);
    }

    [Fact]
    public void FrameIndexOutOfRange_NamesTheSample()
    {
        Assert.Equal(
            "bad-frame-index.speedscope.json: speedscope: frame index 5 is not an index into shared.frames (1 frames) at $.profiles[0].samples[1]",
            Fails("bad-frame-index.speedscope.json").Message);
    }

    [Fact]
    public void TimeGoingBackwards_NamesTheEvent()
    {
        Assert.Equal(
            "time-goes-backwards.speedscope.json: speedscope: event time 4 goes backwards at $.profiles[0].events[1]",
            Fails("time-goes-backwards.speedscope.json").Message);
    }

    [Theory]
    [InlineData("[1, 2]", "t.json: speedscope: expected a JSON object (is this a speedscope file?) at $")]
    [InlineData("{\"profiles\": []}", "t.json: speedscope: missing or not an array at $.shared.frames")]
    [InlineData("{\"shared\": {\"frames\": []}}", "t.json: speedscope: missing or not an array (is this a speedscope file?) at $.profiles")]
    [InlineData("{\"shared\": {\"frames\": [{}]}, \"profiles\": []}", "t.json: speedscope: expected an object with a string \"name\" at $.shared.frames[0]")]
    [InlineData("{\"shared\": {\"frames\": []}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"parsecs\"}]}", "t.json: speedscope: unknown unit \"parsecs\" (expected none, nanoseconds, microseconds, milliseconds, seconds or bytes) at $.profiles[0].unit")]
    [InlineData("{\"shared\": {\"frames\": []}, \"profiles\": [{\"type\": \"flat\", \"unit\": \"none\"}]}", "t.json: speedscope: unknown profile type \"flat\" (expected sampled or evented) at $.profiles[0].type")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0]], \"weights\": []}]}", "t.json: speedscope: 0 weights for 1 samples at $.profiles[0].weights")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0]], \"weights\": [-1]}]}", "t.json: speedscope: negative weight -1 at $.profiles[0].weights[0]")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"seconds\", \"samples\": [[0]], \"weights\": [1e300]}]}", "t.json: speedscope: value 1e300 is too large at $.profiles[0].weights[0]")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"evented\", \"unit\": \"none\", \"events\": [{\"type\": \"C\", \"frame\": 0, \"at\": 0}]}]}", "t.json: speedscope: closes frame 0 but no frame is open (unbalanced events) at $.profiles[0].events[0]")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"evented\", \"unit\": \"none\", \"events\": [{\"type\": \"X\", \"frame\": 0, \"at\": 0}]}]}", "t.json: speedscope: unknown event type \"X\" (expected \"O\" or \"C\") at $.profiles[0].events[0].type")]
    [InlineData("{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0]], \"weights\": [9223372036854775807]}, {\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0]], \"weights\": [9000000000000000000]}]}", "t.json: speedscope: value 9223372036854775807 is too large at $.profiles[0].weights[0]")]
    public void BadDocuments_SayWhatAndWhere(string json, string message)
    {
        Assert.Equal(message, Assert.Throws<OracException>(() => FromText(json)).Message);
    }

    [Fact]
    public void BadJson_GivesLineAndByte()
    {
        var e = Assert.Throws<OracException>(() => FromText("{\n  \"shared\": {,\n}"));
        Assert.StartsWith("t.json: speedscope: not valid JSON at line 2, byte 14 of the line: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void InvalidUtf8InAString_IsAnError_NotACrash()
    {
        // Fuzz finding: JsonDocument only validates UTF-8 in strings when GetString runs.
        byte[] data = [.. "{\"shared\": {\"frames\": [{\"name\": \"w"u8, 0xae, .. "rk\"}]}, \"profiles\": []}"u8];
        var e = Assert.Throws<OracException>(() => SpeedscopeReader.Read(new MemoryStream(data), "t.json"));
        Assert.Equal("t.json: speedscope: not valid UTF-8 at byte 34", e.Message);
    }

    [Fact]
    public void TotalOverflow_IsAnError_NotAWrongTotal()
    {
        string json = "{\"shared\": {\"frames\": [{\"name\": \"a\"}]}, \"profiles\": [{\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0], [0]], \"weights\": [9000000000000000000, 9000000000000000000]}]}";
        Assert.Equal("t.json: speedscope: values overflow a 64-bit total at $.profiles[0].weights[1]", Assert.Throws<OracException>(() => FromText(json)).Message);
    }
}

/// <summary>Speedscope-format files of the shared corpus (those naming speedscope's schema): valid ones load, the invalid/ ones fail clearly.</summary>
public class SpeedscopeCorpusTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void CorpusSpeedscopeFiles_Load_AndInvalidOnesFailClearly()
    {
        string? corpus = TestPaths.Corpus;
        Skip.If(corpus is null, TestPaths.CorpusMissing);
        string root = Path.Combine(corpus!, "speedscope");
        Skip.If(!Directory.Exists(root), TestPaths.CorpusMissing);
        int loaded = 0, rejected = 0;
        foreach (string f in Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using (var head = File.OpenRead(f))
            {
                byte[] buf = new byte[2048];
                int n = head.Read(buf);
                if (Encoding.UTF8.GetString(buf, 0, n).IndexOf("speedscope.app/file-format-schema.json", StringComparison.Ordinal) < 0)
                {
                    continue; // Chrome, Firefox, trace-event...: other formats speedscope imports, not its own.
                }
            }

            string rel = Path.GetRelativePath(corpus!, f);
            bool invalid = rel.Contains("/invalid/", StringComparison.Ordinal);
            try
            {
                Profile p = SpeedscopeReader.Read(File.OpenRead(f), rel);
                Assert.False(invalid, $"{rel} is in speedscope's invalid/ folder but loaded");
                Assert.True(p.Total() > 0, $"{rel}: empty profile");
                output.WriteLine($"loaded   {rel}: {p.SampleCount} rows, total {p.Total()} {p.SampleTypes[0]}");
                loaded++;
            }
            catch (OracException e)
            {
                Assert.True(invalid, $"{rel}: {e.Message}");
                Assert.StartsWith(rel + ": speedscope: ", e.Message, StringComparison.Ordinal);
                output.WriteLine($"rejected {rel}: {e.Message}");
                rejected++;
            }
        }

        Assert.True(loaded >= 4, $"only {loaded} speedscope files loaded");
        Assert.Equal(2, rejected);
    }

    [SkippableFact]
    public void CorpusTwoSampled_TotalsBothProfiles()
    {
        string? corpus = TestPaths.Corpus;
        Skip.If(corpus is null, TestPaths.CorpusMissing);
        string f = Path.Combine(corpus!, "speedscope", "sample", "profiles", "speedscope", "0.6.0", "two-sampled.speedscope.json");
        Skip.If(!File.Exists(f), TestPaths.CorpusMissing);
        Profile p = SpeedscopeReader.Read(File.OpenRead(f), "two-sampled");
        Assert.Equal(28_000_000_000, p.Total());
        Assert.Equal("a;b = 10000000000\na;b;c = 10000000000\na;b;d = 8000000000", PprofReaderTests.Dump(p));
    }
}
