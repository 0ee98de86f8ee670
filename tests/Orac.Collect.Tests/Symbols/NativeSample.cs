using System.Diagnostics;
using System.Globalization;
using Orac.Tests.Shared;

namespace Orac.Collect.Tests.Symbols;

/// <summary>
/// tests/data/symbols/sample.c compiled once per test run with the real gcc, as PIE and as -no-pie,
/// plus helpers that run the real nm/readelf. Tests that need it skip (and say why) without gcc.
/// </summary>
public static class NativeSample
{
    private static readonly Lazy<string?> s_dir = new(Build);

    /// <summary>Why native tests skip, or null when gcc is there.</summary>
    public static string? SkipReason => s_dir.Value is null ? "SKIPPED: gcc not found or failed to compile tests/data/symbols/sample.c" : null;

    /// <summary>The PIE build.</summary>
    public static string Pie => Path.Combine(s_dir.Value!, "sample-pie");

    /// <summary>The non-PIE build.</summary>
    public static string NoPie => Path.Combine(s_dir.Value!, "sample-nopie");

    /// <summary>The temp folder holding the builds.</summary>
    public static string Dir => s_dir.Value!;

    /// <summary>Runs a program to completion and returns its stdout (throws on a non-zero exit).</summary>
    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
        }

        return output;
    }

    /// <summary>Sized function symbols as the real <c>nm -S</c> lists them: address, size, name (text symbols only).</summary>
    public static List<(ulong Address, ulong Size, string Name)> NmFunctions(string file, bool dynamic = false)
    {
        var result = new List<(ulong, ulong, string)>();
        string[] args = dynamic ? ["-S", "-D", "--defined-only", file] : ["-S", "--defined-only", file];
        foreach (string line in Run("nm", args).Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 4 && f[2] is "T" or "t" or "W" or "i")
            {
                // nm -D prints versioned names (getpid@@GLIBC_2.2.5); the symbol's name is the part before '@'.
                int at = f[3].IndexOf('@', StringComparison.Ordinal);
                result.Add((ulong.Parse(f[0], NumberStyles.HexNumber), ulong.Parse(f[1], NumberStyles.HexNumber), at > 0 ? f[3][..at] : f[3]));
            }
        }

        return result;
    }

    /// <summary>Starts the PIE or non-PIE sample sleeping for <paramref name="seconds"/>, returned once it printed "ready".</summary>
    public static Process StartSleeping(string file, int seconds)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(seconds.ToString(CultureInfo.InvariantCulture));
        Process p = Process.Start(psi)!;
        string? line = p.StandardOutput.ReadLine();
        Assert.Equal("ready", line);
        return p;
    }

    /// <summary>The lowest start of the mappings of <paramref name="file"/> in <paramref name="pid"/> with file offset 0: the load bias of a PIE or shared object.</summary>
    public static ulong LoadBase(int pid, string file)
    {
        foreach (string line in File.ReadAllLines($"/proc/{pid}/maps"))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 6 && f[5] == file && ulong.Parse(f[2], NumberStyles.HexNumber) == 0)
            {
                return ulong.Parse(f[0].Split('-')[0], NumberStyles.HexNumber);
            }
        }

        throw new InvalidOperationException($"{file} not mapped at offset 0 in {pid}");
    }

    /// <summary>The path of the first mapped file in <paramref name="pid"/> whose base name starts with <paramref name="prefix"/>.</summary>
    public static string MappedFile(int pid, string prefix)
    {
        foreach (string line in File.ReadAllLines($"/proc/{pid}/maps"))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 6 && Path.GetFileName(f[5]).StartsWith(prefix, StringComparison.Ordinal))
            {
                return f[5];
            }
        }

        throw new InvalidOperationException($"{prefix}* not mapped in {pid}");
    }

    private static string? Build()
    {
        string dir = Path.Combine(Path.GetTempPath(), "orac-symbols-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        string src = Path.Combine(TestPaths.Data, "symbols", "sample.c");
        try
        {
            Run("gcc", "-O1", "-fPIE", "-pie", "-o", Path.Combine(dir, "sample-pie"), src);
            Run("gcc", "-O1", "-fno-pie", "-no-pie", "-o", Path.Combine(dir, "sample-nopie"), src);
            return dir;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
