using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Orac.Model.Query;

namespace Orac.Mcp;

/// <summary>An argument the caller can fix: becomes a tool error (<c>isError</c>) carrying this message.</summary>
internal sealed class ToolArgException(string message) : Exception(message)
{
    public ToolArgException()
        : this("bad argument")
    {
    }

    public ToolArgException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// Reads one tool call's arguments (a JSON object) with the bounds the input schema states, so a client that does not
/// validate the schema still gets one clear error naming the argument ("argument 'limit': expected an integer from 1 to
/// 100, got 500"). Numbers may arrive as JSON numbers or as numeric strings (some clients pass every value as text).
/// </summary>
internal readonly struct ToolArgs(JsonElement args)
{
    /// <summary>Longest string argument accepted (a selector is at most <see cref="Selector.MaxLength"/>).</summary>
    public const int MaxString = Selector.MaxLength;

    private readonly JsonElement _args = args;

    public bool Has(string name) => Get(name) is not null;

    public string? Str(string name)
    {
        if (Get(name) is not { } v)
        {
            return null;
        }

        string s = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Number => v.GetRawText(),
            _ => throw new ToolArgException($"argument '{name}': expected a string, got {Kind(v)}"),
        };
        if (s.Length > MaxString)
        {
            throw new ToolArgException($"argument '{name}': longer than {MaxString} characters");
        }

        s = s.Trim();
        return s.Length == 0 ? null : s;
    }

    public string Required(string name) => Str(name) ?? throw new ToolArgException($"argument '{name}' is required");

    public int Int(string name, int fallback, int min, int max)
    {
        if (Get(name) is not { } v)
        {
            return fallback;
        }

        bool ok = v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetInt32(out int n) && Set(out fallback, n),
            JsonValueKind.String => int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && Set(out fallback, n),
            _ => false,
        };
        if (!ok || fallback < min || fallback > max)
        {
            throw new ToolArgException($"argument '{name}': expected an integer from {min} to {max}, got {Shown(v)}");
        }

        return fallback;
    }

    public double Number(string name, double fallback, double min, double max)
    {
        if (Get(name) is not { } v)
        {
            return fallback;
        }

        bool ok = v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetDouble(out double n) && Set(out fallback, n),
            JsonValueKind.String => double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && Set(out fallback, n),
            _ => false,
        };
        if (!ok || !double.IsFinite(fallback) || fallback < min || fallback > max)
        {
            throw new ToolArgException($"argument '{name}': expected a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got {Shown(v)}");
        }

        return fallback;
    }

    public string Enum(string name, string fallback, params string[] allowed)
    {
        string? s = Str(name);
        if (s is null)
        {
            return fallback;
        }

        foreach (string a in allowed)
        {
            if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase))
            {
                return a;
            }
        }

        throw new ToolArgException($"argument '{name}': expected one of {string.Join(", ", allowed)}, got '{Escape(s)}'");
    }

    /// <summary>A time argument (<c>now</c>, <c>now-1h</c>, RFC 3339, Unix s/ms/ns) as Unix ns; <paramref name="fallback"/> when absent.</summary>
    public long Time(string name, long fallback, long nowNs)
    {
        string? s = Str(name);
        if (s is null)
        {
            return fallback;
        }

        if (!TimeSpec.TryParse(s, nowNs, out long ns))
        {
            throw new ToolArgException($"argument '{name}': bad time '{Escape(s)}' (expected now, now-1h, now-7d, an RFC 3339 time like 2026-11-29T10:00:00Z, or Unix seconds/ms/ns)");
        }

        return ns;
    }

    /// <summary>Escapes control characters and bounds the length of text echoed back in an error.</summary>
    public static string Escape(string s)
    {
        string t = s.Length > 80 ? s[..80] + "…" : s;
        var sb = new System.Text.StringBuilder(t.Length);
        foreach (char c in t)
        {
            if (char.IsControl(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private JsonElement? Get(string name)
    {
        if (_args.ValueKind != JsonValueKind.Object || !_args.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v;
    }

    private static bool Set<T>(out T target, T value)
    {
        target = value;
        return true;
    }

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Number => "a number",
        _ => "a string",
    };

    private static string Shown(JsonElement v) => v.ValueKind == JsonValueKind.String ? $"'{Escape(v.GetString() ?? "")}'" : Escape(v.GetRawText());
}

/// <summary>Builds structured results with <see cref="Utf8JsonWriter"/> (no reflection; AOT-safe).</summary>
internal static class JsonOut
{
    public static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        using JsonDocument doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    public static JsonElement Parse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    public static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    /// <summary>A double rounded for reading (money and energy to 6 significant digits is plenty).</summary>
    public static double Round(double v) => double.IsFinite(v) ? Math.Round(v, v is > -1 and < 1 ? 6 : 4) : 0;
}
