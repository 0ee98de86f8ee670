using System.Text;
using Orac.Tests.Shared;

namespace Orac.Cost.Tests;

/// <summary>Bad model files: one <see cref="CostModelException"/> each, naming the file and the field.</summary>
public class BadModelTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "{", "bad.jsonc: line 1, byte 2: not valid JSON" },
        { "", "bad.jsonc: line 1, byte 1: not valid JSON" },
        { "{\n  \"classes\": {\n    \"x\": { \"pue\": 1.2 } \n  } x\n}", "bad.jsonc: line 4, byte 5: not valid JSON" },
        { "[]", "bad.jsonc: (top level): must be an object" },
        { """{"classes": {"gpu-node": {"pue": 0.9}}}""", "bad.jsonc: classes.gpu-node.pue: must be a number ≥ 1 (and ≤ 10) (got 0.9)" },
        { """{"clases": {}}""", "bad.jsonc: clases: unknown field" },
        { """{"classes": {"x": {"cpu_wats_max": 3}}}""", "bad.jsonc: classes.x.cpu_wats_max: unknown field" },
        { """{"classes": {"x": {"gpu": {"model": "H100", "count": 1, "watts_idle": 1, "watts_max": 2, "usd_per_gpu_hour": 1, "price": 3}}}}""", "bad.jsonc: classes.x.gpu.price: unknown field" },
        { """{"classes": {"x": {"region": "mars"}}}""", "bad.jsonc: classes.x.region: unknown region 'mars' (known: ap-south-1," },
        { """{"classes": {"x": {"base": "nope"}}}""", "bad.jsonc: classes.x.base: unknown class 'nope' (known: " },
        { """{"classes": {"a": {"base": "b"}, "b": {"base": "a"}}}""", "bad.jsonc: classes.b.base: classes inherit from each other in a cycle" },
        { """{"classes": {"x": {"base": "x"}}}""", "bad.jsonc: classes.x.base: names the class itself" },
        { """{"default_class": "nope"}""", "bad.jsonc: default_class: unknown class 'nope'" },
        { """{"default_class": 3}""", "bad.jsonc: default_class: must be a string (got 3)" },
        { """{"hosts": [{"match": {}, "class": "nope"}]}""", "bad.jsonc: hosts[0].class: unknown class 'nope'" },
        { """{"hosts": [{"match": {}, "class": "aws"}, {"class": "aws"}]}""", "bad.jsonc: hosts[1].match: required" },
        { """{"hosts": [{"match": {}}]}""", "bad.jsonc: hosts[0].class: required" },
        { """{"hosts": {"a": 1}}""", "bad.jsonc: hosts: must be an array" },
        { """{"hosts": [{"match": {"hostname": "a*"}, "class": "aws"}]}""", "bad.jsonc: hosts[0].match.hostname: unknown field" },
        { """{"hosts": [{"match": {"labels": {"team": 3}}, "class": "aws"}]}""", "bad.jsonc: hosts[0].match.labels.team: must be a string (got 3)" },
        { """{"hosts": [{"match": {"vcpus": 0}, "class": "aws"}]}""", "bad.jsonc: hosts[0].match.vcpus: must be a whole number" },
        { """{"classes": {"x": {"vcpus": 2.5}}}""", "bad.jsonc: classes.x.vcpus: must be a whole number of vCPUs" },
        { """{"classes": {"x": {"vcpus": -1}}}""", "bad.jsonc: classes.x.vcpus: must be a whole number of vCPUs" },
        { """{"classes": {"x": {"usd_per_hour": "3"}}}""", "bad.jsonc: classes.x.usd_per_hour: must be a number of US dollars per hour, 0–1000000 (got \"3\")" },
        { """{"classes": {"x": {"usd_per_hour": 1e400}}}""", "bad.jsonc: classes.x.usd_per_hour: must be a number" },
        { """{"classes": {"x": {"cpu_watts_idle": 5, "cpu_watts_max": 4}}}""", "bad.jsonc: classes.x.cpu_watts_max: cpu_watts_max must be ≥ cpu_watts_idle (5) (got 4)" },
        { """{"classes": {"x": {"gpu": {"count": 1, "watts_idle": 1, "watts_max": 2, "usd_per_gpu_hour": 1}}}}""", "bad.jsonc: classes.x.gpu.model: required" },
        { """{"classes": {"x": {"gpu": {"model": "A", "count": -2, "watts_idle": 1, "watts_max": 2, "usd_per_gpu_hour": 1}}}}""", "bad.jsonc: classes.x.gpu.count: must be a whole number of GPUs" },
        { """{"classes": {"x": {"gpu": {"model": "A", "count": 1, "watts_idle": 9, "watts_max": 2, "usd_per_gpu_hour": 1}}}}""", "bad.jsonc: classes.x.gpu.watts_max: must be ≥ watts_idle (9) (got 2)" },
        { """{"classes": {"x": {"base": "h100-sxm", "usd_per_hour": 10}}}""", "bad.jsonc: classes.x.usd_per_hour: is the whole machine's price and must be ≥ gpu.count × gpu.usd_per_gpu_hour (8 × 4) (got 10)" },
        { """{"classes": {"x": {"gpu": []}}}""", "bad.jsonc: classes.x.gpu: must be an object" },
        { """{"classes": {"x": {"lifetime_years": 0}}}""", "bad.jsonc: classes.x.lifetime_years: must be a number of years" },
        { """{"classes": {"x": {"embodied_kg_co2e": -1}}}""", "bad.jsonc: classes.x.embodied_kg_co2e: must be a number of kg CO2e" },
        { """{"classes": {"x": 3}}""", "bad.jsonc: classes.x: must be an object (got 3)" },
        { """{"classes": {"x": {}, "x": {}}}""", "bad.jsonc: classes.x: defined twice" },
        { """{"classes": {"x": {"pue": 1.1, "pue": 1.2}}}""", "bad.jsonc: classes.x.pue: given twice" },
        { """{"classes": {"a.b": {"pue": 0}}}""", "bad.jsonc: classes[\"a.b\"].pue: must be a number ≥ 1" },
        { """{"classes": []}""", "bad.jsonc: classes: must be an object keyed by name" },
        { """{"regions": {"r": {"hourly": [1, 2, 3]}}}""", "bad.jsonc: regions.r.hourly: must be an array of 24 numbers" },
        { """{"regions": {"r": {"hourly": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"x"]}}}""", "bad.jsonc: regions.r.hourly[23]: must be a number of grams" },
        { """{"regions": {"r": {"source": "s"}}}""", "bad.jsonc: regions.r.g_per_kwh: required for a new region" },
        { """{"regions": {"r": {"g_per_kwh": -5}}}""", "bad.jsonc: regions.r.g_per_kwh: must be a number of grams CO2e per kWh, 0–10000 (got -5)" },
        { """{"regions": {"r": {"g_per_kwh": 5, "g_per_kWh": 6}}}""", "bad.jsonc: regions.r.g_per_kWh: unknown field" },
        { """{"regions": {"": {"g_per_kwh": 5}}}""", "bad.jsonc: regions[\"\"]: names must be 1–200 characters" },
        { """{"classes": {"x": {"source": "a\u0001b", "pue": 0}}}""", "bad.jsonc: classes.x.pue" },
        { """{"classes": {"x": {"region": ""}}}""", "bad.jsonc: classes.x.region: must be a string of 1–1000 characters" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadModel_OneErrorNamingTheField(string text, string expectedPrefix)
    {
        var e = Assert.Throws<CostModelException>(() => CostModel.Parse(text, "bad.jsonc"));
        Assert.StartsWith(expectedPrefix, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void BadModel_BinaryAndHugeInputFailCleanly()
    {
        var e = Assert.Throws<CostModelException>(() => CostModel.Parse(Encoding.Latin1.GetString([0x00, 0xff, 0x7b, 0x10]), "bin.jsonc"));
        Assert.StartsWith("bin.jsonc: line 1, byte ", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<CostModelException>(() => CostModel.Parse(new string(' ', (4 << 20) + 1), "huge.jsonc"));
        Assert.Contains("the limit is", e.Message, StringComparison.Ordinal);
        string deep = new string('[', 10_000) + new string(']', 10_000);
        e = Assert.Throws<CostModelException>(() => CostModel.Parse(deep, "deep.jsonc"));
        Assert.StartsWith("deep.jsonc: line 1, byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10_000)]
    public async Task BadModel_InvalidUtf8InAName_FoundByTheFuzzer()
    {
        await Task.Yield();
        byte[] input = [0x7b, 0x22, 0xeb, 0x6c, 0x61, 0x73, 0x73, 0x65, 0x73, 0x22, 0x3a, 0x20, 0x7b, 0x22, 0x78, 0x22, 0x3a, 0x20, 0x33, 0x7d, 0x7d];
        var e = Assert.Throws<CostModelException>(() => CostModelParser.Parse(input, "fuzz.jsonc"));
        Assert.Equal("fuzz.jsonc: line 1, byte 3: not valid UTF-8 (0xeb)", e.Message);
        byte[] second = [.. "{\n  \"a\": \"x"u8, 0xc3, 0x28, .. "\"}"u8];
        e = Assert.Throws<CostModelException>(() => CostModelParser.Parse(second, "fuzz.jsonc"));
        Assert.Equal("fuzz.jsonc: line 2, byte 10: not valid UTF-8 (0xc3)", e.Message);
    }

    [Fact]
    public void BadModel_LoadNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orac-bad-model-{Environment.ProcessId}.jsonc");
        File.WriteAllText(path, "{\n  // a typo\n  \"classes\": { \"web\": { \"vcpu\": 4 } }\n}\n");
        try
        {
            var e = Assert.Throws<CostModelException>(() => CostModel.Load(path));
            Assert.Equal($"{path}: classes.web.vcpu: unknown field (known: base, source, usd_per_hour, usd_per_vcpu_hour, vcpus, cpu_watts_idle, cpu_watts_max, memory_gb, memory_kwh_per_gb_hour, pue, region, embodied_kg_co2e, lifetime_years, gpu)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CostModelFuzz_SurvivesMutations()
    {
        byte[][] seeds =
        [
            File.ReadAllBytes(Path.Combine(TestPaths.Data, "cost", "worked-model.jsonc")),
            File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "deploy", "cost-model.example.jsonc")),
            .. Cases.Select(c => Encoding.UTF8.GetBytes((string)c[0])),
        ];
        FuzzAssert.SurvivesMutations("cost-model", d => CostModelFuzz.Run(d), seeds, seconds: 4);
    }
}
