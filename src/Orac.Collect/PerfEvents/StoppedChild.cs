using System.Diagnostics;
using Orac.Model;

namespace Orac.Collect.PerfEvents;

/// <summary>
/// A command started stopped (<c>sh -c 'kill -STOP $$; exec "$@"'</c>), so that events can be attached
/// to it before it runs its first instruction; <see cref="Continue"/> lets it go.
/// </summary>
internal sealed class StoppedChild : IDisposable
{
    private readonly Process _process;

    private StoppedChild(Process process) => _process = process;

    /// <summary>The child's pid (the shell that execs into the command).</summary>
    public int Pid => _process.Id;

    /// <summary>True once the command has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (valid once <see cref="HasExited"/>).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="command"/> stopped; throws <see cref="OracException"/> when it cannot be found.</summary>
    public static StoppedChild Start(IReadOnlyList<string> command)
    {
        if (command.Count == 0)
        {
            throw new OracException("no command given after '--'", OracException.Usage);
        }

        if (FindOnPath(command[0]) is null)
        {
            throw new OracException($"command not found: {command[0]}");
        }

        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("kill -STOP $$; exec \"$@\"");
        psi.ArgumentList.Add("sh");
        foreach (string a in command)
        {
            psi.ArgumentList.Add(a);
        }

        Process p = Process.Start(psi) ?? throw new OracException($"cannot start {command[0]}");
        var child = new StoppedChild(p);
        var watch = Stopwatch.StartNew();
        while (!IsStopped(p.Id))
        {
            if (p.HasExited || watch.ElapsedMilliseconds > 10_000)
            {
                child.Dispose();
                throw new OracException($"{command[0]} did not reach its start point (exited or not stopped within 10 s)");
            }

            Thread.Sleep(1);
        }

        return child;
    }

    /// <summary>Sends SIGCONT.</summary>
    public void Continue() => PerfNative.Kill(_process.Id, PerfNative.SigCont);

    /// <summary>Waits up to <paramref name="ms"/> for the exit.</summary>
    public bool WaitForExit(int ms) => _process.WaitForExit(ms);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill();
                PerfNative.Kill(_process.Id, PerfNative.SigCont);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }
        }

        _process.Dispose();
    }

    private static bool IsStopped(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'T';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
