using System.Text.Json;

namespace Orac.Mcp;

// The tools' JSON Schemas as text, parsed once (no reflection-built schemas: AOT-safe). Inputs state every bound the
// handlers check (ToolArgs), so a validating client refuses bad calls before they arrive.
public static partial class OracTools
{
    private const string Sel = """
        "query": { "type": "string", "maxLength": 4096, "description": "Orac selector, e.g. {service_name=\"api\", host=~\"web-.*\"}, optionally prefixed by a profile type id; a bare word is a service name. Empty: the whole org." },
        "service": { "type": "string", "description": "Service name (label service_name), checked against the inventory (list_services)." },
        "host": { "type": "string", "description": "Host name (label host), checked against the inventory (list_services)." }
        """;

    private const string Range = """
        "from": { "type": "string", "description": "Start: now-1h (default), now-15m, now-7d, an RFC 3339 time such as 2026-11-29T10:00:00Z, or Unix seconds/ms/ns." },
        "until": { "type": "string", "description": "End: now (default), or a time as for from." }
        """;

    private const string Range7 = """
        "from": { "type": "string", "description": "Start: now-7d (default: annual figures from a week are steadier), now-24h, an RFC 3339 time, or Unix seconds/ms/ns." },
        "until": { "type": "string", "description": "End: now (default), or a time as for from." }
        """;

    private const string TypeArg = """
        "type": { "type": "string", "description": "Profile type id (list_profile_types), e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds. Default: the first type with data for the selection." }
        """;

    private static string Limit(int def, int max) => $$"""
        "limit": { "type": "integer", "minimum": 1, "maximum": {{max}}, "default": {{def}}, "description": "How many rows (top N)." }
        """;

    private const string Time = """{ "type": "string", "description": "RFC 3339 UTC" }""";

    private const string Figures = """
        { "type": "object", "description": "usd: US dollars (estimated, priced at the cost model's rates); kwh: facility energy (basis in energyBasis); kgCo2e: operational emissions (estimated); cpuSeconds and gpuSeconds: measured.",
          "properties": {
            "usd": { "type": "number" }, "kwh": { "type": "number" }, "kgCo2e": { "type": "number" },
            "cpuSeconds": { "type": "number" }, "gpuSeconds": { "type": "number" },
            "energyBasis": { "type": "string", "enum": ["measured", "estimated", "mixed", "projection"] } },
          "required": ["usd", "kwh", "kgCo2e", "cpuSeconds", "gpuSeconds", "energyBasis"] }
        """;

    private static JsonElement Schema(string properties, string required = "") => JsonOut.Parse($$"""
        { "type": "object", "properties": { {{properties}} }, "required": [{{required}}], "additionalProperties": false }
        """);

    private static JsonElement Output(string properties, string required) => JsonOut.Parse($$"""
        { "type": "object", "properties": { {{properties}} }, "required": [{{required}}] }
        """);

    private static readonly JsonElement s_listServicesIn = Schema(Range);

    private static readonly JsonElement s_listServicesOut = Output("""
        "services": { "type": "array", "items": { "type": "string" } },
        "hosts": { "type": "array", "items": { "type": "string" }, "description": "hosts with stored profiles plus the fleet's agents" },
        "labels": { "type": "array", "items": { "type": "string" }, "description": "label names" },
        "from": { "type": "string" }, "until": { "type": "string" }
        """, "\"services\", \"hosts\", \"labels\"");

    private static readonly JsonElement s_listLabelsIn = Schema("""
        "name": { "type": "string", "description": "One label name (e.g. version, env, region); empty: every label." },
        """ + Range);

    private static readonly JsonElement s_listLabelsOut = Output("""
        "labels": { "type": "array", "items": { "type": "object", "properties": {
            "name": { "type": "string" }, "values": { "type": "array", "items": { "type": "string" } },
            "valuesOmitted": { "type": "integer", "description": "values beyond the first 100" } }, "required": ["name", "values", "valuesOmitted"] } },
        "labelsOmitted": { "type": "integer" }
        """, "\"labels\", \"labelsOmitted\"");

    private static readonly JsonElement s_typesIn = Schema("");

    private static readonly JsonElement s_typesOut = Output("""
        "types": { "type": "array", "items": { "type": "string" }, "description": "profile type ids name:sampleType:unit:periodType:periodUnit" }
        """, "\"types\"");

    private static readonly JsonElement s_topIn = Schema(Sel + "," + Range + "," + TypeArg + "," + Limit(10, 100) + """
        , "order": { "type": "string", "enum": ["self", "total"], "default": "self", "description": "Rank by self (time in the function itself) or total (with its callees)." }
        """);

