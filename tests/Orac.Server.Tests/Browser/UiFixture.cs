using System.Globalization;
using System.Text;
using Microsoft.Playwright;
using Orac.Server.Auth;
using Orac.Tests.Shared;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// One real <see cref="OracServer"/> on 127.0.0.1 (port 0, in-memory store) with the profiles of tests/data/ui ingested
/// through the HTTP API, and one headless system Chromium driven by Playwright, shared by the browser tests.
/// Nothing starts when /usr/bin/chromium is absent: the tests then skip and say why.
/// </summary>
public sealed class UiFixture : BrowserServerFixture
{
    /// <summary>The system browser (test.sh installs it with apt); Playwright never downloads one here.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Skip message when the browser is missing.</summary>
    public const string ChromiumMissing = "SKIPPED: /usr/bin/chromium not found (test.sh installs it as root: apt-get install -y chromium)";

    /// <summary>Synthetic service with about 100,000 flame-tree nodes (performance test).</summary>
    public const string BigService = "big";

    public static bool HasChromium => File.Exists(ChromiumPath);

    /// <summary>Read-only token the UI uses (the UI needs nothing more).</summary>
    public string ReadToken { get; private set; } = "";

    /// <summary>When the comparison data was ingested: <c>now-20m</c>..<c>now-10m</c> at fixture start (unix seconds).</summary>
    public long ComparisonFrom { get; private set; }

    /// <summary>Where screenshots go: artifacts/test-screenshots (gitignored).</summary>
    public static string ScreenshotDir => Path.Combine(TestPaths.RepoRoot, "artifacts", "test-screenshots");

    public static string DataFile(string name) => Path.Combine(TestPaths.Data, "ui", name);

    protected override string DataPrefix => "orac-ui";

    protected override async Task SeedAsync()
    {
        Server.Auth.CreateOrg("ui");
        string ingest = Server.Auth.CreateToken("ui", Role.Ingest, "ui-test-ingest");
        ReadToken = Server.Auth.CreateToken("ui", Role.Read, "ui-test-read");

        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        ComparisonFrom = now - 20 * 60;
        using HttpClient http = NewClient(ingest);
        await IngestAsync(http, "api", now - 50 * 60, now - 40 * 60, File.ReadAllText(DataFile("api-baseline.folded")));
        await IngestAsync(http, "api", now - 20 * 60, now - 10 * 60, File.ReadAllText(DataFile("api-comparison.folded")));
        await IngestAsync(http, "worker", now - 20 * 60, now - 10 * 60, File.ReadAllText(DataFile("worker.folded")), "&label=host%3Dworker-1");
        await IngestAsync(http, BigService, now - 20 * 60, now - 10 * 60, BigFolded());
        await IngestAsync(http, CombService, now - 20 * 60, now - 10 * 60, CombFolded());
    }


    /// <summary>
    /// A fresh context and page of <paramref name="browser"/>; <paramref name="errors"/> is cleared and then collects the
    /// page's uncaught script errors and Content-Security-Policy violations.
    /// </summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, List<string> errors)
    {
        IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            DeviceScaleFactor = 2,
            AcceptDownloads = true,
        });
        IPage page = await context.NewPageAsync();
        errors.Clear();
        page.PageError += (_, e) => errors.Add(e);
        // The server's CSP allows 'self' only: anything the UI does against it (inline style or script) is an error too.
        page.Console += (_, m) =>
        {
            if (m.Type == "error" && m.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                errors.Add(m.Text);
            }
        };
        return page;
    }

    private static async Task IngestAsync(HttpClient http, string service, long from, long until, string folded, string labels = "")
    {
        string url = $"/api/v1/profiles?service={service}&from={from}&until={until}&format=folded{labels}";
        using var body = new StringContent(folded, Encoding.UTF8, "text/plain");
        using HttpResponseMessage r = await http.PostAsync(new Uri(url, UriKind.Relative), body);
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"ingest {service}: {(int)r.StatusCode} {text}");
    }

    /// <summary>
    /// 100 modules × 10 functions × 100 leaves: 1 + 1 + 100 + 1,000 + 100,000 = 101,102 nodes (root and main included),
    /// with uneven values so widths vary as in a real profile.
    /// </summary>
    public static string BigFolded()
    {
        var sb = new StringBuilder(4 << 20);
        for (int m = 0; m < 100; m++)
        {
            for (int f = 0; f < 10; f++)
            {
                for (int l = 0; l < 100; l++)
                {
                    int value = 1 + ((m * 7919 + f * 104729 + l * 31) % 97);
                    sb.Append(CultureInfo.InvariantCulture, $"main;mod_{m};mod_{m}.fn_{f};mod_{m}.fn_{f}.leaf_{l} {value}\n");
                }
            }
        }

        return sb.ToString();
    }

    /// <summary>Synthetic service whose 100,501 frames are all wider than half a pixel: the renderer's worst case.</summary>
    public const string CombService = "comb";

    /// <summary>Node count of <see cref="CombFolded"/>'s tree, root included.</summary>
    public const int CombNodes = 1 + 1_500 * 67;

    /// <summary>1,500 separate call chains 67 frames deep, one sample each: every frame is 1/1,500 of the width.</summary>
    public static string CombFolded()
    {
        var sb = new StringBuilder(2 << 20);
        for (int b = 0; b < 1_500; b++)
        {
            for (int d = 0; d < 67; d++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{(d == 0 ? "" : ";")}c{b}_{d}");
            }

            sb.Append(" 1\n");
        }

        return sb.ToString();
    }

    /// <summary>Node count of <see cref="BigFolded"/>'s tree, root included.</summary>
    public const int BigNodes = 1 + 1 + 100 + 1_000 + 100_000;
}
