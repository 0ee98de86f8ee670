using System.IO.Compression;
using Orac.Formats.Pprof;
using Orac.Model;
using Orac.Tests.Shared;
using Xunit.Abstractions;

namespace Orac.Formats.Tests;

/// <summary>
/// Compatibility with real pprof files from the shared corpus (google/pprof and parca test data).
/// Gzip-compressed files are protobuf profiles and must load, with totals equal to the sum of the
/// sample values (summed here by an independent minimal decoder); the uncompressed files there are
/// legacy text/binary formats and must give a clear OracException.
/// </summary>
public class PprofCorpusTests(ITestOutputHelper output)
{
    private static List<string> Files(string corpus)
    {
        var files = new List<string>();
        foreach (string dir in new[] { "pprof", "parca" })
        {
            string root = Path.Combine(corpus, dir);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (string f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                string n = Path.GetFileName(f);
                if (f.Contains("/testdata/", StringComparison.Ordinal) && !n.EndsWith(".string", StringComparison.Ordinal) && !n.EndsWith(".txt", StringComparison.Ordinal)
                    && !n.EndsWith(".svg", StringComparison.Ordinal) && !n.EndsWith(".html", StringComparison.Ordinal))
                {
                    files.Add(f);
                }
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    [SkippableFact]
    public void CorpusPprofFiles_LoadWithExactTotals_OrFailClearly()
    {
        string? corpus = TestPaths.Corpus;
        Skip.If(corpus is null, TestPaths.CorpusMissing);
        List<string> files = Files(corpus!);
        int loaded = 0, rejected = 0;
        foreach (string f in files)
        {
            byte[] bytes = File.ReadAllBytes(f);
            bool gzip = bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
            string rel = Path.GetRelativePath(corpus!, f);
            try
            {
                Profile p = PprofReader.Read(new MemoryStream(bytes), rel);
                long[] expected = SumValues(gzip ? Gunzip(bytes) : bytes, p.SampleTypes.Count);
                for (int t = 0; t < p.SampleTypes.Count; t++)
                {
                    Assert.True(expected[t] == p.Total(t), $"{rel}: column {t} ({p.SampleTypes[t]}) total {p.Total(t)}, sample values sum to {expected[t]}");
                }

                if (rel.EndsWith("profile-with-labels.pb.gz", StringComparison.Ordinal))
                {
                    Assert.True(p.LabelSets.Count > 1, $"{rel}: no label sets read");
                }

                // And back through the writer: same rows, same totals.
                var ms = new MemoryStream();
                PprofWriter.Write(p, ms);
                Profile back = PprofReader.Read(ms.ToArray(), rel + " (rewritten)");
                Assert.Equal(PprofReaderTests.Dump(p), PprofReaderTests.Dump(back));
                loaded++;
                output.WriteLine($"loaded   {rel}: {p.SampleCount} rows, {string.Join(", ", p.SampleTypes)}");
            }
            catch (OracException e)
            {
                Assert.False(gzip, $"{rel} is a gzip-compressed pprof profile and must load: {e.Message}");
                Assert.StartsWith(rel + ": pprof: ", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
                rejected++;
                output.WriteLine($"rejected {rel}: {e.Message}");
            }
        }

        output.WriteLine($"{loaded} loaded, {rejected} rejected with a clear error");
        Assert.True(loaded >= 15, $"only {loaded} corpus pprof files loaded");
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Sums Profile.sample (2) .value (2) per column, independently of the reader.</summary>
    private static long[] SumValues(byte[] data, int width)
    {
        var sums = new long[width];
        int pos = 0;
        while (pos < data.Length)
        {
            ulong tag = Varint(data, ref pos);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            if (wire == 0)
            {
                Varint(data, ref pos);
                continue;
            }

            int len = (int)Varint(data, ref pos);
            if (field == 2)
            {
                int end = pos + len, col = 0;
                while (pos < end)
                {
                    ulong t = Varint(data, ref pos);
                    if ((t & 7) == 0)
                    {
                        ulong v = Varint(data, ref pos);
                        if (t >> 3 == 2)
                        {
                            sums[col++] += (long)v;
                        }

                        continue;
                    }

                    int l = (int)Varint(data, ref pos);
                    if (t >> 3 == 2)
                    {
                        int e = pos + l;
                        while (pos < e)
                        {
                            sums[col++] += (long)Varint(data, ref pos);
                        }
                    }
                    else
                    {
                        pos += l;
                    }
                }
            }
            else
            {
                pos += len;
            }
        }

        return sums;
    }

    private static ulong Varint(byte[] d, ref int pos)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = d[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return v;
            }
        }
    }
}