    private static readonly JsonElement s_topOut = Output($$"""
        "selector": { "type": "string" }, "from": {{Time}}, "until": {{Time}},
        "sampleType": { "type": "string" }, "unit": { "type": "string", "description": "unit of every value" },
        "provenance": { "type": "string", "enum": ["measured"] }, "orderBy": { "type": "string", "enum": ["self", "total"] },
        "profileTotal": { "type": "integer", "description": "the whole selection, in unit (100 %)" },
        "functions": { "type": "array", "items": { "type": "object", "properties": {
            "name": { "type": "string" }, "self": { "type": "integer" }, "total": { "type": "integer" },
            "selfPercent": { "type": "number" }, "totalPercent": { "type": "number" } },
            "required": ["name", "self", "total", "selfPercent", "totalPercent"] } },
        "link": { "type": "string", "description": "the full flame graph in Orac's web UI" }
        """, "\"selector\", \"from\", \"until\", \"unit\", \"provenance\", \"profileTotal\", \"functions\", \"link\"");

    private static readonly JsonElement s_diffIn = Schema(Sel + "," + Range + "," + TypeArg + "," + Limit(10, 100) + """
        ,
        "base_query": { "type": "string", "maxLength": 4096, "description": "Base selection (default: the same selection)." },
        "base_service": { "type": "string", "description": "Base service (e.g. compare two services)." },
        "base_host": { "type": "string", "description": "Base host (e.g. compare two hosts)." },
        "base_from": { "type": "string", "description": "Base start (default: with a base selection, the same range; else the equally long range just before from)." },
        "base_until": { "type": "string", "description": "Base end (default: with a base selection, until; else from)." }
        """);

    private static readonly JsonElement s_diffOut = Output($$"""
        "selector": { "type": "string" }, "from": {{Time}}, "until": {{Time}},
        "baseSelector": { "type": "string" }, "baseFrom": {{Time}}, "baseUntil": {{Time}},
        "type": { "type": "string" }, "unit": { "type": "string" }, "provenance": { "type": "string" }, "partial": { "type": "boolean" },
        "total": { "type": "integer" }, "baseTotal": { "type": "integer" },
        "changes": { "type": "array", "description": "functions by the size of their self change, largest first", "items": { "type": "object", "properties": {
            "name": { "type": "string" }, "self": { "type": "integer" }, "baseSelf": { "type": "integer" }, "delta": { "type": "integer", "description": "self - baseSelf, in unit" },
            "selfPercent": { "type": "number" }, "baseSelfPercent": { "type": "number" }, "deltaPoints": { "type": "number", "description": "selfPercent - baseSelfPercent: share change, robust to different totals" } },
            "required": ["name", "self", "baseSelf", "delta", "selfPercent", "baseSelfPercent", "deltaPoints"] } },
        "link": { "type": "string" }
        """, "\"selector\", \"baseSelector\", \"unit\", \"total\", \"baseTotal\", \"partial\", \"changes\", \"link\"");

    private static readonly JsonElement s_costIn = Schema(Sel + "," + Range7 + "," + Limit(5, 50));

    private static readonly JsonElement s_costOut = Output($$"""
        "selector": { "type": "string" }, "from": {{Time}}, "until": {{Time}}, "model": { "type": "string" },
        "total": {{Figures}}, "idle": {{Figures}},
        "projectedPerYear": {{Figures}},
        "functions": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "cpuPercent": { "type": "number" }, "figures": {{Figures}} }, "required": ["name", "figures"] } },
        "hosts": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "class": { "type": "string" }, "figures": {{Figures}} }, "required": ["name", "figures"] } },
        "gpus": { "type": "array", "items": { "type": "object", "properties": { "host": { "type": "string" }, "index": { "type": "integer" }, "model": { "type": "string" },
            "utilPercent": { "type": "number" }, "strandedIdleUsd": { "type": "number" }, "figures": {{Figures}} }, "required": ["host", "index", "figures"] } },
        "partial": { "type": "boolean" }, "notes": { "type": "array", "items": { "type": "string" } },
        "memoriesUsed": { "type": "array", "items": { "type": "string" }, "description": "ids of the caller's memories (prices) the figures used" },
        "link": { "type": "string" }
        """, "\"selector\", \"total\", \"idle\", \"projectedPerYear\", \"functions\", \"hosts\", \"gpus\", \"partial\", \"notes\", \"memoriesUsed\"");

    private static readonly JsonElement s_oppIn = Schema(Sel + "," + Range7 + "," + Limit(5, 50) + """
        , "improve_percent": { "type": "number", "minimum": 1, "maximum": 100, "default": 10, "description": "The improvement priced in ifImproved, percent." }
        """);

