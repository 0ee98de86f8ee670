using System.Globalization;
using System.Text;
using Orac.Model;

namespace Orac.Server.Fleet;

/// <summary>
/// Upload ids (<c>X-Orac-Upload-Id</c>) already stored, per org, so an agent replaying its spool after a lost answer
/// never double-counts. An id is recorded right after the store acknowledged the data and before the answer, appended
/// to <c>DATA/uploads.ids</c> as <c>org TAB id TAB unixms</c> and flushed to the OS. Two requests with the same id at
/// once: the second waits for the first and then answers duplicate (or, when the first failed, stores itself).
/// <para>
/// Memory is bounded by the number of senders, not uploads. Agents name uploads <c>AGENTID-SEQ</c> and send one at a
/// time, oldest first, moving on only once the server took one, so a replay can only repeat one of that agent's
/// latest uploads: per (org, <c>AGENTID</c>) the ledger keeps the last <see cref="PerSender"/> sequence numbers (an
/// agent unheard of for 7 days is forgotten). Other ids are kept for 7 days, at most <see cref="MaxOther"/> of them
/// (oldest forgotten first). The file is rewritten with only what is remembered at start and whenever it has grown
/// to several times that.
/// </para>
/// </summary>
internal sealed class UploadLedger : IDisposable
{
    /// <summary>File name inside the data folder.</summary>
    public const string FileName = "uploads.ids";

    /// <summary>How long an id is remembered.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    /// <summary>Sequence numbers remembered per (org, sender) for ids of the form <c>SENDER-SEQ</c>.</summary>
    public const int PerSender = 128;

