namespace Orac.Ask.Tests;

public class NearNamesTests
{
    private static readonly string[] s_services = ["api", "inference", "search-indexer", "checkout", "batch-etl"];
    private static readonly string[] s_hosts = ["web-1", "web-2", "web-3", "gpu-node-7", "gpu-node-8", "db-1"];

    [Fact]
    public void Suggest_Prefix_FindsLongName() => Assert.Equal(["inference"], NearNames.Suggest("infer", s_services));

    [Fact]
    public void Suggest_Typo_WithinTwoEdits() => Assert.Equal(["checkout"], NearNames.Suggest("chekout", s_services));

    [Fact]
    public void Suggest_Ties_ClosestThenByName() => Assert.Equal(["gpu-node-7", "gpu-node-8"], NearNames.Suggest("gpu-node-9", s_hosts));

    [Fact]
    public void Suggest_AtMostMax() => Assert.Equal(["web-1", "web-2", "web-3"], NearNames.Suggest("web-9", s_hosts.Append("web-4"), max: 3));

    [Fact]
    public void Suggest_CaseInsensitive_KeepsKnownSpelling() => Assert.Equal(["inference"], NearNames.Suggest("INFERENCE", s_services));

    [Fact]
    public void Suggest_Nothing_WhenFar()
    {
        Assert.Empty(NearNames.Suggest("payments", s_services));
        Assert.Empty(NearNames.Suggest("in", s_services));
        Assert.Empty(NearNames.Suggest("", s_services));
        Assert.Empty(NearNames.Suggest(new string('a', 5000), s_services));
    }

    [Fact]
    public void Distance_Levenshtein()
    {
        Assert.Equal(0, NearNames.Distance("api", "api"));
        Assert.Equal(1, NearNames.Distance("api", "apo"));
        Assert.Equal(3, NearNames.Distance("", "abc"));
        Assert.Equal(3, NearNames.Distance("kitten", "sitting"));
    }
}
