using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Orac.Agent;

/// <summary>What the server answered, or why there was no answer (<see cref="Status"/> 0).</summary>
public readonly record struct HttpAnswer(int Status, byte[] Body, string? Error)
{
    /// <summary>True for 2xx.</summary>
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>One line: the server's JSON <c>error</c> when present, else the status or the network error.</summary>
    public string Describe()
    {
        if (Status == 0)
        {
            return Error ?? "no answer";
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(Body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.String)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{Status}: {OneLine(e.GetString() ?? "")}");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not Orac's JSON error: the status and an excerpt below.
        }

        string excerpt = OneLine(Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 200)));
        return string.Create(CultureInfo.InvariantCulture, $"{Status} {(HttpStatusCode)Status}{(excerpt.Length > 0 ? ": " + excerpt : "")}");
    }

    private static string OneLine(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s.Trim())
        {
            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString();
    }
}

/// <summary>
/// The agent's HTTP client: bearer token on every request; never throws for a network failure or a non-2xx
/// answer (the caller decides what to retry). The timeout exceeds the longest heartbeat long poll.
/// </summary>
public sealed class AgentHttp : IDisposable
{
    /// <summary>Largest answer read, bytes.</summary>
    public const int MaxAnswerBytes = 16 << 20;

    private readonly HttpClient _http;

    /// <summary>A client for <paramref name="server"/> with <paramref name="token"/>.</summary>
    public AgentHttp(Uri server, string token, TimeSpan timeout)
    {
        Server = server;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler) { BaseAddress = server, Timeout = timeout, MaxResponseContentBufferSize = MaxAnswerBytes };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("orac-agent", AgentInfoProbe.Version));
    }

    /// <summary>The server's base URL.</summary>
    public Uri Server { get; }

    /// <summary>Sends one request; transport failures come back as status 0 with the reason.</summary>
    public async Task<HttpAnswer> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? body, string? uploadId, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative)) { Content = body };
        if (uploadId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Orac-Upload-Id", uploadId);
        }

        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, cancel).ConfigureAwait(false);
            byte[] bytes = await response.Content.ReadAsByteArrayAsync(cancel).ConfigureAwait(false);
            return new HttpAnswer((int)response.StatusCode, bytes, null);
        }
        catch (HttpRequestException e)
        {
            string why = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? $"no Orac server at {Server} (connection refused)"
                : $"cannot reach the Orac server at {Server}: {e.Message}";
            return new HttpAnswer(0, [], why);
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return new HttpAnswer(0, [], $"the Orac server at {Server} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (IOException e)
        {
            return new HttpAnswer(0, [], $"the connection to {Server} broke: {e.Message}");
        }
    }

    /// <summary>Builds <c>path?k=v&amp;…</c>, escaping every value.</summary>
    public static string PathWithQuery(string path, IEnumerable<(string Name, string Value)> query)
    {
        var sb = new StringBuilder(path);
        char sep = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach ((string name, string value) in query)
        {
            sb.Append(sep).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            sep = '&';
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}

/// <summary>Exponential backoff: 1 s doubling to a cap (60 s), each wait jittered to 75–125 % (never above the cap).</summary>
public sealed class Backoff(TimeSpan first, TimeSpan max)
{
    private int _failures;

    /// <summary>The agent's default: 1 s doubling to 60 s.</summary>
    public Backoff()
        : this(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60))
    {
    }

    /// <summary>Failures in a row.</summary>
    public int Failures => _failures;

    /// <summary>The next wait after one more failure.</summary>
    public TimeSpan Next()
    {
        double baseMs = Math.Min(max.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        return TimeSpan.FromMilliseconds(Math.Min(max.TotalMilliseconds, baseMs * (0.75 + (0.5 * Random.Shared.NextDouble()))));
    }

    /// <summary>Back to the first wait.</summary>
    public void Reset() => _failures = 0;
}
