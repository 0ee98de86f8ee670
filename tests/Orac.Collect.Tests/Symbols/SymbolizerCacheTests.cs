using System.Diagnostics;
using Orac.Collect.Symbols;
using Orac.Model;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Symbols;

public class SymbolizerCacheTests
{
    [SkippableFact]
    public void SameBuildIdAtTwoPaths_LoadedOnce_BothResolve()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        Skip.If(ElfFile.Load(NativeSample.Pie).BuildId is null, "SKIPPED: gcc on this host does not emit a build-id note");
        string a = Path.Combine(NativeSample.Dir, "copy-a");
        string b = Path.Combine(NativeSample.Dir, "copy-b");
        File.Copy(NativeSample.Pie, a, overwrite: true);
        File.Copy(NativeSample.Pie, b, overwrite: true);
        (ulong hot, _, _) = NativeSample.NmFunctions(NativeSample.Pie).First(f => f.Name == "hot_loop");
        var symbolizer = new Symbolizer();
        using Process pa = NativeSample.StartSleeping(a, 30);
        using Process pb = NativeSample.StartSleeping(b, 30);
        try
        {
            symbolizer.NoteProcess(pa.Id);
            symbolizer.NoteProcess(pb.Id);
            Assert.Equal("hot_loop", symbolizer.ResolveUser(pa.Id, NativeSample.LoadBase(pa.Id, a) + hot));
            Assert.Equal("hot_loop", symbolizer.ResolveUser(pb.Id, NativeSample.LoadBase(pb.Id, b) + hot));
            Assert.Equal(1, symbolizer.ModulesLoaded);
        }
        finally
        {
            pa.Kill();
            pb.Kill();
            pa.WaitForExit();
            pb.WaitForExit();
        }
    }

    [SkippableFact]
    public void NoteMapping_WithoutMaps_ResolvesAndOverlapsCutBack()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string dir = Directory.CreateTempSubdirectory("orac-noproc").FullName;
        (ulong hot, _, _) = NativeSample.NmFunctions(NativeSample.Pie).First(f => f.Name == "hot_loop");
        ElfFile elf = ElfFile.Load(NativeSample.Pie);

        // Map the whole file from offset 0 at 0x10000000: address = base + file offset.
        const ulong Base = 0x1000_0000;
        Assert.True(elf.TryFileOffsetToAddress(hot, out ulong vaddr));
        Assert.Equal(hot, vaddr); // the sample PIE's text has p_offset == p_vaddr
        var symbolizer = new Symbolizer(new SymbolizerOptions { ProcRoot = dir, PerfMapDirectory = dir });
        symbolizer.NoteMapping(42, Base, 0x10_0000, 0, NativeSample.Pie);
        Assert.Equal("hot_loop", symbolizer.ResolveUser(42, Base + hot));

        // A later anonymous mapping over the function's page replaces that part only.
        ulong page = (Base + hot) & ~0xfffUL;
        symbolizer.NoteMapping(42, page, 0x1000, 0, "//anon");
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveUser(42, Base + hot));
        Assert.Equal("[sample-pie]", symbolizer.ResolveUser(42, page + 0x1000 + 0x7000));
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveUser(42, Base - 1));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ContainerProcess_PerfMapFromItsRootAndNamespacePid()
    {
        string proc = Directory.CreateTempSubdirectory("orac-fakeproc").FullName;
        string tmp = Directory.CreateTempSubdirectory("orac-faketmp").FullName;
        Directory.CreateDirectory(Path.Combine(proc, "4321", "root", "tmp"));
        File.WriteAllText(Path.Combine(proc, "4321", "status"), "Name:\tnode\nPid:\t4321\nNSpid:\t4321\t7\n");
        File.WriteAllText(Path.Combine(proc, "4321", "maps"), "7f0000000000-7f0000100000 rwxp 00000000 00:00 0 \n");
        File.WriteAllText(Path.Combine(proc, "4321", "root", "tmp", "perf-7.map"), "7f0000001000 40 LazyCompile:*work /app/index.js:3\n");
        var symbolizer = new Symbolizer(new SymbolizerOptions { ProcRoot = proc, PerfMapDirectory = tmp });

        symbolizer.NoteProcess(4321);
        Assert.Equal("LazyCompile:*work /app/index.js:3", symbolizer.ResolveUser(4321, 0x7f0000001010));
        Assert.Equal(Symbolizer.Unknown, symbolizer.ResolveUser(4321, 0x7f0000002000));
        Directory.Delete(proc, true);
        Directory.Delete(tmp, true);
    }

    [Fact]
    public void ProcMaps_Fixture_KeepsExecutableMappingsWithModuleNames()
    {
        var warnings = new ParseWarnings();
        using FileStream f = File.OpenRead(Path.Combine(TestPaths.Data, "symbols", "sample.maps"));
        List<ProcMapping> maps = ProcMaps.Read(f, "sample.maps", warnings);

        Assert.Equal(0, warnings.Total);
        Assert.Equal(
            ["[sample]", "[unknown]", "[unknown]", "[libc.so.6]", "[lib with space.so]", "[vdso]", "[vsyscall]"],
            maps.Select(m => m.ModuleName).ToArray());
        Assert.Equal(0x2000UL, maps[0].Offset);
        Assert.Equal(1310725UL, maps[0].Inode);
        Assert.True(maps[4].IsDeleted);
        Assert.True(maps[2].IsAnonymous);
    }

    [Fact]
    public void ProcMaps_GarbageLines_CountedNotGuessed()
    {
        var warnings = new ParseWarnings();
        byte[] text = "zz-10 r-xp 0 0:0 0 /x\n10-5 r-xp 0 0:0 0 /x\n10-20 r-x 0 0:0 0 /x\n10-20 r-xp 0 0:0 0 relative\n10-20 r-xp 0 0:0 0 /ok\n\u0000\n"u8.ToArray();
        List<ProcMapping> maps = ProcMaps.Read(new MemoryStream(text), "garbage", warnings);

        Assert.Equal("/ok", Assert.Single(maps).Path);
        Assert.Equal(5, warnings.Count("maps lines skipped"));
    }

    [Fact]
    public void ManySymbolTableSections_ReadOnceEach_NoHang()
    {
        // 2000 section headers that all claim to be .symtab over the same bytes.
        const int N = 2000;
        byte[] data = new byte[64 + (N * 64) + (24 * 1000)];
        "\u007fELF"u8.CopyTo(data);
        data[4] = 2;
        data[5] = 1;
        BitConverter.TryWriteBytes(data.AsSpan(0x28), 64UL);
        BitConverter.TryWriteBytes(data.AsSpan(0x3a), (ushort)64);
        BitConverter.TryWriteBytes(data.AsSpan(0x3c), (ushort)N);
        for (int i = 0; i < N; i++)
        {
            int sh = 64 + (i * 64);
            BitConverter.TryWriteBytes(data.AsSpan(sh + 4), 2U);
            BitConverter.TryWriteBytes(data.AsSpan(sh + 24), (ulong)(64 + (N * 64)));
            BitConverter.TryWriteBytes(data.AsSpan(sh + 32), 24UL * 1000);
            BitConverter.TryWriteBytes(data.AsSpan(sh + 40), (uint)i);
            BitConverter.TryWriteBytes(data.AsSpan(sh + 56), 24UL);
        }

        var watch = Stopwatch.StartNew();
        ElfFile elf = ElfFile.Parse(data, "many-symtabs");
        Assert.Equal(0, elf.SymbolCount);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }
}

