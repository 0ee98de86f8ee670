using System.Buffers.Binary;
using System.Globalization;
using System.Threading.Channels;
using Orac.Model;

namespace Orac.Storage;

/// <summary>
/// The write-ahead log under <c>DATA/wal/</c>: numbered segment files of records framed as
/// <c>[u32 payload length][u32 CRC-32 of payload][payload]</c> (little endian). One writer task appends every waiting
/// record, fsyncs once for all of them (group commit), applies them to the hot tier in log order and only then
/// completes the callers' tasks. Rotation is a request in the same queue, so a snapshot taken at rotation holds
/// exactly the records of the segments before it.
/// </summary>
internal sealed class WriteAheadLog : IAsyncDisposable
{
    private const int HeaderBytes = 8;
    private const int MaxRecordBytes = 1 << 30;
    private const long GroupBytes = 32L << 20;

    private readonly string _dir;
    private readonly Action<WalBatch> _apply;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private FileStream _file;
    private long _seq;
    private long _bytes;

    private sealed class Request
    {
        public byte[]? Payload;
        public uint Crc;
        public WalBatch? Batch;
        public Action? Snapshot;
        public readonly TaskCompletionSource<long> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Starts a new segment numbered <paramref name="seq"/>; <paramref name="existingBytes"/> counts older un-checkpointed segments.</summary>
    public WriteAheadLog(string dir, long seq, long existingBytes, Action<WalBatch> apply)
    {
        _dir = dir;
        _apply = apply;
        _seq = seq;
        _bytes = existingBytes;
        _file = OpenSegment(seq);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Bytes in segment files not yet deleted by a checkpoint.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public static string SegmentPath(string dir, long seq) => Path.Combine(dir, seq.ToString("D16", CultureInfo.InvariantCulture) + ".wal");

    /// <summary>Segment files, oldest first.</summary>
    public static List<(long Seq, string Path)> Segments(string dir)
    {
        var result = new List<(long, string)>();
        foreach (var path in Directory.EnumerateFiles(dir, "*.wal"))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long seq))
            {
                result.Add((seq, path));
            }
        }

        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    /// <summary>
    /// Replays segments after <paramref name="checkpoint"/> (deleting those at or below it) and returns the highest
    /// segment number seen and the bytes still in the log. A record cut short or failing its checksum at the very end
    /// of the newest segment is a torn write that was never acknowledged: it is dropped and the file truncated. Any other bad
    /// record is an error naming the file and offset, or a logged skip when <paramref name="skipCorrupt"/>.
    /// </summary>
    public static (long LastSeq, long Bytes) Replay(string dir, long checkpoint, bool skipCorrupt, Action<string>? log, Action<WalBatch> apply)
    {
        var segments = Segments(dir);
        long last = checkpoint;
        long bytes = 0;
        for (int si = 0; si < segments.Count; si++)
        {
            var (seq, path) = segments[si];
            last = Math.Max(last, seq);
            if (seq <= checkpoint)
            {
                File.Delete(path);
                continue;
            }

            bool newest = si == segments.Count - 1;
            byte[] data = File.ReadAllBytes(path);
            long good = ReplaySegment(path, data, newest, skipCorrupt, log, apply);
            if (good < data.Length)
            {
                using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
                f.SetLength(good);
                f.Flush(true);
            }

            bytes += good;
        }

        return (last, bytes);
    }

