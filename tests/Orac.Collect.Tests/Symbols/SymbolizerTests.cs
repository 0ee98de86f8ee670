using System.Diagnostics;
using System.Globalization;
using Orac.Collect.Symbols;

namespace Orac.Collect.Tests.Symbols;

public class SymbolizerTests
{
    private const string NeedsProc = "SKIPPED: needs root to read another process's /proc/PID/maps and map_files";

    [SkippableFact]
    public void ResolveUser_PieProcess_NamesFunctionsAndSurvivesExit()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        List<(ulong Address, ulong Size, string Name)> funcs = NativeSample.NmFunctions(NativeSample.Pie);
        var symbolizer = new Symbolizer();
        using Process p = NativeSample.StartSleeping(NativeSample.Pie, 30);
        ulong bias = NativeSample.LoadBase(p.Id, NativeSample.Pie);
        string libcPath = NativeSample.MappedFile(p.Id, "libc");
        ulong libcBase = NativeSample.LoadBase(p.Id, libcPath);
        symbolizer.NoteProcess(p.Id);

        p.Kill();
        p.WaitForExit();
        Assert.False(File.Exists($"/proc/{p.Id}/maps") && File.ReadAllText($"/proc/{p.Id}/maps").Length > 0);

        // Resolved only after the process is gone: the maps were read at NoteProcess.
        foreach (string name in new[] { "hot_loop", "cold_path", "local_helper", "main" })
        {
            (ulong address, ulong size, _) = funcs.First(f => f.Name == name);
            Assert.Equal(name, symbolizer.ResolveUser(p.Id, bias + address));
            Assert.Equal(name, symbolizer.ResolveUser(p.Id, bias + address + size - 1));
            Assert.NotEqual(name, symbolizer.ResolveUser(p.Id, bias + address + size));
        }

