using System.Diagnostics;
using Orac.Model;
using Orac.Model.Query;
using Orac.Storage;
using static Orac.Storage.Tests.StoreTestData;

namespace Orac.Storage.Tests;

/// <summary>
/// Durability against a real process kill: a child process ingests while flushing every 100 ms, prints each
/// acknowledged call, and is killed with SIGKILL; the reopened store must hold every acknowledged call, each whole.
/// </summary>
public sealed class KillTests
{
    private const int StacksPerCall = 40;

    private static readonly StorageOptions HelperOptions = new()
    {
        NowNs = () => T0 + (30 * StorageOptions.MinuteNs),
        FlushInterval = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Call i: one series (host hI), 40 stacks of value 1 each.</summary>
    private static IngestItem[] Call(int i)
    {
        var b = new ProfileBuilder(SampleType.Samples);
        for (int s = 0; s < StacksPerCall; s++)
        {
            b.Add(b.Stack([b.Frame("main"), b.Frame("work" + (s % 7)), b.Frame("leaf" + s)]), 1);
        }

        var labels = SeriesLabels.Create([new("service_name", "kill"), new("host", "h" + i)]);
        long t = T0 + ((i % 100) * Buckets.RawNs);
        return [new IngestItem("o1", ProfileTypeId.ProcessCpuSamples, labels, t, t + Buckets.RawNs, b.Build())];
    }

    /// <summary>The child: ingest calls 0, 1, 2, … forever, printing "acked i" after each returns.</summary>
    internal static async Task RunHelperAsync(string dir)
    {
        var store = TieredProfileStore.Open(dir, HelperOptions);
        for (int i = 0; ; i++)
        {
            await store.IngestAsync(Call(i));
            Console.Out.WriteLine($"acked {i}");
            Console.Out.Flush();
        }
    }

    [Fact]
    public async Task Kill9_DuringIngestsAndFlushes_LosesNothingAcknowledged()
    {
        using var dir = new TempDir();
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(KillTests).Assembly.Location);
        psi.ArgumentList.Add("kill-helper");
        psi.ArgumentList.Add(dir.Path);
        int lastAck = -1;
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new Lock();
        using (var child = new Process { StartInfo = psi })
        {
            child.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && line.StartsWith("acked ", StringComparison.Ordinal))
                {
                    int n = int.Parse(line["acked ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                    lock (gate)
                    {
                        lastAck = Math.Max(lastAck, n);
                    }

                    if (n >= 300)
                    {
                        enough.TrySetResult();
                    }
                }
            };
            child.ErrorDataReceived += (_, _) => { };
            child.Start();
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            await enough.Task.WaitAsync(TimeSpan.FromMinutes(2));
            child.Kill(); // SIGKILL on Unix
            await child.WaitForExitAsync();
            child.WaitForExit(); // drains the output events: lines written before the kill were acknowledged too
        }

        await using var store = TieredProfileStore.Open(dir.Path, HelperOptions with { FlushInterval = TimeSpan.FromHours(1) });
        var all = new ProfileQuery(["o1"], ProfileTypeId.ProcessCpuSamples, Selector.All, long.MinValue, long.MaxValue);
        var hosts = store.Labels(all, "host").Select(h => int.Parse(h[1..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();

        // Every acknowledged call is there; calls after it may be (written but not yet acknowledged), in order, none partly.
        Assert.True(hosts.Count > lastAck, $"{hosts.Count} calls kept, {lastAck + 1} acknowledged");
        Assert.Equal(Enumerable.Range(0, hosts.Count), hosts);
        var perHost = store.SelectGrouped(all, "host");
        foreach (var (h, profile) in perHost)
        {
            Assert.True(profile.Total() == StacksPerCall, $"{h}: total {profile.Total()}, expected {StacksPerCall}");
        }

        Assert.Equal((long)hosts.Count * StacksPerCall, store.Select(all).Total());
    }
}

/// <summary>Entry point of the test assembly when run as the kill test's child process.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "kill-helper")
        {
            KillTests.RunHelperAsync(args[1]).GetAwaiter().GetResult();
        }

        return 0;
    }
}