    /// <summary>Reads one segment's bytes, applying each record; returns the length of the good prefix.</summary>
    internal static long ReplaySegment(string path, byte[] data, bool newest, bool skipCorrupt, Action<string>? log, Action<WalBatch> apply)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            int remaining = data.Length - pos;
            string? problem = null;
            int length = 0;
            if (remaining < HeaderBytes)
            {
                problem = "record header cut short";
            }
            else
            {
                length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos));
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
                if (length <= 0 || length > MaxRecordBytes)
                {
                    problem = $"bad record length {length}";
                }
                else if (length > remaining - HeaderBytes)
                {
                    problem = $"record of {length} bytes runs past the end of the file";
                }
                else if (Crc32.Compute(data.AsSpan(pos + HeaderBytes, length)) != crc)
                {
                    problem = "checksum mismatch";
                }
            }

            if (problem is not null)
            {
                bool tail = newest && (length <= 0 || length > remaining - HeaderBytes || pos + HeaderBytes + length == data.Length
                    || data.AsSpan(pos).IndexOfAnyExcept((byte)0) < 0);
                if (tail)
                {
                    log?.Invoke($"write-ahead log {path}: dropped a torn record at byte {pos} ({problem}); it was never acknowledged");
                    return pos;
                }

                if (!skipCorrupt || length <= 0 || length > remaining - HeaderBytes)
                {
                    throw new OracException(
                        $"write-ahead log {path} is corrupt at byte {pos}: {problem}. Move the file away to start without it (its data is lost), "
                        + "or open with SkipCorruptWalRecords to skip bad records");
                }

                log?.Invoke($"write-ahead log {path}: skipped a corrupt record at byte {pos} ({problem}); its data is lost");
                pos += HeaderBytes + length;
                continue;
            }

            WalBatch batch;
            try
            {
                batch = WalBatch.Decode(data.AsSpan(pos + HeaderBytes, length));
            }
            catch (OracException e)
            {
                throw new OracException($"write-ahead log {path}: record at byte {pos} has a valid checksum but cannot be read: {e.Message}", e);
            }

            apply(batch);
            pos += HeaderBytes + length;
        }

        return pos;
    }

    /// <summary>Appends one record; completes once it is on disk and applied to the hot tier.</summary>
    public Task AppendAsync(byte[] payload, WalBatch batch)
    {
        if (payload.Length > MaxRecordBytes)
        {
            throw new OracException($"ingest too large: {payload.Length} bytes encoded (at most {MaxRecordBytes})", OracException.Usage);
        }

        // The checksum is computed here, on the caller's thread, so the single writer only writes and fsyncs.
        var r = new Request { Payload = payload, Crc = Crc32.Compute(payload), Batch = batch };
        if (!_queue.Writer.TryWrite(r))
        {
            throw new OracException("the store is closed");
        }

        return r.Done.Task;
    }

    /// <summary>
    /// Closes the current segment and starts the next; <paramref name="snapshot"/> runs on the writer between the two,
    /// when every record of the closed segments is applied and none of the new one is. Returns the closed segment's number.
    /// </summary>
    public Task<long> RotateAsync(Action snapshot)
    {
        var r = new Request { Snapshot = snapshot };
        if (!_queue.Writer.TryWrite(r))
        {
            throw new OracException("the store is closed");
        }

        return r.Done.Task;
    }

    /// <summary>Deletes segments numbered at or below <paramref name="seq"/> (their data is committed in the cold tier).</summary>
    public void DeleteThrough(long seq)
    {
        foreach (var (s, path) in Segments(_dir))
        {
            if (s <= seq)
            {
                long len = new FileInfo(path).Length;
                File.Delete(path);
                Interlocked.Add(ref _bytes, -len);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
    }

    private FileStream OpenSegment(long seq) =>
        new(SegmentPath(_dir, seq), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);

    private async Task LoopAsync()
    {
        var group = new List<Request>();
        try
        {
            await RunLoopAsync(group).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug: stop taking writes and fail every waiting caller loudly rather than leave them hanging.
            _queue.Writer.TryComplete(e);
            var error = new OracException($"the write-ahead log writer stopped: {e.GetType().Name}: {e.Message}", e);
            foreach (var r in group)
            {
                r.Done.TrySetException(error);
            }

            while (_queue.Reader.TryRead(out var r))
            {
                r.Done.TrySetException(error);
            }

            throw;
        }
    }

    private async Task RunLoopAsync(List<Request> group)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long groupBytes = 0;
            while (groupBytes < GroupBytes && reader.TryRead(out var r))
            {
                if (r.Snapshot is not null)
                {
                    WriteGroup(group);
                    group.Clear();
                    groupBytes = 0;
                    Rotate(r);
                    continue;
                }

                group.Add(r);
                groupBytes += r.Payload!.Length;
            }

            WriteGroup(group);
            group.Clear();
        }
    }

    private void Rotate(Request r)
    {
        try
        {
            long closed = _seq;
            _file.Flush(true);
            _file.Dispose();
            _seq++;
            _file = OpenSegment(_seq);
            r.Snapshot!();
            r.Done.SetResult(closed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracException)
        {
            r.Done.SetException(e);
        }
    }

    private void WriteGroup(List<Request> group)
    {
        if (group.Count == 0)
        {
            return;
        }

        long start = _file.Position;
        try
        {
            Span<byte> header = stackalloc byte[HeaderBytes];
            long written = 0;
            foreach (var r in group)
            {
                BinaryPrimitives.WriteInt32LittleEndian(header, r.Payload!.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(header[4..], r.Crc);
                _file.Write(header);
                _file.Write(r.Payload);
                written += HeaderBytes + r.Payload.Length;
            }

            _file.Flush(true);
            Interlocked.Add(ref _bytes, written);
        }
        catch (IOException e)
        {
            // Nothing of this group is acknowledged; cut it off so the next group does not follow a half-written record.
            try
            {
                _file.SetLength(start);
                _file.Position = start;
            }
            catch (IOException)
            {
                // The log is unusable; later appends fail the same way.
            }

            var error = new OracException($"write-ahead log write failed, nothing was stored: {e.Message}", e);
            foreach (var r in group)
            {
                r.Done.SetException(error);
            }

            return;
        }

        foreach (var r in group)
        {
            _apply(r.Batch!);
            r.Done.SetResult(_seq);
        }
    }
}

/// <summary>Fuzz target "wal": a write-ahead-log segment (framing, checksums, record decoding) may only fail with <see cref="OracException"/>.</summary>
public static class WalFuzz
{
    /// <summary>Replays <paramref name="data"/> as the newest segment, strict and then skipping bad records.</summary>
    public static void Run(byte[] data)
    {
        foreach (bool skip in new[] { false, true })
        {
            try
            {
                WriteAheadLog.ReplaySegment("fuzz.wal", data, newest: true, skipCorrupt: skip, log: null, apply: static b => _ = b.EntryCount);
            }
            catch (OracException)
            {
            }
        }

        try
        {
            WalBatch.Decode(data);
        }
        catch (OracException)
        {
        }
    }

    /// <summary>A valid segment of <paramref name="items"/> ingests, one record each: seeds for the fuzzer and tests.</summary>
    public static byte[] Segment(IEnumerable<IReadOnlyList<IngestItem>> items)
    {
        var ms = new MemoryStream();
        Span<byte> header = stackalloc byte[8];
        foreach (var call in items)
        {
            var payload = WalBatch.Build(call).Encode();
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.Compute(payload));
            ms.Write(header);
            ms.Write(payload);
        }

        return ms.ToArray();
    }
}

/// <summary>CRC-32 (IEEE 802.3, the zlib/PNG one) of a record payload.</summary>
internal static class Crc32
{
    public static uint Compute(ReadOnlySpan<byte> data) => System.IO.Hashing.Crc32.HashToUInt32(data);
}
