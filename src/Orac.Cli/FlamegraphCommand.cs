using Orac.Model;

namespace Orac.Cli;

/// <summary>The `orac flamegraph` verb.</summary>
public static class FlamegraphCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        _ = args;
        _ = ctx;
        throw new OracException("flamegraph: not implemented yet");
    }
}
