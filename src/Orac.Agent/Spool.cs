using System.Globalization;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Agent;

/// <summary>
/// The agent's upload spool: every upload is written here (one file per upload, fsynced, named by a
/// zero-padded sequence number) before anything is sent, and deleted only when the server took it or
/// will never take it. Bounded by bytes: when full, the oldest files are dropped first and counted
/// (uploads and samples). A file that fails its checksum or is cut short is counted, logged with its
/// name and removed; it never stops the replay. Thread-safe: the profiler adds, the sender drains.
/// </summary>
/// <remarks>
/// Sequence numbers continue after the highest file present, and never fall below the current Unix time
/// in milliseconds, so an agent restarted with an empty spool does not reuse an upload id the server has
/// already seen (the server drops a repeated <c>X-Orac-Upload-Id</c> as a duplicate).
/// </remarks>
public sealed class Spool : IDisposable
{
    /// <summary>Default bound, bytes (256 MiB).</summary>
    public const long DefaultMaxBytes = 256L << 20;

    /// <summary>Spool file name suffix.</summary>
    public const string Extension = ".upload";

    private const int SeqDigits = 16;
    private const string TempSuffix = ".tmp";

    private readonly object _lock = new();
    private readonly SortedDictionary<long, Item> _items = [];
    private readonly TextWriter _log;
    private readonly SemaphoreSlim _added = new(0, int.MaxValue);
    private long _nextSeq;
    private long _bytes;
    private long _inFlight = -1;
    private long _droppedUploads;
    private long _droppedSamples;
    private long _corrupt;

    private Spool(string directory, string agentId, long maxBytes, TextWriter log)
    {
        Directory = directory;
        AgentId = agentId;
        MaxBytes = maxBytes;
        _log = log;
    }

    /// <summary>The spool folder.</summary>
    public string Directory { get; }

    /// <summary>The agent id upload ids start with.</summary>
    public string AgentId { get; }

    /// <summary>Bound on the bytes kept, all files together.</summary>
    public long MaxBytes { get; }

    /// <summary>Uploads dropped because the spool was full, since it was opened.</summary>
    public long DroppedUploads => Interlocked.Read(ref _droppedUploads);

    /// <summary>Samples in those uploads.</summary>
    public long DroppedSamples => Interlocked.Read(ref _droppedSamples);

    /// <summary>Files found damaged or cut short (skipped and removed), since it was opened.</summary>
    public long Corrupt => Interlocked.Read(ref _corrupt);

    /// <summary>The sequence number the next upload gets.</summary>
    public long NextSequence
    {
        get
        {
            lock (_lock)
            {
                return _nextSeq;
            }
        }
    }

    /// <summary>Files and bytes waiting, and what was dropped.</summary>
    public SpoolStats Stats
    {
        get
        {
            lock (_lock)
            {
                return new SpoolStats { Files = _items.Count, Bytes = _bytes, DroppedUploads = _droppedUploads, DroppedSamples = _droppedSamples };
            }
        }
    }

    /// <summary>Samples in the files waiting.</summary>
    public long WaitingSamples
    {
        get
        {
            lock (_lock)
            {
                long n = 0;
                foreach (Item i in _items.Values)
                {
                    n += i.Samples;
                }

                return n;
            }
        }
    }

    /// <summary>
    /// Opens (creating) the spool in <paramref name="directory"/>: indexes the files left by an earlier run (their
    /// headers only), removes half-written temporary files and files whose header does not hold together.
    /// </summary>
    public static Spool Open(string directory, string agentId, long maxBytes, TextWriter log)
    {
        if (maxBytes < 1)
        {
            throw new OracException($"spool bound must be positive, got {maxBytes}");
        }

        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{directory}: cannot create the spool folder: {e.Message}");
        }

