using System.Text;
using Orac.Cost.Gpu;
using Orac.Fuzz;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Tests.Shared;

namespace Orac.Cost.Tests.Gpu;

public sealed class GpuFormatsTests
{
    private static readonly long s_t0 = new DateTimeOffset(2026, 11, 29, 10, 15, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static string DataFile(string name) => Path.Combine(TestPaths.Data, "gpu", name);

    private static GpuParseResult Smi(string file)
    {
        using var r = new StreamReader(DataFile(file));
        return GpuFormats.ParseNvidiaSmiCsv(r, file);
    }

    private static GpuParseResult Dcgm(string file, long scrape)
    {
        using var r = new StreamReader(DataFile(file));
        return GpuFormats.ParseDcgm(r, file, scrape);
    }

    [Fact]
    public void NvidiaSmiCsv_UnitsAndNotAvailable_ParsedPerGpu()
    {
        GpuParseResult r = Smi("nvidia-smi-2gpu.csv");
        Assert.Equal(0, r.Skipped);
        Assert.Null(r.FirstSkip);
        Assert.Equal(8, r.Readings.Count);
        GpuReading first = r.Readings[0];
        Assert.Equal(s_t0, first.Time);
        Assert.Equal(0, first.Index);
        Assert.Equal("GPU-5b1c7e7a-0000-4000-8000-000000000000", first.Uuid);
        Assert.Equal("NVIDIA H100 80GB HBM3", first.Model);
        Assert.Equal(90, first.UtilPercent);
        Assert.Equal(600, first.PowerWatts);
        Assert.Equal(40960, first.MemoryUsedMib);
        Assert.Null(first.SmActivePercent);

        GpuReading na = r.Readings[5];
        Assert.Equal(1, na.Index);
        Assert.Null(na.UtilPercent);
        Assert.Null(na.PowerWatts);
        Assert.Null(na.MemoryUsedMib);
    }

    [Fact]
    public void NvidiaSmiCsv_NoUnitsAnyColumnOrder_ColumnsFoundByName()
    {
        GpuParseResult r = Smi("nvidia-smi-nounits-reordered.csv");
        Assert.Equal(0, r.Skipped);
        Assert.Equal(2, r.Readings.Count);
        Assert.Equal(s_t0 + 3_123, r.Readings[0].Time);
        Assert.Equal(3, r.Readings[0].Index);
        Assert.Equal(87, r.Readings[0].UtilPercent);
        Assert.Equal(350.5, r.Readings[0].PowerWatts);
        Assert.Equal("NVIDIA H200", r.Readings[0].Model);
        Assert.Null(r.Readings[0].Uuid);
        Assert.Null(r.Readings[0].MemoryUsedMib);
    }

    [Fact]
    public void NvidiaSmiCsv_BadRows_SkippedCountedWithTheFirstLine()
    {
        GpuParseResult r = Smi("nvidia-smi-bad-rows.csv");
        Assert.Equal(2, r.Readings.Count);
        Assert.Equal(4, r.Skipped);
        Assert.StartsWith("nvidia-smi-bad-rows.csv:3: bad timestamp '2026/13/29", r.FirstSkip, StringComparison.Ordinal);
        Assert.Equal(210, r.Readings[1].PowerWatts);
    }

    [Fact]
    public void NvidiaSmiCsv_NoHeader_OneErrorNamingTheLine()
    {
        var e = Assert.Throws<OracException>(() => GpuFormats.ParseNvidiaSmiCsv(new StringReader("\n2026/11/29 10:15:00.000, 0, 50 %\n"), "x.csv"));
        Assert.StartsWith("x.csv:2: not an nvidia-smi --query-gpu CSV header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NvidiaSmiCsv_UnitOrracDoesNotRead_Refused()
    {
        var e = Assert.Throws<OracException>(() => GpuFormats.ParseNvidiaSmiCsv(new StringReader("timestamp, index, power.draw [mW]\n"), "x.csv"));
        Assert.Contains("power.draw [mW]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NvidiaSmiCsv_RepeatedHeader_StartsANewLayout()
    {
        string text = "timestamp, index, utilization.gpu [%]\n2026/11/29 10:15:00.000, 0, 10 %\nindex, timestamp\n1, 2026/11/29 10:15:10.000\n";
        GpuParseResult r = GpuFormats.ParseNvidiaSmiCsv(new StringReader(text), "x.csv");
        Assert.Equal(0, r.Skipped);
        Assert.Equal(2, r.Readings.Count);
        Assert.Equal(1, r.Readings[1].Index);
        Assert.Null(r.Readings[1].UtilPercent);
    }

    [Fact]
    public void Dcgm_ExporterText_BlankSentinelsAreMissing()
    {
        const long scrape = 1_796_465_700_000;
        GpuParseResult r = Dcgm("dcgm-exporter.prom", scrape);
        Assert.Equal(0, r.Skipped);
        Assert.Equal(2, r.Readings.Count);
        GpuReading g0 = r.Readings[0], g1 = r.Readings[1];
        Assert.Equal(scrape, g0.Time);
        Assert.Equal(0, g0.Index);
        Assert.Equal("GPU-9f0e5d2c-0000-4000-8000-000000000000", g0.Uuid);
        Assert.Equal("NVIDIA H100 80GB HBM3", g0.Model);
        Assert.Equal(87, g0.UtilPercent);
        Assert.Equal(612.25, g0.PowerWatts);
        Assert.Equal(123456789012, g0.EnergyMillijoules);
        Assert.Equal(40960, g0.MemoryUsedMib);
        Assert.Equal(12.5, g0.SmActivePercent);

        Assert.Equal(1, g1.Index);
        Assert.Null(g1.UtilPercent); // int64 blank 0x7ffffffffffffff0
        Assert.Null(g1.PowerWatts); // fp64 blank 2^47
        Assert.Equal(98765432100, g1.EnergyMillijoules);
        Assert.Equal(50, g1.SmActivePercent);
    }

    [Fact]
    public void Dcgm_NumericIdsAndTimestamps_ReadingsPerGpuAndTime_BadLinesCounted()
    {
        GpuParseResult r = Dcgm("dcgm-by-id-timestamps.prom", 1);
        Assert.Equal(3, r.Readings.Count);
        Assert.Equal(5, r.Skipped);
        Assert.StartsWith("dcgm-by-id-timestamps.prom:9: MIG instance sample", r.FirstSkip, StringComparison.Ordinal);
        GpuReading a = r.Readings[0], b = r.Readings[1], c = r.Readings[2];
        Assert.Equal((1_796_465_700_000, 2, 95.0, 20.0, 1_000_000.0), (a.Time, a.Index, a.UtilPercent!.Value, a.SmActivePercent!.Value, a.EnergyMillijoules!.Value));
        Assert.Equal((1_796_465_710_000, 2, 96.0), (b.Time, b.Index, b.UtilPercent!.Value));
        Assert.Equal(10.0, b.SmActivePercent!.Value, 9);

        // GPU 3 exports only GR engine activity: it stands in for utilization.
        Assert.Equal((3, 75.0), (c.Index, c.UtilPercent!.Value));
    }

    [Fact]
    public void Reduce_PowerReadings_BusyEnergyAndLowUtil()
    {
        GpuParseResult r = Smi("nvidia-smi-2gpu.csv");
        GpuUsage g0 = GpuFormats.Reduce([.. r.Readings.Where(x => x.Index == 0)], s_t0 - 60_000, s_t0 + 60_000);
        Assert.Equal(40, g0.ObservedSeconds, 9); // 3 × 10 s, and the first reading stands for the median 10 s
        Assert.Equal(33, g0.BusySeconds, 9);
        Assert.Equal(22_000, g0.MeasuredJoules!.Value, 6);
        Assert.Equal(0, g0.LowUtilSeconds);
        Assert.Null(g0.SmActivePercent);
        Assert.Equal("NVIDIA H100 80GB HBM3", g0.Model);

        GpuUsage g1 = GpuFormats.Reduce([.. r.Readings.Where(x => x.Index == 1)], s_t0 - 60_000, s_t0 + 60_000);
        Assert.Equal(1, g1.Index);
        Assert.Equal(40, g1.ObservedSeconds, 9);
        Assert.Equal(0.5, g1.BusySeconds, 9);
        Assert.Equal(30, g1.LowUtilSeconds, 9); // the [N/A] interval is neither low nor busy

        // 2,200 J measured over 30 s; the [N/A] interval's 10 s are filled at that average power.
        Assert.Equal(2_200.0 * 40 / 30, g1.MeasuredJoules!.Value, 6);
    }

    [Fact]
    public void Reduce_FirstReadingAtPeriodStart_StandsForNothingBeforeIt()
    {
        GpuParseResult r = Smi("nvidia-smi-2gpu.csv");
        GpuUsage g0 = GpuFormats.Reduce([.. r.Readings.Where(x => x.Index == 0)], s_t0, s_t0 + 60_000);
        Assert.Equal(30, g0.ObservedSeconds, 9);
        Assert.Equal(24, g0.BusySeconds, 9);
    }

    [Fact]
    public void Reduce_EnergyCounterAndSmActivity_TrapSeconds()
    {
        GpuParseResult r = Dcgm("dcgm-by-id-timestamps.prom", 1);
        GpuUsage u = GpuFormats.Reduce([.. r.Readings.Where(x => x.Index == 2)], 0, long.MaxValue);
        Assert.Equal(20, u.ObservedSeconds, 9);
        Assert.Equal(19.1, u.BusySeconds, 9);
        Assert.Equal(15, u.SmActivePercent!.Value, 9);
        Assert.Equal(20, u.TrapSeconds, 9); // util ≥ 50 % while SM active < 25 %

        // 5,000 J from the counter over the second interval; the first has no counter step and is filled at 500 W.
        Assert.Equal(10_000, u.MeasuredJoules!.Value, 6);
    }

    [Fact]
    public void Reduce_EnergyCounterReset_CountsFromTheNewValue()
    {
        GpuReading[] readings =
        [
            new() { Time = 0, EnergyMillijoules = 0 },
            new() { Time = 10_000, EnergyMillijoules = 10_000_000 },
            new() { Time = 20_000, EnergyMillijoules = 3_000_000 }, // driver reloaded: 3 kJ since
            new() { Time = 30_000, EnergyMillijoules = 5_000_000 },
        ];
        GpuUsage u = GpuFormats.Reduce(readings, 0, 60_000);
        Assert.Equal(30, u.ObservedSeconds, 9);
        Assert.Equal(15_000, u.MeasuredJoules!.Value, 6);
        Assert.Equal(0, u.BusySeconds);
    }

    [Fact]
    public void Reduce_GapLongerThanTheLimit_NotCounted()
    {
        GpuReading[] readings = [.. new long[] { 0, 10_000, 20_000, 500_000, 510_000 }.Select(t => new GpuReading { Time = t, UtilPercent = 100, PowerWatts = 100 })];
        GpuUsage u = GpuFormats.Reduce(readings, 0, 1_000_000, maxGapMs: 120_000);
        Assert.Equal(40, u.ObservedSeconds, 9); // 20 s + (10 s median for the run's first reading + 10 s)
        Assert.Equal(40, u.BusySeconds, 9);
        Assert.Equal(4_000, u.MeasuredJoules!.Value, 6);

        GpuUsage none = GpuFormats.Reduce(readings, 2_000_000, 3_000_000);
        Assert.Equal(0, none.ObservedSeconds);
        Assert.Null(none.MeasuredJoules);
    }

    [Fact]
    public void ReduceRapl_PackagesSummed_WrapHandled_IdleIsTheLowestIntervalPower()
    {
        const long max = 2_000_000_000;
        PowerReading P(string d, long t, long uj) => new() { Domain = d, Time = t, EnergyMicrojoules = uj, MaxEnergyMicrojoules = max };
        PowerReading[] readings =
        [
            P("package-0", 0, 0), P("package-0", 10_000, 1_000_000_000), P("package-0", 20_000, 500_000_000), // wrapped: +1,500 J
            P("package-1", 0, 0), P("package-1", 10_000, 500_000_000), P("package-1", 20_000, 1_000_000_000),
            P("dram", 0, 0), P("dram", 10_000, 900_000_000), P("dram", 20_000, 1_800_000_000),
        ];
        MeasuredCpuEnergy e = GpuFormats.ReduceRapl(readings, 0, 60_000)!;
        Assert.Equal(3_500, e.Joules, 6);
        Assert.Equal(20, e.Seconds, 9);
        Assert.Equal(150, e.IdleWatts, 6); // t 0–10 s: 1,500 J; t 10–20 s: 2,000 J
        Assert.Equal("RAPL package-0+package-1", e.Source);

        Assert.Null(GpuFormats.ReduceRapl([P("package-0", 0, 5)], 0, 60_000));
        Assert.Null(GpuFormats.ReduceRapl(readings, 30_000, 60_000));
    }

    [Fact]
    public void BinaryAndHugeLines_CountedNotCrashing()
    {
        byte[] junk = new byte[1 << 20];
        new Random(7).NextBytes(junk);
        junk.AsSpan().Replace((byte)'\n', (byte)' ');
        string text = Encoding.Latin1.GetString(junk);
        GpuParseResult smi = GpuFormats.ParseNvidiaSmiCsv(new StringReader(text), "junk.csv");
        Assert.Empty(smi.Readings);
        Assert.Equal(1, smi.Skipped);
        Assert.Contains("junk.csv:1: line longer than", smi.FirstSkip, StringComparison.Ordinal);

        GpuParseResult dcgm = GpuFormats.ParseDcgm(new StringReader(text + "\nDCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5\n"), "junk.prom", 1000);
        Assert.Single(dcgm.Readings);
        Assert.Equal(1, dcgm.Skipped);
    }

    [Theory]
    [InlineData("nvidia-smi-csv")]
    [InlineData("dcgm-text")]
    public void FuzzTargets_SurviveMutations(string target)
    {
        Action<byte[]> run = target == "dcgm-text" ? GpuFormatsFuzz.Dcgm : GpuFormatsFuzz.NvidiaSmi;
        string ext = target == "dcgm-text" ? ".prom" : ".csv";
        List<byte[]> seeds = [.. Directory.GetFiles(Path.Combine(TestPaths.Data, "gpu"), "*" + ext).Select(File.ReadAllBytes)];
        FuzzAssert.SurvivesMutations(target, run, seeds, 3);
    }
}
