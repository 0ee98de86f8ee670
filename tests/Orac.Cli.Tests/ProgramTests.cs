using System.Text;

namespace Orac.Cli.Tests;

public class ProgramTests
{
    [Fact]
    public void UnknownVerb_IsUsageError()
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = err };
        int code = Program.Run(["nonsense"], ctx);
        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'nonsense'", err.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err.ToString(), StringComparison.Ordinal);
    }
}
