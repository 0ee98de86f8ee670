using System.Buffers.Binary;
using Orac.Collect.Symbols;
using Orac.Model;

namespace Orac.Collect.Tests.Symbols;

public class ElfFileTests
{
    public static TheoryData<bool> Builds => new() { true, false };

    [SkippableTheory]
    [MemberData(nameof(Builds))]
    public void EveryNmFunction_ResolvesToItsName_AndNotPastItsEnd(bool pie)
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string file = pie ? NativeSample.Pie : NativeSample.NoPie;
        ElfFile elf = ElfFile.Load(file);
        List<(ulong Address, ulong Size, string Name)> funcs = NativeSample.NmFunctions(file);
        Assert.Contains(funcs, f => f.Name == "hot_loop");
        Assert.Contains(funcs, f => f.Name == "cold_path");
        Assert.Contains(funcs, f => f.Name == "local_helper");
        Assert.Contains(funcs, f => f.Name == "main");

        foreach ((ulong address, ulong size, string name) in funcs)
        {
            // Aliases share an address: any of them is the right name there (which one: next test).
            var names = funcs.Where(f => f.Address == address).Select(f => (string?)f.Name).ToHashSet();
            Assert.Contains(elf.FindSymbol(address), names);
            Assert.Contains(elf.FindSymbol(address + (size / 2)), names);
            Assert.Contains(elf.FindSymbol(address + size - 1), names);
            Assert.DoesNotContain(elf.FindSymbol(address + size), names);
        }
    }

    [SkippableFact]
    public void GlobalAliasOfLocalFunction_GlobalNameWins()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        List<(ulong Address, ulong Size, string Name)> funcs = NativeSample.NmFunctions(NativeSample.Pie);
        (ulong local, _, _) = funcs.First(f => f.Name == "aliased_local");
        Assert.Equal(local, funcs.First(f => f.Name == "public_alias").Address);

        Assert.Equal("public_alias", ElfFile.Load(NativeSample.Pie).FindSymbol(local));
        (ulong noPie, _, _) = NativeSample.NmFunctions(NativeSample.NoPie).First(f => f.Name == "aliased_local");
        Assert.Equal("public_alias", ElfFile.Load(NativeSample.NoPie).FindSymbol(noPie));
    }

    [SkippableFact]
    public void BuildId_MatchesReadelf()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        string notes = NativeSample.Run("readelf", "-n", NativeSample.Pie);
        int at = notes.IndexOf("Build ID: ", StringComparison.Ordinal);
        Skip.If(at < 0, "SKIPPED: gcc on this host does not emit a build-id note");
        string expected = notes[(at + "Build ID: ".Length)..].Split('\n')[0].Trim();

        Assert.Equal(expected, ElfFile.Load(NativeSample.Pie).BuildId);
    }

    [SkippableFact]
    public void NoPie_FileOffsetMapsToLinkAddress()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        ElfFile elf = ElfFile.Load(NativeSample.NoPie);
        (ulong address, _, _) = NativeSample.NmFunctions(NativeSample.NoPie).First(f => f.Name == "hot_loop");

        // Non-PIE text is linked at 0x400000 + file offset.
        Assert.True(elf.TryFileOffsetToAddress(address - 0x400000, out ulong vaddr));
        Assert.Equal(address, vaddr);
        Assert.False(elf.TryFileOffsetToAddress(ulong.MaxValue - 5, out _));
    }

    [Fact]
    public void NotElf_ThrowsWithFileAndOffset()
    {
        var e = Assert.Throws<OracException>(() => ElfFile.Parse(new byte[100], "zeros.bin"));
        Assert.Contains("zeros.bin", e.Message, StringComparison.Ordinal);
        Assert.Contains("not an ELF file", e.Message, StringComparison.Ordinal);
        Assert.Contains("shorter", Assert.Throws<OracException>(() => ElfFile.Parse([0x7f, (byte)'E'], "tiny")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Elf32OrBigEndian_RejectedClearly()
    {
        byte[] data = new byte[64];
        "\u007fELF"u8.CopyTo(data);
        data[4] = 1;
        data[5] = 1;
        Assert.Contains("only ELF64 little-endian", Assert.Throws<OracException>(() => ElfFile.Parse(data, "elf32")).Message, StringComparison.Ordinal);
        data[4] = 2;
        data[5] = 2;
        Assert.Contains("only ELF64 little-endian", Assert.Throws<OracException>(() => ElfFile.Parse(data, "be64")).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void SectionHeadersPastEnd_ThrowsWithOffset()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        byte[] data = File.ReadAllBytes(NativeSample.Pie);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(0x28), 0x7fff_ffff_0000);
        var e = Assert.Throws<OracException>(() => ElfFile.Parse(data, "bad-shoff"));
        Assert.Contains("bad-shoff", e.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void HugeSectionCount_ThrowsInsteadOfAllocating()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        byte[] data = File.ReadAllBytes(NativeSample.Pie);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(0x3c), 0xffff);
        Assert.Throws<OracException>(() => ElfFile.Parse(data, "many-sections"));
    }

    [SkippableFact]
    public void SymbolTableWithBadOffsetOrLink_ThrowsNeverCrashes()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        byte[] original = File.ReadAllBytes(NativeSample.Pie);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(0x28));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan(0x3c));
        int damaged = 0;
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + (i * 64);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(sh + 4));
            if (type is not (2 or 11))
            {
                continue;
            }

            byte[] badOffset = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(badOffset.AsSpan(sh + 24), (ulong)original.Length - 8);
            Assert.Contains("byte offset", Assert.Throws<OracException>(() => ElfFile.Parse(badOffset, "bad-symtab")).Message, StringComparison.Ordinal);

            byte[] badLink = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(badLink.AsSpan(sh + 40), 60000);
            Assert.Throws<OracException>(() => ElfFile.Parse(badLink, "bad-link"));
            damaged++;
        }

        Assert.True(damaged >= 2, "expected .symtab and .dynsym");
    }

    [SkippableFact]
    public void TruncatedAtEveryLength_ThrowsOrResolvesCorrectly()
    {
        Skip.If(NativeSample.SkipReason is not null, NativeSample.SkipReason);
        byte[] original = File.ReadAllBytes(NativeSample.Pie);
        (ulong hot, _, _) = NativeSample.NmFunctions(NativeSample.Pie).First(f => f.Name == "hot_loop");
        for (int length = 0; length < original.Length; length += 97)
        {
            try
            {
                ElfFile elf = ElfFile.Parse(original[..length], "truncated");
                string? name = elf.FindSymbol(hot);
                Assert.True(name is null or "hot_loop", $"length {length}: {name}");
            }
            catch (OracException e)
            {
                Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
            }
        }
    }
}
