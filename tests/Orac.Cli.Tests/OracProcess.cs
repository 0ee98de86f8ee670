using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Orac.Cli.Tests;

/// <summary>
/// A long-running process of the published <c>orac</c> binary (an agent, a waiting <c>research</c> verb) with its
/// stdout and stderr captured separately, so a test can wait for a line, send SIGTERM or SIGKILL and read the exit code.
/// </summary>
internal sealed class OracProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly object _gate = new();

    private OracProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Process id.</summary>
    public int Pid => _process.Id;

    /// <summary>What it wrote to stdout so far.</summary>
    public string Out
    {
        get
        {
            lock (_gate)
            {
                return _out.ToString();
            }
        }
    }

    /// <summary>What it wrote to stderr so far.</summary>
    public string Err
    {
        get
        {
            lock (_gate)
            {
                return _err.ToString();
            }
        }
    }

    /// <summary>Starts <c>orac ARGS</c> with <paramref name="env"/> added to the environment.</summary>
    public static OracProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(ServerProcess.Binary)
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

        foreach (var kv in env)
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        return new OracProcess(Process.Start(psi)!);
    }

    /// <summary>Runs <c>orac ARGS</c> to the end (at most <paramref name="timeout"/>): exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string> env, TimeSpan timeout, params string[] args)
    {
        using OracProcess p = Start(args, env);
        int code = p.WaitForExit(timeout);
        return (code, p.Out, p.Err);
    }

    /// <summary>Waits until stderr satisfies <paramref name="done"/>; false on timeout or when the process exited first.</summary>
    public bool WaitForErr(Func<string, bool> done, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (done(Err))
            {
                return true;
            }

            if (_process.HasExited)
            {
                _process.WaitForExit();
                return done(Err);
            }

            Thread.Sleep(50);
        }

        return false;
    }

    /// <summary>Waits for the exit (all output read); throws on timeout after killing it.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"orac {string.Join(' ', _process.StartInfo.ArgumentList)} did not exit within {timeout.TotalSeconds:0} s:\n{Out}{Err}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: nothing is flushed.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then waits for the exit code.</summary>
    public int Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            kill.WaitForExit();
        }

        return WaitForExit(timeout);
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

    private void Append(StringBuilder sb, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            sb.Append(line).Append('\n');
        }
    }
}
