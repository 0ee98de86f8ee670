namespace Orac.Tests.Shared;

/// <summary>Where the repo, the committed test data and the shared corpus are, seen from a test run.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(() =>
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Orac.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Orac.slnx not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding Orac.slnx).</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>tests/data under the repo.</summary>
    public static string Data => Path.Combine(RepoRoot, "tests", "data");

    /// <summary>
    /// The shared corpus (ORAC_CORPUS, else ../shared/corpus beside the repo), or null when absent:
    /// corpus tests then skip and say so.
    /// </summary>
    public static string? Corpus
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("ORAC_CORPUS");
            if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
            {
                return env;
            }

            string p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus"));
            return Directory.Exists(p) ? p : null;
        }
    }

    /// <summary>The message corpus tests skip with.</summary>
    public const string CorpusMissing = "SKIPPED: ../shared/corpus not found (set ORAC_CORPUS to run the compatibility suite)";

    /// <summary>The built orac binary (Release), which test.sh builds before the tests run.</summary>
    public static string OracBinary => Path.Combine(RepoRoot, "artifacts", "bin", "Orac.Cli", "release_linux-x64", "orac");

    /// <summary>
    /// The binary <c>./orac</c> runs (Native AOT, or ReadyToRun without a C toolchain), which test.sh
    /// builds by running <c>./orac version</c> before the tests.
    /// </summary>
    public static string PublishedBinary => Path.Combine(RepoRoot, "artifacts", "publish", "orac", "orac");
}
