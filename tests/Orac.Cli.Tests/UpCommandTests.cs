using System.Diagnostics;
using System.Text;
using Orac.Model;

namespace Orac.Cli.Tests;

/// <summary>
/// <c>orac up</c> as users run it (the published binary, a real process on a free loopback port): first run makes
/// a token and writes the CLI config; <c>push</c> and <c>query</c> then work with no flags; this host's profile
/// arrives; SIGTERM stops it cleanly; a second run on the same data keeps the token.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UpCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("orac-up-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Dictionary<string, string> Env() => new() { ["XDG_CONFIG_HOME"] = Path.Combine(_dir, "config") };

    private int Cli(string args, out string stdout, out string stderr)
    {
        var err = new StringWriter();
        var output = new MemoryStream();
        string cfg = Path.Combine(_dir, "config");
        var ctx = new CliContext { StdIn = Stream.Null, StdOut = output, Error = err, GetEnv = n => n == "XDG_CONFIG_HOME" ? cfg : null };
        int code = Program.Run(args.Split(' '), ctx);
        stdout = Encoding.UTF8.GetString(output.ToArray());
        stderr = err.ToString();
        return code;
    }

    [Fact]
    public async Task Up_WritesConfig_PushAndQueryNeedNoFlags_RecordsHost_StopsOnSigterm()
    {
        string data = Path.Combine(_dir, "data");
        string[] args = ["up", "--listen", "127.0.0.1:0", "--data", data, "--upload-interval", "1s"];
        string token;
        using (ServerProcess up = ServerProcess.Start(args, expectToken: true, Env()))
        {
            token = up.Token!;
            string configPath = Path.Combine(_dir, "config", "orac", "config.json");
            CliConfig config = CliConfig.Load(configPath);
            Assert.Equal(up.Url.ToString().TrimEnd('/'), config.Server);
            Assert.Equal(token, config.Token);
            Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(configPath));
            Assert.Contains($"/#token={token}", up.Output, StringComparison.Ordinal);

            string folded = Path.Combine(_dir, "app.folded");
            File.WriteAllText(folded, "main;up_test_hot_function 7\nmain;up_test_cold_function 1\n");
            Assert.True(Cli($"push {folded} --service uptest --label team=perf", out _, out string pushErr) == 0, pushErr);
            Assert.Contains("stored", pushErr, StringComparison.Ordinal);

            Assert.True(Cli("query uptest --from now-5m --until now+1m", out string table, out string queryErr) == 0, queryErr);
            Assert.Contains("up_test_hot_function", table, StringComparison.Ordinal);
            Assert.Matches(@"up_test_hot_function\s+7\s+7\s+87\.50\s+87\.50", table);

            string svg = Path.Combine(_dir, "q.svg");
            Assert.True(Cli($"query {{team=\"perf\"}} --from now-5m --until now+1m --svg {svg}", out _, out string svgErr) == 0, svgErr);
            Assert.Contains("up_test_hot_function", File.ReadAllText(svg), StringComparison.Ordinal);

            if (up.Output.Contains("orac up: recording this host", StringComparison.Ordinal))
            {
                // At 19 Hz on every CPU, with 1 s uploads, this host's own profile arrives within seconds.
                string hostTable = "";
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed < TimeSpan.FromSeconds(20))
                {
                    if (Cli("query {service_name=\"host\"} --from now-5m --until now+1m --type process_cpu:cpu:nanoseconds:cpu:nanoseconds", out hostTable, out _) == 0
                        && hostTable.Contains("unit: nanoseconds", StringComparison.Ordinal) && !hostTable.Contains("total 0 ", StringComparison.Ordinal))
                    {
                        break;
                    }

                    await Task.Delay(250);
                }

                Assert.Contains("unit: nanoseconds", hostTable, StringComparison.Ordinal);
                Assert.DoesNotContain("total 0 ", hostTable, StringComparison.Ordinal);
            }
            else
            {
                Assert.Single(up.Output.Split('\n'), l => l.StartsWith("orac up: not recording this host (", StringComparison.Ordinal));
            }

            Assert.Equal(0, up.Terminate(TimeSpan.FromSeconds(30)));
            Assert.Contains("orac up: stopped", up.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", up.Output, StringComparison.Ordinal);
        }

        // Second run on the same data folder: no new token, the config's one still works.
        using (ServerProcess again = ServerProcess.Start(args, expectToken: true, Env()))
        {
            Assert.Equal(token, again.Token);
            Assert.DoesNotContain("first run", again.Output, StringComparison.Ordinal);
            Assert.True(Cli("query uptest --from now-5m --until now+1m --top 1", out string table, out string err) == 0, err);
            Assert.Contains("function", table, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void Up_WithoutPermissionToSample_SaysSoInOneLine_AndServes()
    {
        // Run as 'nobody': with kernel.perf_event_paranoid >= 1 an unprivileged user may not sample every CPU.
        Skip.IfNot(File.Exists("/usr/bin/setpriv") && Environment.UserName == "root", "needs root and setpriv to drop to nobody");
        string paranoid = File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim();
        Skip.If(int.Parse(paranoid, System.Globalization.CultureInfo.InvariantCulture) < 1, "kernel.perf_event_paranoid < 1 lets anyone sample");
        File.SetUnixFileMode(_dir, (UnixFileMode)Convert.ToInt32("777", 8));
        string[] args = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", ServerProcess.Binary, "up", "--listen", "127.0.0.1:0", "--data", Path.Combine(_dir, "data")];
        using ServerProcess up = ServerProcess.StartProgram("/usr/bin/setpriv", args, expectToken: true, new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = Path.Combine(_dir, "config"), ["HOME"] = _dir });
        // The address line (stdout) can be read before the stderr lines written ahead of it.
        var watch = Stopwatch.StartNew();
        while (!up.Output.Contains("not recording this host", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(50);
        }

        string[] lines = up.Output.Split('\n');
        string line = Assert.Single(lines, l => l.Contains("not recording this host", StringComparison.Ordinal));
        Assert.StartsWith("orac up: not recording this host (not permitted to open perf events", line, StringComparison.Ordinal);
        Assert.Equal(0, up.Terminate(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("up --listen nonsense", "bad listen address")]
    [InlineData("up --upload-interval 0", "upload")]
    [InlineData("up extra", "unexpected argument 'extra'")]
    public void Up_BadArguments_AreUsageErrors(string line, string expected)
    {
        Assert.Equal(OracException.Usage, Cli(line, out _, out string err));
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }
}
