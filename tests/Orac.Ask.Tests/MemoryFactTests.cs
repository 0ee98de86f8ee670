using CsCheck;
using Orac.Model.Wire;

namespace Orac.Ask.Tests;

public class MemoryFactTests
{
    [Theory]
    [InlineData("our H100s cost $2.10 an hour", "H100", 2.10)]
    [InlineData("H100 costs 2.10 USD per hour", "H100", 2.10)]
    [InlineData("we pay $2.10/h per H100", "H100", 2.10)]
    [InlineData("A100s are $1.20 per GPU-hour", "A100", 1.20)]
    [InlineData("an L4 is 70 cents an hour", "L4", 0.70)]
    [InlineData("MI300X costs $3/hr", "MI300X", 3.0)]
    public void Parse_GpuPrice(string text, string model, double usd)
    {
        MemoryFact f = MemoryFacts.Parse(text);
        Assert.Equal("gpu-price", f.Kind);
        Assert.Equal(model, f.Subject);
        Assert.Equal(usd, f.UsdPerHour!.Value, 6);
        Assert.True(MemoryFacts.IsFact(text));
    }

    [Theory]
    [InlineData("a vCPU hour costs $0.04", 0.04)]
    [InlineData("our vCPUs cost $0.04 an hour", 0.04)]
    [InlineData("vCPU: 4 cents per hour", 0.04)]
    public void Parse_VcpuPrice(string text, double usd)
    {
        MemoryFact f = MemoryFacts.Parse(text);
        Assert.Equal("vcpu-price", f.Kind);
        Assert.Null(f.Subject);
        Assert.Equal(usd, f.UsdPerHour!.Value, 6);
    }

    [Theory]
    [InlineData("service api belongs to the search org", "api", "search")]
    [InlineData("api is owned by the search team", "api", "search")]
    [InlineData("the search team owns api", "api", "search")]
    [InlineData("The Search team owns the checkout service.", "checkout", "search")]
    [InlineData("the owner of batch-etl is the data platform team", "batch-etl", "data platform")]
    public void Parse_Owner(string text, string service, string team)
    {
        MemoryFact f = MemoryFacts.Parse(text);
        Assert.Equal("owner", f.Kind);
        Assert.Equal(service, f.Subject);
        Assert.Equal(team, f.Value);
    }

    [Theory]
    [InlineData("frontends means {host=~\"web-.*\"}", "frontends", "{host=~\"web-.*\"}")]
    [InlineData("by prod I mean env=production", "prod", "{env=\"production\"}")]
    [InlineData("prod means env=production", "prod", "{env=\"production\"}")]
    [InlineData("eu means {service_name=\"api\", region=\"eu-west-1\"}", "eu", "{region=\"eu-west-1\", service_name=\"api\"}")]
    [InlineData("\"db\" stands for host db-1", "db", "{host=\"db-1\"}")]
    public void Parse_Alias_ValueIsCanonicalSelector(string text, string word, string selector)
    {
        MemoryFact f = MemoryFacts.Parse(text);
        Assert.Equal("alias", f.Kind);
        Assert.Equal(word, f.Subject);
        Assert.Equal(selector, f.Value);
    }

    [Theory]
    [InlineData("I work on the inference service", "{service_name=\"inference\"}")]
    [InlineData("my service is api", "{service_name=\"api\"}")]
    [InlineData("I own the checkout and api services", "{service_name=~\"api|checkout\"}")]
    [InlineData("my host is gpu-node-7", "{host=\"gpu-node-7\"}")]
    public void Parse_Scope(string text, string selector)
    {
        MemoryFact f = MemoryFacts.Parse(text);
        Assert.Equal("scope", f.Kind);
        Assert.Equal(selector, f.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("I like flame graphs")]
    [InlineData("what do our H100s cost an hour?")]
    [InlineData("frontends means {host=~\"web-(\"}")]
    [InlineData("prod means production")]
    [InlineData("the deploy is at 3pm")]
    [InlineData("I work on performance")]
    [InlineData("H2 costs us $5 a year")]
    public void Parse_Other_IsNote(string text)
    {
        Assert.Equal("note", MemoryFacts.Parse(text).Kind);
        Assert.False(MemoryFacts.IsFact(text));
    }

    [Fact]
    public void Parse_HugeOrNull_IsNote()
    {
        Assert.Equal("note", MemoryFacts.Parse(null).Kind);
        Assert.Equal("note", MemoryFacts.Parse("our H100s cost $2.10 an hour " + new string('x', 5000)).Kind);
    }

    [Fact]
    public void Fixture_MemoriesParseAsTheSharedContextSays()
    {
        var m = AskFixture.Memories;
        Assert.Equal(["m1", "m2", "m3", "m4"], m.Select(x => x.Id));
        Assert.Equal(("gpu-price", "H100", 2.10), (m[0].Fact.Kind, m[0].Fact.Subject, m[0].Fact.UsdPerHour));
        Assert.Equal(("owner", "api", "search"), (m[1].Fact.Kind, m[1].Fact.Subject, m[1].Fact.Value));
        Assert.Equal(("alias", "frontends", "{host=~\"web-.*\"}"), (m[2].Fact.Kind, m[2].Fact.Subject, m[2].Fact.Value));
        Assert.Equal(("scope", "{service_name=\"inference\"}"), (m[3].Fact.Kind, m[3].Fact.Value));
        Assert.Empty(AskFixture.Context().Memories);
        Assert.Equal(4, AskFixture.Context(memories: true).Memories.Count);
    }

    [Fact]
    public void Parse_RandomStrings_NeverThrow()
    {
        Gen.String.Sample(s => { _ = MemoryFacts.Parse(s); }, iter: 20_000);
        Gen.String[Gen.Char["$0123456789.hH /={}~\"avcpuerownsbyme "], 0, 80].Sample(s => { _ = MemoryFacts.Parse(s); }, iter: 20_000);
    }
}