        var spool = new Spool(directory, agentId, maxBytes, log);
        spool.Index();
        return spool;
    }

    private void Index()
    {
        long max = 0;
        string[] files;
        try
        {
            files = System.IO.Directory.GetFiles(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{Directory}: cannot list the spool folder: {e.Message}");
        }

        foreach (string path in files)
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                TryDelete(path); // a write the agent did not finish: it was never acknowledged to anyone
                continue;
            }

            if (!TryParseSeq(name, out long seq))
            {
                continue; // not ours
            }

            max = Math.Max(max, seq);
            try
            {
                byte[] head = ReadHead(path, out long length);
                SpoolFile.Header h = SpoolFile.ReadHeader(name, head);
                _items[seq] = new Item(length, h.Samples);
                _bytes += length;
            }
            catch (OracException e)
            {
                Skip(path, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Skip(path, e.Message);
            }
        }

        _nextSeq = Math.Max(max + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (_items.Count > 0)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"orac agent: spool {Directory}: {_items.Count:N0} uploads ({_bytes:N0} bytes) left from an earlier run; they are sent first"));
        }
    }

    private static byte[] ReadHead(string path, out long length)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        length = fs.Length;
        byte[] head = new byte[(int)Math.Min(length, 24 + 6 + SpoolFile.MaxIdBytes + SpoolFile.MaxPathBytes + SpoolFile.MaxContentTypeBytes + 4)];
        fs.ReadExactly(head);
        return head;
    }

    /// <summary>The file name of sequence number <paramref name="seq"/>.</summary>
    public static string FileName(long seq) => seq.ToString("D" + SeqDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + Extension;

    private static bool TryParseSeq(string name, out long seq)
    {
        seq = 0;
        return name.Length == SeqDigits + Extension.Length
            && name.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(0, SeqDigits), NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    /// <summary>
    /// Writes one upload (fsynced) and returns its sequence number, or -1 when the upload alone is larger than
    /// the bound (dropped and counted). Drops the oldest files first while the spool would be over its bound.
    /// </summary>
    public long Add(string pathAndQuery, string contentType, long samples, ReadOnlyMemory<byte> body)
    {
        long seq;
        lock (_lock)
        {
            seq = _nextSeq++;
        }

        byte[] file = SpoolFile.Encode(new SpoolEntry
        {
            UploadId = AgentId + "-" + seq.ToString(CultureInfo.InvariantCulture),
            PathAndQuery = pathAndQuery,
            ContentType = contentType,
            Samples = samples,
            Body = body,
        });
        if (file.Length > MaxBytes)
        {
            Interlocked.Increment(ref _droppedUploads);
            Interlocked.Add(ref _droppedSamples, samples);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"orac agent: spool: an upload of {file.Length:N0} bytes is larger than the whole spool ({MaxBytes:N0} bytes); dropped ({samples:N0} samples)"));
            return -1;
        }

        MakeRoom(file.Length);
        string final = Path.Combine(Directory, FileName(seq));
        string temp = final + TempSuffix;
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                fs.Write(file);
                fs.Flush(flushToDisk: true);
            }

            File.Move(temp, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            Interlocked.Increment(ref _droppedUploads);
            Interlocked.Add(ref _droppedSamples, samples);
            _log.WriteLine($"orac agent: spool: cannot write {final}: {e.Message}; upload dropped ({samples} samples)");
            return -1;
        }

        lock (_lock)
        {
            _items[seq] = new Item(file.Length, samples);
            _bytes += file.Length;
        }

        _added.Release();
        return seq;
    }

    private void MakeRoom(long incoming)
    {
        while (true)
        {
            long victim = -1;
            Item item = default;
            lock (_lock)
            {
                if (_bytes + incoming <= MaxBytes)
                {
                    return;
                }

                foreach (KeyValuePair<long, Item> kv in _items)
                {
                    if (kv.Key != _inFlight)
                    {
                        victim = kv.Key;
                        item = kv.Value;
                        break;
                    }
                }

                if (victim < 0)
                {
                    return; // only the upload being sent is left: it goes when the server answers
                }

                _items.Remove(victim);
                _bytes -= item.Bytes;
                _droppedUploads++;
                _droppedSamples += item.Samples;
            }

            TryDelete(Path.Combine(Directory, FileName(victim)));
        }
    }

    /// <summary>Waits until an upload is added or <paramref name="timeout"/> passes.</summary>
    public Task<bool> WaitForAddedAsync(TimeSpan timeout, CancellationToken cancel) => _added.WaitAsync(timeout, cancel);

    /// <summary>
    /// The oldest readable upload, marked in flight (the bound never drops it) until <see cref="Complete"/>;
    /// null when the spool is empty. Damaged files met on the way are counted, logged and removed.
    /// </summary>
    public (long Seq, SpoolEntry Entry)? TakeOldest()
    {
        while (true)
        {
            long seq;
            lock (_lock)
            {
                if (_items.Count == 0)
                {
                    return null;
                }

                using SortedDictionary<long, Item>.Enumerator e = _items.GetEnumerator();
                e.MoveNext();
                seq = e.Current.Key;
                _inFlight = seq;
            }

            string path = Path.Combine(Directory, FileName(seq));
            try
            {
                byte[] data = File.ReadAllBytes(path);
                return (seq, SpoolFile.Decode(FileName(seq), data));
            }
            catch (OracException e)
            {
                Forget(seq);
                Skip(path, e.Message);
            }
            catch (FileNotFoundException)
            {
                Forget(seq);
                Skip(path, "removed by someone else");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Forget(seq);
                Skip(path, e.Message);
            }
        }
    }

    /// <summary>The upload <paramref name="seq"/> is finished with (sent, or refused for good): its file is deleted.</summary>
    public void Complete(long seq)
    {
        Forget(seq);
        TryDelete(Path.Combine(Directory, FileName(seq)));
    }

    /// <summary>The upload <paramref name="seq"/> stays (to be retried); the bound may drop it again.</summary>
    public void Release(long seq)
    {
        lock (_lock)
        {
            if (_inFlight == seq)
            {
                _inFlight = -1;
            }
        }
    }

    private void Forget(long seq)
    {
        lock (_lock)
        {
            if (_items.Remove(seq, out Item item))
            {
                _bytes -= item.Bytes;
            }

            if (_inFlight == seq)
            {
                _inFlight = -1;
            }
        }
    }

    private void Skip(string path, string why)
    {
        Interlocked.Increment(ref _corrupt);
        string name = Path.GetFileName(path);
        _log.WriteLine(why.StartsWith(name + ":", StringComparison.Ordinal)
            ? $"orac agent: spool: skipped {why}; removed"
            : $"orac agent: spool: skipped {name}: {why}; removed");
        TryDelete(path);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next start indexes or skips it again.
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _added.Dispose();

    private readonly record struct Item(long Bytes, long Samples);
}
