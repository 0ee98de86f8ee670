using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Orac.Formats;
using Orac.Model;
using Orac.Model.Query;

namespace Orac.Cli;

/// <summary>
/// The <c>orac push</c> verb: sends profile files (folded stacks, Orac profile JSON from
/// <c>orac record -o x.json</c>, pprof raw or gzip) to a server's <c>POST /api/v1/profiles</c>. The format
/// is sniffed here and named in <c>format=</c>; gzip is unwrapped (and its trailer checked) before sending.
/// </summary>
public static class PushCommand
{
    private const string UsageLine = "usage: orac push FILE... --service NAME [--label k=v]... [--type TYPE] [--from T --until T] [--server URL] [--token TOKEN]";

    /// <summary>Largest file pushed (bytes, after gzip is unwrapped): the server's default body limit.</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => RemoteTarget.AddOptions(new ArgParser("push")
        .Option("--service", "-s")
        .Repeatable("--label", "-l")
        .Option("--type")
        .Option("--from")
        .Option("--until")
        .Flag("--help", "-h"));

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help"))
        {
            WriteHelp(ctx.Error);
            return 0;
        }

        if (p.Positionals.Count == 0)
        {
            throw p.Usage("expected at least one FILE");
        }

        string service = p.Get("--service") ?? throw p.Usage("--service NAME is required (the service_name label the profiles are stored under)");
        if (string.IsNullOrWhiteSpace(service))
        {
            throw p.Usage("--service needs a non-empty name");
        }

        foreach (string label in p.GetAll("--label"))
        {
            int eq = label.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw p.Usage($"--label needs NAME=VALUE, got '{label}'");
            }
        }

        if (p.Get("--type") is string type)
        {
            ProfileTypeId.Parse(type);
        }

        long now = TimeSpec.NowNs();
        foreach (string opt in (string[])["--from", "--until"])
        {
            if (p.Get(opt) is string t && !TimeSpec.TryParse(t, now, out _))
            {
                throw p.Usage($"bad time for {opt}: '{t}' (now, now-5m, RFC 3339 or Unix seconds)");
            }
        }

        if (p.Positionals.Count(f => f == "-") > 1)
        {
            throw p.Usage("stdin ('-') can be pushed once");
        }

        RemoteTarget target = RemoteTarget.Resolve(p, ctx);
        using var client = target.Client();
        foreach (string path in p.Positionals)
        {
            PushOne(client, p, service, path, ctx);
        }

        return 0;
    }

    /// <summary>The format name for <c>format=</c>: <c>pprof</c>, <c>json</c> or <c>folded</c>, from the (unwrapped) bytes.</summary>
    public static string Sniff(ReadOnlySpan<byte> data)
    {
        if (LooksLikePprof(data))
        {
            return "pprof";
        }

        ReadOnlySpan<byte> t = data.TrimStart(" \t\r\n"u8);
        if (t.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            t = t[3..].TrimStart(" \t\r\n"u8);
        }

        return !t.IsEmpty && t[0] == (byte)'{' ? "json" : "folded";
    }

    /// <summary>
    /// A pprof <c>Profile</c> message starts with field 1 (<c>sample_type</c>, a length-delimited
    /// <c>ValueType</c>) whose first field is a varint: bytes <c>0x0a LEN 0x08</c>. Text never starts so.
    /// </summary>
    private static bool LooksLikePprof(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] != 0x0a)
        {
            return false;
        }

        int i = 1;
        int shift = 0;
        ulong len = 0;
        while (i < data.Length && i < 11)
        {
            byte b = data[i++];
            len |= (ulong)(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                return len > 0 && len <= (ulong)(data.Length - i) && data[i] is 0x08 or 0x10;
            }
        }

        return false;
    }

    private static void PushOne(RemoteClient client, ArgParser p, string service, string path, CliContext ctx)
    {
        string name = InputFiles.DisplayName(path);
        byte[] body = ReadAll(path, name, ctx.StdIn);
        string format = Sniff(body);
        var query = new List<(string, string?)>
        {
            ("service", service),
            ("format", format),
            ("type", p.Get("--type")),
            ("from", p.Get("--from")),
            ("until", p.Get("--until")),
        };
        foreach (string label in p.GetAll("--label"))
        {
            query.Add(("label", label));
        }

        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(format switch
        {
            "json" => "application/json",
            "pprof" => "application/octet-stream",
            _ => "text/plain",
        });
        byte[] answer;
        try
        {
            answer = client.Post(RemoteClient.PathWithQuery("/api/v1/profiles", [.. query]), content);
        }
        catch (OracException e)
        {
            throw new OracException($"push: {name}: {e.Message}", e.ExitCode);
        }

        (long profiles, long series, long samples) = ReadIngestAnswer(answer, client.Server);
        ctx.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"push: {name}: stored {samples:N0} samples ({profiles:N0} profiles) in {series:N0} series (format {format}, service_name={service}) on {client.Server}"));
    }

    private static byte[] ReadAll(string path, string name, Stream stdin)
    {
        using Stream input = InputFiles.Open(path, stdin);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[1 << 16];
        int n;
        while ((n = input.Read(chunk)) > 0)
        {
            if (buffer.Length + n > MaxBytes)
            {
                throw new OracException($"push: {name}: more than {MaxBytes >> 20} MiB (the server's request limit); split it");
            }

            buffer.Write(chunk, 0, n);
        }

        if (buffer.Length == 0)
        {
            throw new OracException($"push: {name}: the file is empty");
        }

        return buffer.ToArray();
    }

    /// <summary>Reads <c>{"ingested": N, "series": N, "samples": N}</c> (profiles kept, series written, sample rows kept).</summary>
    internal static (long Ingested, long Series, long Samples) ReadIngestAnswer(byte[] answer, Uri server)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(answer);
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("ingested", out JsonElement i) && i.TryGetInt64(out long ingested)
                && root.TryGetProperty("series", out JsonElement s) && s.TryGetInt64(out long series))
            {
                long samples = root.TryGetProperty("samples", out JsonElement n) && n.TryGetInt64(out long v) ? v : 0;
                return (ingested, series, samples);
            }
        }
        catch (JsonException)
        {
        }

        throw new OracException($"the server at {server} answered 2xx but not with {{\"ingested\": N, \"series\": N}}; is it an Orac server?");
    }

    private static void WriteHelp(TextWriter w)
    {
        w.WriteLine(UsageLine);
        w.WriteLine("  FILE            folded stacks, Orac profile JSON (orac record -o x.json) or pprof (raw or gzip); '-' is stdin");
        w.WriteLine("  --service NAME  service_name label the profiles are stored under (required)");
        w.WriteLine("  --label k=v     more series labels (repeatable), e.g. --label host=web-1");
        w.WriteLine("  --type TYPE     profile type id, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds (default: from the file)");
        w.WriteLine("  --from T        start of the time the profile covers (now-10s, RFC 3339, Unix s); default: the server's now");
        w.WriteLine("  --until T       end of the time the profile covers");
        w.WriteLine("  --server URL    server (default: ORAC_SERVER, else the CLI config written by `orac up`, else http://127.0.0.1:4040)");
        w.WriteLine("  --token TOKEN   bearer token (default: ORAC_TOKEN, else the CLI config)");
    }
}
