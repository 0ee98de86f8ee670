using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using Orac.Mcp;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Cli;

/// <summary>How <c>ask --llm</c> runs (docs/ask.md "An optional model").</summary>
public sealed record LlmOptions
{
    /// <summary><c>--yes</c>: fleet-changing tool calls run without asking.</summary>
    public bool Yes { get; init; }

    /// <summary><c>--temporary</c>: memories are neither read nor given to the model.</summary>
    public bool Temporary { get; init; }

    /// <summary><c>--plain</c>: the model is asked for a neutral voice instead of Orac's.</summary>
    public bool Plain { get; init; }

    /// <summary>
    /// Whether the approval question can be asked on <c>input</c>; null: yes exactly when <c>input</c> is the
    /// console's and standard input is a terminal.
    /// </summary>
    public bool? Interactive { get; init; }

    /// <summary>The tools offered to the model (default: every Orac tool, <see cref="DefaultTools"/>).</summary>
    public IReadOnlyList<OracTool>? Tools { get; init; }

    /// <summary>Most model round trips (requests to the endpoint) for one question.</summary>
    public int MaxRounds { get; init; } = 8;

    /// <summary>How long one request to the endpoint may take (local models can be slow).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The tools offered when <see cref="Tools"/> is null: the MCP server's table (docs/mcp.md).</summary>
    public static IReadOnlyList<OracTool> DefaultTools => OracTools.All;
}

/// <summary>
/// <c>orac ask --llm "QUESTION"</c>: hands the question to a model of the user's own (any OpenAI-compatible
/// endpoint, <see cref="LlmSettings"/>) through Microsoft.Extensions.AI, with Orac's tools offered as functions
/// (<see cref="ToolFunctions"/>) running against the user's server with the user's token, and the persona and
/// memories as the system message. Fleet-changing tools need approval. Prints the model's answer, then every
/// tool call it made (the evidence). Exit 0; 1 with one line when the endpoint or the Orac server fails.
/// </summary>
public static class LlmAsk
{
    /// <summary>Longest excerpt of an endpoint's error body quoted in the one-line error (characters).</summary>
    private const int MaxErrorChars = 300;

    /// <summary>Runs one question; see the class summary. Errors are written to <paramref name="error"/> as one line.</summary>
    public static async Task<int> RunAsync(LlmSettings settings, OracApi api, string question, LlmOptions options, TextReader input, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrWhiteSpace(question))
        {
            error.WriteLine("ask --llm: the question is empty");
            return OracException.Usage;
        }

