using System.Globalization;
using System.Text;
using Orac.Model;

namespace Orac.Server.Fleet;

/// <summary>
/// Upload ids (<c>X-Orac-Upload-Id</c>) already stored, per org, so an agent replaying its spool after a lost answer
/// never double-counts. An id is recorded right after the store acknowledged the data and before the answer, appended
/// to <c>DATA/uploads.ids</c> as <c>org TAB id TAB unixms</c> and flushed to the OS. Ids older than 7 days are dropped
/// (at start, and from memory as they age). Two requests with the same id at once: the second waits for the first and
/// then answers duplicate (or, when the first failed, stores itself).
/// </summary>
internal sealed class UploadLedger : IDisposable
{
    /// <summary>File name inside the data folder.</summary>
    public const string FileName = "uploads.ids";

    /// <summary>How long an id is remembered.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Org, string Id), long> _seen = [];
    private readonly Dictionary<(string Org, string Id), TaskCompletionSource> _inFlight = [];
    private readonly Queue<((string Org, string Id) Key, long Ms)> _order = new();
    private readonly FileStream? _file;
    private readonly TimeProvider _time;

    private UploadLedger(FileStream? file, TimeProvider time)
    {
        _file = file;
        _time = time;
    }

    /// <summary>Lines of uploads.ids skipped at start because they did not parse.</summary>
    public int Skipped { get; private set; }

    /// <summary>Ids remembered now (all orgs).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Whether an upload id is acceptable: 1–128 of [A-Za-z0-9._:-].</summary>
    public static bool IsValidId(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Opens the ledger of a data folder (null: memory only), dropping expired ids and compacting the file.</summary>
    public static UploadLedger Open(string? dataDirectory, Action<string> log, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (dataDirectory is null)
        {
            return new UploadLedger(null, time);
        }

        string path = Path.Combine(dataDirectory, FileName);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        long oldest = now - (long)Retention.TotalMilliseconds;
        var kept = new List<(string Org, string Id, long Ms)>();
        int skipped = 0;
        int firstBad = 0;
        int expired = 0;
        if (File.Exists(path))
        {
            int lineNo = 0;
            foreach (string line in File.ReadLines(path))
            {
                lineNo++;
                string[] f = line.Split('\t');
                if (f.Length != 3 || f[0].Length == 0 || !IsValidId(f[1])
                    || !long.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
                {
                    if (line.Length > 0)
                    {
                        skipped++;
                        firstBad = firstBad == 0 ? lineNo : firstBad;
                    }

                    continue;
                }

                if (ms < oldest)
                {
                    expired++;
                    continue;
                }

                kept.Add((f[0], f[1], ms));
            }
        }

        if (skipped > 0)
        {
            log($"orac: {path}: skipped {skipped} damaged line(s), the first at line {firstBad}");
        }

        // Rewrite without the expired and damaged lines, so the file does not grow forever.
        if (skipped > 0 || expired > 0)
        {
            AtomicFile.Write(path, s =>
            {
                using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach ((string org, string id, long ms) in kept)
                {
                    w.Write(Line(org, id, ms));
                }
            });
        }

        FileStream file;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            file = new FileStream(path, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot open the upload ledger: {e.Message}");
        }

        var ledger = new UploadLedger(file, time) { Skipped = skipped };
        foreach ((string org, string id, long ms) in kept.OrderBy(k => k.Ms))
        {
            ledger._seen[(org, id)] = ms;
            ledger._order.Enqueue(((org, id), ms));
        }

        return ledger;
    }

    private static string Line(string org, string id, long ms) => $"{org}\t{id}\t{ms.ToString(CultureInfo.InvariantCulture)}\n";

    /// <summary>
    /// Reserves <paramref name="id"/> for one request: false when it was already stored (answer duplicate). While
    /// another request holds the same id, waits for it. A true answer must be followed by <see cref="Commit"/> or
    /// <see cref="Release"/>.
    /// </summary>
    public async Task<bool> ReserveAsync(string org, string id, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_seen.ContainsKey((org, id)))
                {
                    return false;
                }

                if (!_inFlight.TryGetValue((org, id), out TaskCompletionSource? other))
                {
                    _inFlight[(org, id)] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    return true;
                }

                wait = other.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The upload was stored: remember its id (written to the file before this returns).</summary>
    public void Commit(string org, string id)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            try
            {
                if (_file is not null)
                {
                    _file.Write(Encoding.UTF8.GetBytes(Line(org, id, now)));
                    _file.Flush();
                }
            }
            finally
            {
                _seen[(org, id)] = now;
                _order.Enqueue(((org, id), now));
                Expire(now);
                Finish(org, id);
            }
        }
    }

    /// <summary>The upload failed: let the next request with this id try.</summary>
    public void Release(string org, string id)
    {
        lock (_gate)
        {
            Finish(org, id);
        }
    }

    private void Finish(string org, string id)
    {
        if (_inFlight.Remove((org, id), out TaskCompletionSource? tcs))
        {
            tcs.TrySetResult();
        }
    }

    private void Expire(long now)
    {
        long oldest = now - (long)Retention.TotalMilliseconds;
        while (_order.Count > 0 && _order.Peek().Ms < oldest)
        {
            var (key, ms) = _order.Dequeue();
            if (_seen.TryGetValue(key, out long at) && at == ms)
            {
                _seen.Remove(key);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _file?.Dispose();
}
