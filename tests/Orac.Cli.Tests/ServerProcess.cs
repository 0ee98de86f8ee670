using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Orac.Tests.Shared;

namespace Orac.Cli.Tests;

/// <summary>
/// A real <c>orac serve</c> (or <c>orac up</c>) process from the published binary (what <c>./orac</c> runs), on a
/// free loopback port, with its output captured so tests can wait for the address and the first-run token.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private static readonly Lazy<string> s_binary = new(BuildPublished, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private ServerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The published binary, built (or rebuilt when sources changed) by <c>./orac version</c> once per test run.</summary>
    public static string Binary => s_binary.Value;

    /// <summary>Base URL the server printed, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The admin token printed on first run, or null when the data folder already had one.</summary>
    public string? Token { get; private set; }

    /// <summary>Process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Everything the process wrote so far (stdout and stderr interleaved by line).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>orac ARGS</c> and waits until it prints its address (and token, when <paramref name="expectToken"/>).</summary>
    public static ServerProcess Start(IEnumerable<string> args, bool expectToken, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null) =>
        StartProgram(Binary, args, expectToken, env, timeout);

    /// <summary>Starts <paramref name="program"/> (orac, or a wrapper that runs it) and waits as <see cref="Start"/> does.</summary>
    public static ServerProcess StartProgram(string program, IEnumerable<string> args, bool expectToken, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in env ?? new Dictionary<string, string>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        var s = new ServerProcess(Process.Start(psi)!);
        try
        {
            s.WaitForStart(expectToken, timeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            s.Dispose();
            throw;
        }

        return s;
    }

    private void WaitForStart(bool expectToken, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            string text = Output;
            Match url = UrlPattern().Match(text);
            Match token = TokenPattern().Match(text);
            if (url.Success && (!expectToken || token.Success))
            {
                Url = new Uri(url.Value);
                Token = token.Success ? token.Groups[1].Value : null;
                return;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"orac exited with code {_process.ExitCode} before it printed its address{(expectToken ? " and token" : "")}:\n{text}");
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"orac did not print its address{(expectToken ? " and token" : "")} within {timeout.TotalSeconds:0} s:\n{Output}");
    }

    /// <summary>An HTTP client for the server with the bearer token.</summary>
    public HttpClient Client(string token)
    {
        var c = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }

    /// <summary>SIGKILL: no chance to flush anything.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then waits for the exit code.</summary>
    public int Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"orac did not stop within {timeout.TotalSeconds:0} s of SIGTERM:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.Append(line).Append('\n');
        }
    }

    private static string BuildPublished()
    {
        var psi = new ProcessStartInfo(Path.Combine(TestPaths.RepoRoot, "orac"), "version")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        using var p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(900_000) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"./orac version failed (it builds the published binary):\n{output.Result}{err.Result}");
        }

        return TestPaths.PublishedBinary;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:[1-9][0-9]*")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"(orac_[A-Za-z0-9_\-]+)")]
    private static partial Regex TokenPattern();
}