public class FileIdentityTests
{
    [Fact]
    public void Statx_GivesTheInodeLsShows()
    {
        string file = Path.Combine(TestPaths.Data, "symbols", "sample.c");
        Assert.True(FileIdentity.TryGet(file, out FileIdentity id));
        Assert.Equal(new FileInfo(file).Length, id.Size);
        Assert.False(FileIdentity.TryGet(file + ".missing", out _));
        string ls = NativeSample.Run("ls", "-i", file).Trim();
        Assert.Equal(ls[..ls.IndexOf(' ', StringComparison.Ordinal)], id.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

public class VdsoTests
{
    [SkippableFact]
    public void Vdso_ClockGettimeNamedFromTheKernelsImage()
    {
        ulong start = 0, end = 0;
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            if (line.EndsWith("[vdso]", StringComparison.Ordinal))
            {
                string[] range = line.Split(' ')[0].Split('-');
                start = ulong.Parse(range[0], System.Globalization.NumberStyles.HexNumber);
                end = ulong.Parse(range[1], System.Globalization.NumberStyles.HexNumber);
            }
        }

        Skip.If(start == 0, "SKIPPED: this process has no [vdso] mapping");

        // Dump the image and let the real nm find the function, independently of ElfFile.
        string dump = Path.Combine(Path.GetTempPath(), $"orac-vdso-{Environment.ProcessId}.so");
        using (var mem = new FileStream("/proc/self/mem", FileMode.Open, FileAccess.Read))
        using (var output = File.Create(dump))
        {
            byte[] image = new byte[end - start];
            mem.Seek((long)start, SeekOrigin.Begin);
            mem.ReadExactly(image);
            output.Write(image);
        }

        try
        {
            List<(ulong Address, ulong Size, string Name)> funcs = NativeSample.NmFunctions(dump, dynamic: true);
            (ulong address, ulong size, _) = funcs.First(f => f.Name.EndsWith("clock_gettime", StringComparison.Ordinal));
            var names = funcs.Where(f => f.Address == address).Select(f => f.Name).ToHashSet();

            // The vDSO is linked at 0: address = mapping start + symbol value.
            var symbolizer = new Symbolizer();
            Assert.Contains(symbolizer.ResolveUser(Environment.ProcessId, start + address), names);
            Assert.Contains(symbolizer.ResolveUser(Environment.ProcessId, start + address + size - 1), names);
        }
        finally
        {
            File.Delete(dump);
        }
    }
}

public class KallsymsRereadTests
{
    [Fact]
    public void KernelMiss_RereadsKallsyms_OnlyAfterTheInterval()
    {
        string dir = Directory.CreateTempSubdirectory("orac-kallsyms").FullName;
        string path = Path.Combine(dir, "kallsyms");
        File.WriteAllText(path, "ffffffff81000000 T _text\nffffffff81000100 T do_work\nffffffff81000200 D end_of_text\n");
        var eager = new Symbolizer(new SymbolizerOptions { KallsymsPath = path, KallsymsRereadInterval = TimeSpan.Zero });
        var lazy = new Symbolizer(new SymbolizerOptions { KallsymsPath = path });
        Assert.Equal(Symbolizer.Unknown, eager.ResolveKernel(0xffffffffc0001010));
        Assert.Equal(Symbolizer.Unknown, lazy.ResolveKernel(0xffffffffc0001010));

        // A module loads.
        File.AppendAllText(path, "ffffffffc0001000 t nf_hook\t[nf_tables]\nffffffffc0001100 d nf_data\t[nf_tables]\n");
        Assert.Equal("nf_hook", eager.ResolveKernel(0xffffffffc0001010));
        Assert.Equal(Symbolizer.Unknown, lazy.ResolveKernel(0xffffffffc0001010));
        Assert.Equal("do_work", lazy.ResolveKernel(0xffffffff81000110));
        Directory.Delete(dir, true);
    }
}

public class DamagedModuleTests
{
    [SkippableFact]
    public void DamagedOrNonElfMappedFile_ShowsModuleAndOneWarning()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string dir = Directory.CreateTempSubdirectory("orac-damaged").FullName;
        string truncated = Path.Combine(dir, "libtruncated.so");
        byte[] elf = File.ReadAllBytes(NativeSample.Pie);
        File.WriteAllBytes(truncated, elf[..(elf.Length / 2)]); // section headers sit at the end: now past it
        string text = Path.Combine(dir, "notes.txt");
        File.WriteAllText(text, "not an ELF file at all, but long enough to hold a 64-byte ELF header......\n");
        var symbolizer = new Symbolizer(new SymbolizerOptions { ProcRoot = dir, PerfMapDirectory = dir });
        symbolizer.NoteMapping(7, 0x10000, 0x4000, 0, truncated);
        symbolizer.NoteMapping(7, 0x20000, 0x1000, 0, text);

        Assert.Equal("[libtruncated.so]", symbolizer.ResolveUser(7, 0x11100));
        Assert.Equal("[libtruncated.so]", symbolizer.ResolveUser(7, 0x11200));
        Assert.Equal("[notes.txt]", symbolizer.ResolveUser(7, 0x20010));
        Assert.Equal(2, symbolizer.Warnings.Count("mapped files without usable symbols (shown as [module])"));
        Directory.Delete(dir, true);
    }
}

public class MountNamespaceTests
{
    [SkippableFact]
    public void NoteMapping_ContainerFileDiffersFromHostFileAtSamePath_ContainerFileUsed()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string proc = Directory.CreateTempSubdirectory("orac-fakeproc").FullName;
        string host = Directory.CreateTempSubdirectory("orac-hostview").FullName;
        string path = Path.Combine(host, "libapp.so");

