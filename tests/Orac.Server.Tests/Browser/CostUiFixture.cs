using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using Orac.Server.Auth;
using Orac.Storage;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// One real <see cref="OracServer"/> on 127.0.0.1 (port 0, in memory, the built-in cost model) with org <c>cost</c>:
/// service <c>shop</c> on hosts <c>shop-1</c> and <c>shop-2</c> (tests/data/ui/cost-shop-*.folded, ingested 20–10
/// minutes ago through <c>/ingest</c> at 100 Hz, so 10 ms of CPU a sample), and one headless system Chromium, shared by the cost and opportunities page
/// tests. Nothing starts when /usr/bin/chromium is absent: the tests then skip and say why.
/// </summary>
public sealed class CostUiFixture : IAsyncLifetime
{
    private string? _dataDir;
    private IPlaywright? _playwright;

    public OracServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>Read token of org <c>cost</c> (what the UI gets).</summary>
    public string ReadToken { get; private set; } = "";

    /// <summary>Uncaught script errors and CSP violations of the page made last by <see cref="NewPageAsync"/>.</summary>
    public List<string> PageErrors { get; } = [];

    public async Task InitializeAsync()
    {
        if (!UiFixture.HasChromium)
        {
            return;
        }

        _dataDir = Path.Combine(Path.GetTempPath(), $"orac-cost-ui-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDir);
        Server = OracServer.Create(
            new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dataDir, InMemory = true },
            new MemoryProfileStore(),
            log: TextWriter.Null);
        await Server.StartAsync();
        Address = Server.Address ?? throw new InvalidOperationException("server has no address after start");
        Server.Auth.CreateOrg("cost");
        string ingest = Server.Auth.CreateToken("cost", Role.Ingest, "ui-cost-ingest");
        ReadToken = Server.Auth.CreateToken("cost", Role.Read, "ui-cost-read");

        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using HttpClient http = NewClient(ingest);
        await IngestAsync(http, "shop", "shop-1", now - 20 * 60, now - 10 * 60, "cost-shop-1.folded");
        await IngestAsync(http, "shop", "shop-2", now - 20 * 60, now - 10 * 60, "cost-shop-2.folded");

        Directory.CreateDirectory(UiFixture.ScreenshotDir);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = UiFixture.ChromiumPath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    /// <summary>An HTTP client for the test server with a bearer token.</summary>
    public HttpClient NewClient(string token)
    {
        var http = new HttpClient { BaseAddress = Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>A fresh browser context and page; <see cref="PageErrors"/> collects its script errors and CSP violations.</summary>
    public Task<IPage> NewPageAsync() => UiFixture.NewPageAsync(Browser, PageErrors);

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
