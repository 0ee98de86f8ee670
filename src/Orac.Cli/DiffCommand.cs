using Orac.Model;

namespace Orac.Cli;

/// <summary>The `orac diff` verb.</summary>
public static class DiffCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        _ = args;
        _ = ctx;
        throw new OracException("diff: not implemented yet");
    }
}
