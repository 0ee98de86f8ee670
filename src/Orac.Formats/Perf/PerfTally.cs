namespace Orac.Formats.Perf;

/// <summary>Kinds of input problems the perf collapser counts and reports through <see cref="Orac.Model.ParseWarnings"/>.</summary>
internal enum PerfIssue
{
    UnrecognizedLine,
    OtherEvent,
    LongLine,
    DeepStack,
    PeriodOverflow,
    LastSampleDropped,
    Count,
}

/// <summary>
/// One parser thread's counts of <see cref="PerfIssue"/>s, with the first few places each happened
/// as (chunk sequence number, line within the chunk); the pipeline turns those into file:line at the end.
/// </summary>
internal sealed class PerfTally
{
    public const int MaxExamples = 3;

    private readonly long[] _counts = new long[(int)PerfIssue.Count];
    private readonly (int Seq, int Line)[][] _examples;
    private readonly int[] _exampleCount = new int[(int)PerfIssue.Count];

    public PerfTally()
    {
        _examples = new (int, int)[(int)PerfIssue.Count][];
        for (int i = 0; i < _examples.Length; i++)
        {
            _examples[i] = new (int, int)[MaxExamples];
        }
    }

    public void Add(PerfIssue kind, int seq, int line)
    {
        int k = (int)kind;
        _counts[k]++;
        if (_exampleCount[k] < MaxExamples)
        {
            _examples[k][_exampleCount[k]++] = (seq, line);
        }
    }

    public long Count(PerfIssue kind) => _counts[(int)kind];

    public ReadOnlySpan<(int Seq, int Line)> Examples(PerfIssue kind) => _examples[(int)kind].AsSpan(0, _exampleCount[(int)kind]);
}
