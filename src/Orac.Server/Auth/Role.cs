namespace Orac.Server.Auth;

/// <summary>What a token may do. One role per token.</summary>
public enum Role
{
    /// <summary>Write profiles into its org; no queries.</summary>
    Ingest,

    /// <summary>Query its org; no writes.</summary>
    Read,

    /// <summary>Everything, in any org: ingest, query, roll-ups across orgs, create orgs and tokens.</summary>
    Admin,
}

/// <summary>Role names on the wire and in auth.json.</summary>
public static class Roles
{
    /// <summary>The wire name of a role.</summary>
    public static string Name(Role role) => role switch
    {
        Role.Ingest => "ingest",
        Role.Read => "read",
        _ => "admin",
    };

    /// <summary>Parses <c>ingest</c>, <c>read</c> or <c>admin</c>.</summary>
    public static bool TryParse(string? text, out Role role)
    {
        (bool ok, role) = text switch
        {
            "ingest" => (true, Role.Ingest),
            "read" => (true, Role.Read),
            "admin" => (true, Role.Admin),
            _ => (false, Role.Read),
        };
        return ok;
    }
}

/// <summary>Who is calling: the token's org, role and name (never the secret).</summary>
/// <param name="Org">Org the token belongs to.</param>
/// <param name="Role">What it may do.</param>
/// <param name="Name">Its name, for logs.</param>
public sealed record Principal(string Org, Role Role, string Name);
