namespace Orac.Server;

/// <summary>How <c>orac serve</c> runs: where it listens and where it keeps its data.</summary>
public sealed record ServerOptions
{
    /// <summary>Default listen address: loopback, Pyroscope's port (its clients work with their default address).</summary>
    public const string DefaultListen = "127.0.0.1:4040";

    /// <summary><c>host:port</c> to bind; loopback unless told otherwise. Port 0 picks a free port.</summary>
    public string Listen { get; init; } = DefaultListen;

    /// <summary>Data folder: the DuckDB file, the write-ahead log, orgs and tokens.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Largest request body accepted, bytes (default 64 MiB). A gzip body may expand to 4× this once decompressed.</summary>
    public long MaxBodyBytes { get; init; } = 64L << 20;

    /// <summary>Only the in-memory reference store (tests, demos): nothing survives a restart.</summary>
    public bool InMemory { get; init; }

    /// <summary>Longest time range one query may cover (default 30 days).</summary>
    public TimeSpan MaxQueryRange { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Longest a fleet heartbeat is held open (long poll), ms (default 20 000); an agent is online while seen within 3 × this.</summary>
    public int HeartbeatWaitMs { get; init; } = 20_000;

    /// <summary>Cost model file (docs/cost.md "The model file") the cost routes price with; null = the built-in defaults. Loaded once at start.</summary>
    public string? CostModelPath { get; init; }
}
