using System.Text;
using Orac.Model;
using Orac.Model.Query;
using Orac.Storage;

namespace Orac.Storage.Tests;

/// <summary>Seeded random ingests and the queries both stores must answer identically.</summary>
internal static class StoreTestData
{
    /// <summary>An hour boundary; test data lives in the half hour after it.</summary>
    public const long T0 = 1_700_000_000L * 1_000_000_000L / StorageOptions.HourNs * StorageOptions.HourNs;

    public static readonly string[] Orgs = ["o1", "o2"];
    public static readonly ProfileTypeId[] Types = [ProfileTypeId.ProcessCpu, ProfileTypeId.ProcessCpuSamples];
    private static readonly string[] FrameNames = ["main", "run", "parse", "read", "write", "gc", "alloc", "hash", "sort", "lock", "a;b", "ünïcode"];
    private static readonly string[] Modules = ["", "libc.so", "app"];

    /// <summary>A temporary directory deleted on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orac-storage-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    public static Profile RandomProfile(Random rng, int stacks, bool sampleLabels)
    {
        var b = new ProfileBuilder(SampleType.Samples, new SampleType("cpu", "nanoseconds"));
        Span<long> values = stackalloc long[2];
        var sets = new[]
        {
            LabelSetId.None,
            b.Labels([new Label(b.Intern("thread"), b.Intern("t1"))]),
            b.Labels([new Label(b.Intern("thread"), b.Intern("t2")), new Label(b.Intern("span"), b.Intern("x"))]),
        };
        for (int i = 0; i < stacks; i++)
        {
            int depth = rng.Next(1, 7);
            var s = StackId.Root;
            for (int d = 0; d < depth; d++)
            {
                s = b.Push(s, b.Frame(b.Intern(FrameNames[rng.Next(FrameNames.Length)]), b.Intern(Modules[rng.Next(Modules.Length)])));
            }

            values[0] = rng.Next(10) == 0 ? 0 : rng.Next(1, 1000);
            values[1] = values[0] * 10_000_000;
            b.Add(s, values, sampleLabels ? sets[rng.Next(sets.Length)] : LabelSetId.None);
        }

        return b.Build();
    }

    public static IngestItem RandomItem(Random rng, long startNs, long spanNs = 30 * StorageOptions.MinuteNs)
    {
        var labels = SeriesLabels.Create([
            new("service_name", rng.Next(2) == 0 ? "api" : "db"),
            new("host", "h" + rng.Next(1, 4)),
        ]);
        long t = startNs + (long)(rng.NextDouble() * spanNs);
        int type = rng.Next(2);
        return new IngestItem(Orgs[rng.Next(Orgs.Length)], Types[type], labels, t, t + 10_000_000_000L,
            RandomProfile(rng, rng.Next(1, 25), rng.Next(3) == 0), type == 0 ? 1 : 0);
    }

    public static List<IngestItem[]> RandomBatches(int seed, int batches, long startNs = T0, long spanNs = 30 * StorageOptions.MinuteNs)
    {
        var rng = new Random(seed);
        var result = new List<IngestItem[]>();
        for (int i = 0; i < batches; i++)
        {
            var items = new IngestItem[rng.Next(1, 4)];
            for (int j = 0; j < items.Length; j++)
            {
                items[j] = RandomItem(rng, startNs, spanNs);
            }

            result.Add(items);
        }

        return result;
    }

    /// <summary>Sorted "frame[module];…  value" lines: the profile's content independent of ids and order.</summary>
    public static string Folded(Profile p)
    {
        var lines = new List<string>();
        for (int r = 0; r < p.SampleCount; r++)
        {
            var sb = new StringBuilder();
            foreach (var f in p.Stacks.GetFrames(p.SampleStacks[r]))
            {
                sb.Append(p.FrameName(f)).Append('[').Append(p.Strings.GetString(p.Frames.Module(f))).Append("];");
            }

            lines.Add(sb.Append(' ').Append(p.Value(r)).ToString());
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines) + $"\n# {p.SampleTypes[0]} {p.Metadata.StartNs} {p.Metadata.EndNs} {p.Metadata.Org}";
    }

