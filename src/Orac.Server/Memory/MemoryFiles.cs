using System.Text.Json;
using System.Text.Json.Serialization;
using Orac.Model.Wire;
using Orac.Server.Fleet;

namespace Orac.Server.Memory;

/// <summary><c>DATA/memory/ORG/USER.json</c>: one user's memories (docs/ask.md "Memory").</summary>
internal sealed class MemoryFile
{
    public int Version { get; set; } = 1;

    /// <summary>The user id the file belongs to (the token's name).</summary>
    public string User { get; set; } = "";

    /// <summary>False after <c>orac memory off</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The number of the next id (<c>m{NextId}</c>); only grows, so ids are never reused.</summary>
    public long NextId { get; set; } = 1;

    /// <summary>Oldest first.</summary>
    public List<MemoryItem> Items { get; set; } = [];
}

/// <summary><c>DATA/memory/ORG/USER.persona.json</c>: one user's persona.</summary>
internal sealed class PersonaFile
{
    public int Version { get; set; } = 1;

    public string About { get; set; } = "";

    public string Respond { get; set; } = "";

    public long UpdatedMs { get; set; }
}

/// <summary>The memory files are the server's own, not wire documents: their own small context.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MemoryFile))]
[JsonSerializable(typeof(PersonaFile))]
internal sealed partial class MemoryJsonContext : JsonSerializerContext
{
}

/// <summary>A damaged memory or persona file: the message names the file (relative to the data folder) and what is wrong.</summary>
internal sealed class MemoryFileException(string message) : Exception(message);

/// <summary>Reads and checks the memory and persona files. Any bytes give a file or one <see cref="MemoryFileException"/>.</summary>
internal static class MemoryFiles
{
    /// <summary>Largest memory or persona file read (200 items of 500 characters fit many times over).</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>At most this many memories per user.</summary>
    public const int MaxItems = 200;

    /// <summary>At most this many characters per memory.</summary>
    public const int MaxTextChars = 500;

    /// <summary>At most this many characters per persona field.</summary>
    public const int MaxPersonaChars = 1000;

    /// <summary>Sources a memory may name (<see cref="MemoryItem.Source"/>).</summary>
    public static readonly string[] Sources = ["cli", "chat", "ask", "mcp", "finding", "api"];

    // Ids are m1 … m999999999: far beyond what 200 items at a time can use up.
    private const long MaxId = 999_999_999;

    /// <summary>Parses and checks a memory file; <paramref name="name"/> names it in errors.</summary>
    public static MemoryFile ParseMemory(ReadOnlySpan<byte> bytes, string name)
    {
        MemoryFile f = Deserialize(bytes, name, MemoryJsonContext.Default.MemoryFile);
        if (f.Version != 1)
        {
            throw Damaged(name, $"version {f.Version} is not 1");
        }

        if (f.Items is null)
        {
            throw Damaged(name, "'items' is missing or null");
        }

        if (f.Items.Count > MaxItems)
        {
            throw Damaged(name, $"holds {f.Items.Count} memories, more than {MaxItems}");
        }

        if (f.NextId is < 1 or > MaxId + 1)
        {
            throw Damaged(name, $"nextId {f.NextId} is not 1 to {MaxId + 1}");
        }

        var seen = new HashSet<long>();
        for (int i = 0; i < f.Items.Count; i++)
        {
            MemoryItem? item = f.Items[i];
            string where = $"items[{i}]";
            if (item is null)
            {
                throw Damaged(name, $"{where} is null");
            }

            long n = IdNumber(item.Id);
            if (n < 0)
            {
                throw Damaged(name, $"{where}.id '{Show(item.Id)}' is not m1, m2, …");
            }

            if (!seen.Add(n))
            {
                throw Damaged(name, $"{where}.id {item.Id} appears twice");
            }

            if (n >= f.NextId)
            {
                throw Damaged(name, $"{where}.id {item.Id} is not below nextId {f.NextId} (ids would be reused)");
            }

            string? problem = CheckText(item.Text, MaxTextChars, allowNewlines: false);
            if (problem is not null)
            {
                throw Damaged(name, $"{where}.text {problem}");
            }

            if (item.Source is null || Array.IndexOf(Sources, item.Source) < 0)
            {
                throw Damaged(name, $"{where}.source '{Show(item.Source)}' is not one of {string.Join(", ", Sources)}");
            }

            if (item.Fact?.Kind is not { Length: > 0 and <= 32 })
            {
                throw Damaged(name, $"{where}.fact is missing or has no kind");
            }

            if (item.Fact.UsdPerHour is double usd && !(double.IsFinite(usd) && usd >= 0))
            {
                throw Damaged(name, $"{where}.fact.usdPerHour is not a price of 0 or more");
            }

            if ((item.Fact.Subject?.Length ?? 0) > MaxTextChars || (item.Fact.Value?.Length ?? 0) > MaxTextChars)
            {
                throw Damaged(name, $"{where}.fact has a subject or value longer than {MaxTextChars} characters");
            }
        }

        f.User ??= "";
        return f;
    }

