using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Model.Wire;
using Orac.Server.Auth;

namespace Orac.Server;

public sealed partial class OracServer
{
    private void MapAdmin(WebApplication app)
    {
        Route(app, "POST", "/api/v1/orgs", Access.Admin, CreateOrgAsync);
        Route(app, "POST", "/api/v1/tokens", Access.Admin, CreateTokenAsync);
    }

    private async Task CreateOrgAsync(HttpContext ctx, Principal? who)
    {
        OrgDocument req = await ReadJson(ctx, Json.OrgDocument).ConfigureAwait(false);
        string? name = req.Org ?? req.Name;
        AuthStore.CheckOrgName(name);
        Auth.CreateOrg(name!);
        await WriteJson(ctx, new OrgDocument { Org = name }, Json.OrgDocument).ConfigureAwait(false);
    }

    private async Task CreateTokenAsync(HttpContext ctx, Principal? who)
    {
        TokenRequest req = await ReadJson(ctx, Json.TokenRequest).ConfigureAwait(false);
        string org = req.Org ?? who!.Org;
        if (!Roles.TryParse(req.Role, out Role role))
        {
            throw new ApiException(400, $"bad role '{AuthStore.Escape(req.Role ?? "")}': expected ingest, read or admin");
        }

        if (!Auth.OrgExists(org))
        {
            throw new ApiException(404, $"unknown org '{AuthStore.Escape(org)}'");
        }

        string name = req.Name ?? "";
        string token = Auth.CreateToken(org, role, name);
        await WriteJson(ctx, new TokenDocument { Token = token, Org = org, Role = Roles.Name(role), Name = name }, Json.TokenDocument).ConfigureAwait(false);
    }

    private async Task<T> ReadJson<T>(HttpContext ctx, JsonTypeInfo<T> info, long? maxBytes = null)
        where T : class
    {
        ReadOnlyMemory<byte> body = await ReadBody(ctx, maxBytes).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(body.Span, info) ?? throw new ApiException(400, "expected a JSON object, got null");
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"bad JSON body: {e.Message}");
        }
    }
}
