using System.Diagnostics;
using System.Text;
using Orac.Model;

namespace Orac.Fuzz;

/// <summary>A finding: the input that crashed or hung a target, and what happened.</summary>
public sealed record FuzzFinding(byte[] Input, string What)
{
    /// <summary>The input as a C# byte-array literal, ready to paste into a regression test.</summary>
    public string AsCSharpLiteral()
    {
        var sb = new StringBuilder("new byte[] { ");
        for (int i = 0; i < Input.Length; i++)
        {
            sb.Append("0x").Append(Input[i].ToString("x2")).Append(i + 1 < Input.Length ? ", " : " ");
        }

        return sb.Append('}').ToString();
    }
}

/// <summary>Result of a fuzzing run.</summary>
public sealed record FuzzReport(string Target, long Executions, TimeSpan Elapsed, IReadOnlyList<FuzzFinding> Findings);

/// <summary>
/// A small deterministic mutation fuzzer for parsers: it mutates seed inputs (bit flips, interesting
/// bytes, insertions of format tokens, deletions, duplications, splices, truncations) and runs the
/// target on each. A target fails when it throws anything other than <see cref="OracException"/>
/// (anticipated user errors are fine) or when one input runs longer than the hang limit. Same seed,
/// same inputs: a finding reproduces. Coverage-guided fuzzing (AFL++/libFuzzer through SharpFuzz)
/// uses the same targets via the Orac.Fuzz program.
/// </summary>
public static class MutationFuzzer
{
    private static readonly byte[][] s_tokens =
    [
        "\n"u8.ToArray(), "\n\n"u8.ToArray(), ";"u8.ToArray(), " "u8.ToArray(), "\t"u8.ToArray(), "\r\n"u8.ToArray(),
        " 1\n"u8.ToArray(), " 99999999999999999999\n"u8.ToArray(), " 1.5\n"u8.ToArray(), "->"u8.ToArray(),
        " cycles: \n"u8.ToArray(), " cpu-clock:ppp: \n"u8.ToArray(), "\tffffffff81000000 func+0x10 ([kernel.kallsyms])\n"u8.ToArray(),
        "[unknown]"u8.ToArray(), " (/tmp/perf-1.map)"u8.ToArray(), "java 1/2 [000] 1.0: 1 cpu-clock: \n"u8.ToArray(),
        "<&>\"'"u8.ToArray(), [0xff, 0xfe], [0xc3, 0x28], [0], "("u8.ToArray(), ")"u8.ToArray(),
    ];

    /// <summary>Fuzzes <paramref name="target"/> for <paramref name="budget"/> (or <paramref name="maxExecutions"/>).</summary>
    public static FuzzReport Run(
        string name, Action<byte[]> target, IReadOnlyList<byte[]> seeds, TimeSpan budget,
        int randomSeed = 20261128, long maxExecutions = long.MaxValue, int maxLength = 1 << 16, TimeSpan? hangLimit = null)
    {
        TimeSpan hang = hangLimit ?? TimeSpan.FromSeconds(5);
        var rng = new Random(randomSeed);
        var corpus = new List<byte[]>(seeds.Count + 1) { Array.Empty<byte>() };
        corpus.AddRange(seeds);
        var findings = new List<FuzzFinding>();
        var watch = Stopwatch.StartNew();
        long execs = 0;

        // The target runs on its own thread so a hang is seen (and reported) instead of blocking the run.
        byte[]? pending = null;
        Exception? thrown = null;
        using var ready = new SemaphoreSlim(0);
        using var done = new SemaphoreSlim(0);
        bool stop = false;
        var worker = new Thread(() =>
        {
            while (true)
            {
                ready.Wait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                try
                {
                    target(pending!);
                    thrown = null;
                }
                catch (OracException)
                {
                    thrown = null;
                }
#pragma warning disable CA1031 // a fuzzer must catch every exception the target lets escape: each one is a finding
                catch (Exception e)
#pragma warning restore CA1031
                {
                    thrown = e;
                }

                done.Release();
            }
        }, 64 << 20) { IsBackground = true, Name = "fuzz-" + name };
        worker.Start();

        while (watch.Elapsed < budget && execs < maxExecutions)
        {
            byte[] input = execs < corpus.Count ? corpus[(int)execs] : Mutate(rng, corpus, maxLength);
            pending = input;
            ready.Release();
            if (!done.Wait(hang))
            {
                findings.Add(new FuzzFinding(input, $"hang: no result after {hang.TotalSeconds:0.#} s"));
                return new FuzzReport(name, execs, watch.Elapsed, findings); // the worker is stuck; leave it (background thread)
            }

            execs++;
            if (thrown is not null)
            {
                findings.Add(new FuzzFinding(input, thrown.GetType().Name + ": " + thrown.Message));
                if (findings.Count >= 10)
                {
                    break;
                }
            }
            else if (corpus.Count < 256 && rng.Next(64) == 0)
            {
                corpus.Add(input); // keep some variety to build on
            }
        }

        Volatile.Write(ref stop, true);
        ready.Release();
        worker.Join();
        return new FuzzReport(name, execs, watch.Elapsed, findings);
    }