        // On the host, another program sits at the path; inside the container's root, the real one.
        File.Copy("/usr/bin/true", path);
        string inContainer = proc + "/77/root" + path;
        Directory.CreateDirectory(Path.GetDirectoryName(inContainer)!);
        File.Copy(NativeSample.Pie, inContainer);
        (ulong hot, _, _) = NativeSample.NmFunctions(NativeSample.Pie).First(f => f.Name == "hot_loop");

        var symbolizer = new Symbolizer(new SymbolizerOptions { ProcRoot = proc, PerfMapDirectory = proc });
        symbolizer.NoteMapping(77, 0x40_0000, 0x10_0000, 0, path);
        Assert.Equal("hot_loop", symbolizer.ResolveUser(77, 0x40_0000 + hot));

        // Once the container is gone, the host file at that path is still not taken for it.
        var later = new Symbolizer(new SymbolizerOptions { ProcRoot = proc, PerfMapDirectory = proc });
        later.NoteMapping(77, 0x40_0000, 0x10_0000, 0, path);
        Directory.Delete(Path.Combine(proc, "77"), true);
        Assert.Equal("[libapp.so]", later.ResolveUser(77, 0x40_0000 + hot));
        Directory.Delete(proc, true);
        Directory.Delete(host, true);
    }

    [Fact]
    public void ForgetExited_DropsProcessesWithoutAProcEntry_KeepsLiveOnes()
    {
        string proc = Directory.CreateTempSubdirectory("orac-fakeproc").FullName;
        string tmp = Directory.CreateTempSubdirectory("orac-faketmp").FullName;
        foreach (string pid in new[] { "100", "200" })
        {
            Directory.CreateDirectory(Path.Combine(proc, pid));
            File.WriteAllText(Path.Combine(proc, pid, "maps"), "7f0000000000-7f0000100000 r-xp 00000000 00:00 0 \n");
        }

        var symbolizer = new Symbolizer(new SymbolizerOptions { ProcRoot = proc, PerfMapDirectory = tmp });
        symbolizer.NoteProcess(100);
        symbolizer.NoteProcess(200);
        symbolizer.NoteMapping(300, 0x1000, 0x1000, 0, "//anon");
        Assert.Equal(3, symbolizer.ProcessCount);

        Directory.Delete(Path.Combine(proc, "200"), true);

        Assert.Equal(2, symbolizer.ForgetExited());
        Assert.Equal(1, symbolizer.ProcessCount);
        Assert.Equal(0, symbolizer.ForgetExited());
        Directory.Delete(proc, true);
        Directory.Delete(tmp, true);
    }
}
