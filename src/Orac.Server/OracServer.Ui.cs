using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Server.Auth;

namespace Orac.Server;

public sealed partial class OracServer
{
    /// <summary>Same-origin only: no inline script or style, no framing, no plugins.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private static readonly Assembly s_assembly = typeof(OracServer).Assembly;
    private static readonly System.Buffers.SearchValues<char> s_fileChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/");

    private void MapUi(WebApplication app)
    {
        Route(app, "GET", "/", Access.Public, (ctx, _) => ServeFile(ctx, "index.html"));
        Route(app, "GET", "/ui/{**path}", Access.Public, (ctx, _) => ServeFile(ctx, (string?)ctx.Request.RouteValues["path"] ?? "index.html"));
        Route(app, "GET", "/{file}", Access.Public, (ctx, _) => ServeFile(ctx, (string?)ctx.Request.RouteValues["file"] ?? ""));
    }

    /// <summary>Serves an embedded <c>wwwroot/</c> file; names are checked so nothing outside the UI can be asked for.</summary>
    private static async Task ServeFile(HttpContext ctx, string path)
    {
        if (path.Length == 0 || path.Length > 200 || path.Contains("..", StringComparison.Ordinal) || path.StartsWith('/')
            || path.AsSpan().IndexOfAnyExcept(s_fileChars) >= 0)
        {
            throw new ApiException(404, $"no UI file '{AuthStore.Escape(path)}'");
        }

        using Stream? s = s_assembly.GetManifestResourceStream("wwwroot/" + path)
            ?? throw new ApiException(404, $"no UI file '{AuthStore.Escape(path)}'");
        ctx.Response.ContentType = ContentType(path);
        ctx.Response.ContentLength = s.Length;
        ctx.Response.Headers.CacheControl = path == "index.html" ? "no-cache" : "public, max-age=300";
        await s.CopyToAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".json" or ".map" => "application/json; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".woff2" => "font/woff2",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
}
