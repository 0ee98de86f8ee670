using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model.Query;
using Orac.Server.Auth;

namespace Orac.Server.Tests;

public sealed class IngestQueryTests(TestServer s) : IClassFixture<TestServer>
{
    private static readonly long s_t0 = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600;

    private static string Range => $"from={s_t0 - 60}&until={s_t0 + 60}";

    [Fact]
    public async Task FoldedIngest_ThenQuery_ReturnsTreeAndTop()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        string read = s.Tokens[("a", Role.Read)];
        var r = await s.Post($"/api/v1/profiles?service=tree-svc&label=host=h1&from={s_t0}&until={s_t0 + 10}", ingest, "main;work 30\nmain;idle 10\nmain 5\n");
        Assert.Equal(200, r.Status);
        JsonElement result = TestServer.Json(r.Body);
        Assert.Equal(1, result.GetProperty("ingested").GetInt32());
        Assert.Equal(3, result.GetProperty("samples").GetInt64());

        string sel = Uri.EscapeDataString("{service_name=\"tree-svc\"}");
        var q = await s.Get($"/api/v1/query?query={sel}&type={ProfileTypeId.ProcessCpuSamples}&{Range}", read);
        Assert.Equal(200, q.Status);
        JsonElement tree = TestServer.Json(q.Body);
        Assert.Equal(45, tree.GetProperty("total").GetInt64());
        Assert.Equal("count", tree.GetProperty("unit").GetString());
        string[] names = [.. tree.GetProperty("names").EnumerateArray().Select(e => e.GetString()!)];
        JsonElement nodes = tree.GetProperty("nodes");
        int[] parent = [.. nodes.GetProperty("parent").EnumerateArray().Select(e => e.GetInt32())];
        string[] nodeNames = [.. nodes.GetProperty("name").EnumerateArray().Select(e => names[e.GetInt32()])];
        long[] total = [.. nodes.GetProperty("total").EnumerateArray().Select(e => e.GetInt64())];
        long[] self = [.. nodes.GetProperty("self").EnumerateArray().Select(e => e.GetInt64())];

        // Pre-order, children sorted by name: total, main, idle, work.
        Assert.Equal(["total", "main", "idle", "work"], nodeNames);
        Assert.Equal([-1, 0, 1, 1], parent);
        Assert.Equal([45L, 45, 10, 30], total);
        Assert.Equal([0L, 5, 10, 30], self);
        Assert.Equal(0, tree.GetProperty("truncated").GetInt32());

