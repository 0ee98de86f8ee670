using Orac.Server.Auth;

namespace Orac.Server;

/// <summary>Who may call a route. Stored as endpoint metadata so tests can check every registered route.</summary>
public enum Access
{
    /// <summary>Anyone: <c>GET /</c>, UI files, <c>/healthz</c>.</summary>
    Public,

    /// <summary>Tokens with role ingest or admin.</summary>
    Ingest,

    /// <summary>Tokens with role read or admin.</summary>
    Read,

    /// <summary>Admin tokens only.</summary>
    Admin,
}

/// <summary>Endpoint metadata: the access rule of a route.</summary>
/// <param name="Access">Who may call it.</param>
public sealed record AccessMetadata(Access Access)
{
    /// <summary>Whether a token with <paramref name="role"/> may call a route with this rule.</summary>
    public bool Allows(Role role) => Access switch
    {
        Access.Public => true,
        Access.Ingest => role is Role.Ingest or Role.Admin,
        Access.Read => role is Role.Read or Role.Admin,
        _ => role == Role.Admin,
    };
}
