namespace Orac.Cost.Tests;

public class CostModelTests
{
    private static readonly Dictionary<string, string> s_noLabels = [];

    [Fact]
    public void Defaults_CarryTheSourcedCoefficients()
    {
        CostModel m = CostModel.Defaults;
        Assert.Equal(CostModel.BuiltInSource, m.Source);
        Assert.Equal("default", m.DefaultClass);
        Assert.Equal((0.74, 3.5, 1.135), (m.Classes["aws"].CpuWattsIdlePerVcpu, m.Classes["aws"].CpuWattsMaxPerVcpu, m.Classes["aws"].Pue));
        Assert.Equal((0.71, 4.26, 1.1), (m.Classes["gcp"].CpuWattsIdlePerVcpu, m.Classes["gcp"].CpuWattsMaxPerVcpu, m.Classes["gcp"].Pue));
        Assert.Equal((0.78, 3.76, 1.185), (m.Classes["azure"].CpuWattsIdlePerVcpu, m.Classes["azure"].CpuWattsMaxPerVcpu, m.Classes["azure"].Pue));
        Assert.Equal(1.58, m.Classes["on-prem"].Pue);
        Assert.Equal(0.000392, m.Classes["default"].MemoryKwhPerGbHour);
        Assert.Equal(0.05, m.Classes["default"].UsdPerVcpuHour);
        Assert.Equal(379, m.Regions["us-east-1"].GramsPerKwh);
        Assert.Equal(51, m.Regions["eu-west-3"].GramsPerKwh);
        Assert.Equal(708, m.Regions["ap-south-1"].GramsPerKwh);
        GpuSpec h100 = m.Classes["h100-sxm"].Gpu!;
        Assert.Equal(("H100", 8, 700.0), (h100.Model, h100.Count, h100.WattsMax));
        Assert.Equal("H200", m.Classes["h200-sxm"].Gpu!.Model);
        foreach (MachineClass c in m.Classes.Values)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Source), c.Name);
            Assert.True(m.Regions.ContainsKey(c.Region), c.Name);
        }

        foreach (RegionIntensity r in m.Regions.Values)
        {
            Assert.Contains("CCF", r.Source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ClassFor_ExplicitThenLabelThenRuleThenDefault()
    {
        CostModel m = CostModel.Parse("""
            {
              // comments and trailing commas are fine
              "classes": { "big": { "vcpus": 64, "usd_per_hour": 3.2, }, "small": { "vcpus": 4 } },
              "hosts": [
                { "match": { "host": "db-*" }, "class": "big" },
                { "match": { "labels": { "tier": "edge*" } }, "class": "small" },
              ],
            }
            """, "model.jsonc");
        Assert.Equal("aws", m.ClassFor("db-1", s_noLabels, null, "aws").Name);
        Assert.Equal("small", m.ClassFor("db-1", new Dictionary<string, string> { ["class"] = "small" }, null).Name);
        Assert.Equal("big", m.ClassFor("DB-7", s_noLabels, null).Name);
        Assert.Equal("small", m.ClassFor("web", new Dictionary<string, string> { ["tier"] = "edge-eu" }, null).Name);
        Assert.Equal("default", m.ClassFor("web", new Dictionary<string, string> { ["tier"] = "core" }, null).Name);
        Assert.Equal("h100-sxm", m.ClassFor("gpu1", s_noLabels, new HostFacts(192, 0, ["NVIDIA H100 80GB HBM3"])).Name);
        var e = Assert.Throws<CostModelException>(() => m.ClassFor("x", s_noLabels, null, "nope"));
        Assert.Contains("unknown class 'nope'", e.Message, StringComparison.Ordinal);
        Assert.Contains("big", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ClassInheritsUnsetFieldsFromBase()
    {
        CostModel m = CostModel.Parse("""
            {
              "regions": { "fr": { "g_per_kwh": 51, "source": "test" } },
              "classes": {
                "gpu-node": { "base": "h100-sxm", "region": "fr", "gpu": { "count": 4 }, "usd_per_hour": 30 },
                "gcp-big": { "base": "gcp", "vcpus": 96 },
                "aws": { "pue": 1.2 },
              },
              "default_class": "gcp-big",
            }
            """, "model.jsonc");
        MachineClass g = m.Classes["gpu-node"];
        Assert.Equal((4, "H100", 700.0, 30.0, "fr", 192), (g.Gpu!.Count, g.Gpu.Model, g.Gpu.WattsMax, g.UsdPerHour, g.Region, g.Vcpus));
        Assert.Equal((96, 4.26, 1.1), (m.Classes["gcp-big"].Vcpus, m.Classes["gcp-big"].CpuWattsMaxPerVcpu, m.Classes["gcp-big"].Pue));
        Assert.Equal((1.2, 3.5), (m.Classes["aws"].Pue, m.Classes["aws"].CpuWattsMaxPerVcpu));
        Assert.Equal("gcp-big", m.DefaultClass);
        Assert.Equal(379, m.Regions["us-east-1"].GramsPerKwh);
        Assert.Equal("model.jsonc", m.Source);
    }

    [Fact]
    public void Load_ReadsTheCommittedExample()
    {
        CostModel m = CostModel.Load(Path.Combine(Orac.Tests.Shared.TestPaths.RepoRoot, "deploy", "cost-model.example.jsonc"));
        Assert.True(m.Classes.Count > CostModel.Defaults.Classes.Count);
        GpuSpec g = m.Classes["dgx-h100"].Gpu!;
        Assert.Equal(("H100", 8, 70.0, 700.0, 4.5), (g.Model, g.Count, g.WattsIdle, g.WattsMax, g.UsdPerGpuHour));
        Assert.Equal((224, 1.4, "my-dc", 2500.0, 5.0), (m.Classes["dgx-h100"].Vcpus, m.Classes["dgx-h100"].Pue, m.Classes["dgx-h100"].Region, m.Classes["dgx-h100"].EmbodiedKgCo2e, m.Classes["dgx-h100"].LifetimeYears));
        Assert.Equal(24, m.Regions["solar-dc"].Hourly!.Count);
        Assert.Equal(m.Regions["solar-dc"].Hourly!.Average(), m.Regions["solar-dc"].GramsPerKwh, 9);
        Assert.Equal(("on-prem", 1.58, 0.02), ("on-prem", m.Classes["batch"].Pue, m.Classes["batch"].UsdPerVcpuHour));
        Assert.Equal("web-m6i-2xl", m.ClassFor("web-3", s_noLabels, null).Name);
        Assert.Equal("batch", m.ClassFor("x", new Dictionary<string, string> { ["team"] = "batch-eu" }, null).Name);
        Assert.Equal("dgx-h100", m.ClassFor("x", new Dictionary<string, string> { ["site"] = "dc1" }, new HostFacts(224, 0, ["NVIDIA H100 80GB HBM3"])).Name);
        Assert.Equal("h100-sxm", m.ClassFor("x", s_noLabels, new HostFacts(224, 0, ["NVIDIA H100 80GB HBM3"])).Name);
    }

    [Fact]
    public void Load_MissingFileNamesIt()
    {
        var e = Assert.Throws<CostModelException>(() => CostModel.Load("/nonexistent/model.jsonc"));
        Assert.StartsWith("/nonexistent/model.jsonc: ", e.Message, StringComparison.Ordinal);
    }
}
