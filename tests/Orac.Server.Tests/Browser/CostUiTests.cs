using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Orac.Model.Wire;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// Cost in the web UI against a real server that prices with its built-in cost model: the money, energy and CO2e
/// formats; the profile view's width toggle ($, kWh) whose root frame equals the cost document's attributed figures,
/// with unit and "estimated" in the tooltip, status and top table; the cost strip; and the opportunities page, whose
/// rows, totals and links are the API's. Screenshots go to artifacts/test-screenshots/.
/// </summary>
public sealed class CostUiTests(CostUiFixture fixture) : IClassFixture<CostUiFixture>
{
    private const float WaitMs = 20_000;
    private const string Shop = "{service_name=\"shop\"}";

    private async Task<IPage> OpenAsync(string pathAndQuery, string fragment = "")
    {
        IPage page = await fixture.NewPageAsync();
        page.SetDefaultTimeout(WaitMs);
        string hash = fragment.Length == 0 ? "#token=" + fixture.ReadToken : "#" + fragment + "&token=" + fixture.ReadToken;
        await page.GotoAsync(new Uri(fixture.Address, pathAndQuery).ToString() + hash);
        return page;
    }

    private static async Task<int> SettledAsync(IPage page) =>
        int.Parse(await page.EvaluateAsync<string>("() => document.body.dataset.settled || '0'"), CultureInfo.InvariantCulture);

    private static async Task WaitSettledAsync(IPage page, int before) =>
        await page.WaitForFunctionAsync(
            "n => Number(document.body.dataset.settled || 0) > n && document.body.dataset.state !== 'loading'",
            before,
            new PageWaitForFunctionOptions { Timeout = WaitMs });

