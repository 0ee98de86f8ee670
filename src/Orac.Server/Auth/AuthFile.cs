using System.Text.Json.Serialization;

namespace Orac.Server.Auth;

/// <summary>DATA/auth.json: orgs and token hashes. Secrets are never stored, only SHA-256 of the whole token.</summary>
internal sealed class AuthFile
{
    public int Version { get; set; } = 1;

    public List<OrgEntry> Orgs { get; set; } = [];

    public List<TokenEntry> Tokens { get; set; } = [];
}

internal sealed class OrgEntry
{
    public string Name { get; set; } = "";

    public long CreatedUnixMs { get; set; }
}

internal sealed class TokenEntry
{
    /// <summary>Lower-case hex SHA-256 of the UTF-8 token text.</summary>
    public string Sha256 { get; set; } = "";

    public string Org { get; set; } = "";

    public string Role { get; set; } = "";

    public string Name { get; set; } = "";

    public long CreatedUnixMs { get; set; }
}

/// <summary>auth.json is the server's own file, not a wire document, so it has its own small context.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AuthFile))]
internal sealed partial class AuthJsonContext : JsonSerializerContext
{
}
