using System.Text;
using System.Text.Json;
using Orac.Server.Auth;

namespace Orac.Server.Tests.Cost;

/// <summary>
/// Price memories change the cost routes' figures by exactly the hand-computed amount (docs/ask.md "Memory"), on the
/// cost tests' server (tests/data/cost/server-model.jsonc): GPU host g1 of org local has one H100 of class gpu at
/// $3.60 per GPU-hour; org a has a1 (class big, 8 vCPUs, $1.44/h) observed 10 minutes and a2 (class small, 4 vCPUs,
/// $0.36/h) observed 5 minutes.
/// </summary>
public sealed class CostMemoryTests(CostServer s) : IClassFixture<CostServer>
{
    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)) + 1e-15, $"{what}: expected {expected:R}, got {actual:R}");

    private async Task<JsonElement> Get(string route, string token, string extra = "")
    {
        var r = await s.Get($"{route}?{CostServer.Range}{extra}", token);
        Assert.True(r.Status == 200, r.Body);
        return TestServer.Json(r.Body);
    }

    private async Task<JsonElement> Remember(string token, string text)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text, ["source"] = "cli" });
        var r = await s.Send(HttpMethod.Post, "/api/v1/memory", token, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(r.Status == 201, r.Body);
        return TestServer.Json(r.Body);
    }

    private static string Notes(JsonElement doc) => string.Join(" | ", doc.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));

    [Fact]
    public async Task GpuPriceMemory_ChangesTheGpuFigure_UnlessMemoryIsOff()
    {
        // The bootstrap admin of org local is the user here; g1's readings belong to org local.
        string admin = s.Admin;
        JsonElement before = await Get("/api/v1/cost", admin, "&org=local");
        JsonElement gpuBefore = before.GetProperty("gpus").EnumerateArray().Single();
        double observed = gpuBefore.GetProperty("observedSeconds").GetDouble();
        Near(3.6 * observed / 3600, gpuBefore.GetProperty("figures").GetProperty("usd").GetDouble(), "GPU $ at the model's price");
        double totalBefore = before.GetProperty("total").GetProperty("usd").GetDouble();

        JsonElement m = await Remember(admin, "our H100s cost $2.10 an hour");
        string id = m.GetProperty("id").GetString()!;
        Assert.Equal("gpu-price", m.GetProperty("fact").GetProperty("kind").GetString());

        JsonElement after = await Get("/api/v1/cost", admin, "&org=local");
        JsonElement gpu = after.GetProperty("gpus").EnumerateArray().Single();
        Near(2.1 * observed / 3600, gpu.GetProperty("figures").GetProperty("usd").GetDouble(), "GPU $ at the remembered price");
        Near(totalBefore - (1.5 * observed / 3600), after.GetProperty("total").GetProperty("usd").GetDouble(), "total $ lower by $1.50 per GPU-hour");
        Assert.Equal([id], after.GetProperty("memoriesUsed").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Contains($"used memory {id}: our H100s cost $2.10 an hour", Notes(after), StringComparison.Ordinal);
        Assert.False(after.GetProperty("partial").GetBoolean());

        // Energy is not a price: unchanged.
        Near(gpuBefore.GetProperty("figures").GetProperty("kwh").GetDouble(), gpu.GetProperty("figures").GetProperty("kwh").GetDouble(), "GPU kWh");

        // memory=off: the model's price, nothing listed.
        JsonElement off = await Get("/api/v1/cost", admin, "&org=local&memory=off");
        Near(3.6 * observed / 3600, off.GetProperty("gpus")[0].GetProperty("figures").GetProperty("usd").GetDouble(), "GPU $ with memory=off");
        Assert.Empty(off.GetProperty("memoriesUsed").EnumerateArray());
        Assert.DoesNotContain("used memory", Notes(off), StringComparison.Ordinal);

        // Opportunities are priced the same way and list the memory too.
        JsonElement opp = await Get("/api/v1/opportunities", admin, "&org=local");
        Assert.Equal([id], opp.GetProperty("memoriesUsed").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        JsonElement oppOff = await Get("/api/v1/opportunities", admin, "&org=local&memory=off");
        Assert.Empty(oppOff.GetProperty("memoriesUsed").EnumerateArray());
        Assert.True(oppOff.GetProperty("totalPerYear").GetProperty("usd").GetDouble() > opp.GetProperty("totalPerYear").GetProperty("usd").GetDouble());

        TestServer.AssertError(await s.Get($"/api/v1/cost?{CostServer.Range}&org=local&memory=maybe", admin), 400);
    }

    [Fact]
    public async Task VcpuPriceMemory_PricesTheCpuPart_AndMemoryOffSettingStopsIt()
    {
        string t = s.Server.Auth.CreateToken("a", Role.Read, "vcpu-user");
        JsonElement before = await Get("/api/v1/cost", t);
        Near((1.44 * 600 / 3600) + (0.36 * 300 / 3600), before.GetProperty("total").GetProperty("usd").GetDouble(), "total $ at the model's prices");

        JsonElement m = await Remember(t, "a vCPU hour costs $0.04");
        Assert.Equal("vcpu-price", m.GetProperty("fact").GetProperty("kind").GetString());

        // a1: 8 vCPUs × $0.04 for 600 s; a2: 4 vCPUs × $0.04 for 300 s.
        JsonElement after = await Get("/api/v1/cost", t);
        Near((8 * 0.04 * 600 / 3600) + (4 * 0.04 * 300 / 3600), after.GetProperty("total").GetProperty("usd").GetDouble(), "total $ at the remembered vCPU price");
        Assert.Single(after.GetProperty("memoriesUsed").EnumerateArray());

        // Another user of the same org is not affected.
        string other = s.Server.Auth.CreateToken("a", Role.Read, "vcpu-other");
        Near(before.GetProperty("total").GetProperty("usd").GetDouble(), (await Get("/api/v1/cost", other)).GetProperty("total").GetProperty("usd").GetDouble(), "other user's total $");

        // Memory off for the user: the model's prices again.
        var off = await s.Send(HttpMethod.Put, "/api/v1/memory/settings", t, new StringContent("""{"enabled":false}""", Encoding.UTF8, "application/json"));
        Assert.True(off.Status == 200, off.Body);
        JsonElement whileOff = await Get("/api/v1/cost", t);
        Near(before.GetProperty("total").GetProperty("usd").GetDouble(), whileOff.GetProperty("total").GetProperty("usd").GetDouble(), "total $ while memory is off");
        Assert.Empty(whileOff.GetProperty("memoriesUsed").EnumerateArray());
    }
}
