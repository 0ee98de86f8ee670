using System.Collections;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Orac.Client;
using Orac.Model;

namespace Orac.Mcp;

/// <summary>
/// Orac's tools (<see cref="OracTool"/>) as <see cref="AIFunction"/>s a model can call through
/// Microsoft.Extensions.AI (<c>ask --llm</c>, docs/ask.md). No reflection: each function's schema is the tool's own
/// input schema, and a call's arguments are written back to JSON with <see cref="Utf8JsonWriter"/>, so the adapter
/// works in the Native AOT CLI. Fleet-changing tools are wrapped in <see cref="ApprovalRequiredAIFunction"/>: the
/// function-invoking client then asks its caller before running them.
/// </summary>
public static class ToolFunctions
{
    /// <summary>The functions for <paramref name="tools"/>, each running against <paramref name="api"/>; calls are recorded in <paramref name="log"/>.</summary>
    public static List<AITool> Create(IEnumerable<OracTool> tools, OracApi api, ToolCallLog log)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var list = new List<AITool>();
        foreach (OracTool tool in tools)
        {
            AIFunction f = new OracToolFunction(tool, api, log);
            list.Add(tool.FleetChanging ? new ApprovalRequiredAIFunction(f) : f);
        }

        return list;
    }

    /// <summary>
    /// The arguments of a call as one JSON object. Values arrive as <see cref="JsonElement"/> from the OpenAI
    /// client; plain CLR values (strings, numbers, booleans, lists, dictionaries) are written as their JSON
    /// equivalents and anything else as its invariant text.
    /// </summary>
    public static JsonElement ArgumentsJson(IEnumerable<KeyValuePair<string, object?>>? arguments)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (arguments is not null)
            {
                foreach (KeyValuePair<string, object?> kv in arguments)
                {
                    w.WritePropertyName(kv.Key);
                    WriteValue(w, kv.Value, 0);
                }
            }

            w.WriteEndObject();
        }

        using JsonDocument doc = JsonDocument.Parse(buffer.ToArray());
        return doc.RootElement.Clone();
    }

    private static void WriteValue(Utf8JsonWriter w, object? value, int depth)
    {
        // A model cannot produce cycles through JSON, but a caller's CLR objects could; 64 levels is deeper than any tool schema.
        if (depth > 64)
        {
            throw new OracException("tool arguments nest more than 64 levels deep");
        }

        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case JsonElement e:
                e.WriteTo(w);
                break;
            case JsonDocument d:
                d.RootElement.WriteTo(w);
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double x:
                w.WriteNumberValue(x);
                break;
            case float x:
                w.WriteNumberValue(x);
                break;
            case decimal x:
                w.WriteNumberValue(x);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                w.WriteStartObject();
                foreach (KeyValuePair<string, object?> kv in map)
                {
                    w.WritePropertyName(kv.Key);
                    WriteValue(w, kv.Value, depth + 1);
                }

                w.WriteEndObject();
                break;
            case IEnumerable items:
                w.WriteStartArray();
                foreach (object? item in items)
                {
                    WriteValue(w, item, depth + 1);
                }

                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}

/// <summary>One tool call the model made: what ran, with which arguments, and how it ended.</summary>
/// <param name="Name">Tool name.</param>
/// <param name="Arguments">The arguments as compact JSON.</param>
/// <param name="Status"><c>ok</c>, <c>error</c> or <c>declined</c>.</param>
/// <param name="Detail">The error or declination reason; empty when ok.</param>
public sealed record ToolCallRecord(string Name, string Arguments, string Status, string Detail);

/// <summary>The calls made during one answer, in order (thread-safe: the invoking client may run calls concurrently).</summary>
public sealed class ToolCallLog
{
    private readonly List<ToolCallRecord> _calls = [];

    /// <summary>A snapshot of the calls so far.</summary>
    public IReadOnlyList<ToolCallRecord> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Appends one call.</summary>
    public void Add(ToolCallRecord call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }
}

/// <summary>One <see cref="OracTool"/> as an <see cref="AIFunction"/> over a caller's <see cref="OracApi"/>.</summary>
internal sealed class OracToolFunction(OracTool tool, OracApi api, ToolCallLog log) : AIFunction
{
    /// <summary>Longest tool result text handed to the model (characters): tools are compact, this guards the context.</summary>
    public const int MaxResultChars = 32_000;

    public override string Name => tool.Name;

    public override string Description => tool.Description;

    public override JsonElement JsonSchema => tool.InputSchema;

    public override JsonElement? ReturnJsonSchema => tool.OutputSchema;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        JsonElement args = ToolFunctions.ArgumentsJson(arguments);
        string argText = args.GetRawText();
        ToolOutcome outcome;
        try
        {
            outcome = await tool.Invoke(api, args, cancellationToken).ConfigureAwait(false);
        }
        catch (OracException e)
        {
            // An Orac error (unknown service, server down, forbidden) is the model's to read and the user's to see, not a crash.
            outcome = ToolOutcome.Error(e.Message);
        }

        log.Add(new ToolCallRecord(tool.Name, argText, outcome.IsError ? "error" : "ok", outcome.IsError ? outcome.Text : ""));
        string text = outcome.Text.Length > MaxResultChars
            ? string.Concat(outcome.Text.AsSpan(0, MaxResultChars), "\n… (truncated: partial result)")
            : outcome.Text;
        return outcome.IsError ? "error: " + text : text;
    }
}
