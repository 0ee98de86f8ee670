using System.Text;
using Orac.Collect.Check;
using Orac.Model;

namespace Orac.Collect.Tests.Check;

/// <summary>The parsers on single lines: exact values, and damaged input naming file and line.</summary>
public class ProcParserTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void LoadAvg_ReadsAllFields()
    {
        LoadAvg l = ProcParsers.LoadAvg(B("1.50 0.75 0.25 3/456 7890\n"), "loadavg");
        Assert.Equal(new LoadAvg(1.5, 0.75, 0.25, 3, 456), l);
    }

    [Fact]
    public void PidStat_CommWithParenthesesAndSpaces()
    {
        PidStat s = ProcParsers.PidStat(B("77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 123 45 0 0 20 0 1 0 999 100 10 0\n"), "77/stat");
        Assert.Equal(new PidStat(77, "a) b (c)", 'R', 123, 45, 999), s);
    }

    [Fact]
    public void Pressure_ReadsSomeAndFull()
    {
        Pressure p = ProcParsers.Pressure(B("some avg10=1.25 avg60=0.50 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"), "io");
        Assert.Equal(new PressureLine(1.25, 0.5, 0, 1234), p.Some);
        Assert.Equal(5UL, p.Full!.Value.TotalUs);
    }

    [Fact]
    public void SnmpTcp_PairsNamesWithValues_NegativeMaxConn()
    {
        Dictionary<string, long> d = ProcParsers.SnmpTcp(B("Ip: A\nIp: 1\nTcp: MaxConn OutSegs\nTcp: -1 42\n"), "snmp");
        Assert.Equal(-1, d["MaxConn"]);
        Assert.Equal(42, d["OutSegs"]);
    }

    public static TheoryData<string, string, string> Damaged() => new()
    {
        { "loadavg", "1.0 2.0\n", "loadavg:1: too few fields" },
        { "loadavg", "nan 1 1 1/2 3\n", "loadavg:1: expected a non-negative decimal number" },
        { "stat", "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3\n", "stat:2: too few fields" },
        { "stat", "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", "stat:3: bad or repeated cpu number" },
        { "stat", "intr 1\n", "no cpu lines" },
        { "pressure", "some avg10=101.00 avg60=0 avg300=0 total=1\n", "pressure:1: pressure above 100%" },
        { "pressure", "some avg10=1.00 avg60=0\n", "pressure:1: expected avg300=" },
        { "meminfo", "MemTotal: 99999999999999999999 kB\n", "meminfo:1: expected an unsigned number" },
        { "meminfo", "MemTotal: 10 MB\n", "meminfo:1: unexpected unit" },
        { "net/dev", "garbage\n", "net/dev:1: expected the header line" },
        { "net/dev", "a|b\nc|d\n eth0: 1 2 3\n", "net/dev:3: too few fields" },
        { "net/snmp", "Tcp: A B\nTcp: 1\n", "net/snmp:2: fewer values than names" },
        { "file-nr", "10 20 30\n", "file-nr:1: more free handles than allocated" },
        { "pid/stat", "12 (x) R 1 2\n", "pid/stat:1: too few fields" },
        { "pid/stat", "x(y) R\n", "pid/stat:1: expected an unsigned number" },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public void DamagedFile_ThrowsOracExceptionWithFileAndLine(string file, string text, string expected)
    {
        byte[] data = B(text);
        OracException e = Assert.Throws<OracException>(() => Parse(file, data));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("loadavg")]
    [InlineData("stat")]
    [InlineData("pressure")]
    [InlineData("net/snmp")]
    [InlineData("file-nr")]
    [InlineData("pid/stat")]
    public void EmptyFile_ThrowsOracException(string file) => Assert.Throws<OracException>(() => Parse(file, []));

    [Fact]
    public void DiskStats_BinaryNameIsEscaped_AndTheFilterApplies()
    {
        List<DiskCounters> d = ProcParsers.DiskStats(B("8 0 s\u0001a 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n"), "diskstats", n => !n.EndsWith('1'));
        Assert.Equal("s\\x01a", Assert.Single(d).Name);
    }

    [Fact]
    public void Kmsg_SkipsDamagedRecords_KeepsTheRest()
    {
        List<KmsgRecord> r = ProcParsers.Kmsg(B("11,1,5,-;disk error\n SUBSYSTEM=x\nnot a record\n3,,1,-;x\n6,2,9,c;info\n"), out int skipped);
        Assert.Equal(2, skipped);
        Assert.Equal([new KmsgRecord(3, 5, "disk error"), new KmsgRecord(6, 9, "info")], r);
    }

    private static object Parse(string file, byte[] data) => file switch
    {
        "loadavg" => ProcParsers.LoadAvg(data, file),
        "stat" => ProcParsers.Stat(data, file),
        "pressure" => ProcParsers.Pressure(data, file),
        "meminfo" => ProcParsers.KeyValues(data, file),
        "net/dev" => ProcParsers.NetDev(data, file),
        "net/snmp" => ProcParsers.SnmpTcp(data, file),
        "file-nr" => ProcParsers.FileNr(data, file),
        "pid/stat" => ProcParsers.PidStat(data, file),
        _ => throw new ArgumentOutOfRangeException(nameof(file)),
    };
}
