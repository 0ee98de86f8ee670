using System.Text;
using System.Text.Json;
using Orac.Server.Auth;

namespace Orac.Server.Tests.Memory;

/// <summary>
/// The memory and persona routes on a real server (docs/ask.md "Memory", "Persona"). Each test makes its own users
/// (read tokens with their own names), so tests sharing the server never see each other's memory.
/// </summary>
public sealed class MemoryRouteTests(TestServer s) : IClassFixture<TestServer>
{
    private string User(string org, string name, Role role = Role.Read) => s.Server.Auth.CreateToken(org, role, name);

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> Add(string token, string text, int status = 201)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text, ["source"] = "cli" });
        var r = await s.Send(HttpMethod.Post, "/api/v1/memory", token, JsonBody(body));
        Assert.True(r.Status == status, $"expected {status}, got {r.Status}: {r.Body}");
        return TestServer.Json(r.Body);
    }

    private async Task<JsonElement> List(string token)
    {
        var r = await s.Get("/api/v1/memory", token);
        Assert.True(r.Status == 200, r.Body);
        return TestServer.Json(r.Body);
    }

    private static string[] Ids(JsonElement doc, string property = "items") =>
        [.. doc.GetProperty(property).EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    private static string[] Texts(JsonElement doc) =>
        [.. doc.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("text").GetString()!)];

    [Fact]
    public async Task AddListForget_ById_IdsAreNeverReused()
    {
        string t = User("a", "add-list");
        JsonElement m1 = await Add(t, "  our H100s cost $2.10 an hour ");
        Assert.Equal("m1", m1.GetProperty("id").GetString());
        Assert.Equal("our H100s cost $2.10 an hour", m1.GetProperty("text").GetString());
        Assert.Equal("cli", m1.GetProperty("source").GetString());
        long created = m1.GetProperty("createdMs").GetInt64();
        Assert.InRange(created, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.False(string.IsNullOrEmpty(m1.GetProperty("fact").GetProperty("kind").GetString()));
        await Add(t, "the deploy window is Tuesday");

        JsonElement doc = await List(t);
        Assert.Equal("add-list", doc.GetProperty("user").GetString());
        Assert.Equal("a", doc.GetProperty("org").GetString());
        Assert.True(doc.GetProperty("enabled").GetBoolean());
        Assert.Equal(["m1", "m2"], Ids(doc));

        var gone = await s.Send(HttpMethod.Delete, "/api/v1/memory/m2", t);
        Assert.True(gone.Status == 200, gone.Body);
        Assert.Equal(["m2"], Ids(TestServer.Json(gone.Body), "removed"));
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/memory/m2", t), 404);
        Assert.Equal(["m1"], Ids(await List(t)));

        // m2 was forgotten; the next memory is m3, never m2 again.
        Assert.Equal("m3", (await Add(t, "a third fact")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task ForgetByText_OneMatch_AmbiguousIs400Listing_NoneIs404()
    {
        string t = User("a", "forget-text");
        await Add(t, "our H100s cost $2.10 an hour");
        await Add(t, "the H100 nodes are in rack 4");
        await Add(t, "service api belongs to the search org");

        string msg = TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/memory?text=h100", t), 400);
        Assert.Contains("m1", msg, StringComparison.Ordinal);
        Assert.Contains("m2", msg, StringComparison.Ordinal);
        Assert.Contains("rack 4", msg, StringComparison.Ordinal);
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/memory?text=A100", t), 404);
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/memory?text=%20", t), 400);
        Assert.Equal(3, Ids(await List(t)).Length);

        var r = await s.Send(HttpMethod.Delete, "/api/v1/memory?text=RACK", t);
        Assert.True(r.Status == 200, r.Body);
        Assert.Equal(["m2"], Ids(TestServer.Json(r.Body), "removed"));
        Assert.Equal(["m1", "m3"], Ids(await List(t)));
    }

    [Fact]
    public async Task Clear_ForgetsEverything_IdsContinue()
    {
        string t = User("a", "clear");
        await Add(t, "one");
        await Add(t, "two");
        var r = await s.Send(HttpMethod.Delete, "/api/v1/memory", t);
        Assert.True(r.Status == 200, r.Body);
        Assert.Equal(["m1", "m2"], Ids(TestServer.Json(r.Body), "removed"));
        Assert.Empty(Ids(await List(t)));
        Assert.Equal("m3", (await Add(t, "three")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Off_RefusesNewMemories_KeepsItems_OnAgainSaves()
    {
        string t = User("a", "off-on");
        await Add(t, "kept while off");
        var off = await s.Send(HttpMethod.Put, "/api/v1/memory/settings", t, JsonBody("""{"enabled":false}"""));
        Assert.True(off.Status == 200, off.Body);
        Assert.False(TestServer.Json(off.Body).GetProperty("enabled").GetBoolean());

        string msg = TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("""{"text":"not saved"}""")), 409);
        Assert.Contains("memory on", msg, StringComparison.Ordinal);
        JsonElement doc = await List(t);
        Assert.False(doc.GetProperty("enabled").GetBoolean());
        Assert.Equal(["kept while off"], Texts(doc));

        var on = await s.Send(HttpMethod.Put, "/api/v1/memory/settings", t, JsonBody("""{"enabled":true}"""));
        Assert.True(on.Status == 200, on.Body);
        Assert.Equal("cli", (await Add(t, "saved again")).GetProperty("source").GetString());
        Assert.Equal(["kept while off", "saved again"], Texts(await List(t)));
    }

    [Fact]
    public async Task TwoUsersAndTwoOrgs_NeverSeeEachOthersMemoryOrPersona()
    {
        string alice = User("a", "alice");
        string bob = User("a", "bob");
        string aliceB = User("b", "alice");
        await Add(alice, "alice's fact in a");
        await Add(bob, "bob's fact in a");
        await Add(aliceB, "alice's fact in b");
        Assert.Equal(["alice's fact in a"], Texts(await List(alice)));
        Assert.Equal(["bob's fact in a"], Texts(await List(bob)));
        Assert.Equal(["alice's fact in b"], Texts(await List(aliceB)));
        Assert.Equal("b", (await List(aliceB)).GetProperty("org").GetString());

        // Forgetting by id acts on one's own memory only: bob's m1 stays.
        Assert.True((await s.Send(HttpMethod.Delete, "/api/v1/memory/m1", alice)).Status == 200);
        Assert.Equal(["bob's fact in a"], Texts(await List(bob)));
        Assert.Equal(["alice's fact in b"], Texts(await List(aliceB)));

        var set = await s.Send(HttpMethod.Put, "/api/v1/persona", bob, JsonBody("""{"about":"SRE on search","respond":"no jokes"}"""));
        Assert.True(set.Status == 200, set.Body);
        JsonElement alicePersona = TestServer.Json((await s.Get("/api/v1/persona", alice)).Body);
        Assert.True(alicePersona.GetProperty("isDefault").GetBoolean());
        Assert.Equal("", alicePersona.GetProperty("about").GetString());

        // Naming another org is refused, even for an admin: memory is per person.
        TestServer.AssertError(await s.Get("/api/v1/memory", alice, scopeOrg: "b"), 403);
        TestServer.AssertError(await s.Get("/api/v1/memory?org=b", s.Tokens[("a", Role.Admin)]), 403);
        TestServer.AssertError(await s.Get("/api/v1/persona", s.Admin, scopeOrg: "a"), 403);
    }

    [Fact]
    public async Task IngestToken_AndNoToken_AreRefused()
    {
        string ingest = s.Tokens[("a", Role.Ingest)];
        TestServer.AssertError(await s.Get("/api/v1/memory", ingest), 403);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", ingest, JsonBody("""{"text":"x"}""")), 403);
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/memory", ingest), 403);
        TestServer.AssertError(await s.Get("/api/v1/persona", ingest), 403);
        TestServer.AssertError(await s.Send(HttpMethod.Put, "/api/v1/persona", ingest, JsonBody("{}")), 403);
        TestServer.AssertError(await s.Get("/api/v1/memory", null), 401);
        TestServer.AssertError(await s.Send(HttpMethod.Delete, "/api/v1/persona", null), 401);

        // Every memory and persona route is registered with read access.
        var routes = s.Server.Routes().Where(r => r.Pattern.StartsWith("/api/v1/memory", StringComparison.Ordinal) || r.Pattern == "/api/v1/persona").ToList();
        Assert.Equal(8, routes.Count);
        Assert.All(routes, r => Assert.Equal(Access.Read, r.Access));
    }

    [Fact]
    public async Task Limits_TextLengthEmptyControlAndBadSource_Are400()
    {
        string t = User("a", "limits");
        await Add(t, new string('x', 500));
        Assert.Contains("more than 500", TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody($$"""{"text":"{{new string('x', 501)}}"}""")), 400), StringComparison.Ordinal);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("""{"text":"   "}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("""{"text":"two\nlines"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("""{"text":"x","source":"evil"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("""{"source":"cli"}""")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", t, JsonBody("not json")), 400);
        TestServer.AssertError(await s.Send(HttpMethod.Put, "/api/v1/persona", t, JsonBody($$"""{"about":"{{new string('a', 1001)}}"}""")), 400);
        Assert.Single(Ids(await List(t)));
    }

    [Fact]
    public async Task Limits_The201stMemory_PushesOutTheOldestNote()
    {
        string t = User("a", "full");
        for (int i = 1; i <= 200; i++)
        {
            await Add(t, $"note number {i}");
        }

        JsonElement m201 = await Add(t, "note number 201");
        Assert.Equal("m201", m201.GetProperty("id").GetString());
        string[] ids = Ids(await List(t));
        Assert.Equal(200, ids.Length);
        Assert.Equal("m2", ids[0]);
        Assert.Equal("m201", ids[^1]);
    }

    [Fact]
    public async Task Persona_SetKeepsUnsetFields_PicksTheVoice_ResetGoesBack()
    {
        string t = User("a", "persona");
        JsonElement d = TestServer.Json((await s.Get("/api/v1/persona", t)).Body);
        Assert.True(d.GetProperty("isDefault").GetBoolean());
        Assert.Equal("orac", d.GetProperty("voice").GetString());
        Assert.Equal(0, d.GetProperty("updatedMs").GetInt64());

        var r = await s.Send(HttpMethod.Put, "/api/v1/persona", t, JsonBody("""{"about":"SRE on the search team","respond":"Plain and brief, no jokes."}"""));
        Assert.True(r.Status == 200, r.Body);
        d = TestServer.Json(r.Body);
        Assert.Equal("plain", d.GetProperty("voice").GetString());
        Assert.False(d.GetProperty("isDefault").GetBoolean());
        Assert.True(d.GetProperty("updatedMs").GetInt64() > 0);

        // A null field keeps its value.
        r = await s.Send(HttpMethod.Put, "/api/v1/persona", t, JsonBody("""{"about":"SRE on the inference team"}"""));
        d = TestServer.Json(r.Body);
        Assert.Equal("SRE on the inference team", d.GetProperty("about").GetString());
        Assert.Equal("Plain and brief, no jokes.", d.GetProperty("respond").GetString());
        d = TestServer.Json((await s.Get("/api/v1/persona", t)).Body);
        Assert.Equal("SRE on the inference team", d.GetProperty("about").GetString());

        r = await s.Send(HttpMethod.Put, "/api/v1/persona", t, JsonBody("""{"respond":"be brief and sharp"}"""));
        Assert.Equal("orac", TestServer.Json(r.Body).GetProperty("voice").GetString());

        r = await s.Send(HttpMethod.Delete, "/api/v1/persona", t);
        Assert.True(r.Status == 200, r.Body);
        d = TestServer.Json((await s.Get("/api/v1/persona", t)).Body);
        Assert.True(d.GetProperty("isDefault").GetBoolean());
        Assert.Equal("", d.GetProperty("respond").GetString());
        Assert.False(File.Exists(Path.Combine(s.DataDirectory, "memory", "a", "persona.persona.json")));
    }

    [Fact]
    public async Task Files_AreWhereTheDocsSay_AndNamesThatAreNoFileNamesAreHashed()
    {
        string t = User("a", "files");
        await Add(t, "stored on disk");
        await s.Send(HttpMethod.Put, "/api/v1/persona", t, JsonBody("""{"about":"me"}"""));
        Assert.Contains("stored on disk", File.ReadAllText(Path.Combine(s.DataDirectory, "memory", "a", "files.json")), StringComparison.Ordinal);
        Assert.Contains("\"me\"", File.ReadAllText(Path.Combine(s.DataDirectory, "memory", "a", "files.persona.json")), StringComparison.Ordinal);

        string odd = User("a", "../../etc/passwd");
        await Add(odd, "kept safe");
        Assert.Equal("../../etc/passwd", (await List(odd)).GetProperty("user").GetString());
        string stem = Orac.Server.Memory.MemoryStore.FileStem("../../etc/passwd");
        Assert.Matches("^_[0-9a-f]{32}$", stem);
        Assert.True(File.Exists(Path.Combine(s.DataDirectory, "memory", "a", stem + ".json")));

        // A token without a name has its own memory, named after its hash.
        string nameless = User("a", "");
        string nameless2 = User("a", "");
        await Add(nameless, "first nameless");
        Assert.Matches("^token-[0-9a-f]{12}$", (await List(nameless)).GetProperty("user").GetString()!);
        Assert.Empty(Ids(await List(nameless2)));
    }

    [Fact]
    public async Task DamagedFile_IsOneClearErrorForThatUserOnly()
    {
        string damaged = User("a", "damaged");
        string fine = User("a", "fine");
        await Add(damaged, "about to be damaged");
        string path = Path.Combine(s.DataDirectory, "memory", "a", "damaged.json");
        const string truncated = """{"version":1,"enabled":true,"nextId":2,"items":[{"id":"m1","text":"trunc""";
        File.WriteAllText(path, truncated);

        string msg = TestServer.AssertError(await s.Get("/api/v1/memory", damaged), 500);
        Assert.Contains("memory/a/damaged.json", msg, StringComparison.Ordinal);
        Assert.Contains("damaged", msg, StringComparison.Ordinal);
        TestServer.AssertError(await s.Send(HttpMethod.Post, "/api/v1/memory", damaged, JsonBody("""{"text":"x"}""")), 500);
        Assert.Equal(truncated, File.ReadAllText(path));

        // Others are served; the damaged user's cost answer is priced without memory and says why.
        await Add(fine, "still fine");
        Assert.Equal(["still fine"], Texts(await List(fine)));
        var cost = await s.Get("/api/v1/cost", damaged);
        Assert.True(cost.Status == 200, cost.Body);
        Assert.Contains("memory not used", cost.Body, StringComparison.Ordinal);

        // An id that would be reused is damage too; fixing the file by hand counts at once.
        File.WriteAllText(path, """{"version":1,"enabled":true,"nextId":1,"items":[{"id":"m1","text":"x","source":"cli","createdMs":1,"fact":{"kind":"note"}}]}""");
        Assert.Contains("reused", TestServer.AssertError(await s.Get("/api/v1/memory", damaged), 500), StringComparison.Ordinal);
        File.WriteAllText(path, """{"version":1,"enabled":true,"nextId":2,"items":[{"id":"m1","text":"fixed","source":"cli","createdMs":1,"fact":{"kind":"note"}}]}""");
        Assert.Equal(["fixed"], Texts(await List(damaged)));

        File.WriteAllText(Path.Combine(s.DataDirectory, "memory", "a", "damaged.persona.json"), "\0\u0001binary");
        Assert.Contains("damaged.persona.json", TestServer.AssertError(await s.Get("/api/v1/persona", damaged), 500), StringComparison.Ordinal);
        Assert.True((await s.Send(HttpMethod.Delete, "/api/v1/persona", damaged)).Status == 200);
        Assert.True(TestServer.Json((await s.Get("/api/v1/persona", damaged)).Body).GetProperty("isDefault").GetBoolean());
    }
}
