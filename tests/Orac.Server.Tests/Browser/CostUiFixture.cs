using System.Text;
using Orac.Server.Auth;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// One real <see cref="OracServer"/> on 127.0.0.1 (port 0, in memory, the built-in cost model) with org <c>cost</c>:
/// service <c>shop</c> on hosts <c>shop-1</c> and <c>shop-2</c> (tests/data/ui/cost-shop-*.folded, ingested 20–10
/// minutes ago through <c>/ingest</c> at 100 Hz, so 10 ms of CPU a sample), and one headless system Chromium, shared by the cost and opportunities page
/// tests. Nothing starts when /usr/bin/chromium is absent: the tests then skip and say why.
/// </summary>
public sealed class CostUiFixture : BrowserServerFixture
{
    /// <summary>Read token of org <c>cost</c> (what the UI gets).</summary>
    public string ReadToken { get; private set; } = "";

    protected override string DataPrefix => "orac-cost-ui";

    protected override async Task SeedAsync()
    {
        Server.Auth.CreateOrg("cost");
        string ingest = Server.Auth.CreateToken("cost", Role.Ingest, "ui-cost-ingest");
        ReadToken = Server.Auth.CreateToken("cost", Role.Read, "ui-cost-read");

        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using HttpClient http = NewClient(ingest);
        await IngestAsync(http, "shop", "shop-1", now - 20 * 60, now - 10 * 60, "cost-shop-1.folded");
        await IngestAsync(http, "shop", "shop-2", now - 20 * 60, now - 10 * 60, "cost-shop-2.folded");
    }

    private static async Task IngestAsync(HttpClient http, string service, string host, long from, long until, string file)
    {
        // Pyroscope's push with a sample rate: CPU time (process_cpu:cpu:nanoseconds), 10 ms a sample, which the server prices.
        string name = Uri.EscapeDataString($"{service}.cpu{{host={host}}}");
        string url = $"/ingest?name={name}&from={from}&until={until}&sampleRate=100";
        using var body = new StringContent(File.ReadAllText(UiFixture.DataFile(file)), Encoding.UTF8, "text/plain");
        using HttpResponseMessage r = await http.PostAsync(new Uri(url, UriKind.Relative), body);
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"ingest {service}/{host}: {(int)r.StatusCode} {text}");
    }
}
