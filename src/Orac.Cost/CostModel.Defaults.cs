namespace Orac.Cost;

// The built-in model (docs/cost.md "Defaults and their sources"). Every value says where it comes from; values that
// are Orac's own assumptions say so. Cloud Carbon Footprint (CCF) = github.com/cloud-carbon-footprint, its
// methodology page and the per-provider constants in packages/{aws,gcp,azure}/src/domain/*FootprintEstimationConstants.ts.
public sealed partial class CostModel
{
    /// <summary>Name of <see cref="Defaults"/>' source.</summary>
    public const string BuiltInSource = "built-in defaults";

    private static readonly Lazy<CostModel> s_defaults = new(BuildDefaults);

    // CCF per-vCPU coefficients, watts (min = idle, max = 100 % busy), "average" rows for each provider.
    private const double AwsIdleW = 0.74, AwsMaxW = 3.5;
    private const double GcpIdleW = 0.71, GcpMaxW = 4.26;
    private const double AzureIdleW = 0.78, AzureMaxW = 3.76;

    // CCF MEMORY_COEFFICIENT: 0.000392 kWh per GB-hour (all providers).
    private const double MemoryKwhPerGbHour = 0.000392;

    // PUE: CCF's provider constants (AWS 1.135, GCP 1.1, Azure 1.185); 1.58 = Uptime Institute Global Data Center
    // Survey 2023 industry average, for machines in an ordinary on-premises room.
    private const double AwsPue = 1.135, GcpPue = 1.1, AzurePue = 1.185, IndustryPue = 1.58;

    // Orac's assumption, not a quoted price: about $0.05 per vCPU-hour for general-purpose on-demand cloud VMs.
    private const double UsdPerVcpuHour = 0.05;

    // Orac's assumption within the issue's $2–12 per H100 GPU-hour range (cheaper neoclouds to hyperscaler on-demand).
    private const double UsdPerGpuHour = 4.0;

    // NVIDIA H100 SXM5 / H200 SXM data sheets: max thermal design power up to 700 W. Idle 75 W is Orac's assumption
    // (an SXM board with nothing running typically reads 60–90 W in nvidia-smi); measure it where you can.
    private const double GpuMaxW = 700, GpuIdleW = 75;

    // An 8-GPU HGX server sized as AWS p5.48xlarge / p5e.48xlarge: 192 vCPUs, 2,048 GB memory.
    private const int HgxVcpus = 192;
    private const double HgxMemoryGb = 2048;

    // Embodied emissions for a whole on-prem server: ≈ 1,000 kgCO2e, the order of magnitude of the manufacturing
    // estimates for a base rack server in Teads' AWS EC2 carbon dataset (which CCF's embodied method uses), spread
    // over CCF's 4-year server life (SERVER_EXPECTED_LIFESPAN 35040 h). An approximation, not an LCA; cloud VM classes
    // carry 0 because a VM's share of an unknown host is not known, and GPU servers 0 because we have no sourced figure.
    private const double OnPremEmbodiedKg = 1000, LifetimeYears = 4;

    private static CostModel BuildDefaults()
    {
        const string ccf = "Cloud Carbon Footprint coefficients";
        var regions = new Dictionary<string, RegionIntensity>(StringComparer.Ordinal);

        // CCF's AWS emissions factors (metric t/kWh → g/kWh, rounded to whole grams; CCF's US regions use EPA eGRID
        // subregions, the rest carbonfootprint.com country factors). Values move between CCF releases by a gram or two.
        void Region(string name, double g, string where) =>
            regions[name] = new RegionIntensity(name, g, null, $"CCF AWS emissions factor ({where})");
        Region("us-east-1", 379, "N. Virginia, eGRID SERC 0.000379069 t/kWh");
        Region("us-west-2", 322, "Oregon, eGRID WECC 0.000322167 t/kWh");
        Region("eu-west-1", 316, "Ireland");
        Region("eu-central-1", 338, "Frankfurt");
        Region("eu-west-3", 51, "Paris, France; 51–52 g depending on the CCF release");
        Region("eu-north-1", 8, "Stockholm");
        Region("ap-south-1", 708, "Mumbai, India");

        var classes = new Dictionary<string, MachineClass>(StringComparer.Ordinal);
        MachineClass Vm(string name, double idle, double max, double pue, string source) => new(
            name, UsdPerHour: 0, Vcpus: 0, idle, max, MemoryGb: 0, MemoryKwhPerGbHour, Gpu: null, pue, "us-east-1",
            EmbodiedKgCo2e: 0, LifetimeYears, source)
        { UsdPerVcpuHour = UsdPerVcpuHour };

        classes["default"] = Vm("default", AwsIdleW, AwsMaxW, AwsPue, $"{ccf} (AWS average), PUE 1.135 (CCF AWS), $0.05/vCPU-h (Orac assumption); sized from agent facts");
        classes["aws"] = Vm("aws", AwsIdleW, AwsMaxW, AwsPue, $"{ccf} (AWS average), PUE 1.135 (CCF AWS), $0.05/vCPU-h (Orac assumption)");
        classes["gcp"] = Vm("gcp", GcpIdleW, GcpMaxW, GcpPue, $"{ccf} (GCP average), PUE 1.1 (CCF GCP), $0.05/vCPU-h (Orac assumption)");
        classes["azure"] = Vm("azure", AzureIdleW, AzureMaxW, AzurePue, $"{ccf} (Azure average), PUE 1.185 (CCF Azure), $0.05/vCPU-h (Orac assumption)");
        classes["on-prem"] = Vm("on-prem", AwsIdleW, AwsMaxW, IndustryPue, $"{ccf} (AWS average), PUE 1.58 (Uptime Institute 2023 survey), embodied ≈1,000 kg over 4 years (order of magnitude from Teads/CCF, approximation)")
            with { EmbodiedKgCo2e = OnPremEmbodiedKg };

        MachineClass Hgx(string name, string gpu) => new(
            name, UsdPerHour: (8 * UsdPerGpuHour) + (HgxVcpus * UsdPerVcpuHour), HgxVcpus, AwsIdleW, AwsMaxW, HgxMemoryGb,
            MemoryKwhPerGbHour,
            new GpuSpec(gpu, 8, GpuIdleW, GpuMaxW, UsdPerGpuHour, $"NVIDIA {gpu} SXM data sheet 700 W max; idle 75 W and $4/GPU-h are Orac assumptions (issue range $2–12)"),
            AwsPue, "us-east-1", EmbodiedKgCo2e: 0, LifetimeYears,
            $"8× {gpu} SXM, 192 vCPUs, 2,048 GB (as AWS p5/p5e.48xlarge); price = 8 × $4 + 192 × $0.05 (Orac assumption); {ccf} (AWS)");
        classes["h100-sxm"] = Hgx("h100-sxm", "H100");
        classes["h200-sxm"] = Hgx("h200-sxm", "H200");

        // GPU hosts reported by agents land on the GPU classes without a model file.
        HostRule[] rules =
        [
            new HostRule("h200-sxm", null, new Dictionary<string, string>(), "H200", null),
            new HostRule("h100-sxm", null, new Dictionary<string, string>(), "H100", null),
        ];
        return new CostModel(BuiltInSource, classes, regions, rules, "default");
    }
}
