using System.Diagnostics;
using Orac.Formats.Perf;
using Orac.Tests.Shared;

namespace Orac.Formats.Tests.Perf;

/// <summary>
/// Deterministic in-process mutation fuzzing of <see cref="PerfScriptFuzz"/> for about five
/// seconds, from the behaviour inputs in tests/data/perf, plus the inputs it has found.
/// </summary>
public class PerfFuzzTests
{
    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\n\n\n")]
    [InlineData("a")]
    [InlineData("ab 1 ")]
    [InlineData("ab 1 x: \n\n")]
    [InlineData("ab 1 : y:\n\t1 ( )\n\n")]
    [InlineData("ab 1 : y:\n\t1 x->->y-> (m)\n\t1 -> (m)\n\t1 +0x1 (m)\n\n")]
    [InlineData("ab 1/0 2: 0 x:\n\t_ _ ( (m))\n\n")]
    [InlineData("#ab 1 2: 3 x:\n\t1 f (m)\n\n")]
    [InlineData("ab 1 2: 99999999999999999999999 x:\n\t1 f (m)\n\n")]
    [InlineData("ab 1 2: 3 x:\n\t1 [unknown] (/a/b/)\n\t1 [unknown] ()\n\n")]
    [InlineData("ab\t1\t2: 3 x:\n\t\t1 f (m)\r\n\n")]
    public void Regressions(string input) => PerfTestSupport.WithTimeout(30, () => PerfScriptFuzz.Run(System.Text.Encoding.Latin1.GetBytes(input)));
}
