namespace Orac.Ask;

/// <summary>The deterministic planner: one question (and its context) to one <see cref="Plan"/> (docs/ask.md).</summary>
public static class Planner
{
    /// <summary>Reads <paramref name="question"/>. Never throws for any input; a question it cannot place is <see cref="PlanKind.Help"/>.</summary>
    public static Plan Plan(string question, PlanContext context)
    {
        // Contract placeholder: the planner is being written (issue #7); until it lands every question is help.
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(context);
        return new Plan { Kind = PlanKind.Help };
    }
}
