using System.Text;
using Orac.Formats.Pprof;
using Orac.Model;
using Orac.Server.Auth;

namespace Orac.Server.Tests;

/// <summary>pprof, speedscope and lines bodies through the real ingest routes, and pprof export back out.</summary>
public sealed class FormatIngestTests(TestServer s) : IClassFixture<TestServer>
{
    private string Ingest => s.Tokens[("a", Role.Ingest)];

    private string Read => s.Tokens[("a", Role.Read)];

    private static byte[] Pprof()
    {
        var b = new ProfileBuilder(new SampleType("samples", "count"), new SampleType("cpu", "nanoseconds"))
        {
            Metadata = new ProfileMetadata { Period = 10_000_000, PeriodType = new SampleType("cpu", "nanoseconds") },
        };
        StackId main = b.Push(StackId.Root, b.Frame("main"));
        b.Add(b.Push(main, b.Frame("pprof_hot")), [3, 30_000_000]);
        b.Add(b.Push(main, b.Frame("pprof_cold")), [1, 10_000_000]);
        using var ms = new MemoryStream();
        PprofWriter.Write(b.Build(), ms, gzip: true);
        return ms.ToArray();
    }

    private async Task<string> Folded(string selector, string type) =>
        (await s.Get($"/api/v1/query/export?format=folded&type={type}&query={Uri.EscapeDataString(selector)}&from=now-1h&until=now%2B1m", Read)).Body;

    [Fact]
    public async Task Pprof_EachSampleTypeIsItsOwnProfileType()
    {
        var r = await s.Send(HttpMethod.Post, "/ingest?name=pp.cpu%7Benv%3Dprod%7D&format=pprof", Ingest, new ByteArrayContent(Pprof()));
        Assert.Equal(200, r.Status);

        string cpu = await Folded("{service_name=\"pp\",env=\"prod\"}", "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
        Assert.Contains("main;pprof_hot 30000000", cpu, StringComparison.Ordinal);
        Assert.Contains("main;pprof_cold 10000000", cpu, StringComparison.Ordinal);
        string samples = await Folded("{service_name=\"pp\"}", "process_cpu:samples:count:cpu:nanoseconds");
        Assert.Contains("main;pprof_hot 3", samples, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pprof_ExportReadsBackWithTheSameTotals()
    {
        Assert.Equal(200, (await s.Send(HttpMethod.Post, "/ingest?name=px.cpu&format=pprof", Ingest, new ByteArrayContent(Pprof()))).Status);
        using var req = s.Request(HttpMethod.Get, "/api/v1/query/export?format=pprof&type=process_cpu:cpu:nanoseconds:cpu:nanoseconds&query=%7Bservice_name%3D%22px%22%7D&from=now-1h&until=now%2B1m", Read);
        using var resp = await s.Http.SendAsync(req);
        Assert.Equal(200, (int)resp.StatusCode);
        byte[] bytes = await resp.Content.ReadAsByteArrayAsync();
        Profile back = PprofReader.Read(bytes, "export");
        Assert.Equal(40_000_000, back.Total());
        Assert.Equal("cpu/nanoseconds", back.SampleTypes[0].ToString());
    }

    [Fact]
    public async Task Speedscope_SampledProfile_IsStoredInNanoseconds()
    {
        const string doc = """
        {"$schema":"https://www.speedscope.app/file-format-schema.json",
         "shared":{"frames":[{"name":"main"},{"name":"ss_work"}]},
         "profiles":[{"type":"sampled","name":"t","unit":"milliseconds","startValue":0,"endValue":5,
                      "samples":[[0,1],[0,1],[0]],"weights":[2,2,1]}]}
        """;
        Assert.Equal(200, (await s.Post("/ingest?name=ss.cpu&format=speedscope", Ingest, doc)).Status);
        string folded = await Folded("{service_name=\"ss\"}", "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
        Assert.Contains("main;ss_work 4000000", folded, StringComparison.Ordinal);
        Assert.Contains("main 1000000", folded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lines_EachLineIsOneSample()
    {
        var body = new StringBuilder().Append("main;ln_a\nmain;ln_a\nmain;ln_b\n").ToString();
        Assert.Equal(200, (await s.Post("/ingest?name=ln.cpu&format=lines", Ingest, body)).Status);
        string folded = await Folded("{service_name=\"ln\"}", "process_cpu:samples:count:cpu:nanoseconds");
        Assert.Contains("main;ln_a 2", folded, StringComparison.Ordinal);
        Assert.Contains("main;ln_b 1", folded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoType_PicksTheFirstTypeWithDataForTheSelection()
    {
        // Service "onlycount" has only sample counts; another service has CPU time (which is otherwise preferred).
        Assert.Equal(200, (await s.Post("/ingest?name=cpuholder.cpu&sampleRate=100", Ingest, "main;cpu_fn 5\n")).Status);
        Assert.Equal(200, (await s.Post("/ingest?name=onlycount.cpu&format=lines", Ingest, "main;count_fn\n")).Status);

        var r = await s.Get("/api/v1/query?query=%7Bservice_name%3D%22onlycount%22%7D&from=now-1h&until=now%2B1m", Read);
        Assert.Equal(200, r.Status);
        var tree = TestServer.Json(r.Body);
        Assert.Equal("process_cpu:samples:count:cpu:nanoseconds", tree.GetProperty("type").GetString());
        Assert.Equal(1, tree.GetProperty("total").GetInt64());
    }
}
