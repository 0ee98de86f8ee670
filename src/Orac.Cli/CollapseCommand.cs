using Orac.Model;

namespace Orac.Cli;

/// <summary>The `orac collapse` verb.</summary>
public static class CollapseCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        _ = args;
        _ = ctx;
        throw new OracException("collapse: not implemented yet");
    }
}
