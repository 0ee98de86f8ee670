using System.Text.Json;
using Orac.Client;

namespace Orac.Mcp;

/// <summary>
/// One of Orac's operations as a tool an assistant can call (docs/mcp.md): the same table feeds the MCP server
/// (stdio and Streamable HTTP) and the functions offered to a model by <c>ask --llm</c>.
/// </summary>
public sealed class OracTool
{
    /// <summary>snake_case name, e.g. <c>top_functions</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Short human title.</summary>
    public required string Title { get; init; }

    /// <summary>What it does and returns, for the assistant.</summary>
    public required string Description { get; init; }

    /// <summary>JSON Schema (an object schema) of the arguments.</summary>
    public required JsonElement InputSchema { get; init; }

    /// <summary>JSON Schema of <see cref="ToolOutcome.Structured"/>, when the tool returns structured output.</summary>
    public JsonElement? OutputSchema { get; init; }

    /// <summary>True when the tool starts work on agents (delegated profiling, checks): marked as such, and <c>ask --llm</c> asks before running it.</summary>
    public bool FleetChanging { get; init; }

    /// <summary>Runs the tool with the caller's <see cref="OracApi"/> and arguments (an object, possibly empty).</summary>
    public required Func<OracApi, JsonElement, CancellationToken, Task<ToolOutcome>> Invoke { get; init; }
}

/// <summary>What a tool call produced: compact text for the assistant plus structured JSON, or an error the user can act on.</summary>
public sealed class ToolOutcome
{
    /// <summary>True for an error the caller can act on ("unknown service 'infer'; did you mean 'inference'?").</summary>
    public bool IsError { get; init; }

    /// <summary>Compact text (top-N, totals, units, labels, links).</summary>
    public required string Text { get; init; }

    /// <summary>Structured result matching <see cref="OracTool.OutputSchema"/> (null for errors).</summary>
    public JsonElement? Structured { get; init; }

    /// <summary>An error outcome.</summary>
    public static ToolOutcome Error(string message) => new() { IsError = true, Text = message };
}
