using System.Globalization;
using Orac.Ask;
using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Cli.Ask;

/// <summary>
/// What <c>ask</c> and <c>chat</c> read from the live server once per session: the inventory (names the planner
/// recognises), the user's memories (unless <c>--temporary</c> or memory off; an older server without memory routes is
/// no memory) and the persona's voice (<c>--plain</c> forces plain). The clock is the machine's, or <c>ORAC_NOW</c>.
/// </summary>
public sealed class AskSession
{
    /// <summary>Label names other than service and host that the inventory reads values of, at most.</summary>
    public const int MaxLabelNames = 20;

    /// <summary>Values per label the inventory keeps, at most.</summary>
    public const int MaxLabelValues = 200;

    /// <summary>How far back the inventory looks for names.</summary>
    public static readonly TimeSpan InventoryWindow = TimeSpan.FromDays(7);

    private static readonly HashSet<string> s_skipLabels = new(StringComparer.Ordinal) { "service_name", "host", "__name__", "__type__", "org" };

    /// <summary>"Now" for relative times.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Names to recognise.</summary>
    public required Inventory Inventory { get; init; }

    /// <summary>The memories read (empty when memory is not used).</summary>
    public required IReadOnlyList<MemoryItem> Memories { get; init; }

    /// <summary>False with <c>--temporary</c>, memory off, or a server without memory.</summary>
    public required bool MemoryOn { get; init; }

    /// <summary>Why memory is not used, or null.</summary>
    public string? MemoryOffReason { get; init; }

    /// <summary>The voice of the answers.</summary>
    public required Voice Voice { get; init; }

    /// <summary>The planner's context, with <paramref name="previous"/> for chat follow-ups.</summary>
    public PlanContext Context(Plan? previous = null) => new()
    {
        Now = Now,
        Inventory = Inventory,
        Memories = Memories,
        Previous = previous,
    };

    /// <summary>The runner's options for this session.</summary>
    public RunOptions RunOptions(TextWriter progress) => new()
    {
        Memory = MemoryOn,
        MemoryOffReason = MemoryOffReason,
        Memories = Memories,
        Progress = progress,
    };

    /// <summary>"Now": <c>ORAC_NOW</c> (RFC 3339) when set, for tests and reproducible transcripts; else the clock.</summary>
    public static DateTimeOffset ReadNow(Func<string, string?> env, ArgParser p)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(p);
        string? text = env("ORAC_NOW");
        if (string.IsNullOrWhiteSpace(text))
        {
            return DateTimeOffset.UtcNow;
        }

        if (!DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset now))
        {
            throw p.Usage($"ORAC_NOW must be an RFC 3339 time like 2026-11-25T14:30:00Z, got '{text}'");
        }

        return now;
    }

    /// <summary>Reads the inventory, memories and persona from the server.</summary>
    public static async Task<AskSession> LoadAsync(OracApi api, DateTimeOffset now, bool temporary, bool plain, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        long untilNs = now.ToUnixTimeMilliseconds() * 1_000_000;
        long fromNs = untilNs - (long)InventoryWindow.TotalMilliseconds * 1_000_000;
        Task<LabelValuesDocument> services = api.LabelValuesAsync("service_name", fromNs, untilNs, ct);
        Task<LabelValuesDocument> hosts = api.LabelValuesAsync("host", fromNs, untilNs, ct);
        Task<FleetDocument> fleet = api.FleetAsync("", ct);
        Task<LabelNamesDocument> names = api.LabelNamesAsync(fromNs, untilNs, ct);
        Task<MemoryDocument?> memory = temporary ? Task.FromResult<MemoryDocument?>(null) : api.TryMemoryAsync(ct);
        Task<PersonaDocument?> persona = plain ? Task.FromResult<PersonaDocument?>(null) : api.TryPersonaAsync(ct);

        var hostSet = new SortedSet<string>((await hosts.ConfigureAwait(false)).Values, StringComparer.Ordinal);
        FleetDocument agents;
        try
        {
            agents = await fleet.ConfigureAwait(false);
        }
        catch (OracException e) when (e.Message.Contains(" answered 403 ", StringComparison.Ordinal))
        {
            agents = new FleetDocument { Agents = [] }; // a token that may not list the fleet still asks about stored profiles
        }

        foreach (AgentDocument a in agents.Agents)
        {
            hostSet.Add(a.Info.Hostname);
        }

        var labels = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (string name in (await names.ConfigureAwait(false)).Names.Where(n => !s_skipLabels.Contains(n)).Take(MaxLabelNames))
        {
            LabelValuesDocument values = await api.LabelValuesAsync(name, fromNs, untilNs, ct).ConfigureAwait(false);
            labels[name] = [.. values.Values.Take(MaxLabelValues)];
        }

        MemoryDocument? mem = await memory.ConfigureAwait(false);
        PersonaDocument? who = await persona.ConfigureAwait(false);
        string? off = temporary ? "--temporary" : mem is null ? "the server keeps no memory" : !mem.Enabled ? "memory is off" : null;
        return new AskSession
        {
            Now = now,
            Inventory = new Inventory
            {
                Services = [.. (await services.ConfigureAwait(false)).Values.Order(StringComparer.Ordinal)],
                Hosts = [.. hostSet],
                Labels = labels,
            },
            Memories = off is null ? mem!.Items : [],
            MemoryOn = off is null,
            MemoryOffReason = off,
            Voice = plain || who?.Voice == "plain" ? Voice.Plain : Voice.Orac,
        };
    }
}
