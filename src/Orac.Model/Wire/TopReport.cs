using System.Text.Json.Serialization;

namespace Orac.Model.Wire;

/// <summary>The <c>orac top --json</c> document: functions ranked by self or total value.</summary>
public sealed class TopReport
{
    /// <summary>Input the values came from (file name or <c>&lt;stdin&gt;</c>).</summary>
    public required string Source { get; init; }

    /// <summary>What the values measure, e.g. <c>samples</c>/<c>count</c> or <c>cpu</c>/<c>nanoseconds</c>.</summary>
    public required string SampleType { get; init; }

    /// <summary>Unit of every value in the report, e.g. <c>samples</c> or <c>nanoseconds</c>.</summary>
    public required string Unit { get; init; }

    /// <summary><c>measured</c> when the values come straight from the input (never estimated here).</summary>
    public required string Provenance { get; init; }

    /// <summary><c>self</c> or <c>total</c>: the ranking key.</summary>
    public required string OrderBy { get; init; }

    /// <summary>Sum of all sample values: the 100% for the percentages.</summary>
    public required long ProfileTotal { get; init; }

    /// <summary>Functions, best first (at most the requested count).</summary>
    public required IReadOnlyList<TopRow> Functions { get; init; }

    /// <summary>The unit word shown to people: the unit, or the type name for plain counts ("samples").</summary>
    public static string UnitWord(SampleType type) => type.Unit is "count" or "" ? type.Type : type.Unit;

    /// <summary>Builds the document for the first <paramref name="count"/> rows of <paramref name="top"/>.</summary>
    public static TopReport From(TopFunctions top, string source, TopOrder order, int count)
    {
        ArgumentNullException.ThrowIfNull(top);
        Profile profile = top.Profile;
        SampleType type = profile.SampleTypes[top.Type];
        ReadOnlySpan<TopFunction> rows = top.Rows;
        int n = Math.Min(count, rows.Length);
        var list = new List<TopRow>(n);
        double total = top.ProfileTotal;
        for (int i = 0; i < n; i++)
        {
            TopFunction r = rows[i];
            list.Add(new TopRow
            {
                Name = profile.FrameName(r.Frame),
                Self = r.Self,
                Total = r.Total,
                SelfPercent = total == 0 ? 0 : Math.Round(100.0 * r.Self / total, 2),
                TotalPercent = total == 0 ? 0 : Math.Round(100.0 * r.Total / total, 2),
            });
        }

        return new TopReport
        {
            Source = source,
            SampleType = type.ToString(),
            Unit = UnitWord(type),
            Provenance = "measured",
            OrderBy = order == TopOrder.Self ? "self" : "total",
            ProfileTotal = top.ProfileTotal,
            Functions = list,
        };
    }
}

/// <summary>One function in a <see cref="TopReport"/>. Values are in the report's unit; percentages are of the profile total (0–100).</summary>
public sealed class TopRow
{
    /// <summary>Function name as it appears in the input.</summary>
    public required string Name { get; init; }

    /// <summary>Value of samples whose leaf is this function.</summary>
    public required long Self { get; init; }

    /// <summary>Value of samples with this function on the stack, counted once per stack.</summary>
    public required long Total { get; init; }

    /// <summary>Self as a percentage of the profile total.</summary>
    public required double SelfPercent { get; init; }

    /// <summary>Total as a percentage of the profile total.</summary>
    public required double TotalPercent { get; init; }
}

/// <summary>The one source-generated JSON context for Orac's wire DTOs (no reflection; AOT/trim safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TopReport))]
[JsonSerializable(typeof(ProfileDocument))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(FlameTree))]
[JsonSerializable(typeof(SeriesDocument))]
[JsonSerializable(typeof(LabelNamesDocument))]
[JsonSerializable(typeof(LabelValuesDocument))]
[JsonSerializable(typeof(TypesDocument))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(HealthDocument))]
[JsonSerializable(typeof(OrgDocument))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenDocument))]
[JsonSerializable(typeof(AgentInfo))]
[JsonSerializable(typeof(AgentRegistration))]
[JsonSerializable(typeof(AgentHeartbeat))]
[JsonSerializable(typeof(HeartbeatReply))]
[JsonSerializable(typeof(TaskRequest))]
[JsonSerializable(typeof(TaskDocument))]
[JsonSerializable(typeof(TaskListDocument))]
[JsonSerializable(typeof(HostsDocument))]
[JsonSerializable(typeof(ResultsDocument))]
[JsonSerializable(typeof(FleetDocument))]
[JsonSerializable(typeof(FleetSetRequest))]
[JsonSerializable(typeof(FleetSetResult))]
[JsonSerializable(typeof(AuditDocument))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(TaskResultAck))]
[JsonSerializable(typeof(CostDocument))]
[JsonSerializable(typeof(OpportunitiesDocument))]
[JsonSerializable(typeof(OrgReportDocument))]
[JsonSerializable(typeof(MetricsBatch))]
[JsonSerializable(typeof(MetricsIngestResult))]
[JsonSerializable(typeof(MemoryItem))]
[JsonSerializable(typeof(MemoryDocument))]
[JsonSerializable(typeof(MemoryAddRequest))]
[JsonSerializable(typeof(MemorySettings))]
[JsonSerializable(typeof(MemoryForgetResult))]
[JsonSerializable(typeof(PersonaDocument))]
[JsonSerializable(typeof(PersonaSetRequest))]
public sealed partial class OracJsonContext : JsonSerializerContext
{
}
