using System.Text;
using System.Text.Json;
using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// The CLI's own settings, <c>$XDG_CONFIG_HOME/orac/config.json</c> (else <c>~/.config/orac/config.json</c>):
/// the server URL and the token remote verbs use when neither <c>--server</c>/<c>--token</c> nor
/// ORAC_SERVER/ORAC_TOKEN say otherwise. The token is a secret: the folder is 0700, the file 0600, and
/// it is replaced atomically (written beside, flushed, renamed) so a crash never leaves half a file.
/// </summary>
public sealed record CliConfig
{
    /// <summary>Largest config file read (bytes): a token and a URL fit many times over.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Server base URL, e.g. <c>http://127.0.0.1:4040</c>.</summary>
    public string? Server { get; init; }

    /// <summary>Bearer token for <see cref="Server"/>.</summary>
    public string? Token { get; init; }

    /// <summary>OpenAI-compatible endpoint for <c>ask --llm</c> (<c>llmUrl</c>; see <see cref="LlmSettings"/>).</summary>
    public string? LlmUrl { get; init; }

    /// <summary>Model name for <c>ask --llm</c> (<c>llmModel</c>).</summary>
    public string? LlmModel { get; init; }

    /// <summary>Key for the <c>ask --llm</c> endpoint (<c>llmKey</c>; a secret, like <see cref="Token"/>).</summary>
    public string? LlmKey { get; init; }

    /// <summary>The config file's path for this environment.</summary>
    public static string PathFor(Func<string, string?> env)
    {
        string? xdg = env("XDG_CONFIG_HOME");
        string folder;
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            folder = xdg;
        }
        else
        {
            string? home = env("HOME");
            if (string.IsNullOrEmpty(home))
            {
                home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }

            if (string.IsNullOrEmpty(home))
            {
                throw new OracException("cannot find the CLI config folder: neither XDG_CONFIG_HOME nor HOME is set");
            }

            folder = Path.Combine(home, ".config");
        }

        return Path.Combine(folder, "orac", "config.json");
    }

    /// <summary>Reads the config at <paramref name="path"/>; an absent file is an empty config, a bad one is one clear error.</summary>
    public static CliConfig Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return new CliConfig();
            }

            if (info.Length > MaxBytes)
            {
                throw new OracException($"{path}: the config file is {info.Length:N0} bytes, more than the {MaxBytes:N0} allowed");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot read the CLI config: {e.Message}");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OracException($"{path}: the CLI config must be a JSON object");
            }

            return new CliConfig
            {
                Server = StringProperty(doc.RootElement, "server", path),
                Token = StringProperty(doc.RootElement, "token", path),
                LlmUrl = StringProperty(doc.RootElement, "llmUrl", path),
                LlmModel = StringProperty(doc.RootElement, "llmModel", path),
                LlmKey = StringProperty(doc.RootElement, "llmKey", path),
            };
        }
        catch (JsonException e)
        {
            throw new OracException($"{path}: the CLI config is not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}); fix or delete it");
        }
    }

    /// <summary>Writes the config at <paramref name="path"/> atomically: folder 0700, file 0600.</summary>
    public void Save(string path)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temp = Path.Combine(folder, $".config.json.{Environment.ProcessId}.tmp");
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
                File.WriteAllBytes(temp, ToJson());
            }
            else
            {
                WritePrivate(folder, temp, ToJson());
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new OracException($"{path}: cannot write the CLI config: {e.Message}");
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void WritePrivate(string folder, string temp, byte[] bytes)
    {
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, Owner);
        }

        // An existing folder keeps its owner, but a token must not be readable by others.
        File.SetUnixFileMode(folder, Owner);
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var stream = new FileStream(temp, options);

        // A leftover temporary file from a crashed run keeps its old mode; set it before the token goes in.
        File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The file's bytes: indented JSON with <c>server</c>, <c>token</c> and the <c>llm…</c> settings that are set.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (Server is not null)
            {
                w.WriteString("server", Server);
            }

            if (Token is not null)
            {
                w.WriteString("token", Token);
            }

            WriteIfSet(w, "llmUrl", LlmUrl);
            WriteIfSet(w, "llmModel", LlmModel);
            WriteIfSet(w, "llmKey", LlmKey);

            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.ToArray();
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static string? StringProperty(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw new OracException($"{path}: '{name}' must be a string, not {v.ValueKind.ToString().ToLowerInvariant()}");
        }

        try
        {
            return v.GetString();
        }
        catch (InvalidOperationException)
        {
            throw new OracException($"{path}: '{name}' is not valid UTF-8");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temporary file is named per process and replaced next time.
        }
    }
}

/// <summary>Where remote verbs send requests: <c>--server</c>/<c>--token</c>, else ORAC_SERVER/ORAC_TOKEN, else the CLI config.</summary>
public sealed record RemoteTarget(Uri Server, string? Token, string Source)
{
    /// <summary>A client for this target (bearer token on every request).</summary>
    public RemoteClient Client() => new(Server, Token);

    /// <summary>Used when nothing names a server: <c>orac up</c>'s default address.</summary>
    public const string DefaultServer = "http://127.0.0.1:4040";

    /// <summary>Adds <c>--server URL</c> and <c>--token TOKEN</c> to a verb's parser.</summary>
    public static ArgParser AddOptions(ArgParser p) => p.Option("--server").Option("--token");

    /// <summary>Resolves the target from the parsed options, the environment and the config file.</summary>
    public static RemoteTarget Resolve(ArgParser p, CliContext ctx)
    {
        string? server = p.Get("--server");
        string? token = p.Get("--token");
        string source = server is not null ? "--server" : "";
        server ??= NonEmpty(ctx.GetEnv("ORAC_SERVER"));
        token ??= NonEmpty(ctx.GetEnv("ORAC_TOKEN"));
        if (source.Length == 0 && server is not null)
        {
            source = "ORAC_SERVER";
        }

        if (server is null || token is null)
        {
            string path = CliConfig.PathFor(ctx.GetEnv);
            CliConfig config = CliConfig.Load(path);
            if (server is null && config.Server is not null)
            {
                server = config.Server;
                source = path;
            }

            token ??= config.Token;
        }

        if (server is null)
        {
            server = DefaultServer;
            source = "default";
        }

        return new RemoteTarget(ParseServer(p, server), NonEmpty(token), source);
    }

    /// <summary>Parses a server URL: http or https with a host; a bare <c>host:port</c> means http.</summary>
    public static Uri ParseServer(ArgParser p, string text)
    {
        string t = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(t, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw p.Usage($"bad server URL '{text}': expected http://HOST:PORT");
        }

        return uri;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