    /// <summary>Most ids of other forms remembered at once.</summary>
    public const int MaxOther = 1_000_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Org, string Sender), SenderWindow> _senders = [];
    private readonly Dictionary<(string Org, string Id), long> _seen = [];
    private readonly Dictionary<(string Org, string Id), TaskCompletionSource> _inFlight = [];
    private readonly Queue<((string Org, string Id) Key, long Ms)> _order = new();
    private FileStream? _file;
    private readonly string? _path;
    private readonly TimeProvider _time;
    private long _linesInFile;
    private long _commits;
    private long _senderEntries;

    private UploadLedger(FileStream? file, string? path, TimeProvider time)
    {
        _file = file;
        _path = path;
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
                return (int)Remembered;
            }
        }
    }

    private long Remembered => _seen.Count + _senderEntries;

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
            return new UploadLedger(null, null, time);
        }

        string path = Path.Combine(dataDirectory, FileName);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        long oldest = now - (long)Retention.TotalMilliseconds;
        var ledger = new UploadLedger(null, path, time);
        int skipped = 0;
        int firstBad = 0;
        long lines = 0;
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

                lines++;
                ledger.Remember(f[0], f[1], ms);
            }
        }

        ledger.Expire(now);
        if (skipped > 0)
        {
            log($"orac: {path}: skipped {skipped} damaged line(s), the first at line {firstBad}");
        }

        // Rewrite with only what is remembered (no expired, forgotten or damaged lines), so the file does not grow forever.
        if (skipped > 0 || lines > ledger.Remembered)
        {
            ledger.Rewrite(path);
        }

        FileStream file = OpenAppend(path);
        var opened = new UploadLedger(file, path, time) { Skipped = skipped, _linesInFile = ledger.Remembered, _senderEntries = ledger._senderEntries };
        foreach (var kv in ledger._senders)
        {
            opened._senders[kv.Key] = kv.Value;
        }

        foreach (var kv in ledger._seen)
        {
            opened._seen[kv.Key] = kv.Value;
        }

        foreach (var e in ledger._order)
        {
            opened._order.Enqueue(e);
        }

        return opened;
    }

    private static FileStream OpenAppend(string path)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            return new FileStream(path, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot open the upload ledger: {e.Message}");
        }
    }

    /// <summary>Writes every remembered id, oldest first, to <paramref name="path"/> atomically.</summary>
    private void Rewrite(string path)
    {
        var all = new List<(string Org, string Id, long Ms)>((int)Remembered);
        foreach (var kv in _seen)
        {
            all.Add((kv.Key.Org, kv.Key.Id, kv.Value));
        }

        foreach (var kv in _senders)
        {
            foreach ((long seq, long ms) in kv.Value.Entries())
            {
                all.Add((kv.Key.Org, kv.Key.Sender + "-" + seq.ToString(CultureInfo.InvariantCulture), ms));
            }
        }

        all.Sort((a, b) => a.Ms.CompareTo(b.Ms));
        AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            foreach ((string org, string id, long ms) in all)
            {
                w.Write(Line(org, id, ms));
            }
        });
    }

    /// <summary>Splits <c>SENDER-SEQ</c> (SEQ: 1–18 decimal digits).</summary>
    internal static bool TrySplit(string id, out string sender, out long seq)
    {
        int dash = id.LastIndexOf('-');
        sender = "";
        seq = 0;
        if (dash <= 0 || id.Length - dash - 1 is 0 or > 18
            || !long.TryParse(id.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out seq))
        {
            return false;
        }

        sender = id[..dash];
        return true;
    }

    private bool Contains(string org, string id) =>
        TrySplit(id, out string sender, out long seq)
            ? _senders.TryGetValue((org, sender), out SenderWindow? w) && w.Contains(seq)
            : _seen.ContainsKey((org, id));

    private void Remember(string org, string id, long ms)
    {
        if (TrySplit(id, out string sender, out long seq))
        {
            if (!_senders.TryGetValue((org, sender), out SenderWindow? w))
            {
                _senders[(org, sender)] = w = new SenderWindow();
            }

            _senderEntries += w.Add(seq, ms);
            return;
        }

        _seen[(org, id)] = ms;
        _order.Enqueue(((org, id), ms));
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
                if (Contains(org, id))
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
                    _linesInFile++;
                }
            }
            finally
            {
                Remember(org, id, now);
                if (++_commits % 4096 == 0)
                {
                    Expire(now);
                }

                Finish(org, id);
            }

            // The file holds every id ever committed since the last rewrite; shrink it to what is remembered.
            if (_file is not null && _path is not null && _linesInFile > Math.Max(100_000, 4L * Remembered))
            {
                Compact(now);
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

    private void Compact(long now)
    {
        Expire(now);
        _file!.Flush(flushToDisk: true);
        Rewrite(_path!);

        // The append handle still points at the replaced file: reopen it on the new one.
        _file.Dispose();
        _file = OpenAppend(_path!);
        _linesInFile = Remembered;
    }

    private void Expire(long now)
    {
        long oldest = now - (long)Retention.TotalMilliseconds;
        foreach (var kv in _senders.Where(kv => kv.Value.LastMs < oldest).ToList())
        {
            _senders.Remove(kv.Key);
            _senderEntries -= kv.Value.Count;
        }

        while (_order.Count > 0 && (_order.Peek().Ms < oldest || _order.Count > MaxOther))
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

    /// <summary>The last <see cref="PerSender"/> sequence numbers of one sender, with when each was stored.</summary>
    private sealed class SenderWindow
    {
        private readonly Queue<(long Seq, long Ms)> _order = new();
        private readonly HashSet<long> _set = [];

        public int Count => _set.Count;

        public long LastMs { get; private set; }

        public bool Contains(long seq) => _set.Contains(seq);

        /// <summary>Remembers <paramref name="seq"/>; returns the change in entries (0 or 1).</summary>
        public int Add(long seq, long ms)
        {
            LastMs = Math.Max(LastMs, ms);
            if (!_set.Add(seq))
            {
                return 0;
            }

            _order.Enqueue((seq, ms));
            if (_order.Count <= PerSender)
            {
                return 1;
            }

            _set.Remove(_order.Dequeue().Seq);
            return 0;
        }

        public Queue<(long Seq, long Ms)> Entries() => _order;
    }
}