    private static async Task ShotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiFixture.ScreenshotDir, name + ".png"), FullPage = true });

    /// <summary>The page's own formatter (format.js), so expected texts are written the way the page writes them.</summary>
    private static Task<string> FormatAsync(IPage page, string function, double value) =>
        page.EvaluateAsync<string>("async ([f, v]) => (await import('/format.js'))[f](v)", new object[] { function, value });

    private async Task<T> GetAsync<T>(string url, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        using HttpClient http = fixture.NewClient(fixture.ReadToken);
        using HttpResponseMessage r = await http.GetAsync(new Uri(url, UriKind.Relative));
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {url}: {(int)r.StatusCode} {text}");
        return JsonSerializer.Deserialize(text, info) ?? throw new InvalidOperationException($"GET {url}: null");
    }

    private async Task<CostDocument> CostAsync(string from, string until) =>
        await GetAsync($"/api/v1/cost?query={Uri.EscapeDataString(Shop)}&from={from}&until={until}", OracJsonContext.Default.CostDocument);

    private static async Task<JsonElement> RootAsync(IPage page)
    {
        JsonElement node = await page.EvaluateAsync<JsonElement>("() => window.__orac.find('total')");
        Assert.True(node.ValueKind == JsonValueKind.Object, "the root frame is not drawn");
        return node;
    }

    private static async Task<string> HoverRootAsync(IPage page)
    {
        // A redraw that lands after the pointer arrived hides the tooltip and no new mousemove comes (seen on a loaded
        // machine): leave the canvas and come back, up to three times.
        for (int attempt = 1; ; attempt++)
        {
            JsonElement r = (await RootAsync(page)).GetProperty("rect");
            LocatorBoundingBoxResult box = (await page.Locator("#flame").BoundingBoxAsync())!;
            await page.Mouse.MoveAsync(1, 1);
            await page.Mouse.MoveAsync(
                (float)(box.X + r.GetProperty("x").GetDouble() + r.GetProperty("w").GetDouble() / 2),
                (float)(box.Y + r.GetProperty("y").GetDouble() + 8),
                new MouseMoveOptions { Steps = 2 });
            try
            {
                await page.WaitForFunctionAsync("() => !document.getElementById('tooltip').hidden", null, new PageWaitForFunctionOptions { Timeout = 7000 });
                return await page.InnerTextAsync("#tooltip");
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }

    [SkippableFact]
    public async Task Formats_MoneyEnergyAndCo2e_CarryTheirUnitAndEnoughDigits()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("/?service=shop&from=now-1h&until=now");
        (string Function, double Value, string Expected)[] cases =
        [
            ("formatUsd", 1234.567, "$1,234.57"),
            ("formatUsd", 1234567.891, "$1,234,567.89"),
            ("formatUsd", 12, "$12.00"),
            ("formatUsd", 0.5, "$0.50"),
            ("formatUsd", 0.000139, "$0.000139"),
            ("formatUsd", 0, "$0.00"),
            ("formatUsd", -2.5, "-$2.50"),
            ("formatKwh", 12.34, "12.3 kWh"),
            ("formatKwh", 0.5, "500 Wh"),
            ("formatKwh", 1234.5, "1.23 MWh"),
            ("formatKwh", 0.0000123, "12.3 mWh"),
            ("formatCo2e", 1500, "1.5 t CO2e"),
            ("formatCo2e", 12.34, "12.3 kg CO2e"),
            ("formatCo2e", 0.456, "456 g CO2e"),
        ];
        foreach ((string f, double v, string expected) in cases)
        {
            Assert.Equal(expected, await FormatAsync(page, f, v));
        }

        // The priced flame tree's units: whole microdollars, milliwatt-hours, milligrams CO2e.
        string Value(double v, string unit) => $"async () => (await import('/format.js')).formatValue({v.ToString(CultureInfo.InvariantCulture)}, '{unit}')";
        Assert.Equal("$0.000139", await page.EvaluateAsync<string>(Value(139, "microdollars")));
        Assert.Equal("$1,234.57", await page.EvaluateAsync<string>(Value(1_234_567_890, "microdollars")));
        Assert.Equal("2.5 Wh", await page.EvaluateAsync<string>(Value(2500, "milliwatt-hours")));
        Assert.Equal("7.8 g CO2e", await page.EvaluateAsync<string>(Value(7800, "milligrams CO2e")));
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task ProfileView_WidthInDollars_RootFrameIsTheCostDocumentsAttributedDollars()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("/?service=shop&from=now-1h&until=now");
        await WaitSettledAsync(page, 0);
        Assert.Equal("ready", await page.EvaluateAsync<string>("() => document.body.dataset.state"));
        Assert.Equal("true", await page.GetAttributeAsync("#unit-native", "aria-pressed"));

        // The cost strip is the API's cost document for the same selection and range.
        CostDocument cost = await CostAsync("now-1h", "now");
        double attributedUsd = cost.Total.Usd - cost.Idle.Usd;
        Assert.True(attributedUsd > 0, $"the server priced nothing: {JsonSerializer.Serialize(cost, OracJsonContext.Default.CostDocument)}");
        Assert.Equal(attributedUsd, double.Parse((await page.GetAttributeAsync("#cost", "data-attributed-usd"))!, CultureInfo.InvariantCulture), 9);
        Assert.Equal(cost.Total.Usd, double.Parse((await page.GetAttributeAsync("#cost", "data-usd"))!, CultureInfo.InvariantCulture), 9);
        Assert.StartsWith(await FormatAsync(page, "formatUsd", attributedUsd), await page.InnerTextAsync("#cost-attributed"), StringComparison.Ordinal);
        Assert.StartsWith(await FormatAsync(page, "formatUsd", cost.Idle.Usd), await page.InnerTextAsync("#cost-idle"), StringComparison.Ordinal);
        string year = await page.InnerTextAsync("#cost-year");
        Assert.StartsWith(await FormatAsync(page, "formatUsd", cost.ProjectedPerYear.Usd), year, StringComparison.Ordinal);
        Assert.Contains("projection", year, StringComparison.Ordinal);
        Assert.Contains("estimated", await page.InnerTextAsync("#cost-attributed"), StringComparison.Ordinal);
        Assert.Equal(cost.Partial, !await page.Locator("#cost-partial").IsHiddenAsync());

        // $: the graph is fetched again with unit=usd, and the root frame is the attributed dollars.
        int before = await SettledAsync(page);
        await page.ClickAsync("#unit-usd");
        await WaitSettledAsync(page, before);
        Assert.Contains("unit=usd", page.Url, StringComparison.Ordinal);
        Assert.Equal("true", await page.GetAttributeAsync("#unit-usd", "aria-pressed"));
        JsonElement root = await RootAsync(page);
        double rootMicrodollars = root.GetProperty("total").GetDouble();
        // docs/cost.md: each host's stack rows are priced in whole microdollars, so the root is the attributed dollars
        // within half a microdollar per row (rows ≤ nodes drawn).
        int nodes = int.Parse((await page.GetAttributeAsync("#flame", "data-nodes"))!, CultureInfo.InvariantCulture);
        Assert.True(
            Math.Abs(rootMicrodollars - attributedUsd * 1e6) <= 0.5 * nodes + 1e-6,
            $"root {rootMicrodollars} µ$ vs attributed {attributedUsd * 1e6} µ$ ({nodes} nodes)");
        string rootDollars = await FormatAsync(page, "formatUsd", rootMicrodollars / 1e6);
        string tip = await HoverRootAsync(page);
        Assert.Contains($"total{rootDollars} (100.0%)", tip.Replace("\t", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("US dollars, estimated", tip, StringComparison.Ordinal);
        Assert.Contains("estimated", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Contains($"total {rootDollars} (estimated)", await page.InnerTextAsync("#summary"), StringComparison.Ordinal);
        Assert.Equal("(US dollars, estimated)", await page.InnerTextAsync("#top-unit"));

        // The top table is the priced tree's: the same function on top as the API's priced tree, its self in microdollars.
        FlameTree priced = await GetAsync(
            $"/api/v1/query?query={Uri.EscapeDataString(Shop)}&from=now-1h&until=now&unit=usd", OracJsonContext.Default.FlameTree);
        Assert.Equal("microdollars", priced.Unit);
        Assert.Equal("estimated", priced.Provenance);
        var selfByName = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 1; i < priced.Nodes.Parent.Length; i++)
        {
            string name = priced.Names[priced.Nodes.Name[i]];
            selfByName[name] = selfByName.GetValueOrDefault(name) + priced.Nodes.Self[i];
        }

        KeyValuePair<string, double> top = selfByName.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
        Assert.Equal(top.Key, await page.GetAttributeAsync("#top tbody tr", "data-name"));
        Assert.Equal(top.Value, double.Parse((await page.GetAttributeAsync("#top tbody tr", "data-self"))!, CultureInfo.InvariantCulture), 6);
        Assert.StartsWith(await FormatAsync(page, "formatUsd", top.Value / 1e6), await page.InnerTextAsync("#top tbody tr td:nth-child(2)"), StringComparison.Ordinal);
        await ShotAsync(page, "cost-profile-usd");

        // The toggle is in the URL: a reload keeps it.
        await page.ReloadAsync();
        await WaitSettledAsync(page, 0);
        Assert.Equal("true", await page.GetAttributeAsync("#unit-usd", "aria-pressed"));
        Assert.Equal(rootMicrodollars, (await RootAsync(page)).GetProperty("total").GetDouble());

        // kWh: milliwatt-hours, the attributed energy.
        before = await SettledAsync(page);
        await page.ClickAsync("#unit-kwh");
        await WaitSettledAsync(page, before);
        double attributedKwh = cost.Total.Kwh - cost.Idle.Kwh;
        double rootMwh = (await RootAsync(page)).GetProperty("total").GetDouble();
        Assert.True(Math.Abs(rootMwh - attributedKwh * 1e6) <= 0.5 * nodes + 1e-6, $"root {rootMwh} mWh vs attributed {attributedKwh * 1e6} mWh");
        Assert.Contains("energy (kWh), estimated", await HoverRootAsync(page), StringComparison.Ordinal);

        // Back to the profile's own values: measured, no unit in the URL.
        before = await SettledAsync(page);
        await page.ClickAsync("#unit-native");
        await WaitSettledAsync(page, before);
        Assert.DoesNotContain("unit=", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("estimated", await HoverRootAsync(page), StringComparison.Ordinal);
        // 1,500 samples at 100 Hz.
        Assert.Equal("15000000000", await page.EvaluateAsync<string>("() => String(window.__orac.find('total').total)"));
        Assert.Equal("CPU time", await page.InnerTextAsync("#unit-native"));
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task DiffMode_DisablesPricedWidths()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("/?service=shop&from=now-1h&until=now&unit=usd&mode=diff&baseFrom=now-2h&baseUntil=now-1h");
        await WaitSettledAsync(page, 0);
        Assert.True(await page.Locator("#unit-usd").IsDisabledAsync());
        Assert.Equal("false", await page.GetAttributeAsync("#unit-usd", "aria-pressed"));
        Assert.Equal("true", await page.GetAttributeAsync("#unit-native", "aria-pressed"));
        Assert.DoesNotContain("estimated", await page.InnerTextAsync("#summary"), StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task OpportunitiesPage_RanksLikeTheApiAndLinksToTheFilteredFlameGraph()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        // A fixed range (Unix seconds), so the page and this test ask the server the same question.
        long until = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string range = $"from={until - 3600}&until={until}";
        IPage page = await OpenAsync("/", "view=opportunities&" + range);
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'opportunities' && ['ready', 'partial'].includes(document.body.dataset.state)");
        Assert.Equal("page", await page.GetAttributeAsync("#nav-opportunities", "aria-current"));
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);

        OpportunitiesDocument doc = await GetAsync($"/api/v1/opportunities?{range}&improve=10&top=50", OracJsonContext.Default.OpportunitiesDocument);
        Assert.NotEmpty(doc.Items);
        Assert.Equal(doc.Items.Count, await page.Locator("#opps tbody tr[data-rank]").CountAsync());
        Opportunity first = doc.Items[0];
        ILocator row = page.Locator("#opps tbody tr[data-rank]").First;
        Assert.Equal("1", await row.GetAttributeAsync("data-rank"));
        Assert.Equal(first.Name, await row.GetAttributeAsync("data-name"));
        Assert.Equal(first.Kind, await row.GetAttributeAsync("data-kind"));
        ILocator cells = row.Locator("td");
        Assert.Equal(first.Name, await cells.Nth(2).Locator("a.flame-link").InnerTextAsync());
        Assert.Equal(await FormatAsync(page, "formatUsd", first.Annual.Usd), await cells.Nth(3).InnerTextAsync());
        Assert.Equal(await FormatAsync(page, "formatKwh", first.Annual.Kwh), await cells.Nth(4).InnerTextAsync());
        Assert.Equal(await FormatAsync(page, "formatCo2e", first.Annual.KgCo2e), await cells.Nth(5).InnerTextAsync());
        Assert.StartsWith(await FormatAsync(page, "formatUsd", first.IfImproved.Usd), await cells.Nth(6).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(first.Advice, await cells.Nth(9).InnerTextAsync());
        Assert.Contains(first.Owners[0].Service, await cells.Nth(7).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("Save at 10 %", await page.InnerTextAsync("#opps-save-head"));
        string totals = await page.InnerTextAsync("#opps-totals");
        Assert.Contains(await FormatAsync(page, "formatUsd", doc.TotalPerYear.Usd), totals, StringComparison.Ordinal);
        Assert.Contains("projection", totals, StringComparison.Ordinal);
        Assert.Equal(doc.Partial, !await page.Locator("#opps-partial").IsHiddenAsync());
        if (first.Link.Length > 0)
        {
            Assert.Equal(first.Link, await cells.Nth(2).Locator("a.flame-link").GetAttributeAsync("href"));
        }

        await ShotAsync(page, "opportunities");

        // The improvement is a form field kept in the fragment: 20 % saves twice what 10 % does.
        await page.FillAsync("#opps-improve", "20");
        await page.ClickAsync("#opps-apply");
        await page.WaitForFunctionAsync("() => document.getElementById('opps-save-head').textContent === 'Save at 20 %' && document.body.dataset.state !== 'loading'");
        Assert.Contains("improve=20", page.Url, StringComparison.Ordinal);
        OpportunitiesDocument doc20 = await GetAsync($"/api/v1/opportunities?{range}&improve=20&top=50", OracJsonContext.Default.OpportunitiesDocument);
        Assert.StartsWith(
            await FormatAsync(page, "formatUsd", doc20.Items[0].IfImproved.Usd),
            await page.Locator("#opps tbody tr[data-rank] td").Nth(6).InnerTextAsync(),
            StringComparison.Ordinal);

        // The name links to the flame graph filtered to it: the profile view, searching, with matches.
        await page.ClickAsync("#opps tbody tr[data-rank='1'] a.flame-link");
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'profile' && ['ready', 'partial'].includes(document.body.dataset.state)");
        Assert.Contains("service=shop", page.Url, StringComparison.Ordinal);
        Assert.Contains("search=", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("#/", page.Url, StringComparison.Ordinal);
        string search = await page.InputValueAsync("#search");
        Assert.NotEmpty(search);
        double matched = double.Parse((await page.GetAttributeAsync("#match", "data-matched")) ?? "0", CultureInfo.InvariantCulture);
        Assert.True(matched > 0, $"the link's search '{search}' matches nothing in the flame graph");
        await ShotAsync(page, "opportunities-link");
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task OpportunitiesPage_BadSelector_ShowsTheServersMessage()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("/", "view=opportunities");
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'opportunities' && document.body.dataset.state !== 'loading'");
        await page.FillAsync("#opps-query", "{zone=");
        await page.ClickAsync("#opps-apply");
        await page.WaitForFunctionAsync("() => document.body.dataset.state === 'error'");
        Assert.StartsWith("Error 400:", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#opps tbody tr[data-rank]").CountAsync());

        // A path-style link opens the same page with its selection.
        await page.EvaluateAsync("() => { location.hash = '/opportunities?query=shop'; }");
        await page.WaitForFunctionAsync("() => document.getElementById('opps-query').value === 'shop' && ['ready', 'partial', 'empty'].includes(document.body.dataset.state)");
        Assert.Contains("view=opportunities", page.Url, StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }
}
