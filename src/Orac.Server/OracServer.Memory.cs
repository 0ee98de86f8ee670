using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orac.Model.Wire;
using Orac.Server.Auth;
using Orac.Server.Ingest;
using Orac.Server.Memory;

namespace Orac.Server;

// Saved memories and the persona (docs/ask.md "Memory", "Persona"): per user (the token's name) within the token's
// own org. Read and admin tokens have them; ingest tokens are machines and have none.
public sealed partial class OracServer
{
    // Memory bodies are one short sentence or two persona fields.
    private const long MaxMemoryBodyBytes = 64 * 1024;

    private MemoryStore? _memory;

    /// <summary>Saved memories and personas.</summary>
    internal MemoryStore Memories => _memory ??= new MemoryStore(_options.InMemory ? null : _options.DataDirectory, ReadFact);

    private void MapMemory(WebApplication app)
    {
        Route(app, "GET", "/api/v1/memory", Access.Read, (ctx, who) => MemoryCall(ctx, who, (org, user) =>
            WriteJson(ctx, Memories.Read(org, user), Json.MemoryDocument)));
        Route(app, "POST", "/api/v1/memory", Access.Read, async (ctx, who) =>
        {
            MemoryAddRequest req = await ReadJson(ctx, Json.MemoryAddRequest, MaxMemoryBodyBytes).ConfigureAwait(false);
            await MemoryCall(ctx, who, (org, user) => WriteJson(ctx, Memories.Add(org, user, req.Text, req.Source), Json.MemoryItem, 201)).ConfigureAwait(false);
        });
        Route(app, "DELETE", "/api/v1/memory", Access.Read, (ctx, who) => MemoryCall(ctx, who, (org, user) =>
        {
            string? text = IngestParser.One(ctx.Request.Query, "text");
            List<MemoryItem> removed = text is null ? Memories.Clear(org, user) : Memories.ForgetText(org, user, text);
            return WriteJson(ctx, new MemoryForgetResult { Removed = removed }, Json.MemoryForgetResult);
        }));
        Route(app, "DELETE", "/api/v1/memory/{id}", Access.Read, (ctx, who) => MemoryCall(ctx, who, (org, user) =>
        {
            string id = ctx.Request.RouteValues["id"] as string ?? "";
            return WriteJson(ctx, new MemoryForgetResult { Removed = Memories.ForgetId(org, user, id) }, Json.MemoryForgetResult);
        }));
        Route(app, "PUT", "/api/v1/memory/settings", Access.Read, async (ctx, who) =>
        {
            MemorySettings req = await ReadJson(ctx, Json.MemorySettings, MaxMemoryBodyBytes).ConfigureAwait(false);
            await MemoryCall(ctx, who, (org, user) => WriteJson(ctx, Memories.SetEnabled(org, user, req.Enabled), Json.MemoryDocument)).ConfigureAwait(false);
        });
        Route(app, "GET", "/api/v1/persona", Access.Read, (ctx, who) => MemoryCall(ctx, who, (org, user) =>
            WriteJson(ctx, Memories.Persona(org, user), Json.PersonaDocument)));
        Route(app, "PUT", "/api/v1/persona", Access.Read, async (ctx, who) =>
        {
            PersonaSetRequest req = await ReadJson(ctx, Json.PersonaSetRequest, MaxMemoryBodyBytes).ConfigureAwait(false);
            await MemoryCall(ctx, who, (org, user) => WriteJson(ctx, Memories.SetPersona(org, user, req.About, req.Respond), Json.PersonaDocument)).ConfigureAwait(false);
        });
        Route(app, "DELETE", "/api/v1/persona", Access.Read, (ctx, who) => MemoryCall(ctx, who, (org, user) =>
            WriteJson(ctx, Memories.ResetPersona(org, user), Json.PersonaDocument)));
    }

    /// <summary>
    /// The user a token's memory belongs to: its name, or for a token created without one, <c>token-</c> and the
    /// first 12 hex digits of the token's SHA-256 (the hash auth.json keeps), so each nameless token has its own.
    /// </summary>
    internal static string MemoryUser(HttpContext ctx, Principal who)
    {
        if (who.Name.Length > 0)
        {
            return who.Name;
        }

        string header = ctx.Request.Headers.Authorization.ToString();
        string token = header.Length > 7 ? header[7..].Trim() : "";
        return "token-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 6));
    }

    /// <summary>
    /// The caller's memories for a cost answer: none with <c>memory=off</c>, while memory is off, or when the
    /// memory file is damaged (then <paramref name="note"/> says so and the answer is priced without them).
    /// </summary>
    private List<MemoryItem> CostMemories(HttpContext ctx, Principal who, out string? note)
    {
        note = null;
        string? flag = IngestParser.One(ctx.Request.Query, "memory");
        if (flag is not null && flag is not ("on" or "off"))
        {
            throw new ApiException(400, $"bad memory '{AuthStore.Escape(flag)}': expected on or off");
        }

        if (flag == "off")
        {
            return [];
        }

        try
        {
            return Memories.Usable(who.Org, MemoryUser(ctx, who));
        }
        catch (MemoryFileException e)
        {
            Log($"orac: memory: {e.Message}");
            note = $"memory not used: {e.Message}";
            return [];
        }
    }

    // Every memory route acts on the token's own org: naming another org (even as admin) is refused, because memory
    // is per person, not per org.
    private async Task MemoryCall(HttpContext ctx, Principal? who, Func<string, string, Task> action)
    {
        string? header = ctx.Request.Headers["X-Scope-OrgID"];
        string? param = IngestParser.One(ctx.Request.Query, "org");
        foreach (string? asked in new[] { header, param })
        {
            if (!string.IsNullOrEmpty(asked) && asked != who!.Org)
            {
                throw new ApiException(403, $"memory and persona belong to the token's own org '{who.Org}' and user; '{AuthStore.Escape(asked)}' is not it");
            }
        }

        try
        {
            await action(who!.Org, MemoryUser(ctx, who)).ConfigureAwait(false);
        }
        catch (MemoryFileException e)
        {
            Log($"orac: memory: {e.Message}");
            throw new ApiException(500, e.Message);
        }
    }

    private static MemoryFact ReadFact(string text) => Orac.Ask.MemoryFacts.Parse(text);
}
