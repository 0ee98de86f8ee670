using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Orac.Bench.FleetSim;

/// <summary>
/// Fleet simulator: N agents uploading a realistic CPU profile every interval to a running `orac serve`
/// through the Pyroscope-compatible /ingest route, or seeding backdated history, or timing flame-graph
/// queries. Reads stacks from a real recording (folded), so frame names, depths and sharing between
/// stacks are those of real programs. Prints one TSV line per measured figure on stdout.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: fleetsim ingest|seed|query --server URL --token T --source FOLDED [options]");
            Console.Error.WriteLine("       fleetsim agents --server URL --token T --agents N --duration S [--task-every S (0: none)] [--task-duration MS] [--task-deadline MS] [--uploads 0|1] [--pid SERVER_PID]");
            return 2;
        }

        var o = Options.Parse(args.Skip(1).ToArray());
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(o.Server),
            Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", o.Token);
        return args[0] switch
        {
            "ingest" => await Ingest(http, o),
            "seed" => await Seed(http, o),
            "query" => await Query(http, o),
            "agents" => await AgentsMode.Run(http, o),
            _ => 2,
        };
    }

    /// <summary>Real-time load: every agent uploads once per interval, spread evenly; latency per request.</summary>
    private static async Task<int> Ingest(HttpClient http, Options o)
    {
        var fleet = Fleet.Create(o);
        var latencies = new ConcurrentBag<double>();
        int errors = 0;
        long bytes = 0;
        var inflight = new SemaphoreSlim(o.MaxInflight);
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        long intervalMs = o.IntervalSeconds * 1000L;
        long total = (long)o.Agents * (o.DurationSeconds / o.IntervalSeconds);
        long startUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (long k = 0; k < total; k++)
        {
            int agent = (int)(k % o.Agents);
            long round = k / o.Agents;
            long dueMs = (round * intervalMs) + (agent * intervalMs / o.Agents);
            long wait = dueMs - clock.ElapsedMilliseconds;
            if (wait > 0)
            {
                await Task.Delay((int)wait);
            }

            await inflight.WaitAsync();
            long from = startUnix + (round * o.IntervalSeconds);
            var body = fleet.Body(agent, (int)round);
            Interlocked.Add(ref bytes, body.Length);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    var t0 = Stopwatch.GetTimestamp();
                    using var content = new ByteArrayContent(body);
                    using var r = await http.PostAsync(fleet.IngestUrl(agent, from, from + o.IntervalSeconds), content);
                    await r.Content.ReadAsByteArrayAsync();
                    latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    if (r.StatusCode != HttpStatusCode.OK)
                    {
                        if (Interlocked.Increment(ref errors) <= 3)
                        {
                            Console.Error.WriteLine($"fleetsim: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    if (Interlocked.Increment(ref errors) <= 3)
                    {
                        Console.Error.WriteLine($"fleetsim: {e.Message}");
                    }
                }
                finally
                {
                    inflight.Release();
                }
            }));
        }

        await Task.WhenAll(tasks);
        double secs = clock.Elapsed.TotalSeconds;
        var sorted = latencies.OrderBy(x => x).ToArray();
        Emit("agents", o.Agents, "count");
        Emit("stacks_per_profile", fleet.StacksPerProfile, "count");
        Emit("uploads", sorted.Length, "count");
        Emit("upload_errors", errors, "count");
        Emit("profiles_per_s", sorted.Length / secs, "1/s");
        Emit("ingest_mb_per_s", bytes / secs / 1e6, "MB/s");
        Emit("latency_p50_ms", Pct(sorted, 0.50), "ms");
        Emit("latency_p99_ms", Pct(sorted, 0.99), "ms");
        Emit("latency_max_ms", sorted.Length > 0 ? sorted[^1] : 0, "ms");
        return errors == 0 ? 0 : 1;
    }

    /// <summary>Backdated history: one upload per host per step for the last N hours, as fast as the server takes it.</summary>
    private static async Task<int> Seed(HttpClient http, Options o)
    {
        var fleet = Fleet.Create(o);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long start = now - (o.Hours * 3600L);
        long steps = o.Hours * 3600L / o.StepSeconds;
        var clock = Stopwatch.StartNew();
        int errors = 0;
        long n = 0;
        await Parallel.ForAsync(0L, steps * o.Agents, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (k, ct) =>
        {
            int agent = (int)(k % o.Agents);
            long step = k / o.Agents;
            long from = start + (step * o.StepSeconds);
            using var content = new ByteArrayContent(fleet.Body(agent, (int)step));
            using var r = await http.PostAsync(fleet.IngestUrl(agent, from, from + o.StepSeconds), content, ct);
            if (r.StatusCode != HttpStatusCode.OK && Interlocked.Increment(ref errors) <= 3)
            {
                Console.Error.WriteLine($"fleetsim: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
            }

            Interlocked.Increment(ref n);
        });
        Emit("seed_uploads", n, "count");
        Emit("seed_hours", o.Hours, "h");
        Emit("seed_seconds", clock.Elapsed.TotalSeconds, "s");
        return errors == 0 ? 0 : 1;
    }

    /// <summary>Times the merged flame graph of one service over the range, median of runs.</summary>
    private static async Task<int> Query(HttpClient http, Options o)
    {
        var times = new List<double>();
        long total = 0;
        for (int i = 0; i < o.Runs; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            string url = $"/api/v1/query?query={Uri.EscapeDataString($"{{service_name=\"{o.QueryService}\"}}")}&from=now-{o.Range}&until=now";
            using var r = await http.GetAsync(url);
            string text = await r.Content.ReadAsStringAsync();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                Console.Error.WriteLine($"fleetsim: query {(int)r.StatusCode} {text}");
                return 1;
            }

            int at = text.IndexOf("\"total\":", StringComparison.Ordinal);
            total = at < 0 ? 0 : long.Parse(text.AsSpan(at + 8, text.IndexOfAny([',', '}'], at + 8) - at - 8).Trim(), CultureInfo.InvariantCulture);
        }

        times.Sort();
        Emit($"query_{o.Range}_median_ms", times[times.Count / 2], "ms");
        Emit($"query_{o.Range}_total", total, "(profile type unit; CPU ns for fleetsim uploads)");
        return total > 0 ? 0 : 1;
    }

    internal static double Pct(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    internal static void Emit(string name, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{value:0.###}\t{unit}"));
}

/// <summary>Command-line options shared by the modes.</summary>
internal sealed record Options
{
    public string Server { get; init; } = "http://127.0.0.1:4040";
    public string Token { get; init; } = "";
    public string Source { get; init; } = "";
    public int Agents { get; init; } = 100;
    public int Services { get; init; } = 10;
    public int Stacks { get; init; } = 2000;
    public int IntervalSeconds { get; init; } = 10;
    public int DurationSeconds { get; init; } = 60;
    public int MaxInflight { get; init; } = 1000;
    public int Hours { get; init; } = 24;
    public int StepSeconds { get; init; } = 3600;
    public string QueryService { get; init; } = "svc-0";
    public string Range { get; init; } = "24h";
    public int Runs { get; init; } = 5;
    public string Format { get; init; } = "pprof";
    public int TaskEverySeconds { get; init; } = 30;
    public int TaskDurationMs { get; init; } = 2000;
    public int TaskDeadlineMs { get; init; } = 15_000;
    public bool Uploads { get; init; }
    public int Pid { get; init; }

    public static Options Parse(string[] a)
    {
        var o = new Options();
        for (int i = 0; i + 1 < a.Length; i += 2)
        {
            string v = a[i + 1];
            int n() => int.Parse(v, CultureInfo.InvariantCulture);
            o = a[i] switch
            {
                "--server" => o with { Server = v },
                "--token" => o with { Token = v },
                "--source" => o with { Source = v },
                "--agents" => o with { Agents = n() },
                "--services" => o with { Services = n() },
                "--stacks" => o with { Stacks = n() },
                "--interval" => o with { IntervalSeconds = n() },
                "--duration" => o with { DurationSeconds = n() },
                "--max-inflight" => o with { MaxInflight = n() },
                "--hours" => o with { Hours = n() },
                "--step" => o with { StepSeconds = n() },
                "--service" => o with { QueryService = v },
                "--range" => o with { Range = v },
                "--runs" => o with { Runs = n() },
                "--task-every" => o with { TaskEverySeconds = n() },
                "--task-duration" => o with { TaskDurationMs = n() },
                "--task-deadline" => o with { TaskDeadlineMs = n() },
                "--uploads" => o with { Uploads = n() != 0 },
                "--pid" => o with { Pid = n() },
                "--format" => o with { Format = v is "pprof" or "folded" ? v : throw new ArgumentException("--format pprof|folded") },
                _ => throw new ArgumentException($"unknown option {a[i]}"),
            };
        }

        return o;
    }
}

/// <summary>
/// The simulated fleet: services own pools of real stacks (from the source recording); each host of a
/// service profiles a fixed subset of its service's pool, so hosts share most stacks as real fleets do.
/// Bodies are pre-rendered per (service, variant) to keep the simulator's own CPU use small.
/// </summary>
internal sealed class Fleet
{
    private const int Variants = 4;
    private readonly Options _o;
    private readonly byte[][] _bodies; // [service * Variants + variant]

    private Fleet(Options o, byte[][] bodies, int stacksPerProfile)
    {
        _o = o;
        _bodies = bodies;
        StacksPerProfile = stacksPerProfile;
    }

    public int StacksPerProfile { get; }

    public static Fleet Create(Options o)
    {
        var source = File.ReadLines(o.Source)
            .Select(l => { int sp = l.LastIndexOf(' '); return sp > 0 ? l[..sp] : ""; })
            .Where(s => s.Length > 0).Distinct().ToArray();
        if (source.Length == 0)
        {
            throw new InvalidOperationException($"no stacks in {o.Source}");
        }

        var bodies = new byte[o.Services * Variants][];
        int per = 0;
        for (int s = 0; s < o.Services; s++)
        {
            var rng = new Random(1000 + s);
            // A service's pool: the source's stacks, each under a service-specific root frame when the
            // source has fewer distinct stacks than a profile needs (workers of the same binary).
            var pool = new List<string>(o.Stacks);
            for (int w = 0; pool.Count < o.Stacks; w++)
            {
                foreach (int i in Enumerable.Range(0, source.Length).OrderBy(_ => rng.Next()))
                {
                    if (pool.Count == o.Stacks)
                    {
                        break;
                    }

                    pool.Add(w == 0 ? source[i] : $"worker-{w};{source[i]}");
                }
            }

            per = pool.Count;
            for (int v = 0; v < Variants; v++)
            {
                var sb = new StringBuilder();
                foreach (string stack in pool)
                {
                    // Skewed counts: a few hot stacks, a long tail of single samples.
                    int count = 1 + (int)Math.Floor(Math.Pow(rng.NextDouble(), 8) * 200);
                    sb.Append(stack).Append(' ').Append(count).Append('\n');
                }

                byte[] folded = Encoding.UTF8.GetBytes(sb.ToString());
                bodies[(s * Variants) + v] = o.Format == "folded" ? folded : ToPprof(folded);
            }
        }

        return new Fleet(o, bodies, per);
    }

    /// <summary>The same stacks and counts as gzip-compressed pprof, as Pyroscope's agents send them (samples/count, 19 Hz period).</summary>
    private static byte[] ToPprof(byte[] folded)
    {
        var p = Orac.Formats.Folded.FoldedReader.Read(new MemoryStream(folded), "fleet", new Orac.Model.ParseWarnings());
        using var ms = new MemoryStream();
        Orac.Formats.Pprof.PprofWriter.Write(p, ms, gzip: true);
        return ms.ToArray();
    }

    public byte[] Body(int agent, int round) => _bodies[((agent % _o.Services) * Variants) + ((agent + round) % Variants)];

    public string IngestUrl(int agent, long from, long until) =>
        string.Create(CultureInfo.InvariantCulture,
            $"/ingest?name={Uri.EscapeDataString($"svc-{agent % _o.Services}.cpu{{host=h-{agent:D4},region=r{agent % 3}}}")}&from={from}&until={until}&format={_o.Format}&sampleRate=19&spyName=fleetsim");
}