    private static readonly JsonElement s_oppOut = Output($$"""
        "selector": { "type": "string" }, "from": {{Time}}, "until": {{Time}}, "improvementPercent": { "type": "number" },
        "totalPerYear": { "type": "object", "description": "projection", "properties": { "usd": { "type": "number" }, "kwh": { "type": "number" }, "kgCo2e": { "type": "number" } } },
        "items": { "type": "array", "description": "annual figures are projections (the period repeated over a year)", "items": { "type": "object", "properties": {
            "rank": { "type": "integer" }, "kind": { "type": "string" }, "name": { "type": "string" }, "advice": { "type": "string" },
            "annualUsd": { "type": "number" }, "annualKwh": { "type": "number" }, "annualKgCo2e": { "type": "number" },
            "ifImprovedUsd": { "type": "number" }, "ifEliminatedUsd": { "type": "number" },
            "owners": { "type": "array", "items": { "type": "string" } }, "link": { "type": "string" } },
            "required": ["rank", "kind", "name", "annualUsd", "ifImprovedUsd", "link"] } },
        "partial": { "type": "boolean" }, "notes": { "type": "array", "items": { "type": "string" } },
        "memoriesUsed": { "type": "array", "items": { "type": "string" } }
        """, "\"selector\", \"items\", \"partial\", \"notes\"");

    private static readonly JsonElement s_fleetIn = Schema("""
        "query": { "type": "string", "maxLength": 4096, "description": "Selector over agent labels and host, e.g. {host=~\"gpu-.*\"}; empty: every agent." }
        """);

    private static readonly JsonElement s_fleetOut = Output("""
        "count": { "type": "integer" }, "online": { "type": "integer" },
        "agents": { "type": "array", "items": { "type": "object", "properties": {
            "host": { "type": "string" }, "id": { "type": "string" }, "status": { "type": "string" },
            "lastSeenMs": { "type": "integer", "description": "Unix ms" }, "cpus": { "type": "integer" }, "hz": { "type": "integer", "description": "sampling rate, Hz" },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "capabilities": { "type": "array", "items": { "type": "string" } },
            "runningTasks": { "type": "array", "items": { "type": "string" } } },
            "required": ["host", "id", "status"] } },
        "agentsOmitted": { "type": "integer" }
        """, "\"count\", \"online\", \"agents\", \"agentsOmitted\"");

    private static readonly JsonElement s_startIn = Schema("""
        "kind": { "type": "string", "enum": ["profile", "check"], "description": "profile: a fresh CPU profile on each host; check: the 60-second USE check (/proc and /sys)." },
        "seconds": { "type": "integer", "minimum": 1, "maximum": 300, "description": "How long each agent works (default 30 for profile, 60 for check)." },
        """ + Sel, "\"kind\"");

    private static readonly JsonElement s_taskOut = Output("""
        "taskId": { "type": "string" }, "kind": { "type": "string" }, "selector": { "type": "string" },
        "state": { "type": "string", "description": "running, done, partial, failed, …" }, "partial": { "type": "boolean" },
        "hosts": { "type": "array", "items": { "type": "string" } },
        "missing": { "type": "array", "items": { "type": "string" }, "description": "hosts that failed or timed out" },
        "durationSeconds": { "type": "number" },
        "unit": { "type": "string" }, "profileTotal": { "type": "integer" },
        "functions": { "type": "array", "items": { "type": "object", "properties": {
            "name": { "type": "string" }, "self": { "type": "integer" }, "total": { "type": "integer" },
            "selfPercent": { "type": "number" }, "totalPercent": { "type": "number" } }, "required": ["name", "self", "selfPercent"] } },
        "findings": { "type": "array", "description": "check: one row per host", "items": { "type": "object", "properties": {
            "host": { "type": "string" }, "state": { "type": "string" }, "partial": { "type": "boolean" },
            "problems": { "type": "array", "items": { "type": "object", "properties": {
                "resource": { "type": "string" }, "kind": { "type": "string" }, "rule": { "type": "string" }, "message": { "type": "string" } } } },
            "reason": { "type": "string" } }, "required": ["host", "state", "problems"] } },
        "link": { "type": "string", "description": "the task's merged flame graph in Orac's web UI (profile)" }
        """, "\"taskId\", \"kind\", \"state\", \"partial\", \"hosts\", \"missing\"");

    private static readonly JsonElement s_resultIn = Schema("""
        "task_id": { "type": "string", "description": "The id start_research or health_check returned." },
        "wait_seconds": { "type": "integer", "minimum": 0, "maximum": 120, "default": 0, "description": "Wait up to this long for a running task to finish." },
        """ + Limit(10, 100), "\"task_id\"");

    private static readonly JsonElement s_checkIn = Schema(Sel + """
        , "seconds": { "type": "integer", "minimum": 1, "maximum": 60, "default": 60, "description": "The check's window (60 s unless told)." }
        """);
}
