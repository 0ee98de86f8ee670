using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Orac.Cli.Tests;

/// <summary>
/// A small OpenAI-compatible chat-completions endpoint on 127.0.0.1 (no model exists on this machine): every
/// <c>POST /v1/chat/completions</c> body is recorded, and <c>script</c> decides the answer (status and JSON body)
/// from the parsed request. Streaming requests get a 400 so a client that switched to SSE fails visibly.
/// </summary>
public sealed class FakeModelEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<JsonElement, (int Status, string Body)> _script;
    private readonly List<string> _requests = [];
    private readonly List<string?> _authorizations = [];
    private readonly Task _loop;

    public FakeModelEndpoint(Func<JsonElement, (int Status, string Body)> script)
    {
        _script = script;
        int port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/v1");
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The API base to configure (<c>http://127.0.0.1:PORT/v1</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Request bodies received, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Authorization headers received, in order.</summary>
    public IReadOnlyList<string?> Authorizations
    {
        get
        {
            lock (_requests)
            {
                return [.. _authorizations];
            }
        }
    }

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>An assistant message that calls one tool.</summary>
    public static string ToolCall(string id, string name, string argumentsJson) => Completion(w =>
    {
        w.WriteNull("content");
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", name);
        w.WriteString("arguments", argumentsJson);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }, "tool_calls");

    /// <summary>An assistant message with final text.</summary>
    public static string Text(string content) => Completion(w => w.WriteString("content", content), "stop");

    /// <summary>The messages of a request with <paramref name="role"/>.</summary>
    public static List<JsonElement> Messages(JsonElement request, string role)
    {
        var list = new List<JsonElement>();
        foreach (JsonElement m in request.GetProperty("messages").EnumerateArray())
        {
            if (m.GetProperty("role").GetString() == role)
            {
                list.Add(m);
            }
        }

        return list;
    }

    /// <summary>A message's text, whether <c>content</c> is a string or an array of text parts.</summary>
    public static string Content(JsonElement message)
    {
        if (!message.TryGetProperty("content", out JsonElement c))
        {
            return "";
        }

        if (c.ValueKind == JsonValueKind.String)
        {
            return c.GetString()!;
        }

        var sb = new StringBuilder();
        if (c.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement part in c.EnumerateArray())
            {
                if (part.TryGetProperty("text", out JsonElement t))
                {
                    sb.Append(t.GetString());
                }
            }
        }

        return sb.ToString();
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener; nothing to report.
        }
    }

    private static string Completion(Action<Utf8JsonWriter> message, string finish)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", "chatcmpl-fake");
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", 1_764_000_000);
            w.WriteString("model", "fake-model");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            message(w);
            w.WriteEndObject();
            w.WriteString("finish_reason", finish);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", 10);
            w.WriteNumber("completion_tokens", 5);
            w.WriteNumber("total_tokens", 15);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await HandleAsync(ctx);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away; the test sees it through its own result.
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or JsonException or IndexOutOfRangeException)
            {
                // A script that cannot read the request answers 500 with the reason (the test fails on it) instead of leaving the client waiting.
                try
                {
                    byte[] bytes = Encoding.UTF8.GetBytes("{\"error\":{\"message\":\"fake script failed: " + e.GetType().Name + "\"}}");
                    ctx.Response.StatusCode = 500;
                    ctx.Response.ContentLength64 = bytes.Length;
                    await ctx.Response.OutputStream.WriteAsync(bytes);
                    ctx.Response.Close();
                }
                catch (Exception x) when (x is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // Already answered or gone.
                }
            }
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        string body;
        using (var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        lock (_requests)
        {
            _requests.Add(body);
            _authorizations.Add(ctx.Request.Headers["Authorization"]);
        }

        int status;
        string answer;
        if (ctx.Request.HttpMethod != "POST" || ctx.Request.Url?.AbsolutePath != "/v1/chat/completions")
        {
            (status, answer) = (404, """{"error":{"message":"the fake serves only POST /v1/chat/completions"}}""");
        }
        else
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            (status, answer) = doc.RootElement.TryGetProperty("stream", out JsonElement s) && s.ValueKind == JsonValueKind.True
                ? (400, """{"error":{"message":"the fake does not stream"}}""")
                : _script(doc.RootElement);
        }

        byte[] bytes = Encoding.UTF8.GetBytes(answer);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = answer.StartsWith('{') ? "application/json" : "text/html";
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes);
        ctx.Response.Close();
    }
}
