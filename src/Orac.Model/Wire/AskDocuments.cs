namespace Orac.Model.Wire;

/// <summary>
/// One remembered fact, per user and org, stored by the server (docs/ask.md "Memory"). <see cref="Fact"/> is the
/// server's reading of <see cref="Text"/>; plain notes have <see cref="MemoryFact.Kind"/> <c>note</c>.
/// </summary>
public sealed class MemoryItem
{
    /// <summary>Stable id within the user's memory: <c>m1</c>, <c>m2</c>, … (never reused).</summary>
    public required string Id { get; init; }

    /// <summary>The fact as the user (or Orac's proposal) worded it.</summary>
    public required string Text { get; init; }

    /// <summary>Where it came from: <c>cli</c>, <c>chat</c>, <c>ask</c> (stated in a question), <c>mcp</c>, <c>finding</c> (a proposal the user accepted), <c>api</c>.</summary>
    public required string Source { get; init; }

    /// <summary>When it was saved, Unix ms.</summary>
    public required long CreatedMs { get; init; }

    /// <summary>The parsed fact.</summary>
    public required MemoryFact Fact { get; init; }
}

/// <summary>
/// What a memory means to Orac. Kinds: <c>gpu-price</c> (<see cref="Subject"/> GPU model such as <c>H100</c>,
/// <see cref="UsdPerHour"/> per GPU), <c>vcpu-price</c> (<see cref="UsdPerHour"/> per vCPU), <c>owner</c>
/// (<see cref="Subject"/> service, <see cref="Value"/> org or team), <c>alias</c> (<see cref="Subject"/> a word,
/// <see cref="Value"/> the selector it stands for), <c>scope</c> (<see cref="Value"/> the selector the user
/// usually means), <c>note</c> (anything else: shown and given to a model, not used by plans).
/// </summary>
public sealed class MemoryFact
{
    /// <summary>See the class summary.</summary>
    public required string Kind { get; init; }

    /// <summary>GPU model, service or alias word.</summary>
    public string? Subject { get; init; }

    /// <summary>Org/team name or selector text.</summary>
    public string? Value { get; init; }

    /// <summary>Price in US dollars per hour (per GPU or per vCPU).</summary>
    public double? UsdPerHour { get; init; }
}

/// <summary>Answer of <c>GET /api/v1/memory</c>.</summary>
public sealed class MemoryDocument
{
    /// <summary>The user (the token's name) and org the memory belongs to.</summary>
    public required string User { get; init; }

    /// <summary>The org.</summary>
    public required string Org { get; init; }

    /// <summary>False after <c>orac memory off</c>: nothing is read or written until <c>on</c> (items are kept).</summary>
    public required bool Enabled { get; init; }

    /// <summary>Oldest first.</summary>
    public required List<MemoryItem> Items { get; init; }
}

/// <summary>Body of <c>POST /api/v1/memory</c>.</summary>
public sealed class MemoryAddRequest
{
    /// <summary>The fact, 1–500 characters.</summary>
    public required string Text { get; init; }

    /// <summary>See <see cref="MemoryItem.Source"/> (default <c>api</c>).</summary>
    public string? Source { get; init; }
}

/// <summary>Body of <c>PUT /api/v1/memory/settings</c>.</summary>
public sealed class MemorySettings
{
    /// <summary>Memory on or off.</summary>
    public required bool Enabled { get; init; }
}

/// <summary>Answer of <c>DELETE /api/v1/memory…</c>: what was forgotten.</summary>
public sealed class MemoryForgetResult
{
    /// <summary>The removed items.</summary>
    public required List<MemoryItem> Removed { get; init; }
}

/// <summary>
/// The user's persona (custom instructions), per user and org: <see cref="About"/> (who they are) and
/// <see cref="Respond"/> (how Orac should answer). <see cref="Voice"/> is what the deterministic answers use:
/// <c>orac</c> (default: terse, confident, a little sarcastic) or <c>plain</c> (neutral), chosen from
/// <see cref="Respond"/> (docs/ask.md "Persona"). The persona changes wording only, never numbers or evidence.
/// </summary>
public sealed class PersonaDocument
{
    /// <summary>Who the user is ("SRE on the search team"); empty when unset.</summary>
    public required string About { get; init; }

    /// <summary>How to respond ("plain and brief, no jokes"); empty when unset.</summary>
    public required string Respond { get; init; }

    /// <summary><c>orac</c> or <c>plain</c>.</summary>
    public required string Voice { get; init; }

    /// <summary>True when nothing was set (the default Orac voice).</summary>
    public required bool IsDefault { get; init; }

    /// <summary>When it was last set, Unix ms (0 when default).</summary>
    public long UpdatedMs { get; init; }
}

/// <summary>Body of <c>PUT /api/v1/persona</c>; a null field keeps its value.</summary>
public sealed class PersonaSetRequest
{
    /// <summary>Who the user is, at most 1,000 characters.</summary>
    public string? About { get; init; }

    /// <summary>How to respond, at most 1,000 characters.</summary>
    public string? Respond { get; init; }
}
