using System.Text;
using Orac.Model.Wire;
using Orac.Server.Memory;
using Orac.Tests.Shared;

namespace Orac.Server.Tests.Memory;

/// <summary>The memory store and its file loader on real files (tests/data/memory), and the <c>memory-file</c> fuzz target.</summary>
public sealed class MemoryStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-memory-tests-" + Guid.NewGuid().ToString("N"));

    private static string Data(string name) => Path.Combine(TestPaths.Data, "memory", name);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Load_GoodFiles_ReadEveryField()
    {
        MemoryFile f = MemoryFiles.ParseMemory(File.ReadAllBytes(Data("memory-ok.json")), "memory-ok.json");
        Assert.Equal("alice", f.User);
        Assert.Equal(5, f.NextId);
        Assert.Equal(["m1", "m3", "m4"], f.Items.Select(i => i.Id));
        Assert.Equal("gpu-price", f.Items[0].Fact.Kind);
        Assert.Equal(2.1, f.Items[0].Fact.UsdPerHour);
        Assert.Equal("search", f.Items[1].Fact.Value);

        PersonaFile p = MemoryFiles.ParsePersona(File.ReadAllBytes(Data("persona-ok.json")), "persona-ok.json");
        Assert.Equal("SRE on the search team", p.About);
        Assert.Equal("plain and brief,\nno jokes", p.Respond);
    }

    [Theory]
    [InlineData("", "not a valid file")]
    [InlineData("{\"version\":2,\"items\":[]}", "version 2")]
    [InlineData("{\"version\":1,\"items\":null}", "'items'")]
    [InlineData("{\"version\":1,\"nextId\":0,\"items\":[]}", "nextId 0")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"x1\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":{\"kind\":\"note\"}}]}", "'x1'")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"m1\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":{\"kind\":\"note\"}},{\"id\":\"m1\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":{\"kind\":\"note\"}}]}", "twice")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"m1\",\"text\":null,\"source\":\"cli\",\"createdMs\":1,\"fact\":{\"kind\":\"note\"}}]}", "items[0].text")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"m1\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":null}]}", "items[0].fact")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"m1\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":{\"kind\":\"gpu-price\",\"usdPerHour\":-1}}]}", "usdPerHour")]
    [InlineData("{\"version\":1,\"nextId\":3,\"items\":[{\"id\":\"m1\",\"text\":\"t\",\"source\":\"cli\"}]}", "not a valid file")]
    [InlineData("[1,2,3]", "not a valid file")]
    [InlineData("null", "null")]
    public void Load_DamagedMemoryFile_IsOneErrorNamingTheFile(string text, string what)
    {
        var e = Assert.Throws<MemoryFileException>(() => MemoryFiles.ParseMemory(Encoding.UTF8.GetBytes(text), "memory/a/alice.json"));
        Assert.StartsWith("memory/a/alice.json is damaged: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_TruncatedAtEveryByte_NeverCrashes()
    {
        byte[] good = File.ReadAllBytes(Data("memory-ok.json"));
        for (int n = 0; n < good.Length - 2; n++)
        {
            Assert.Throws<MemoryFileException>(() => MemoryFiles.ParseMemory(good.AsSpan(0, n), "t.json"));
        }
    }

    [Fact]
    public void Load_TooManyItems_IsDamage()
    {
        var sb = new StringBuilder("{\"version\":1,\"nextId\":202,\"items\":[");
        for (int i = 1; i <= 201; i++)
        {
            sb.Append(i == 1 ? "" : ",").Append($"{{\"id\":\"m{i}\",\"text\":\"t\",\"source\":\"cli\",\"createdMs\":1,\"fact\":{{\"kind\":\"note\"}}}}");
        }

        var e = Assert.Throws<MemoryFileException>(() => MemoryFiles.ParseMemory(Encoding.UTF8.GetBytes(sb.Append("]}").ToString()), "big.json"));
        Assert.Contains("201 memories, more than 200", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_FullOfFacts_Is409_ANoteMakesRoomOnlyForItself()
    {
        // Every text reads as a price fact: with 200 of them nothing may be pushed out.
        var store = new MemoryStore(_dir, t => new MemoryFact { Kind = t.StartsWith("note", StringComparison.Ordinal) ? "note" : "gpu-price", Subject = "H100", UsdPerHour = 2 }, () => 1000);
        for (int i = 0; i < 199; i++)
        {
            store.Add("a", "u", $"price {i}", "cli");
        }

        store.Add("a", "u", "note one", "cli");
        MemoryItem m201 = store.Add("a", "u", "price 200", "cli");
        Assert.Equal("m201", m201.Id);
        List<MemoryItem> items = store.Read("a", "u").Items;
        Assert.Equal(200, items.Count);
        Assert.DoesNotContain(items, i => i.Text == "note one");
        var e = Assert.Throws<ApiException>(() => store.Add("a", "u", "price 201", "cli"));
        Assert.Equal(409, e.Status);
        Assert.Contains("forget", e.Message, StringComparison.Ordinal);
        Assert.Equal(1000, items[0].CreatedMs);
    }

    [Fact]
    public void Writes_AreWholeFiles_NoTemporaryLeftBehind_AndConcurrentAddsLoseNothing()
    {
        var store = new MemoryStore(_dir, _ => new MemoryFact { Kind = "note" });
        Parallel.For(0, 40, i => store.Add("a", "u", $"fact {i}", "api"));
        List<MemoryItem> items = store.Read("a", "u").Items;
        Assert.Equal(40, items.Count);
        Assert.Equal(40, items.Select(i => i.Id).Distinct().Count());
        Assert.Equal(["u.json"], Directory.GetFiles(Path.Combine(_dir, "memory", "a")).Select(Path.GetFileName));

        // What was written loads again.
        MemoryFile f = MemoryFiles.ParseMemory(File.ReadAllBytes(Path.Combine(_dir, "memory", "a", "u.json")), "u.json");
        Assert.Equal(41, f.NextId);
    }

    [Fact]
    public void FuzzTarget_SurvivesMutations()
    {
        List<byte[]> seeds =
        [
            [0, .. File.ReadAllBytes(Data("memory-ok.json"))],
            [1, .. File.ReadAllBytes(Data("persona-ok.json"))],
            [0, .. "{\"version\":1,\"items\":[]}"u8],
        ];
        FuzzAssert.SurvivesMutations("memory-file", MemoryFileFuzz.Run, seeds, 5);
    }
}