    /// <summary>Parses and checks a persona file; <paramref name="name"/> names it in errors.</summary>
    public static PersonaFile ParsePersona(ReadOnlySpan<byte> bytes, string name)
    {
        PersonaFile f = Deserialize(bytes, name, MemoryJsonContext.Default.PersonaFile);
        if (f.Version != 1)
        {
            throw Damaged(name, $"version {f.Version} is not 1");
        }

        string? problem = CheckText(f.About ?? "", MaxPersonaChars, allowNewlines: true, allowEmpty: true)
            ?? CheckText(f.Respond ?? "", MaxPersonaChars, allowNewlines: true, allowEmpty: true);
        if (problem is not null || f.About is null || f.Respond is null)
        {
            throw Damaged(name, $"about or respond {problem ?? "is null"}");
        }

        return f;
    }

    /// <summary>The number of an id <c>mN</c>, or -1.</summary>
    public static long IdNumber(string? id)
    {
        if (id is null || id.Length < 2 || id.Length > 10 || id[0] != 'm' || id[1] == '0')
        {
            return -1;
        }

        long n = 0;
        for (int i = 1; i < id.Length; i++)
        {
            if (!char.IsAsciiDigit(id[i]))
            {
                return -1;
            }

            n = (n * 10) + (id[i] - '0');
        }

        return n;
    }

    /// <summary>Null when <paramref name="text"/> is acceptable, else what is wrong with it (for "TEXT is …" messages).</summary>
    public static string? CheckText(string? text, int maxChars, bool allowNewlines, bool allowEmpty = false)
    {
        if (text is null)
        {
            return "is missing";
        }

        if (text.Length == 0 && !allowEmpty)
        {
            return "is empty";
        }

        if (text.Length > maxChars)
        {
            return $"is {text.Length} characters, more than {maxChars}";
        }

        foreach (char c in text)
        {
            if (char.IsControl(c) && !(allowNewlines && c is '\n' or '\t'))
            {
                return $"holds a control character (U+{(int)c:X4})";
            }
        }

        return null;
    }

    /// <summary>Serializes a memory file (indented UTF-8 JSON).</summary>
    public static byte[] Serialize(MemoryFile f) => JsonSerializer.SerializeToUtf8Bytes(f, MemoryJsonContext.Default.MemoryFile);

    /// <summary>Serializes a persona file.</summary>
    public static byte[] Serialize(PersonaFile f) => JsonSerializer.SerializeToUtf8Bytes(f, MemoryJsonContext.Default.PersonaFile);

    /// <summary>Text from a file, shortened and with control characters escaped, for error messages.</summary>
    public static string Show(string? s)
    {
        if (s is null)
        {
            return "null";
        }

        string t = s.Length > 40 ? s[..40] + "…" : s;
        return Orac.Server.Auth.AuthStore.Escape(t);
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> bytes, string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
        where T : class
    {
        if (bytes.Length > MaxFileBytes)
        {
            throw Damaged(name, $"is {bytes.Length} bytes, more than {MaxFileBytes}");
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, info) ?? throw Damaged(name, "holds null, not an object");
        }
        catch (JsonException e)
        {
            long offset = JsonOffsets.ByteOffset(bytes, e.LineNumber, e.BytePositionInLine);
            string path = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            throw Damaged(name, $"is not a valid file{path} (byte {offset}): {FirstLine(e.Message)}");
        }
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? message : message[..nl];
    }

    private static MemoryFileException Damaged(string name, string what) =>
        new($"{name} is damaged: {what}; fix or remove that file (nothing else was changed)");
}

/// <summary>The fuzz target <c>memory-file</c>: any bytes give a memory or persona file or one clear error.</summary>
public static class MemoryFileFuzz
{
    /// <summary>Runs one input: the first byte picks the memory (even) or persona (odd) loader.</summary>
    public static void Run(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0)
        {
            return;
        }

        try
        {
            if (data[0] % 2 == 0)
            {
                MemoryFile f = MemoryFiles.ParseMemory(data.AsSpan(1), "fuzz.json");

                // What loads is what the server writes back: a round trip must load again.
                _ = MemoryFiles.ParseMemory(MemoryFiles.Serialize(f), "fuzz.json");
            }
            else
            {
                PersonaFile p = MemoryFiles.ParsePersona(data.AsSpan(1), "fuzz.persona.json");
                _ = MemoryFiles.ParsePersona(MemoryFiles.Serialize(p), "fuzz.persona.json");
            }
        }
        catch (MemoryFileException)
        {
        }
    }
}