        try
        {
            string system = await SystemMessageAsync(api, options, ct).ConfigureAwait(false);
            var log = new ToolCallLog();
            IReadOnlyList<OracTool> tools = options.Tools ?? LlmOptions.DefaultTools;
            var fleetChanging = new HashSet<string>(StringComparer.Ordinal);
            foreach (OracTool t in tools)
            {
                if (t.FleetChanging)
                {
                    fleetChanging.Add(t.Name);
                }
            }

            var chatOptions = new ChatOptions { Tools = ToolFunctions.Create(tools, api, log), ToolMode = ChatToolMode.Auto };
            using IChatClient client = CreateClient(settings, options);
            List<ChatMessage> messages = [new(ChatRole.System, system), new(ChatRole.User, question)];
            bool interactive = options.Interactive ?? (ReferenceEquals(input, Console.In) && !Console.IsInputRedirected);
            string answer = "";
            bool finished = false;
            for (int round = 0; round < options.MaxRounds && !finished; round++)
            {
                ChatResponse response = await SendAsync(client, settings, messages, chatOptions, ct).ConfigureAwait(false);
                messages.AddRange(response.Messages);
                var approvals = new List<AIContent>();
                foreach (ChatMessage m in response.Messages)
                {
                    foreach (AIContent c in m.Contents)
                    {
                        if (c is ToolApprovalRequestContent request)
                        {
                            approvals.Add(Decide(request, fleetChanging, options.Yes, interactive, input, error, log));
                        }
                    }
                }

                if (approvals.Count == 0)
                {
                    answer = response.Text;
                    finished = true;
                }
                else
                {
                    // The function-invoking client runs the approved calls and tells the model about the declined ones.
                    messages.Add(new ChatMessage(ChatRole.User, approvals));
                }
            }

            Render(output, settings, answer, finished, log.Calls);
            return 0;
        }
        catch (OracException e)
        {
            error.WriteLine(e.Message);
            return e.ExitCode;
        }
    }

    /// <summary>
    /// The system message: who Orac is and how to answer (units, measured/estimated labels, figures only from tool
    /// results), the persona (<c>about</c> and <c>respond</c> verbatim, the voice) and the memories (unless
    /// temporary). A server without the persona or memory routes (404) gives neither; other failures are errors.
    /// </summary>
    public static async Task<string> SystemMessageAsync(OracApi api, LlmOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(options);
        PersonaDocument? persona = await OrNullWhenMissing(api.PersonaAsync(ct)).ConfigureAwait(false);
        MemoryDocument? memory = options.Temporary ? null : await OrNullWhenMissing(api.MemoryAsync(ct)).ConfigureAwait(false);

        var sb = new StringBuilder();
        sb.AppendLine("You are Orac, a performance research assistant for the user's fleet. Answer with the tools offered: they read the user's CPU profiles, costs, hosts and agents from their Orac server. Never invent a figure: every number you give must come from a tool result, and say which tool it came from.");
        sb.AppendLine("State the unit of every figure (CPU-seconds, %, US$ per year, kWh, …) and label it measured, estimated or a projection; say when a result is partial.");
        sb.AppendLine("Tools marked fleet-changing start work on the user's agents and run only if the user approves; if one is declined, answer without it and say what it would have shown.");
        bool plain = options.Plain || string.Equals(persona?.Voice, "plain", StringComparison.Ordinal);
        sb.AppendLine(plain
            ? "Voice: neutral and plain."
            : "Voice: Orac's: terse, confident, a little sarcastic, never wrong on facts.");
        sb.AppendLine("The voice changes wording only, never numbers, units, labels or evidence.");
        if (persona is not null && persona.About.Length > 0)
        {
            sb.Append("About the user, in their words: ").AppendLine(persona.About);
        }

        if (persona is not null && persona.Respond.Length > 0)
        {
            sb.Append("How the user wants answers, in their words: ").AppendLine(persona.Respond);
        }

        if (memory is { Enabled: true, Items.Count: > 0 })
        {
            sb.AppendLine("What the user asked Orac to remember (id: text); when you rely on one, say \"used memory ID\":");
            foreach (MemoryItem item in memory.Items)
            {
                sb.Append("- ").Append(item.Id).Append(": ").AppendLine(item.Text);
            }
        }

        return sb.ToString();
    }

    /// <summary>The chat client: OpenAI's, at the user's endpoint, with no retries, under a function-invoking client.</summary>
    private static FunctionInvokingChatClient CreateClient(LlmSettings settings, LlmOptions options)
    {
        var openAi = new OpenAIClientOptions
        {
            Endpoint = settings.Endpoint,
            NetworkTimeout = options.Timeout,

            // A failing endpoint is reported at once as one line; retrying a 500 from a local model only delays that.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        };

        // The OpenAI client needs a key; endpoints without one (a local llama.cpp or Ollama) ignore it.
        var chat = new OpenAI.Chat.ChatClient(settings.Model, new ApiKeyCredential(settings.Key ?? "no-key"), openAi);
        return new FunctionInvokingChatClient(chat.AsIChatClient())
        {
            IncludeDetailedErrors = true,
            MaximumIterationsPerRequest = Math.Max(1, options.MaxRounds),
        };
    }

    private static async Task<ChatResponse> SendAsync(IChatClient client, LlmSettings settings, List<ChatMessage> messages, ChatOptions options, CancellationToken ct)
    {
        try
        {
            return await client.GetResponseAsync(messages, options, ct).ConfigureAwait(false);
        }
        catch (ClientResultException e)
        {
            throw new OracException(EndpointError(settings, e));
        }
        catch (HttpRequestException e)
        {
            throw new OracException(Unreachable(settings, e));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new OracException($"the model endpoint {settings.Endpoint} did not answer in time");
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            // The body was not an OpenAI chat completion (an HTML page, a truncated or foreign JSON document).
            throw new OracException($"the model endpoint {settings.Endpoint} answered with something that is not an OpenAI chat completion: {OneLine(e.Message)}");
        }
    }

    private static ToolApprovalResponseContent Decide(ToolApprovalRequestContent request, HashSet<string> fleetChanging, bool yes, bool interactive, TextReader input, TextWriter error, ToolCallLog log)
    {
        var call = request.ToolCall as FunctionCallContent;
        string name = call?.Name ?? "?";
        string args = ToolFunctions.ArgumentsJson(call?.Arguments).GetRawText();
        if (!fleetChanging.Contains(name))
        {
            // A read-only call, held back only because a fleet-changing one came in the same turn.
            return request.CreateResponse(approved: true);
        }

        if (yes)
        {
            error.WriteLine($"ask --llm: running fleet-changing {name} {args} (--yes)");
            return request.CreateResponse(approved: true);
        }

        if (interactive)
        {
            error.Write($"The model wants to run {name} {args}: it starts work on your agents. Run it? [y/N] ");
            error.Flush();
            string? reply = input.ReadLine()?.Trim();
            if (reply is not null && (reply.Equals("y", StringComparison.OrdinalIgnoreCase) || reply.Equals("yes", StringComparison.OrdinalIgnoreCase)))
            {
                return request.CreateResponse(approved: true);
            }

            const string Refused = "the user declined this fleet-changing call";
            log.Add(new ToolCallRecord(name, args, "declined", "you answered no"));
            return request.CreateResponse(approved: false, Refused);
        }

        const string NoTerminal = "the user was not asked (no terminal and no --yes), so this fleet-changing call was declined";
        log.Add(new ToolCallRecord(name, args, "declined", "no terminal to ask and no --yes"));
        return request.CreateResponse(approved: false, NoTerminal);
    }

    private static void Render(TextWriter output, LlmSettings settings, string answer, bool finished, IReadOnlyList<ToolCallRecord> calls)
    {
        string text = answer.Trim();
        output.WriteLine(text.Length > 0 ? text : "(the model gave no answer text)");
        if (!finished)
        {
            output.WriteLine("(partial: the model was still calling tools when the round limit stopped it)");
        }

        output.WriteLine();
        if (calls.Count == 0)
        {
            output.WriteLine($"The model ({settings}) called no Orac tools: nothing above comes from your data.");
            return;
        }

        output.WriteLine($"Tools the model ({settings}) called — the evidence; figures above are the model's wording of these results:");
        for (int i = 0; i < calls.Count; i++)
        {
            ToolCallRecord c = calls[i];
            string detail = c.Detail.Length > 0 ? ": " + OneLine(c.Detail) : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1}. {c.Name} {c.Arguments} → {c.Status}{detail}"));
        }
    }

    private static async Task<T?> OrNullWhenMissing<T>(Task<T> task)
        where T : class
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (OracException e) when (e.Message.Contains(" answered 404 ", StringComparison.Ordinal))
        {
            // A server without this route yet (older than memory and persona): the model works without it.
            return null;
        }
    }

    private static string EndpointError(LlmSettings settings, ClientResultException e)
    {
        if (e.Status == 0)
        {
            return e.InnerException is HttpRequestException h ? Unreachable(settings, h) : $"cannot reach the model endpoint {settings.Endpoint}: {OneLine(e.Message)}";
        }

        string message = "";
        try
        {
            PipelineResponse? raw = e.GetRawResponse();
            if (raw is not null)
            {
                message = EndpointMessage(raw.Content.ToMemory());
            }
        }
        catch (Exception x) when (x is InvalidOperationException or NotSupportedException)
        {
            // The body was not buffered: the status alone says enough.
        }

        string hint = e.Status switch
        {
            401 or 403 => " (check --llm-key / ORAC_LLM_KEY)",
            404 => " (check --llm-url: it should end in the API version, e.g. /v1, and --llm-model)",
            _ => "",
        };
        return string.Create(CultureInfo.InvariantCulture, $"the model endpoint {settings.Endpoint} answered HTTP {e.Status}{hint}{(message.Length > 0 ? ": " + message : "")}");
    }

    /// <summary>The endpoint's own error text: OpenAI's <c>{"error":{"message":…}}</c>, a plain <c>{"error":"…"}</c>, or an excerpt.</summary>
    internal static string EndpointMessage(ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out JsonElement err))
            {
                if (err.ValueKind == JsonValueKind.String)
                {
                    return OneLine(err.GetString() ?? "");
                }

                if (err.ValueKind == JsonValueKind.Object && err.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String)
                {
                    return OneLine(m.GetString() ?? "");
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON (a proxy's HTML page, plain text): quote the start of it.
        }

        return OneLine(Encoding.UTF8.GetString(body.Span[..Math.Min(body.Length, MaxErrorChars)]));
    }

    private static string Unreachable(LlmSettings settings, HttpRequestException e) => e.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => $"no model endpoint at {settings.Endpoint} (connection refused: is the server running?)",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } => $"cannot reach the model endpoint {settings.Endpoint}: unknown host '{settings.Endpoint.Host}'",
        _ => $"cannot reach the model endpoint {settings.Endpoint}: {OneLine(e.Message)}",
    };

    private static string OneLine(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, MaxErrorChars));
        foreach (char c in s)
        {
            if (sb.Length >= MaxErrorChars)
            {
                sb.Append('…');
                break;
            }

            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString().Trim();
    }
}
