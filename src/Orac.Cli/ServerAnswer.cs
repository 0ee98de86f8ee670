using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The checks every reader of a server answer (<see cref="FleetAnswers"/>, <see cref="CostAnswers"/>) shares: a document
/// that does not parse or does not hold together is one <see cref="OracException"/> naming the server, the answer and
/// the problem.
/// </summary>
internal static class ServerAnswer
{
    /// <summary>Parses <paramref name="bytes"/>; <paramref name="doc"/> names the document's specification in the error.</summary>
    public static T Read<T>(byte[] bytes, JsonTypeInfo<T> info, Uri server, string what, string doc)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, info) ?? throw Bad(server, what, "is null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw Bad(server, what, $"is not the expected document ({doc}): {OneLine(e.Message)}");
        }
    }

    /// <summary>Throws <see cref="Bad"/> unless <paramref name="ok"/>.</summary>
    public static void Check([DoesNotReturnIf(false)] bool ok, Uri server, string what, string problem)
    {
        if (!ok)
        {
            throw Bad(server, what, problem);
        }
    }

    /// <summary>The one error for a bad answer.</summary>
    public static OracException Bad(Uri server, string what, string problem) =>
        new($"the server at {server} answered {what} with a document that {problem}");

    private static string OneLine(string s) => s.Length > 300 ? s[..300] + "…" : s.ReplaceLineEndings(" ");
}
