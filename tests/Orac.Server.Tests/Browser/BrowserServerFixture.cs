using System.Net.Http.Headers;
using Microsoft.Playwright;
using Orac.Storage;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// What the browser fixtures share: one real <see cref="OracServer"/> on 127.0.0.1 (port 0, in-memory store, its own
/// data folder), seeded by <see cref="SeedAsync"/>, and one headless system Chromium. Nothing starts when
/// /usr/bin/chromium is absent: the tests then skip and say why.
/// </summary>
public abstract class BrowserServerFixture : IAsyncLifetime
{
    private string? _dataDir;
    private IPlaywright? _playwright;

    public OracServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>Uncaught script errors and Content-Security-Policy violations of the page made last by <see cref="NewPageAsync()"/>.</summary>
    public List<string> PageErrors { get; } = [];

    /// <summary>Prefix of the temporary data folder's name.</summary>
    protected abstract string DataPrefix { get; }

    /// <summary>Creates orgs and tokens and ingests the fixture's data once the server listens.</summary>
    protected abstract Task SeedAsync();

    public async Task InitializeAsync()
    {
        if (!UiFixture.HasChromium)
        {
            return;
        }

        _dataDir = Path.Combine(Path.GetTempPath(), $"{DataPrefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDir);
        Server = OracServer.Create(
            new ServerOptions { Listen = "127.0.0.1:0", DataDirectory = _dataDir, InMemory = true },
            new MemoryProfileStore(),
            log: TextWriter.Null);
        await Server.StartAsync();
        Address = Server.Address ?? throw new InvalidOperationException("server has no address after start");
        await SeedAsync();

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

    /// <summary>A fresh browser context and page (own sessionStorage), 1400×900 CSS px at devicePixelRatio 2.</summary>
    public Task<IPage> NewPageAsync() => UiFixture.NewPageAsync(Browser, PageErrors);
}
