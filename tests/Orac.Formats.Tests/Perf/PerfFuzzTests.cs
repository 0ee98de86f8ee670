using System.Diagnostics;
using Orac.Formats.Perf;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Perf;

/// <summary>
/// Deterministic in-process mutation fuzzing of <see cref="PerfScriptFuzz"/> for about five
/// seconds, from the behaviour inputs in tests/data/perf, plus the inputs it has found.
/// </summary>
public class PerfFuzzTests
{
    private static readonly byte[][] s_tokens =
    [
        "\n"u8.ToArray(), "\n\n"u8.ToArray(), " ("u8.ToArray(), ")"u8.ToArray(), "->"u8.ToArray(), "+0x1f"u8.ToArray(),
        "[unknown]"u8.ToArray(), ": "u8.ToArray(), " cycles: "u8.ToArray(), "\t"u8.ToArray(), "/"u8.ToArray(), "0"u8.ToArray(),
        "java"u8.ToArray(), "(anonymous namespace)"u8.ToArray(), ".(*T)."u8.ToArray(), "/tmp/perf-1.map"u8.ToArray(), "#"u8.ToArray(),
    ];

    [Fact]
    public void Mutations_NeverCrashOrDisagree() => PerfTestSupport.WithTimeout(120, () =>
    {
        string dir = Path.Combine(TestPaths.Data, "perf");
        var seeds = new List<byte[]>();
        foreach (string f in Directory.GetFiles(dir, "*.txt").OrderBy(f => f, StringComparer.Ordinal))
        {
            seeds.Add(File.ReadAllBytes(f));
        }

        var rng = new Random(20261128);
        var clock = Stopwatch.StartNew();
        int runs = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(5) || runs < 50)
        {
            byte[] input = Mutate(seeds[rng.Next(seeds.Count)], seeds[rng.Next(seeds.Count)], rng);
            try
            {
                PerfScriptFuzz.Run(input);
            }
            catch (Exception e)
            {
                Assert.Fail($"fuzz input #{runs} failed: {e}\ninput (base64): {Convert.ToBase64String(input)}");
            }

            runs++;
        }
    });

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\n\n\n")]
    [InlineData("a")]
    [InlineData("ab 1 ")]
    [InlineData("ab 1 x: \n\n")]
    [InlineData("ab 1 : y:\n\t1 ( )\n\n")]
    [InlineData("ab 1 : y:\n\t1 x->->y-> (m)\n\t1 -> (m)\n\t1 +0x1 (m)\n\n")]
    [InlineData("ab 1/0 2: 0 x:\n\t_ _ ( (m))\n\n")]
    [InlineData("#ab 1 2: 3 x:\n\t1 f (m)\n\n")]
    [InlineData("ab 1 2: 99999999999999999999999 x:\n\t1 f (m)\n\n")]
    [InlineData("ab 1 2: 3 x:\n\t1 [unknown] (/a/b/)\n\t1 [unknown] ()\n\n")]
    [InlineData("ab\t1\t2: 3 x:\n\t\t1 f (m)\r\n\n")]
    public void Regressions(string input) => PerfTestSupport.WithTimeout(30, () => PerfScriptFuzz.Run(System.Text.Encoding.Latin1.GetBytes(input)));

    private static byte[] Mutate(byte[] seed, byte[] other, Random rng)
    {
        var data = new List<byte>(seed);
        int steps = 1 + rng.Next(8);
        for (int s = 0; s < steps; s++)
        {
            int at = data.Count == 0 ? 0 : rng.Next(data.Count);
            switch (rng.Next(7))
            {
                case 0 when data.Count > 0:
                    data[at] = (byte)rng.Next(256);
                    break;
                case 1 when data.Count > 0:
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + rng.Next(16)));
                    break;
                case 2:
                    data.InsertRange(at, s_tokens[rng.Next(s_tokens.Length)]);
                    break;
                case 3 when other.Length > 0:
                    int from = rng.Next(other.Length);
                    data.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + rng.Next(64))).ToArray());
                    break;
                case 4 when data.Count > 0:
                    data.RemoveRange(at, data.Count - at); // truncate
                    break;
                case 5 when data.Count > 0:
                    data[at] = (byte)"\n\t ():;/-0123456789"[rng.Next(19)];
                    break;
                default:
                    data.Insert(at, (byte)rng.Next(256));
                    break;
            }
        }

        return [.. data];
    }
}
