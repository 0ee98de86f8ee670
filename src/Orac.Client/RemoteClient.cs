using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Orac.Model;

namespace Orac.Client;

/// <summary>
/// A small client for an Orac server's HTTP API (docs/api.md): bearer token on every request, and every
/// failure as one <see cref="OracException"/> line: the server's own JSON error with its status, or
/// "no Orac server at URL" when nothing listens there.
/// </summary>
public sealed class RemoteClient : IDisposable
{
    /// <summary>Largest answer read (bytes); a flame tree of 200,000 nodes is well under this.</summary>
    public const long MaxAnswerBytes = 256L << 20;

    private readonly HttpClient _http;

    /// <summary>Creates a client for <paramref name="server"/> sending <paramref name="token"/> (null: no Authorization header).</summary>
    public RemoteClient(Uri server, string? token, TimeSpan? timeout = null)
    {
        Server = server;
        _http = new HttpClient
        {
            BaseAddress = server,
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
            MaxResponseContentBufferSize = MaxAnswerBytes,
        };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>
    /// Creates a client that sends through <paramref name="handler"/> (shared, not disposed with this client): many
    /// short-lived clients with different tokens on one connection pool (the server's <c>/mcp</c> calling its own API).
    /// </summary>
    public RemoteClient(Uri server, string? token, HttpMessageHandler handler, TimeSpan? timeout = null)
    {
        Server = server;
        _http = new HttpClient(handler, disposeHandler: false)
        {
            BaseAddress = server,
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
            MaxResponseContentBufferSize = MaxAnswerBytes,
        };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The server's base URL.</summary>
    public Uri Server { get; }

    /// <summary>GET <paramref name="pathAndQuery"/>; the answer's bytes, or an <see cref="OracException"/>.</summary>
    public byte[] Get(string pathAndQuery, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, pathAndQuery, null, cancellationToken).GetAwaiter().GetResult();

    /// <summary>POST <paramref name="body"/> to <paramref name="pathAndQuery"/>; the answer's bytes, or an <see cref="OracException"/>.</summary>
    public byte[] Post(string pathAndQuery, HttpContent body, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, pathAndQuery, body, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Sends one request; a non-2xx answer or a transport failure is one <see cref="OracException"/>.</summary>
    public async Task<byte[]> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative)) { Content = body };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OracException($"the Orac server at {Server} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }

        using (response)
        {
            byte[] bytes;
            try
            {
                bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new OracException($"the Orac server at {Server} broke off its answer to {method} {PathOnly(pathAndQuery)}: {e.Message}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new OracException(ErrorLine(Server, response.StatusCode, bytes, method, pathAndQuery));
            }

            return bytes;
        }
    }

    /// <summary>Builds <c>path?k=v&amp;…</c>, escaping every value and leaving out null ones.</summary>
    public static string PathWithQuery(string path, params (string Name, string? Value)[] query)
    {
        var sb = new StringBuilder(path);
        char sep = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach ((string name, string? value) in query)
        {
            if (value is null)
            {
                continue;
            }

            sb.Append(sep).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            sep = '&';
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private OracException Unreachable(HttpRequestException e)
    {
        if (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return new OracException($"no Orac server at {Server} (start one with `orac up`)");
        }

        if (e.InnerException is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData })
        {
            return new OracException($"cannot reach the Orac server at {Server}: unknown host '{Server.Host}'");
        }

        return new OracException($"cannot reach the Orac server at {Server}: {e.Message}");
    }

    /// <summary>One line for a non-2xx answer: the server's JSON <c>error</c> when present, else the status and a bounded excerpt.</summary>
    public static string ErrorLine(Uri server, HttpStatusCode status, byte[] body, HttpMethod method, string pathAndQuery)
    {
        int code = (int)status;
        string where = $"{method} {PathOnly(pathAndQuery)}";
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("error", out JsonElement error)
                && error.ValueKind == JsonValueKind.String)
            {
                return string.Create(CultureInfo.InvariantCulture, $"server {server} answered {code} to {where}: {OneLine(error.GetString() ?? "")}");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not Orac's JSON error (or not valid UTF-8) (a proxy's page, or another server): fall through to the excerpt.
        }

        string excerpt = OneLine(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)));
        string reason = status switch
        {
            HttpStatusCode.Unauthorized => " (missing or unknown token: pass --token, set ORAC_TOKEN or run `orac up`)",
            HttpStatusCode.NotFound => " (is this an Orac server?)",
            _ => "",
        };
        return string.Create(CultureInfo.InvariantCulture, $"server {server} answered {code} {status} to {where}{reason}{(excerpt.Length > 0 ? ": " + excerpt : "")}");
    }

    private static string PathOnly(string pathAndQuery)
    {
        int q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? pathAndQuery : pathAndQuery[..q];
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
