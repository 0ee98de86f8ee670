using Microsoft.Playwright;
using Orac.Model.Wire;

namespace Orac.Server.Tests.Browser;

/// <summary>
/// The fleet and task pages in a real browser against a real server whose agents are <see cref="FakeAgent"/>s speaking
/// the real protocol: the agent table, research form → task page → merged flame graph, hosts table and export, a
/// partial task naming its missing host, a check task ordering hosts by problems, raw trace figures, and the control
/// form refused for a read token and applied for an admin one. Screenshots go to artifacts/test-screenshots/.
/// </summary>
public sealed class FleetUiTests(FleetUiFixture fixture) : IClassFixture<FleetUiFixture>
{
    private const float WaitMs = 30_000;

    private async Task<IPage> OpenAsync(string fragment, string token)
    {
        IPage page = await fixture.NewPageAsync();
        page.SetDefaultTimeout(WaitMs);
        await page.GotoAsync(new Uri(fixture.Address, "/").ToString() + "#" + fragment + "&token=" + token);
        return page;
    }

    private static async Task ShotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiFixture.ScreenshotDir, name + ".png"), FullPage = true });

    private static Task<string[]> TextsAsync(IPage page, string selector) =>
        page.EvaluateAsync<string[]>("s => [...document.querySelectorAll(s)].map(e => e.textContent.trim())", selector);

    private static Task<string[]> HostsAsync(IPage page, string table) =>
        page.EvaluateAsync<string[]>("t => [...document.querySelectorAll(`#${t} tbody tr[data-host]`)].map(r => r.dataset.host)", table);

    private static async Task<int> DrawnPixelsAsync(IPage page, string canvas) => await page.EvaluateAsync<int>(
        """
        id => {
          const c = document.getElementById(id);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
          return n;
        }
        """,
        canvas);

    private static async Task WaitTaskAsync(IPage page, string state) =>
        await page.WaitForFunctionAsync("s => document.body.dataset.taskState === s", state, new PageWaitForFunctionOptions { Timeout = WaitMs });

    private void NoAgentErrors()
    {
        foreach (FakeAgent a in fixture.Agents)
        {
            Assert.True(a.Errors.Length == 0, $"{a.Info.Hostname}: {string.Join("; ", a.Errors)}");
        }
    }

    [SkippableFact]
    public async Task FleetPage_ListsTheAgentsWithStatusAndMeasuredOverhead()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("view=fleet", fixture.FleetRead);
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        Assert.Equal(["web-1", "web-2", "web-3"], await HostsAsync(page, "agents"));

        ILocator web3 = page.Locator("#agents tr[data-host='web-3'] td");
        Assert.Equal("online", await web3.Nth(1).InnerTextAsync());
        Assert.Equal("status-online", await web3.Nth(1).GetAttributeAsync("class"));
        Assert.Contains("service_name=api", await web3.Nth(3).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("zone=b", await web3.Nth(3).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("sample, check, pmc, bpftrace", await web3.Nth(4).InnerTextAsync());
        Assert.Equal("19 Hz", await web3.Nth(5).InnerTextAsync());
        Assert.Equal("0.4 %", await web3.Nth(6).InnerTextAsync());
        Assert.Equal("40.0 MB", await web3.Nth(7).InnerTextAsync());
        Assert.Equal("1 file, 2.00 KB", await web3.Nth(8).InnerTextAsync());
        string[] heads = await TextsAsync(page, "#agents thead th");
        Assert.Contains("Agent CPU (% of one core, measured)", heads);
        Assert.Contains("Agent RSS (measured)", heads);
        Assert.Equal("fleet", await page.EvaluateAsync<string>("() => document.body.dataset.view"));
        await ShotAsync(page, "fleet");

        // The selector narrows the table (and is kept in the fragment).
        await page.FillAsync("#fleet-selector", "{zone=\"b\"}");
        await page.PressAsync("#fleet-selector", "Enter");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#agents tbody tr[data-host]').length === 1");
        Assert.Equal(["web-3"], await HostsAsync(page, "agents"));
        Assert.Contains("query=", page.Url, StringComparison.Ordinal);

        // A selector the server cannot parse: its message, not an empty table.
        await page.FillAsync("#fleet-selector", "{zone=");
        await page.PressAsync("#fleet-selector", "Enter");
        await page.WaitForFunctionAsync("() => document.body.dataset.state === 'error'");
        Assert.StartsWith("Error 400:", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task Navigation_BetweenViews_KeepsTheProfileQueryAndHistory()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await fixture.NewPageAsync();
        page.SetDefaultTimeout(WaitMs);
        await page.GotoAsync(new Uri(fixture.Address, "/?service=api&from=now-2h&until=now").ToString() + "#view=fleet&token=" + fixture.FleetRead);
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");
        Assert.EndsWith("/?service=api&from=now-2h&until=now#view=fleet", page.Url, StringComparison.Ordinal);
        Assert.True(await page.Locator("#profile-view").IsHiddenAsync());
        Assert.Equal("page", await page.GetAttributeAsync("#nav-fleet", "aria-current"));

        // Profiles: the profile view with its own state from the query string (this org has no profiles: it says so).
        await page.ClickAsync("#nav-profile");
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'profile' && document.body.dataset.state === 'empty'");
        Assert.True(await page.Locator("#fleet-view").IsHiddenAsync());
        Assert.Contains("service=api&from=now-2h", page.Url, StringComparison.Ordinal);
        Assert.Equal("now-2h", await page.InputValueAsync("#from"));

        // Back: the fleet page again, refreshed.
        await page.GoBackAsync();
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'fleet' && document.body.dataset.state === 'ready'");
        Assert.True(await page.Locator("#fleet-view").IsVisibleAsync());
        Assert.Equal(3, await page.Locator("#agents tbody tr[data-host]").CountAsync());

        // An unknown task: the server's message.
        await page.EvaluateAsync("() => { location.hash = 'view=task&id=nosuchtask'; }");
        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'task' && document.body.dataset.state === 'error'");
        Assert.StartsWith("Error 404:", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task FleetPage_RejectedToken_PromptsThenLoadsTheSameView()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("view=fleet", "not-a-token");
        await page.WaitForFunctionAsync("() => document.getElementById('token-dialog').open");
        Assert.StartsWith("The server refused the token:", await page.InnerTextAsync("#token-error"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#agents tbody tr[data-host]").CountAsync());

        await page.FillAsync("#token-input", fixture.FleetRead);
        await page.ClickAsync("#token-form button[type=submit]");
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");
        Assert.Equal(["web-1", "web-2", "web-3"], await HostsAsync(page, "agents"));
        Assert.EndsWith("#view=fleet", page.Url, StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task ResearchForm_ProfileTask_ShowsEveryHostDoneFlameGraphHostsAndExport()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("view=fleet", fixture.FleetRead);
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");
        await page.SelectOptionAsync("#research-kind", "profile");
        await page.FillAsync("#research-selector", "api");
        await page.FillAsync("#research-duration", "1");
        await page.FillAsync("#research-hz", "49");
        await page.ClickAsync("#research-run");

        await page.WaitForFunctionAsync("() => document.body.dataset.view === 'task'");
        Assert.Matches("#view=task&id=[^&]+$", page.Url);
        await WaitTaskAsync(page, "done");
        Assert.Equal(["web-1", "web-2", "web-3"], await HostsAsync(page, "parts"));
        Assert.Equal(["done", "done", "done"], await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#parts tbody tr')].map(r => r.dataset.state)"));
        Assert.True(await page.Locator("#task-partial").IsHiddenAsync());
        Assert.Contains("profile 1 s at 49 Hz", await page.InnerTextAsync("#task-head"), StringComparison.Ordinal);
        Assert.Contains("ui-fleet-read", await page.InnerTextAsync("#task-head"), StringComparison.Ordinal);

        // Merged flame graph: total, main, serve, handler, gc, compress.
        await page.WaitForFunctionAsync("() => document.getElementById('task-flame').dataset.nodes === '6'");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('task-flame').dataset.visible) === 6");
        Assert.True(await DrawnPixelsAsync(page, "task-flame") > 10_000, "the task flame graph canvas is blank");
        Assert.Contains("3 hosts merged", await page.InnerTextAsync("#task-summary"), StringComparison.Ordinal);

        // Hosts that differ: web-3 (mostly compress) first; top table from the merge: compress 0.8 s of 3 s.
        await page.WaitForSelectorAsync("#task-hosts tbody tr[data-host]");
        string[] hosts = await HostsAsync(page, "task-hosts");
        Assert.Equal(3, hosts.Length);
        Assert.Equal("web-3", hosts[0]);
        Assert.Contains("compress", await page.InnerTextAsync("#task-hosts tbody tr[data-host='web-3']"), StringComparison.Ordinal);
        Assert.Equal("800000000", await page.GetAttributeAsync("#task-top tbody tr[data-name='compress']", "data-self"));
        await ShotAsync(page, "task");

        // One host: the picker (kept in the fragment) shows web-1's own graph, without compress.
        await page.SelectOptionAsync("#task-host", "web-1");
        await page.WaitForFunctionAsync("() => document.getElementById('task-flame').dataset.nodes === '5'");
        Assert.Contains("Flame graph of web-1", await page.InnerTextAsync("#task-summary"), StringComparison.Ordinal);
        Assert.Contains("host=web-1", page.Url, StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#task-top tbody tr[data-name='compress']").CountAsync());

        // A row of the hosts table picks that host too.
        await page.ClickAsync("#task-hosts tbody tr[data-host='web-3']");
        await page.WaitForFunctionAsync("() => document.getElementById('task-summary').textContent.startsWith('Flame graph of web-3')");
        Assert.Equal("web-3", await page.InputValueAsync("#task-host"));
        Assert.Equal("800000000", await page.GetAttributeAsync("#task-top tbody tr[data-name='compress']", "data-self"));
        await page.SelectOptionAsync("#task-host", "web-1");
        await page.WaitForFunctionAsync("() => document.getElementById('task-summary').textContent.startsWith('Flame graph of web-1')");

        // Export through the token-carrying download: web-1's folded profile.
        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("button.task-export[data-format=folded]"));
        Assert.EndsWith("-web-1.folded", download.SuggestedFilename, StringComparison.Ordinal);
        string folded = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains("main;gc 300000000", folded, StringComparison.Ordinal);
        Assert.Contains("main;serve;handler 700000000", folded, StringComparison.Ordinal);

        // Back to the fleet page: the new task is listed with a link to it.
        string id = page.Url[(page.Url.IndexOf("id=", StringComparison.Ordinal) + 3)..].Split('&')[0];
        await page.ClickAsync("#nav-fleet");
        await page.WaitForSelectorAsync($"#tasks tbody tr[data-id='{id}'] a");
        Assert.Contains("3 of 3", await page.InnerTextAsync($"#tasks tbody tr[data-id='{id}']"), StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
        NoAgentErrors();
    }

    [SkippableFact]
    public async Task ResearchForm_BadRequests_SayWhyAndStayOnThePage()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("view=fleet", fixture.FleetRead);
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");

        // Caught before sending: a trace without a tool, a duration out of the catalogue's range.
        await page.SelectOptionAsync("#research-kind", "trace");
        Assert.True(await page.Locator("#research-tool").IsVisibleAsync());
        Assert.True(await page.Locator("#research-hz").IsHiddenAsync());
        await page.ClickAsync("#research-run");
        Assert.Equal("A trace task needs a tool (e.g. runqlat)", await page.InnerTextAsync("#research-error"));
        await page.SelectOptionAsync("#research-kind", "check");
        await page.FillAsync("#research-duration", "9000");
        await page.ClickAsync("#research-run");
        Assert.Equal("Duration (s) must be a number from 1 to 600", await page.InnerTextAsync("#research-error"));

        // Refused by the server: no agent matches. Its own message, and the page stays.
        await page.FillAsync("#research-duration", "1");
        await page.FillAsync("#research-selector", "{host=\"nowhere\"}");
        await page.ClickAsync("#research-run");
        await page.WaitForFunctionAsync("() => document.getElementById('research-error').textContent.includes('(400)')");
        string error = await page.InnerTextAsync("#research-error");
        Assert.StartsWith("Creating the task failed (400): ", error, StringComparison.Ordinal);
        Assert.Contains("nowhere", error, StringComparison.Ordinal);
        Assert.Equal("fleet", await page.EvaluateAsync<string>("() => document.body.dataset.view"));
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task TaskPage_SilentHost_PartialBannerNamesIt()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        string id = await fixture.CreateTaskAsync(fixture.LabRead, new TaskRequest
        {
            Kind = TaskKinds.Profile,
            Selector = "{host=~\"db-[12]\"}",
            DurationMs = 1000,
            Hz = 99,
            // Long enough that the page is open while the task still runs on a loaded machine (CI ran out at 5 s).
            DeadlineMs = 12_000,
        });
        IPage page = await OpenAsync($"view=task&id={id}", fixture.LabRead);

        // While it runs: db-1 answered at once, db-2 took the task and is silent; no banner yet.
        await WaitTaskAsync(page, "running");
        await page.WaitForSelectorAsync("#parts tr[data-host='db-1'][data-state='done']");
        Assert.Equal("running", await page.GetAttributeAsync("#parts tr[data-host='db-2']", "data-state"));
        Assert.StartsWith("Running: 1 of 2 hosts answered", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.True(await page.Locator("#task-partial").IsHiddenAsync());

        // The page follows it (long poll) and shows the answer at the deadline, without a reload.
        await WaitTaskAsync(page, "partial");
        Assert.True(await page.Locator("#task-partial").IsVisibleAsync());
        string banner = await page.InnerTextAsync("#task-partial");
        Assert.StartsWith("PARTIAL", banner, StringComparison.Ordinal);
        Assert.Contains("db-2", banner, StringComparison.Ordinal);
        Assert.DoesNotContain("db-1", banner, StringComparison.Ordinal);
        Assert.Equal("timed_out", await page.GetAttributeAsync("#parts tr[data-host='db-2']", "data-state"));
        Assert.Equal("done", await page.GetAttributeAsync("#parts tr[data-host='db-1']", "data-state"));
        // db-1's result is still shown, and the status line says the answer is partial.
        await page.WaitForFunctionAsync("() => document.getElementById('task-flame').dataset.nodes === '5'");
        Assert.Contains("partial", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        await ShotAsync(page, "task-partial");
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task CheckTask_HostsWithMostProblemsFirst()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        string id = await fixture.CreateTaskAsync(fixture.FleetRead, new TaskRequest { Kind = TaskKinds.Check, DurationMs = 1000, DeadlineMs = 10_000 });
        IPage page = await OpenAsync($"view=task&id={id}", fixture.FleetRead);
        await WaitTaskAsync(page, "done");
        await page.WaitForSelectorAsync("#check-results tbody tr[data-host]");
        Assert.Equal(["web-2", "web-3", "web-1"], await HostsAsync(page, "check-results"));
        Assert.Equal(["2", "1", "0"], await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#check-results tbody tr')].map(r => r.dataset.problems)"));
        string web2 = await page.InnerTextAsync("#check-results tr[data-host='web-2']");
        Assert.Contains("CPU 97.0% busy", web2, StringComparison.Ordinal);
        Assert.Contains("memory saturation", web2, StringComparison.Ordinal);
        Assert.Contains("no problems flagged", await page.InnerTextAsync("#check-results tr[data-host='web-1']"), StringComparison.Ordinal);
        Assert.True(await page.Locator("#task-profile").IsHiddenAsync());
        await ShotAsync(page, "task-check");
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task TraceTask_ShowsEachHostsFigures()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        string id = await fixture.CreateTaskAsync(fixture.FleetRead, new TaskRequest { Kind = TaskKinds.Trace, Tool = "runqlat", DurationMs = 1000, DeadlineMs = 10_000 });
        IPage page = await OpenAsync($"view=task&id={id}", fixture.FleetRead);
        await WaitTaskAsync(page, "done");
        await page.WaitForSelectorAsync("#raw-results tbody tr[data-host]");
        Assert.Equal(["web-1", "web-2", "web-3"], await HostsAsync(page, "raw-results"));
        string web2 = await page.InnerTextAsync("#raw-results tr[data-host='web-2']");
        Assert.Contains("tool runqlat", web2, StringComparison.Ordinal);
        Assert.Contains("histogram.count 420", web2, StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task PmcTask_FailedHosts_SayWhyInTheBannerAndTheTable()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        string id = await fixture.CreateTaskAsync(fixture.FleetRead, new TaskRequest { Kind = TaskKinds.Pmc, Selector = "{zone=\"b\"}", DurationMs = 1000, DeadlineMs = 10_000 });
        IPage page = await OpenAsync($"view=task&id={id}", fixture.FleetRead);
        await WaitTaskAsync(page, "partial");
        Assert.Equal(["web-3"], await HostsAsync(page, "parts"));
        Assert.Equal("failed", await page.GetAttributeAsync("#parts tr[data-host='web-3']", "data-state"));
        Assert.Contains("pmc not supported by this fake host", await page.InnerTextAsync("#parts tr[data-host='web-3']"), StringComparison.Ordinal);
        Assert.Contains("web-3 (failed: pmc not supported by this fake host)", await page.InnerTextAsync("#task-partial"), StringComparison.Ordinal);
        Assert.StartsWith("Partial: 0 of 1 hosts answered.", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task ControlForm_ReadTokenIsRefusedWithTheServersMessage_AdminChangeIsApplied()
    {
        Skip.IfNot(UiFixture.HasChromium, UiFixture.ChromiumMissing);
        IPage page = await OpenAsync("view=fleet", fixture.LabRead);
        await page.WaitForSelectorAsync("#agents tbody tr[data-host]");
        await page.FillAsync("#control-hz", "49");
        await page.ClickAsync("#control-apply");
        await page.WaitForSelectorAsync("#control-error:not(:empty)");
        string error = await page.InnerTextAsync("#control-error");
        Assert.StartsWith("Not allowed (403):", error, StringComparison.Ordinal);
        Assert.Contains("admin token", error, StringComparison.Ordinal);
        Assert.True(await page.Locator("#control-error").IsVisibleAsync());
        await ShotAsync(page, "fleet-control-403");
        Assert.Empty(fixture.PageErrors);

        // An admin token: the change reaches db-1, which applies it on its next heartbeat (the table catches up).
        IPage admin = await OpenAsync("view=fleet", fixture.LabAdmin);
        await admin.WaitForSelectorAsync("#agents tbody tr[data-host]");
        // db-3 registered once and went silent: offline, in red, once 3 heartbeat waits passed (the page refreshes itself).
        await admin.WaitForFunctionAsync("() => document.querySelector(\"#agents tr[data-host='db-3']\")?.dataset.status === 'offline'");
        Assert.Equal("status-offline", await admin.GetAttributeAsync("#agents tr[data-host='db-3'] td:nth-child(2)", "class"));
        await admin.FillAsync("#control-selector", "{host=\"db-1\"}");
        await admin.FillAsync("#control-hz", "49");
        await admin.ClickAsync("#control-apply");
        await admin.WaitForSelectorAsync("#control-result:not(:empty)");
        Assert.StartsWith("Changed 1 agent: db-1.", await admin.InnerTextAsync("#control-result"), StringComparison.Ordinal);
        Assert.Equal("", await admin.InnerTextAsync("#control-error"));
        await admin.WaitForFunctionAsync("() => document.querySelector(\"#agents tr[data-host='db-1'] td:nth-child(6)\")?.textContent === '49 Hz'");
        Assert.Equal(49, fixture.Agents.Single(a => a.Info.Hostname == "db-1").Settings!.Hz);
        Assert.Equal("19 Hz", await admin.InnerTextAsync("#agents tr[data-host='db-2'] td:nth-child(6)"));
        Assert.Empty(fixture.PageErrors);
    }
}
