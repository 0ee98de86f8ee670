using System.IO.Compression;
using System.Text;
using Orac.Model.Query;
using Orac.Server.Auth;
using Orac.Server.Ingest;
using Orac.Tests.Shared;

namespace Orac.Server.Tests;

/// <summary>Bad input gets a 4xx JSON error saying what was wrong, stores nothing, and the server keeps serving.</summary>
public sealed class BadInputTests(TestServer s) : IClassFixture<TestServer>
{
    private string Ingest => s.Tokens[("a", Role.Ingest)];

    private string Read => s.Tokens[("a", Role.Read)];

    [Fact]
    public async Task BodyTooLarge_Is413Json_WithOrWithoutContentLength()
    {
        byte[] big = new byte[TestServer.MaxBody + 1];
        big.AsSpan().Fill((byte)'a');
        var r = await s.Send(HttpMethod.Post, "/ingest?name=big.cpu", Ingest, new ByteArrayContent(big));
        Assert.Contains("larger than", TestServer.AssertError(r, 413), StringComparison.Ordinal);

        // Chunked: no Content-Length, so the limit is found while reading.
        var chunked = new StreamContent(new NonSeekable(big));
        var r2 = await s.Send(HttpMethod.Post, "/api/v1/profiles?service=big", Ingest, chunked);
        TestServer.AssertError(r2, 413);
        Assert.Equal(200, (await s.Get("/healthz", null)).Status);

        // Far beyond the limit (more than twice it): refused at once from the Content-Length, asking the client to close.
        using var hugeReq = s.Request(HttpMethod.Post, "/ingest?name=big.cpu", Ingest, new ByteArrayContent(new byte[(3 * TestServer.MaxBody) + 1]));
        hugeReq.Headers.ExpectContinue = true;
        using var huge = await s.Http.SendAsync(hugeReq);
        Assert.Equal(413, (int)huge.StatusCode);
        Assert.Contains("larger than", await huge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedFolded_Is400NamingTheLine_AndStoresNothing()
    {
        long before = s.Store.Stats().HotSamples;
        var r = await s.Post("/ingest?name=bad.cpu&sampleRate=100", Ingest, "main;ok 1\nmain;no count here\nmain 2\n");
        string msg = TestServer.AssertError(r, 400);
        Assert.Contains("body:2", msg, StringComparison.Ordinal);
        Assert.Contains("nothing was stored", msg, StringComparison.Ordinal);
        Assert.Equal(before, s.Store.Stats().HotSamples);

        var r2 = await s.Post("/api/v1/profiles?service=bad", Ingest, "main;ok 1.5\n");
        Assert.Contains("body:1", TestServer.AssertError(r2, 400), StringComparison.Ordinal);
        Assert.Equal(before, s.Store.Stats().HotSamples);
    }

    [Fact]
    public async Task MalformedJson_Is400_AndStoresNothing()
    {
        long before = s.Store.Stats().HotSamples;
        foreach (string doc in new[] { "{\"format\":\"orac-profile\",", "{\"format\":\"other\"}", """{"format":"orac-profile","version":1,"sampleTypes":[{"type":"cpu","unit":"ns"}],"frames":["a"],"samples":[{"stack":[5],"values":[1]}]}""" })
        {
            var r = await s.Send(HttpMethod.Post, "/api/v1/profiles?service=j&format=json", Ingest, new StringContent(doc, Encoding.UTF8, "application/json"));
            Assert.Contains("body", TestServer.AssertError(r, 400), StringComparison.Ordinal);
        }

        Assert.Equal(before, s.Store.Stats().HotSamples);
    }

    [Theory]
    [InlineData("/api/v1/query?query={service_name=}", "offset")]
    [InlineData("/api/v1/query?query=a%20b%20c", "selector")]
    [InlineData("/api/v1/query?from=yesterday", "bad time for from")]
    [InlineData("/api/v1/query?from=now-1h&until=now-2h", "must be after")]
    [InlineData("/api/v1/query?from=now-40d", "longer than the limit")]
    [InlineData("/api/v1/query?type=cpu", "bad profile type")]
    [InlineData("/api/v1/query?query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{}&type=memory:alloc_space:bytes:space:bytes", "type=")]
    [InlineData("/api/v1/query?maxNodes=0", "maxNodes")]
    [InlineData("/api/v1/query?query=a&query=b", "given 2 times")]
    [InlineData("/api/v1/query/top?order=sideways", "order")]
    [InlineData("/api/v1/query/top?limit=x", "limit")]
    [InlineData("/api/v1/query/diff?baseFrom=bad", "baseFrom")]
    [InlineData("/api/v1/query/series?step=0s", "step")]
    [InlineData("/api/v1/query/series?step=1ms&from=now-7d", "points")]
    [InlineData("/api/v1/query/labels?name=bad-name!", "label name")]
    [InlineData("/api/v1/query/export?format=png", "format")]
    public async Task BadQuery_Is400WithMessage(string path, string expected)
    {
        string msg = TestServer.AssertError(await s.Get(path, Read), 400);
        Assert.Contains(expected, msg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/ingest", "missing name")]
    [InlineData("/ingest?name=app{host}", "offset")]
    [InlineData("/ingest?name=app.cpu&sampleRate=fast", "sampleRate")]
    [InlineData("/ingest?name=app.cpu&from=soon", "bad time for from")]
    [InlineData("/ingest?name=app.cpu&from=now&until=now-1h", "before from")]
    [InlineData("/ingest?name=app.cpu&aggregationType=max", "aggregationType")]
    [InlineData("/ingest?name=app.cpu&format=xml", "unknown format")]
    [InlineData("/ingest?name=app{1bad=x}", "label name")]
    [InlineData("/api/v1/profiles", "missing service")]
    [InlineData("/api/v1/profiles?service=x&label=novalue", "label")]
    [InlineData("/api/v1/profiles?service=x&type=nope", "bad profile type")]
    public async Task BadIngestParameters_Are400WithMessage(string path, string expected)
    {
        long before = s.Store.Stats().HotSamples;
        string msg = TestServer.AssertError(await s.Post(path, Ingest, "main 1\n"), 400);
        Assert.Contains(expected, msg, StringComparison.Ordinal);
        Assert.Equal(before, s.Store.Stats().HotSamples);
    }

    [Theory]
    [InlineData("pprof", "pprof")]
    [InlineData("speedscope", "speedscope")]
    public async Task MalformedNamedFormats_Are400_AndStoreNothing(string format, string expected)
    {
        long before = s.Store.Stats().HotSamples;
        string msg = TestServer.AssertError(await s.Post($"/ingest?name=app.cpu&format={format}", Ingest, "\u0008\u0001garbage"), 400);
        Assert.Contains(expected, msg, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, s.Store.Stats().HotSamples);
    }

    [Fact]
    public async Task BadMultipartAndGzip_Are400()
    {
        var noBoundary = new ByteArrayContent("x"u8.ToArray());
        noBoundary.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data");
        Assert.Contains("boundary", TestServer.AssertError(await s.Send(HttpMethod.Post, "/ingest?name=m.cpu", Ingest, noBoundary), 400), StringComparison.Ordinal);

        using var noProfile = new MultipartFormDataContent("bnd") { { new ByteArrayContent("m 1\n"u8.ToArray()), "prev_profile", "p" } };
        Assert.Contains("'profile'", TestServer.AssertError(await s.Send(HttpMethod.Post, "/ingest?name=m.cpu", Ingest, noProfile), 400), StringComparison.Ordinal);

        var truncated = new ByteArrayContent("--bnd\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\nm 1\n"u8.ToArray());
        truncated.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=bnd");
        Assert.Contains("multipart", TestServer.AssertError(await s.Send(HttpMethod.Post, "/ingest?name=m.cpu", Ingest, truncated), 400), StringComparison.Ordinal);

        byte[] gz = Gzip("main;gz 5\n"u8.ToArray());
        Assert.Equal(200, (await s.Send(HttpMethod.Post, "/api/v1/profiles?service=gz", Ingest, new ByteArrayContent(gz))).Status);
        Assert.Contains("gzip", TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/profiles?service=gz", Ingest, new ByteArrayContent(gz[..^6])), 400), StringComparison.Ordinal);
        Assert.Equal(200, (await s.Get("/healthz", null)).Status);
    }

    [Fact]
    public async Task GzipBomb_Is413()
    {
        // 1 MiB limit; 4 MiB once decompressed: 8 MiB of zeros compresses to a few KiB.
        byte[] gz = Gzip(new byte[8 << 20]);
        Assert.True(gz.Length < TestServer.MaxBody);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/profiles?service=bomb", Ingest, new ByteArrayContent(gz)), 413);
    }

    [Fact]
    public async Task UnknownRouteAndMethod_AreJson()
    {
        TestServer.AssertError(await s.Get("/api/v1/nope", Read), 404);
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/query", Read), 405);
    }

    [Fact]
    public void IngestHttp_FuzzTarget_SurvivesMutations()
    {
        List<byte[]> seeds = Orac.Fuzz.MutationFuzzer.LoadSeeds(Path.Combine(TestPaths.Data, "server"));
        FuzzAssert.SurvivesMutations("ingest-http", IngestFuzz.Run, seeds, 5);
    }

    [Fact(Timeout = 10_000)]
    public async Task SampleTypeConfig_InvalidUtf8_Is400()
    {
        // Found by the ingest-http fuzz target: JsonDocument accepted the bytes and threw InvalidOperationException on reading the name.
        byte[] body = [.. "--b\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\nm 1\n\r\n--b\r\nContent-Disposition: form-data; name=\"sample_type_config\"\r\n\r\n{\"a"u8, 0xc3, 0x28, .. "\":{}}\r\n--b--\r\n"u8];
        Assert.Throws<Orac.Model.OracException>(() => IngestFuzzShape(body));
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        Assert.Contains("UTF-8", TestServer.AssertError(await s.Send(HttpMethod.Post, "/ingest?name=u.cpu&format=folded", Ingest, content), 400), StringComparison.Ordinal);
    }

    private static void IngestFuzzShape(byte[] body) =>
        IngestParser.Parse(IngestRoute.Pyroscope, "a", new Microsoft.AspNetCore.Http.QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery("name=x.cpu&format=folded")),
            "multipart/form-data; boundary=b", body, TimeSpec.NowNs(), 1 << 20);

    [Fact]
    public void ListenAddress_LoopbackByDefault_AndBadOnesRefused()
    {
        Assert.True(System.Net.IPAddress.IsLoopback(OracServer.ParseListen(ServerOptions.DefaultListen).Address));
        Assert.Equal(4040, OracServer.ParseListen("localhost:4040").Port);
        Assert.Equal(System.Net.IPAddress.Any, OracServer.ParseListen("0.0.0.0:9").Address);
        Assert.Equal(System.Net.IPAddress.IPv6Loopback, OracServer.ParseListen("[::1]:9").Address);
        foreach (string bad in new[] { "", "4040", "127.0.0.1", "example.com:80", "127.0.0.1:99999", "::1" })
        {
            Assert.Throws<Orac.Model.OracException>(() => OracServer.ParseListen(bad));
        }
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