        // A libc function through libc's .dynsym; aliases at the same address are all right names.
        List<(ulong Address, ulong Size, string Name)> libc = NativeSample.NmFunctions(libcPath, dynamic: true);
        (ulong getpid, ulong getpidSize, _) = libc.First(f => f.Name == "getpid");
        var aliases = libc.Where(f => f.Address == getpid).Select(f => f.Name).ToHashSet();
        Assert.Contains(symbolizer.ResolveUser(p.Id, libcBase + getpid), aliases);
        Assert.Contains(symbolizer.ResolveUser(p.Id, libcBase + getpid + getpidSize - 1), aliases);

        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveUser(p.Id, 0x1000));
    }

    [SkippableFact]
    public void ResolveUser_NoPie_AndPltWithoutSymbol_ShowsModule()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        var symbolizer = new Symbolizer();
        using Process p = NativeSample.StartSleeping(NativeSample.NoPie, 30);
        try
        {
            symbolizer.NoteProcess(p.Id);
            (ulong hot, _, _) = NativeSample.NmFunctions(NativeSample.NoPie).First(f => f.Name == "hot_loop");
            Assert.Equal("hot_loop", symbolizer.ResolveUser(p.Id, hot));

            ulong plt = SectionAddress(NativeSample.NoPie, ".plt");
            Assert.Equal("[sample-nopie]", symbolizer.ResolveUser(p.Id, plt + 4));
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [SkippableFact]
    public void ResolveUser_DeletedBinary_ReadThroughMapFiles()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        Skip.If(!Environment.IsPrivilegedProcess, NeedsProc);
        string copy = Path.Combine(NativeSample.Dir, "deleted-copy");
        File.Copy(NativeSample.Pie, copy, overwrite: true);
        (ulong hot, _, _) = NativeSample.NmFunctions(copy).First(f => f.Name == "hot_loop");
        using Process p = NativeSample.StartSleeping(copy, 30);
        try
        {
            ulong bias = NativeSample.LoadBase(p.Id, copy);
            File.Delete(copy);
            var symbolizer = new Symbolizer();
            symbolizer.NoteProcess(p.Id);
            Assert.Equal("hot_loop", symbolizer.ResolveUser(p.Id, bias + hot));
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [SkippableFact]
    public void ResolveUser_ReplacedFileAtSamePath_IsNotUsed()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string path = Path.Combine(NativeSample.Dir, "replaced");
        File.Copy(NativeSample.Pie, path, overwrite: true);
        (ulong hot, _, _) = NativeSample.NmFunctions(path).First(f => f.Name == "hot_loop");
        var symbolizer = new Symbolizer();
        using Process p = NativeSample.StartSleeping(path, 30);
        ulong bias = NativeSample.LoadBase(p.Id, path);
        symbolizer.NoteProcess(p.Id);
        p.Kill();
        p.WaitForExit();

        // Another file (a different inode) now sits at the path: its symbols would be wrong names.
        File.Delete(path);
        File.Copy(NativeSample.NoPie, path);
        string name = symbolizer.ResolveUser(p.Id, bias + hot);
        Assert.Equal("[replaced]", name);
    }

    [SkippableFact]
    public void ResolveKernel_RealKallsymsEntries()
    {
        Skip.If(!Environment.IsPrivilegedProcess, "SKIPPED: /proc/kallsyms shows addresses only to root");
        var entries = new List<(ulong Address, char Type, string Name)>();
        foreach (string line in File.ReadLines("/proc/kallsyms"))
        {
            string[] f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            entries.Add((ulong.Parse(f[0], NumberStyles.HexNumber), f[1][0], f[2]));
        }

        Skip.If(entries.TrueForAll(e => e.Address == 0), "SKIPPED: kallsyms addresses hidden (kptr_restrict)");
        entries.Sort((a, b) => a.Address.CompareTo(b.Address));
        var symbolizer = new Symbolizer();
        int checkedCount = 0;
        for (int i = 1; i + 1 < entries.Count && checkedCount < 50; i += Math.Max(1, entries.Count / 60))
        {
            (ulong address, char type, string name) = entries[i];
            bool unique = entries[i - 1].Address != address && entries[i + 1].Address > address + 1;
            if (!unique || type is not ('t' or 'T') || address < 0xffff_8000_0000_0000)
            {
                continue;
            }

            Assert.Equal(name, symbolizer.ResolveKernel(address));
            Assert.Equal(name, symbolizer.ResolveKernel(address + 1));
            Assert.Equal(name, symbolizer.ResolveKernel(entries[i + 1].Address - 1));
            checkedCount++;
        }

        Assert.True(checkedCount >= 10, $"only {checkedCount} kallsyms entries checked");
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveKernel(0x1000));
    }

    [Fact]
    public void ResolveKernel_HiddenAddresses_UnknownWithOneWarning()
    {
        string dir = Directory.CreateTempSubdirectory("orac-kallsyms").FullName;
        string path = Path.Combine(dir, "kallsyms");
        File.WriteAllText(path, "0000000000000000 T _text\n0000000000000000 t do_one\n0000000000000000 T schedule\n");
        var symbolizer = new Symbolizer(new SymbolizerOptions { KallsymsPath = path });

        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveKernel(0xffffffff81000010));
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveKernel(0xffffffff81000020));
        Assert.Equal(1, symbolizer.Warnings.Total);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ResolveKernel_ModuleSuffixStripped_BoundedByNextSymbol()
    {
        string dir = Directory.CreateTempSubdirectory("orac-kallsyms").FullName;
        string path = Path.Combine(dir, "kallsyms");
        File.WriteAllText(
            path,
            "ffffffff81000000 T _text\nffffffff81000100 T do_work\nffffffff81000200 D some_data\n"
            + "ffffffffc0001000 t mod_fn\t[e1000e]\nffffffffc0001040 t other_fn\t[e1000e]\nnot a line\n");
        var symbolizer = new Symbolizer(new SymbolizerOptions { KallsymsPath = path });

        Assert.Equal("do_work", symbolizer.ResolveKernel(0xffffffff810001ff));
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveKernel(0xffffffff81000200));
        Assert.Equal("mod_fn", symbolizer.ResolveKernel(0xffffffffc000103f));
        Assert.Equal("other_fn", symbolizer.ResolveKernel(0xffffffffc0001040));
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveKernel(0xffffffffc0001040 + (2 << 20)));
        Assert.Equal(1, symbolizer.Warnings.Count("kallsyms lines skipped"));
        Directory.Delete(dir, true);
    }

    private static ulong SectionAddress(string file, string section)
    {
        foreach (string line in NativeSample.Run("readelf", "-SW", file).Split('\n'))
        {
            string[] f = line.Replace("[ ", "[", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 4 && f[1] == section)
            {
                return ulong.Parse(f[3], NumberStyles.HexNumber);
            }
        }

        throw new InvalidOperationException($"{section} not in {file}");
    }
}