    private static readonly Selector[] Selectors =
    [
        Selector.All,
        Selector.Parse("{service_name=\"api\"}"),
        Selector.Parse("{host=~\"h[12]\"}"),
        Selector.Parse("{host!=\"h1\", service_name=\"db\"}"),
        Selector.Parse("{thread=\"t1\"}"),
        Selector.Parse("{thread=\"\"}"),
    ];

    /// <summary>Runs every kind of query over random ranges on both stores and asserts identical answers.</summary>
    public static void AssertSameAnswers(IProfileStore expected, IProfileStore actual, int seed, int queries = 40, bool requireData = true, long startNs = T0, long spanNs = 31 * StorageOptions.MinuteNs)
    {
        var rng = new Random(seed);
        int nonEmpty = 0;
        for (int i = 0; i < queries; i++)
        {
            long a = startNs - Buckets.RawNs + (long)(rng.NextDouble() * spanNs);
            long b = i % 4 == 0 ? startNs + spanNs + StorageOptions.MinuteNs : a + (long)(rng.NextDouble() * spanNs);
            if (i % 5 == 0)
            {
                a = startNs - StorageOptions.HourNs;
            }

            IReadOnlyList<string> orgs = (i % 3) switch { 0 => ["o1"], 1 => ["o2"], _ => ["o1", "o2"] };
            var q = new ProfileQuery(orgs, Types[i % 2], Selectors[i % Selectors.Length], a, b);
            string what = $"query {i}: orgs {string.Join(',', orgs)} {q.Type} {q.Selector} [{a - startNs}, {b - startNs}) ns after T0";

            var selected = expected.Select(q);
            nonEmpty += selected.SampleCount > 0 ? 1 : 0;
            Assert.True(Folded(selected) == Folded(actual.Select(q)), "Select differs, " + what);

            // "thread" is a sample label only some series have: the others group under "".
            string groupBy = i % 2 == 0 ? "host" : "thread";
            var ge = expected.SelectGrouped(q, groupBy);
            var ga = actual.SelectGrouped(q, groupBy);
            Assert.Equal(ge.Keys.Order(StringComparer.Ordinal), ga.Keys.Order(StringComparer.Ordinal));
            foreach (var (k, p) in ge)
            {
                Assert.True(Folded(p) == Folded(ga[k]), $"SelectGrouped({groupBy})[{k}] differs, " + what);
            }

            long step = (i % 3) switch { 0 => 10_000_000_000L, 1 => StorageOptions.MinuteNs, _ => 7 * StorageOptions.MinuteNs };
            string? function = (i % 4) switch { 0 => null, 1 => "parse", 2 => "ünïcode", _ => "nosuchframe" };
            Assert.True(expected.Series(q, step, function).SequenceEqual(actual.Series(q, step, function)), $"Series(step {step}, {function}) differs, " + what);

            Assert.Equal(expected.Types(orgs, a, b), actual.Types(orgs, a, b));
            Assert.Equal(expected.Labels(q), actual.Labels(q));
            Assert.Equal(expected.Labels(q, "host"), actual.Labels(q, "host"));
            Assert.Equal(expected.Labels(q, "thread"), actual.Labels(q, "thread"));
        }

        // The comparison means something only if most queries found data.
        Assert.True(!requireData || nonEmpty >= queries / 3, $"only {nonEmpty} of {queries} queries selected anything");
    }

    public static long Total(IProfileStore store, ProfileTypeId type, long startNs, long endNs) =>
        store.Select(new ProfileQuery(Orgs, type, Selector.All, startNs, endNs)).Total();

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(from, f);
            if (rel == "lock")
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, rel))!);
            using var src = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var dst = File.Create(Path.Combine(to, rel));
            src.CopyTo(dst);
        }
    }
}
