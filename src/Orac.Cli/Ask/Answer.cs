using Orac.Ask;

namespace Orac.Cli.Ask;

/// <summary>The wording of deterministic answers (docs/ask.md "Persona"): the voice changes prose only, never figures.</summary>
public enum Voice
{
    /// <summary>Orac's own: terse, confident, a little sarcastic, never wrong on facts.</summary>
    Orac,

    /// <summary>Neutral.</summary>
    Plain,
}

/// <summary>
/// One sentence (or two) in both voices. Both are written from the same formatted figures at the same place, so a
/// number in one is the same text in the other (a test compares them).
/// </summary>
public sealed record Said(string Orac, string Plain)
{
    /// <summary>The same words in both voices (for prose with nothing to be sharp about).</summary>
    public static Said Both(string text) => new(text, text);

    /// <summary>The wording for <paramref name="voice"/>.</summary>
    public string In(Voice voice) => voice == Voice.Orac ? Orac : Plain;
}

/// <summary>A table of an answer: every figure column names its unit; <see cref="Basis"/> says measured, estimated or projection.</summary>
public sealed class AnswerTable
{
    /// <summary>What the table shows, e.g. "top functions by self CPU time".</summary>
    public required string Title { get; init; }

    /// <summary>How the figures were obtained: <c>measured</c>, <c>estimated</c>, <c>projection</c> or a mix in words.</summary>
    public required string Basis { get; init; }

    /// <summary>Column headers, units in parentheses.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>Rows, one cell per column, already formatted.</summary>
    public List<string[]> Rows { get; } = [];

    /// <summary>Adds a row (one cell per column).</summary>
    public AnswerTable Row(params string[] cells)
    {
        if (cells.Length != Columns.Count)
        {
            throw new ArgumentException($"a row of '{Title}' needs {Columns.Count} cells, got {cells.Length}", nameof(cells));
        }

        Rows.Add(cells);
        return this;
    }
}

/// <summary>A link an answer rests on: a flame graph of the selection, a task's merged flame graph.</summary>
public sealed record AnswerLink(string Label, string Url);

/// <summary>
/// What the plan runner found, before wording: the verdict (both voices), tables, links, the memories it used, what it
/// saved, and the exit code (0 answered, 3 partial, 1 error, 2 usage / clarify / refused). <see cref="AnswerRenderer"/>
/// turns it into text or JSON.
/// </summary>
public sealed class Answer
{
    /// <summary>Exit code of an answer that lacks some hosts or data (labelled PARTIAL).</summary>
    public const int PartialExit = 3;

    /// <summary>The plan that was run.</summary>
    public required Plan Plan { get; init; }

    /// <summary>The verdict: one or two sentences, first.</summary>
    public Said Verdict { get; set; } = Said.Both("");

    /// <summary>Further prose after the verdict (help lists, suggestions), in both voices.</summary>
    public List<Said> Remarks { get; } = [];

    /// <summary>The evidence.</summary>
    public List<AnswerTable> Tables { get; } = [];

    /// <summary>Fixed blocks of text rendered by another verb's renderer (the research check answer), same in every voice.</summary>
    public List<string> Blocks { get; } = [];

    /// <summary>Flame-graph and task links.</summary>
    public List<AnswerLink> Links { get; } = [];

    /// <summary>Memories the answer rests on: id and text (the planner's and the cost documents').</summary>
    public List<(string Id, string Text)> MemoriesUsed { get; } = [];

    /// <summary>Lines about memory: "Memory updated: …", "Remember this? …". Same in every voice.</summary>
    public List<string> MemoryLines { get; } = [];

    /// <summary>Notes the server gave (assumptions, gaps), one line each.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>True when some hosts or data are missing; <see cref="Missing"/> says which.</summary>
    public bool Partial { get; set; }

    /// <summary>What is missing (hosts with their reason), for the PARTIAL line.</summary>
    public List<string> Missing { get; } = [];

    /// <summary>0 answered, 3 partial, 1 error, 2 usage / clarify / refused.</summary>
    public int ExitCode { get; set; }

    /// <summary>Adds a used memory once.</summary>
    public void UsedMemory(string id, string text)
    {
        if (!MemoriesUsed.Exists(m => m.Id == id))
        {
            MemoriesUsed.Add((id, text));
        }
    }
}
