using Orac.Model;

namespace Orac.Cli;

/// <summary>The `orac top` verb.</summary>
public static class TopCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        _ = args;
        _ = ctx;
        throw new OracException("top: not implemented yet");
    }
}