    private static byte[] Mutate(Random rng, List<byte[]> corpus, int maxLength)
    {
        byte[] src = corpus[rng.Next(corpus.Count)];
        var data = new List<byte>(src);
        int steps = 1 + rng.Next(4);
        for (int s = 0; s < steps; s++)
        {
            switch (rng.Next(9))
            {
                case 0 when data.Count > 0:
                    {
                        int i = rng.Next(data.Count);
                        data[i] ^= (byte)(1 << rng.Next(8));
                        break;
                    }

                case 1 when data.Count > 0:
                    data[rng.Next(data.Count)] = (byte)rng.Next(256);
                    break;
                case 2:
                    data.InsertRange(rng.Next(data.Count + 1), s_tokens[rng.Next(s_tokens.Length)]);
                    break;
                case 3 when data.Count > 0:
                    {
                        int i = rng.Next(data.Count);
                        data.RemoveRange(i, Math.Min(data.Count - i, 1 + rng.Next(16)));
                        break;
                    }

                case 4 when data.Count > 0:
                    {
                        int i = rng.Next(data.Count);
                        int n = Math.Min(data.Count - i, 1 + rng.Next(64));
                        data.InsertRange(rng.Next(data.Count + 1), data.GetRange(i, n));
                        break;
                    }

                case 5:
                    {
                        byte[] other = corpus[rng.Next(corpus.Count)];
                        if (other.Length > 0)
                        {
                            int i = rng.Next(other.Length);
                            int n = Math.Min(other.Length - i, 1 + rng.Next(256));
                            data.InsertRange(rng.Next(data.Count + 1), new ArraySegment<byte>(other, i, n));
                        }

                        break;
                    }

                case 6 when data.Count > 0:
                    {
                        int keep = rng.Next(data.Count);
                        data.RemoveRange(keep, data.Count - keep);
                        break;
                    }

                case 7:
                    {
                        byte[] digits = Encoding.ASCII.GetBytes(rng.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
                        data.InsertRange(rng.Next(data.Count + 1), digits);
                        break;
                    }

                default:
                    {
                        int n = 1 + rng.Next(8);
                        for (int k = 0; k < n; k++)
                        {
                            data.Insert(rng.Next(data.Count + 1), (byte)rng.Next(256));
                        }

                        break;
                    }
            }
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return data.ToArray();
    }

    /// <summary>Loads every file under <paramref name="dir"/> (recursively) as a seed, largest first capped at 64 KiB each.</summary>
    public static List<byte[]> LoadSeeds(string dir, int maxBytes = 1 << 16)
    {
        var seeds = new List<byte[]>();
        if (!Directory.Exists(dir))
        {
            return seeds;
        }

        foreach (string f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            byte[] b = File.ReadAllBytes(f);
            seeds.Add(b.Length > maxBytes ? b[..maxBytes] : b);
        }

        return seeds;
    }
}