        var top = await s.Get($"/api/v1/query/top?query={sel}&type={ProfileTypeId.ProcessCpuSamples}&{Range}&limit=2", read);
        Assert.Equal(200, top.Status);
        JsonElement report = TestServer.Json(top.Body);
        Assert.Equal(45, report.GetProperty("profileTotal").GetInt64());
        JsonElement[] fns = [.. report.GetProperty("functions").EnumerateArray()];
        Assert.Equal(2, fns.Length);
        Assert.Equal("work", fns[0].GetProperty("name").GetString());
        Assert.Equal(30, fns[0].GetProperty("self").GetInt64());
    }

    [Fact]
    public async Task PyroscopeIngest_NameLabelsAndSampleRate_GiveCpuNanoseconds()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        string read = s.Tokens[("a", Role.Read)];
        string name = Uri.EscapeDataString("pyro-app.cpu{env=prod,region=eu}");
        var r = await s.Post($"/ingest?name={name}&from={s_t0}&until={s_t0 + 10}&sampleRate=100&spyName=gospy", ingest, "main;run 3\nmain 1\n");
        Assert.Equal(200, r.Status);

        string sel = Uri.EscapeDataString("process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"pyro-app\", env=\"prod\"}");
        var q = await s.Get($"/api/v1/query?query={sel}&{Range}", read);
        Assert.Equal(200, q.Status);
        JsonElement tree = TestServer.Json(q.Body);

        // 4 samples at 100 Hz = 40 ms of CPU.
        Assert.Equal(40_000_000, tree.GetProperty("total").GetInt64());
        Assert.Equal("nanoseconds", tree.GetProperty("unit").GetString());

        var labels = await s.Get($"/api/v1/query/labels?query={sel}&{Range}", read);
        Assert.Equal(200, labels.Status);
        string[] names = [.. TestServer.Json(labels.Body).GetProperty("names").EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(["env", "pyroscope_spy", "region", "service_name"], names);

        var values = await s.Get($"/api/v1/query/labels?name=region&query={sel}&{Range}", read);
        Assert.Equal(["eu"], TestServer.Json(values.Body).GetProperty("values").EnumerateArray().Select(e => e.GetString()!).ToArray());

        var types = await s.Get($"/api/v1/query/types?{Range}", read);
        Assert.Contains("process_cpu:cpu:nanoseconds:cpu:nanoseconds", types.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PyroscopeIngest_Multipart_ReadsProfilePart()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        string read = s.Tokens[("a", Role.Read)];
        using var form = new MultipartFormDataContent("orac-test-boundary");
        form.Add(new ByteArrayContent("main;alloc 7\n"u8.ToArray()), "profile", "profile.folded");
        form.Add(new ByteArrayContent("main;alloc 1\n"u8.ToArray()), "prev_profile", "prev.folded");
        form.Add(new ByteArrayContent("""{"alloc_objects":{"units":"objects","aggregation":"sum"}}"""u8.ToArray()), "sample_type_config", "config.json");
        var r = await s.Send(HttpMethod.Post, $"/ingest?name=multi-app.alloc_objects&format=folded&from={s_t0}", ingest, form);
        Assert.Equal(200, r.Status);

        var q = await s.Get($"/api/v1/query?query={Uri.EscapeDataString("memory:alloc_objects:count:space:bytes{service_name=\"multi-app\"}")}&{Range}", read);
        Assert.Equal(200, q.Status);
        Assert.Equal(7, TestServer.Json(q.Body).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task NativeJsonIngest_EachSampleTypeIsItsOwnType()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        string read = s.Tokens[("a", Role.Read)];
        string doc = """
            {"format":"orac-profile","version":1,"sampleTypes":[{"type":"cpu","unit":"nanoseconds"},{"type":"samples","unit":"count"}],
             "frames":["main","f"],"samples":[{"stack":[0,1],"values":[2000,2]},{"stack":[0],"values":[1000,1]}]}
            """;
        var r = await s.Send(HttpMethod.Post, $"/api/v1/profiles?service=json-svc&from={s_t0}", ingest, new StringContent(doc, Encoding.UTF8, "application/json"));
        Assert.Equal(200, r.Status);
        Assert.Equal(2, TestServer.Json(r.Body).GetProperty("ingested").GetInt32());

        var q = await s.Get($"/api/v1/query?query={Uri.EscapeDataString("{service_name=\"json-svc\"}")}&type=process_cpu:cpu:nanoseconds:cpu:nanoseconds&{Range}", read);
        Assert.Equal(3000, TestServer.Json(q.Body).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Diff_Series_Export_Status_Answer()
    {
        string ingest = s.Tokens[("b", Role.Ingest)];
        string read = s.Tokens[("b", Role.Read)];
        Assert.Equal(200, (await s.Post($"/api/v1/profiles?service=d&from={s_t0}", ingest, "main;old 10\n")).Status);
        Assert.Equal(200, (await s.Post($"/api/v1/profiles?service=d&from={s_t0 + 30}", ingest, "main;new 4\nmain;old 2\n")).Status);
        string type = "&type=" + ProfileTypeId.ProcessCpuSamples;

        var diff = await s.Get($"/api/v1/query/diff?query=d&from={s_t0 + 20}&until={s_t0 + 60}&baseFrom={s_t0 - 10}&baseUntil={s_t0 + 10}{type}", read);
        Assert.Equal(200, diff.Status);
        JsonElement tree = TestServer.Json(diff.Body);
        Assert.Equal(6, tree.GetProperty("total").GetInt64());
        Assert.Equal(10, tree.GetProperty("baseTotalValue").GetInt64());
        string[] names = [.. tree.GetProperty("names").EnumerateArray().Select(e => e.GetString()!)];
        JsonElement nodes = tree.GetProperty("nodes");
        string[] nodeNames = [.. nodes.GetProperty("name").EnumerateArray().Select(e => names[e.GetInt32()])];
        Assert.Equal(["total", "main", "new", "old"], nodeNames);
        Assert.Equal([6L, 6, 4, 2], nodes.GetProperty("total").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        Assert.Equal([10L, 10, 0, 10], nodes.GetProperty("baseTotal").EnumerateArray().Select(e => e.GetInt64()).ToArray());

        var series = await s.Get($"/api/v1/query/series?query=d&step=10s&function=new&{Range}{type}", read);
        Assert.Equal(200, series.Status);
        JsonElement pts = TestServer.Json(series.Body).GetProperty("points");
        // Only the later profile has 'new': 4 in the step holding s_t0 + 30 and nothing elsewhere.
        long bucket = s_t0 + 30 - ((s_t0 + 30) % 10);
        long stepStart = (s_t0 - 60 + ((bucket - (s_t0 - 60)) / 10 * 10)) * 1000;
        Assert.Equal(4, pts.EnumerateArray().Sum(p => p[1].GetInt64()));
        Assert.Contains(pts.EnumerateArray(), p => p[0].GetInt64() == stepStart && p[1].GetInt64() == 4);

        var folded = await s.Get($"/api/v1/query/export?format=folded&query=d&{Range}{type}", read);
        Assert.Equal(200, folded.Status);
        Assert.Equal("main;new 4\nmain;old 12\n", folded.Body);

        var svg = await s.Get($"/api/v1/query/export?format=svg&query=d&{Range}{type}", read);
        Assert.Equal(200, svg.Status);
        Assert.Contains("<svg", svg.Body, StringComparison.Ordinal);
        Assert.Contains("old", svg.Body, StringComparison.Ordinal);

        var status = await s.Get("/api/v1/status", read);
        Assert.Equal(200, status.Status);
        Assert.True(TestServer.Json(status.Body).GetProperty("store").GetProperty("hotSamples").GetInt64() >= 3);
    }

    [Fact]
    public async Task Query_MaxNodes_TruncatesSmallestSubtreesKeepingTotals()
    {
        string ingest = s.Tokens[("b", Role.Ingest)];
        string read = s.Tokens[("b", Role.Read)];
        Assert.Equal(200, (await s.Post($"/api/v1/profiles?service=trunc&from={s_t0}", ingest, "m;big 100\nm;small 1\nm;tiny;deeper 2\n")).Status);
        var q = await s.Get($"/api/v1/query?query=trunc&maxNodes=3&{Range}&type={ProfileTypeId.ProcessCpuSamples}", read);
        JsonElement tree = TestServer.Json(q.Body);
        JsonElement nodes = tree.GetProperty("nodes");
        Assert.Equal(3, nodes.GetProperty("parent").GetArrayLength());
        Assert.Equal(3, tree.GetProperty("truncated").GetInt32());
        Assert.Equal([103L, 103, 100], nodes.GetProperty("total").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        Assert.Equal([0L, 3, 100], nodes.GetProperty("self").EnumerateArray().Select(e => e.GetInt64()).ToArray());
    }

    [Fact]
    public async Task Ui_And_Healthz_NeedNoToken_AndCarryCsp()
    {
        using var resp = await s.Http.GetAsync(s.Base);
        Assert.Equal(200, (int)resp.StatusCode);
        Assert.Equal("text/html", resp.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", string.Join(";", resp.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal(200, (await s.Get("/healthz", null)).Status);
        TestServer.AssertError(await s.Get("/ui/../secret", null), 404);
        TestServer.AssertError(await s.Get("/no-such-file.js", null), 404);
    }
}
