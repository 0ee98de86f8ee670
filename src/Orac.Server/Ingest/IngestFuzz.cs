using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Orac.Model;
using Orac.Storage;

namespace Orac.Server.Ingest;

/// <summary>
/// Fuzz target <c>ingest-http</c>: pushes bytes through the same parsing path the ingest endpoints use
/// (<see cref="IngestParser.Parse"/>) and into the reference store. The first byte picks the request shape: Pyroscope
/// folded with a sample rate, Pyroscope multipart, native JSON, native sniffed, or the bytes as Pyroscope's <c>name</c>
/// parameter. Bad input may only be refused with <see cref="OracException"/> or a 400/413/415 <see cref="ApiException"/>.
/// </summary>
public static class IngestFuzz
{
    /// <summary>Boundary used by the multipart shape (seeds use it).</summary>
    public const string Boundary = "orac-fuzz-boundary";

    /// <summary>Runs one input.</summary>
    public static void Run(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0)
        {
            return;
        }

        ReadOnlyMemory<byte> body = data.AsMemory(1);
        (IngestRoute route, string query, string? contentType) = (data[0] % 5) switch
        {
            0 => (IngestRoute.Pyroscope, "name=app.cpu{host=a}&sampleRate=100&from=1764400000", (string?)null),
            1 => (IngestRoute.Pyroscope, "name=app.alloc_objects&format=folded", $"multipart/form-data; boundary={Boundary}"),
            2 => (IngestRoute.Native, "service=svc&format=json", "application/json"),
            3 => (IngestRoute.Native, "service=svc&label=host=a&from=now-1m", null),
            _ => (IngestRoute.Pyroscope, "name=" + Uri.EscapeDataString(System.Text.Encoding.UTF8.GetString(body.Span)), null),
        };
        if (data[0] % 5 == 4)
        {
            body = "main;work 1\n"u8.ToArray();
        }

        try
        {
            var q = new QueryCollection(QueryHelpers.ParseQuery(query));
            IReadOnlyList<IngestItem> items = IngestParser.Parse(route, "fuzz", q, contentType, body, 1_764_400_000_000_000_000, 1 << 22);
            var store = new MemoryProfileStore();
            store.IngestAsync(items).AsTask().GetAwaiter().GetResult();
        }
        catch (OracException)
        {
        }
        catch (ApiException e) when (e.Status is 400 or 413 or 415)
        {
        }
    }
}
