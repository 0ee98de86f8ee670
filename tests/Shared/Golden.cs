using System.Text;

namespace Orac.Tests.Shared;

/// <summary>
/// Golden-file assertions: compares output with an expected file kept in the repo. On a mismatch
/// (or a missing expected file) it writes <c>NAME.received.EXT</c> beside the expected file and
/// fails with a message that says how to accept it.
/// </summary>
public static class Golden
{
    /// <summary>Asserts that <paramref name="actual"/> equals the bytes of <paramref name="expectedPath"/>.</summary>
    public static void AssertMatches(string expectedPath, ReadOnlySpan<byte> actual)
    {
        string received = ReceivedPath(expectedPath);
        if (File.Exists(expectedPath) && File.ReadAllBytes(expectedPath).AsSpan().SequenceEqual(actual))
        {
            if (File.Exists(received))
            {
                File.Delete(received);
            }

            return;
        }

        File.WriteAllBytes(received, actual.ToArray());
        string why = File.Exists(expectedPath) ? "differs from" : "has no expected file";
        throw new Xunit.Sdk.XunitException(
            $"golden: output {why} {Rel(expectedPath)}; received written to {Rel(received)}.\n" +
            $"Review it, then accept with: cp {Rel(received)} {Rel(expectedPath)}\n" +
            FirstDifference(expectedPath, actual));
    }

    /// <summary>Asserts that <paramref name="actual"/> (UTF-8) equals the expected file.</summary>
    public static void AssertMatches(string expectedPath, string actual) => AssertMatches(expectedPath, Encoding.UTF8.GetBytes(actual));

    /// <summary><c>dir/name.expected.txt</c> → <c>dir/name.received.txt</c>; otherwise <c>.received</c> goes before the extension.</summary>
    public static string ReceivedPath(string expectedPath)
    {
        string dir = Path.GetDirectoryName(expectedPath) ?? ".";
        string file = Path.GetFileName(expectedPath);
        if (file.Contains(".expected.", StringComparison.Ordinal))
        {
            return Path.Combine(dir, file.Replace(".expected.", ".received.", StringComparison.Ordinal));
        }

        string ext = Path.GetExtension(file);
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(file) + ".received" + ext);
    }

    private static string Rel(string path) => Path.GetRelativePath(TestPaths.RepoRoot, path);

    private static string FirstDifference(string expectedPath, ReadOnlySpan<byte> actual)
    {
        if (!File.Exists(expectedPath))
        {
            return "";
        }

        string[] exp = File.ReadAllText(expectedPath).Split('\n');
        string[] got = Encoding.UTF8.GetString(actual).Split('\n');
        for (int i = 0; i < Math.Max(exp.Length, got.Length); i++)
        {
            string e = i < exp.Length ? exp[i] : "<end>";
            string g = i < got.Length ? got[i] : "<end>";
            if (e != g)
            {
                return $"first difference at line {i + 1}:\n  expected: {e}\n  received: {g}";
            }
        }

        return "";
    }
}
