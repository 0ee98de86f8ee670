using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;
using Orac.Client;
using Orac.Mcp;
using Orac.Server.Auth;

namespace Orac.Server;

// /mcp: Orac's MCP tools over Streamable HTTP (docs/mcp.md). Stateless (no sessions to pin or expire). The request is
// authenticated like every API route (bearer token, role read or admin; 401 without one); the tools then call this
// server's own API over loopback with the caller's token, so what a tool sees is exactly what the caller's token may
// see through the API: the same org scoping, roles and errors.
public sealed partial class OracServer
{
    private const string McpPath = "/mcp";
    private const string TokenClaim = "orac:token";
    private const string SelfClaim = "orac:self";

    // One connection pool for every caller's loopback calls (each call gets its own HttpClient with its own token).
    private static readonly SocketsHttpHandler s_loopback = new() { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };

    private static void AddMcp(IServiceCollection services) =>
        services.AddMcpServer(o => OracMcpServer.Configure(o, LoopbackApi))
            .WithHttpTransport(t => t.Stateless = true);

    private void MapMcp(WebApplication app)
    {
        var rule = new AccessMetadata(Access.Read);
        app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments(McpPath, StringComparison.Ordinal), branch => branch.Use(async (ctx, next) =>
        {
            Principal who;
            try
            {
                who = Authenticate(ctx);
                if (!rule.Allows(who.Role))
                {
                    throw new ApiException(403, $"a {Roles.Name(who.Role)} token may not call {ctx.Request.Method} {ctx.Request.Path} (needs {RoleWords(rule.Access)})");
                }

                // The tools act on the token's own org (they call the API with it); naming another org is refused as the
                // API refuses it, and an admin naming another org is told to use that org's token.
                string org = Orgs(ctx, who, single: true)[0];
                if (org != who.Org)
                {
                    throw new ApiException(403, $"{McpPath} acts on the token's own org ({who.Org}); use a token of org {org}");
                }
            }
            catch (ApiException e)
            {
                await WriteError(ctx, e.Status, e.Message).ConfigureAwait(false);
                return;
            }

            string token = ctx.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim();
            ctx.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(TokenClaim, token), new Claim(SelfClaim, SelfBase(ctx)), new Claim(ClaimTypes.Name, who.Name), new Claim("orac:org", who.Org)],
                "Bearer"));
            await next(ctx).ConfigureAwait(false);
        }));
        app.MapMcp(McpPath).WithMetadata(rule);
    }

    /// <summary>The address this request reached: the server calls itself there (loopback, or its own interface).</summary>
    private static string SelfBase(HttpContext ctx)
    {
        IPAddress ip = ctx.Connection.LocalIpAddress ?? IPAddress.Loopback;
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        string host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"http://{host}:{ctx.Connection.LocalPort}/");
    }

    private static OracApi LoopbackApi(MessageContext ctx)
    {
        string? token = ctx.User?.FindFirst(TokenClaim)?.Value;
        string? self = ctx.User?.FindFirst(SelfClaim)?.Value;
        if (token is null || self is null)
        {
            // Unreachable through MapMcp (the middleware refuses first); a bug if it happens.
            throw new InvalidOperationException("MCP request without an authenticated caller");
        }

        return new OracApi(new RemoteClient(new Uri(self), token, s_loopback, TimeSpan.FromSeconds(180)));
    }
}
