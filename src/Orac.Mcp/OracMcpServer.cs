using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Orac.Client;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Mcp;

/// <summary>
/// Orac as an MCP server (docs/mcp.md) with the SDK's low-level handlers only (no attribute scanning, no reflection:
/// Native AOT safe): the tools of <see cref="OracTools.All"/>, the caller's memory as the resource <c>orac://memory</c>
/// and the persona as the prompt <c>orac_persona</c>. The same handlers serve stdio (<c>orac mcp</c>) and Streamable
/// HTTP (<c>/mcp</c> on the server); <c>apiFor</c> gives each request the API client of its caller.
/// </summary>
public static class OracMcpServer
{
    /// <summary>The memory resource's URI.</summary>
    public const string MemoryUri = "orac://memory";

    /// <summary>The persona prompt's name.</summary>
    public const string PersonaPrompt = "orac_persona";

    private const string Instructions =
        "Orac answers performance questions about a fleet from continuous profiles: start with list_services, then top_functions, " +
        "diff, cost or opportunities. Every figure carries its unit and whether it is measured, estimated or a projection; keep those " +
        "labels when you repeat a figure. start_research and health_check start work on the fleet's agents: ask the user first.";

    /// <summary>
    /// Fills <paramref name="options"/> with Orac's handlers. <paramref name="apiFor"/> returns the API client for a request
    /// (the caller's token); the handler disposes it after the request (pass one with <c>owns: false</c> to share a client).
    /// </summary>
    public static void Configure(McpServerOptions options, Func<MessageContext, OracApi> apiFor)
    {
        ArgumentNullException.ThrowIfNull(options);
        string version = typeof(OracMcpServer).Assembly.GetName().Version?.ToString() ?? "0";
        options.ServerInfo = new Implementation { Name = "orac", Title = "Orac", Version = version };
        options.ServerInstructions = Instructions;
        options.Capabilities = new ServerCapabilities { Tools = new ToolsCapability(), Resources = new ResourcesCapability(), Prompts = new PromptsCapability() };
        options.Handlers = new McpServerHandlers
        {
            ListToolsHandler = (_, _) => ValueTask.FromResult(new ListToolsResult { Tools = [.. OracTools.All.Select(ToProtocol)] }),
            CallToolHandler = async (ctx, ct) =>
            {
                string name = ctx.Params?.Name ?? "";
                OracTool tool = OracTools.Find(name) ?? throw new McpProtocolException($"unknown tool '{ToolArgs.Escape(name)}' (tools: {string.Join(", ", OracTools.All.Select(t => t.Name))})", McpErrorCode.InvalidParams);
                JsonElement args = Arguments(ctx.Params?.Arguments);
                using OracApi api = apiFor(ctx);
                ToolOutcome outcome = await tool.Invoke(api, args, ct).ConfigureAwait(false);
                return ToResult(outcome);
            },
            ListResourcesHandler = (_, _) => ValueTask.FromResult(new ListResourcesResult
            {
                Resources =
                [
                    new Resource
                    {
                        Uri = MemoryUri, Name = "memory", Title = "What Orac remembers",
                        Description = "The caller's saved memories (per user and org): GPU and vCPU prices, owners, aliases, scope, notes; with id, source and time.",
                        MimeType = "text/markdown",
                    },
                ],
            }),
            ReadResourceHandler = async (ctx, ct) =>
            {
                string uri = ctx.Params?.Uri ?? "";
                if (uri != MemoryUri)
                {
                    throw new McpProtocolException($"unknown resource '{ToolArgs.Escape(uri)}' (resources: {MemoryUri})", McpErrorCode.ResourceNotFound);
                }

                using OracApi api = apiFor(ctx);
                MemoryDocument memory = await Call(() => api.MemoryAsync(ct)).ConfigureAwait(false);
                return new ReadResourceResult
                {
                    Contents =
                    [
                        new TextResourceContents { Uri = MemoryUri, MimeType = "text/markdown", Text = MemoryMarkdown(memory) },
                        new TextResourceContents { Uri = MemoryUri, MimeType = "application/json", Text = JsonSerializer.Serialize(memory, OracJsonContext.Default.MemoryDocument) },
                    ],
                };
            },
            ListPromptsHandler = (_, _) => ValueTask.FromResult(new ListPromptsResult
            {
                Prompts =
                [
                    new Prompt
                    {
                        Name = PersonaPrompt, Title = "Orac's persona",
                        Description = "A system-style message: answer as Orac in the caller's chosen voice (their persona), with what Orac remembers about them.",
                    },
                ],
            }),
            GetPromptHandler = async (ctx, ct) =>
            {
                string name = ctx.Params?.Name ?? "";
                if (name != PersonaPrompt)
                {
                    throw new McpProtocolException($"unknown prompt '{ToolArgs.Escape(name)}' (prompts: {PersonaPrompt})", McpErrorCode.InvalidParams);
                }

                using OracApi api = apiFor(ctx);
                PersonaDocument persona = await Call(() => api.PersonaAsync(ct)).ConfigureAwait(false);
                MemoryDocument memory = await Call(() => api.MemoryAsync(ct)).ConfigureAwait(false);
                return new GetPromptResult
                {
                    Description = "Orac's persona and memories for this user",
                    Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = PersonaText(persona, memory) } }],
                };
            },
        };
    }

    /// <summary>Serves MCP over <paramref name="input"/>/<paramref name="output"/> (stdio) until the input ends or <paramref name="stop"/>.</summary>
    public static async Task RunStdioAsync(Stream input, Stream output, OracApi api, CancellationToken stop)
    {
        var options = new McpServerOptions();
        Configure(options, _ => new OracApi(api.Raw, owns: false));
        await using var transport = new StreamServerTransport(input, output, "orac");
        await using McpServer server = McpServer.Create(transport, options);
        await server.RunAsync(stop).ConfigureAwait(false);
    }

    /// <summary>The table entry as the protocol's tool: schemas, title, and read-only / fleet-changing hints.</summary>
    public static Tool ToProtocol(OracTool t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return new Tool
        {
            Name = t.Name,
            Title = t.Title,
            Description = t.Description,
            InputSchema = t.InputSchema,
            OutputSchema = t.OutputSchema,
            Annotations = new ToolAnnotations
            {
                Title = t.Title,
                ReadOnlyHint = !t.FleetChanging,
                DestructiveHint = false,
                IdempotentHint = !t.FleetChanging,
                OpenWorldHint = t.FleetChanging,
            },
        };
    }

    /// <summary>An outcome as the protocol's result: the compact text, and the structured JSON unless it is an error.</summary>
    public static CallToolResult ToResult(ToolOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return new CallToolResult
        {
            IsError = outcome.IsError,
            Content = [new TextContentBlock { Text = outcome.Text }],
            StructuredContent = outcome.IsError ? null : outcome.Structured,
        };
    }

    /// <summary>The memory as markdown: one line per item with its id, kind, source and time.</summary>
    public static string MemoryMarkdown(MemoryDocument memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# What Orac remembers (user {memory.User}, org {memory.Org})\n\n");
        if (!memory.Enabled)
        {
            sb.Append("Memory is off (`orac memory on` turns it back on); nothing is read or written.\n\n");
        }

        if (memory.Items.Count == 0)
        {
            sb.Append("Nothing yet. `orac memory add \"our H100s cost $2.10 an hour\"` saves a fact.\n");
        }

        foreach (MemoryItem m in memory.Items)
        {
            string when = DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"- {m.Id}: {m.Text} ({m.Fact.Kind}; {m.Source}, {when})\n");
        }

        return sb.ToString();
    }

    /// <summary>The persona prompt's text: who Orac is, the user's persona, and the memories (when on).</summary>
    public static string PersonaText(PersonaDocument persona, MemoryDocument memory)
    {
        ArgumentNullException.ThrowIfNull(persona);
        ArgumentNullException.ThrowIfNull(memory);
        var sb = new StringBuilder();
        sb.Append("You are Orac, a performance research computer for a fleet of machines. You answer from Orac's tools (profiles, diffs, cost, the fleet's agents), never from guesses. ");
        sb.Append("Every figure you give keeps its unit and says whether it is measured, estimated or a projection; a partial answer says it is partial. ");
        sb.Append("Ask before starting work on the fleet (start_research, health_check). ");
        sb.Append(persona.Voice == "plain"
            ? "Voice: plain and neutral.\n"
            : "Voice: Orac's own: terse, confident, a little sarcastic, never wrong on facts. The voice changes wording only, never numbers or evidence.\n");
        if (persona.About.Length > 0)
        {
            sb.Append("\nAbout the user: ").Append(persona.About).Append('\n');
        }

        if (persona.Respond.Length > 0)
        {
            sb.Append("\nHow to respond: ").Append(persona.Respond).Append('\n');
        }

        if (memory.Enabled && memory.Items.Count > 0)
        {
            sb.Append("\nWhat you remember about this user (say so when an answer uses one):\n");
            foreach (MemoryItem m in memory.Items)
            {
                sb.Append(CultureInfo.InvariantCulture, $"- {m.Id}: {m.Text}\n");
            }
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>The server's refusal of a resource or prompt read, as a protocol error with its message.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OracException e)
        {
            throw new McpException(e.Message, e);
        }
    }

    private static JsonElement Arguments(IDictionary<string, JsonElement>? args) => JsonOut.Build(w =>
    {
        w.WriteStartObject();
        if (args is not null)
        {
            foreach (var kv in args)
            {
                w.WritePropertyName(kv.Key);
                kv.Value.WriteTo(w);
            }
        }

        w.WriteEndObject();
    });
}
