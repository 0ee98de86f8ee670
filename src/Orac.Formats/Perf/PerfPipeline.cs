using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// Streams perf script text through <see cref="PerfChunkParser"/>s with bounded memory.
/// </summary>
/// <remarks>
/// The reading thread fills fixed blocks and cuts each after its last blank line: a sample never
/// spans a blank line, so every such chunk starts with no open sample and any worker can parse it
/// into its own tables. The rest of the block (at most <see cref="_maxLine"/> bytes) moves to the
/// next block. The reading thread parses a chunk itself whenever the workers already have one
/// waiting, so N threads means N-1 workers plus the reader. When a block holds no blank line at
/// all, its whole lines go to the reading thread's parser, which keeps the open sample until the
/// next blank line; so does the text
/// between the last blank line of a file and the first blank line of the next (perl reads all
/// files as one stream). The first event type, which decides what the script keeps, is found by
/// a scan on the reading thread before the chunk holding it is handed out. Sums are commutative,
/// so the order in which workers finish cannot change the result. Parsers are merged at the end.
/// Lines longer than <see cref="_maxLine"/> are skipped wherever they fall, which keeps the result
/// independent of block boundaries and thread count.
/// </remarks>
internal sealed class PerfPipeline : IDisposable
{
    private readonly PerfCollapseOptions _options;
    private readonly IReadOnlyList<string> _names;
    private readonly ParseWarnings _warnings;
    private readonly int _blockSize;
    private readonly int _maxLine;
    private readonly int _workerCount;
    private readonly PerfChunkParser _seq;
    private readonly List<ChunkInfo> _chunks = [];
    private byte[]? _filter;
    private int _lastSequentialChunk;

    private BlockingCollection<Work>? _queue;
    private BlockingCollection<byte[]>? _free;
    private int _allocated;
    private int _maxBuffers;
    private PerfChunkParser[] _workers = [];
    private Thread[] _threads = [];
    private Exception? _failure;

    public PerfPipeline(PerfCollapseOptions options, IReadOnlyList<string> names, ParseWarnings warnings)
    {
        _options = options;
        _names = names;
        _warnings = warnings;
        _blockSize = Math.Max(16, options.BlockSize);
        _maxLine = Math.Max(4, _blockSize / 2);
        int threads = options.Threads > 0 ? options.Threads : Math.Min(2, Environment.ProcessorCount);
        _workerCount = threads <= 1 ? 0 : Math.Min(threads, 64) - 1; // the reading thread parses too
        _seq = new PerfChunkParser(options, _maxLine);
        _filter = _seq.Filter;
    }

    private sealed class ChunkInfo(int file)
    {
        public int File { get; } = file;

        public int Lines { get; set; }
    }

    private readonly record struct Work(byte[] Buffer, int Offset, int Length, int Seq, ChunkInfo Info, byte[]? Filter, bool Last);

    public void Dispose()
    {
        StopWorkers();
        _free?.Dispose();
        _free = null;
    }

    public PerfStacks Run(IReadOnlyList<Stream> inputs)
    {
        StartWorkers();
        bool stopped = false;
        try
        {
            ReadAll(inputs);
            StopWorkers();
            stopped = true;
        }
        finally
        {
            if (!stopped)
            {
                StopWorkers();
            }
        }

        if (_failure is not null)
        {
            ExceptionDispatchInfo.Capture(_failure).Throw();
        }

        ReportWarnings();
        return Merge();
    }

    private void ReadAll(IReadOnlyList<Stream> inputs)
    {
        byte[] buf = Rent();
        int len = 0;
        bool skipping = false;
        for (int f = 0; f < inputs.Count; f++)
        {
            Stream stream = inputs[f];
            bool lastFile = f == inputs.Count - 1;
            while (true)
            {
                bool eof = Fill(stream, buf, ref len, f);
                if (skipping)
                {
                    int nl = buf.AsSpan(0, len).IndexOf((byte)'\n');
                    if (nl >= 0)
                    {
                        buf.AsSpan(nl + 1, len - nl - 1).CopyTo(buf);
                        len -= nl + 1;
                        skipping = false;
                    }
                    else
                    {
                        len = 0;
                        if (!eof)
                        {
                            continue;
                        }

                        skipping = false;
                    }
                }

                if (eof && len > 0 && buf[len - 1] != (byte)'\n')
                {
                    buf[len++] = (byte)'\n'; // blocks have one spare byte for this
                }

                Consume(ref buf, ref len, ref skipping, f, eof, eof && lastFile);
                if (eof)
                {
                    break;
                }
            }
        }

        if (inputs.Count == 0)
        {
            Consume(ref buf, ref len, ref skipping, 0, true, true);
        }

        Return(buf);
    }

    /// <summary>Reads until the block is full or the stream ends; returns true at end of stream.</summary>
    private bool Fill(Stream stream, byte[] buf, ref int len, int file)
    {
        while (len < _blockSize)
        {
            int n;
            try
            {
                n = stream.Read(buf, len, _blockSize - len);
            }
            catch (InvalidDataException e)
            {
                ThrowRead(file, len, buf, "corrupt compressed input", e);
                return true;
            }
            catch (IOException e)
            {
                ThrowRead(file, len, buf, "read error", e);
                return true;
            }

            if (n == 0)
            {
                return true;
            }

            len += n;
        }

        return false;
    }

    /// <summary>
    /// Hands out what can be parsed in <c>buf[..len]</c> and leaves the rest at the start of
    /// <paramref name="buf"/> (possibly a fresh block).
    /// </summary>
    private void Consume(ref byte[] buf, ref int len, ref bool skipping, int file, bool endOfFile, bool endOfStream)
    {
        int start = 0;
        bool dispatched = false;
        ReadOnlySpan<byte> data = buf.AsSpan(0, len);
        if (_workerCount == 0)
        {
            start = endOfFile ? len : data.LastIndexOf((byte)'\n') + 1;
            if (start > 0)
            {
                ParseSequential(data[..start], file);
            }
        }
        else
        {
            if (_seq.InSample)
            {
                // Finish the open sample on this thread, up to and including its blank line.
                int end = FirstBlankLineEnd(data);
                if (end < 0)
                {
                    end = endOfFile ? len : data.LastIndexOf((byte)'\n') + 1;
                }

                if (end > 0)
                {
                    ParseSequential(data[..end], file);
                }

                start = end;
            }

            if (!_seq.InSample && start < len)
            {
                ReadOnlySpan<byte> rest = data[start..];
                int split;
                if (endOfStream)
                {
                    split = rest.Length;
                }
                else
                {
                    int i = rest.LastIndexOf("\n\n"u8);
                    split = i < 0 ? 0 : i + 2;
                }

                if (split > 0)
                {
                    if (_queue!.Count > 0)
                    {
                        // The workers are busy: parse this chunk here, where its bytes are still in cache.
                        // It starts after a blank line and no sample is open, so the reading thread's
                        // parser is in the same clean state a worker's would be.
                        ParseSequential(data.Slice(start, split), file);
                    }
                    else
                    {
                        Dispatch(buf, start, split, file, endOfStream);
                        dispatched = true;
                    }

                    start += split;
                }
            }
        }

        int tail = len - start;
        if (tail > 0 && endOfFile)
        {
            // Whole lines after the file's last blank line: they continue into the next file.
            ParseSequential(data[start..], file);
            start = len;
            tail = 0;
        }
        else if (tail > _maxLine)
        {
            int nl = data[start..].LastIndexOf((byte)'\n');
            if (nl >= 0)
            {
                ParseSequential(data.Slice(start, nl + 1), file);
                start += nl + 1;
                tail = len - start;
            }

            if (tail > _maxLine)
            {
                // A line longer than the cap: drop it and everything up to its newline.
                int seq = NewChunk(file);
                _chunks[seq].Lines = 1;
                _seq.Tally.Add(PerfIssue.LongLine, seq, 1);
                skipping = true;
                start = len;
                tail = 0;
            }
        }

        if (endOfStream)
        {
            if (_seq.InSample)
            {
                _seq.Tally.Add(PerfIssue.LastSampleDropped, _lastSequentialChunk, _seq.Line);
            }

            _seq.ResetSample();
        }

        if (dispatched)
        {
            byte[] next = Rent();
            buf.AsSpan(start, tail).CopyTo(next);
            buf = next;
        }
        else if (tail > 0 && start > 0)
        {
            buf.AsSpan(start, tail).CopyTo(buf);
        }

        len = tail;
    }

    /// <summary>End of the first blank line in <paramref name="data"/> (which starts a line), or -1.</summary>
    private static int FirstBlankLineEnd(ReadOnlySpan<byte> data)
    {
        if (!data.IsEmpty && data[0] == (byte)'\n')
        {
            return 1;
        }

        int i = data.IndexOf("\n\n"u8);
        return i < 0 ? -1 : i + 2;
    }

    private int NewChunk(int file)
    {
        _chunks.Add(new ChunkInfo(file));
        return _chunks.Count - 1;
    }

    private void ParseSequential(ReadOnlySpan<byte> lines, int file)
    {
        int seq = NewChunk(file);
        if (_filter is not null)
        {
            _seq.Filter ??= _filter;
        }

        _chunks[seq].Lines = _seq.Parse(lines, seq);
        _lastSequentialChunk = seq;
        _filter ??= _seq.Filter;
    }

    private void Dispatch(byte[] buf, int offset, int length, int file, bool last)
    {
        int seq = NewChunk(file);
        if (_filter is null)
        {
            _filter = FindFirstEvent(buf.AsSpan(offset, length));
            if (_filter is not null)
            {
                _seq.Filter ??= _filter;
            }
        }

        _queue!.Add(new Work(buf, offset, length, seq, _chunks[seq], _filter, last));
    }

    /// <summary>The event of the first line that perl would take it from, or null.</summary>
    private byte[]? FindFirstEvent(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty)
        {
            int nl = chunk.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? chunk : chunk[..nl];
            chunk = nl < 0 ? default : chunk[(nl + 1)..];
            if (line.IsEmpty || line.Length > _maxLine || PerfSyntax.IsSpace(line[0]) || line[0] == (byte)'#')
            {
                continue;
            }

            if (PerfSyntax.MatchEventLine(line, out _, out _, out _, out _, out _)
                && PerfSyntax.MatchEvent(line, out _, out _, out int es, out int ee))
            {
                return line[es..ee].ToArray();
            }
        }

        return null;
    }

    private void StartWorkers()
    {
        if (_workerCount == 0)
        {
            return;
        }

        _queue = new BlockingCollection<Work>(new ConcurrentQueue<Work>());
        _free = new BlockingCollection<byte[]>(new ConcurrentBag<byte[]>());
        _maxBuffers = _workerCount + 2;
        _workers = new PerfChunkParser[_workerCount];
        _threads = new Thread[_workerCount];
        for (int i = 0; i < _workerCount; i++)
        {
            var parser = new PerfChunkParser(_options, _maxLine);
            _workers[i] = parser;
            _threads[i] = new Thread(() => WorkerLoop(parser)) { IsBackground = true, Name = $"orac-perf-{i}" };
            _threads[i].Start();
        }
    }

    private void StopWorkers()
    {
        if (_queue is null)
        {
            return;
        }

        _queue.CompleteAdding();
        foreach (Thread t in _threads)
        {
            t.Join();
        }

        _queue.Dispose();
        _queue = null;
    }

    private void WorkerLoop(PerfChunkParser parser)
    {
        foreach (Work w in _queue!.GetConsumingEnumerable())
        {
            try
            {
                if (Volatile.Read(ref _failure) is null)
                {
                    if (w.Filter is not null)
                    {
                        parser.Filter ??= w.Filter;
                    }

                    w.Info.Lines = parser.Parse(w.Buffer.AsSpan(w.Offset, w.Length), w.Seq);
                    if (w.Last && parser.InSample)
                    {
                        parser.Tally.Add(PerfIssue.LastSampleDropped, w.Seq, parser.Line);
                    }

                    parser.ResetSample();
                }
            }
#pragma warning disable CA1031 // any failure is rethrown on the calling thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                Return(w.Buffer);
            }
        }
    }

    private byte[] Rent()
    {
        if (_free is null)
        {
            return GC.AllocateUninitializedArray<byte>(_blockSize + 1);
        }

        if (_free.TryTake(out byte[]? b))
        {
            return b;
        }

        if (_allocated < _maxBuffers)
        {
            _allocated++;
            return GC.AllocateUninitializedArray<byte>(_blockSize + 1);
        }

        return _free.Take();
    }

    private void Return(byte[] buffer) => _free?.Add(buffer);

    [DoesNotReturn]
    private void ThrowRead(int file, int len, byte[] buf, string what, Exception e)
    {
        StopWorkers();
        long line = 1 + buf.AsSpan(0, len).Count((byte)'\n');
        foreach (ChunkInfo c in _chunks)
        {
            if (c.File == file)
            {
                line += c.Lines;
            }
        }

        throw new OracException($"{Name(file)}:{line}: {what}: {e.Message}", e);
    }

    private string Name(int file) => file < _names.Count ? _names[file] : $"input #{file + 1}";

    private IEnumerable<PerfChunkParser> Parsers()
    {
        yield return _seq;
        foreach (PerfChunkParser p in _workers)
        {
            yield return p;
        }
    }

    private void ReportWarnings()
    {
        // First line of each chunk within its file.
        var firstLine = new long[_chunks.Count];
        var running = new Dictionary<int, long>();
        for (int i = 0; i < _chunks.Count; i++)
        {
            ChunkInfo c = _chunks[i];
            long at = running.TryGetValue(c.File, out long v) ? v : 0;
            firstLine[i] = at;
            running[c.File] = at + c.Lines;
        }

        var examples = new List<(int Seq, int Line)>();
        for (int k = 0; k < (int)PerfIssue.Count; k++)
        {
            var kind = (PerfIssue)k;
            long total = 0;
            examples.Clear();
            foreach (PerfChunkParser p in Parsers())
            {
                total += p.Tally.Count(kind);
                foreach ((int Seq, int Line) e in p.Tally.Examples(kind))
                {
                    examples.Add(e);
                }
            }

            if (total == 0)
            {
                continue;
            }

            examples.Sort();
            string text = Describe(kind);
            int shown = Math.Min(examples.Count, _warnings.MaxExamples);
            for (int i = 0; i < shown; i++)
            {
                (int seq, int line) = examples[i];
                _warnings.Add(text, $"{Name(_chunks[seq].File)}:{firstLine[seq] + line}");
            }

            _warnings.AddCount(text, total - shown);
        }
    }

    private string Describe(PerfIssue kind)
    {
        string filter = _filter is null ? "" : System.Text.Encoding.UTF8.GetString(_filter);
        return kind switch
        {
            PerfIssue.UnrecognizedLine => "lines that are not perf script ignored",
            PerfIssue.OtherEvent => string.IsNullOrEmpty(_options.EventFilter)
                ? $"samples of other event types skipped (only the first event type, '{filter}', is kept; choose one with --event-filter)"
                : $"samples of other event types skipped (--event-filter={filter})",
            PerfIssue.LongLine => $"lines longer than {_maxLine} bytes skipped",
            PerfIssue.DeepStack => $"samples deeper than {PerfChunkParser.MaxStackDepth} frames truncated",
            PerfIssue.PeriodOverflow => "sample periods too large for 64 bits clamped",
            PerfIssue.LastSampleDropped => "incomplete last sample dropped (the input does not end with a blank line; stackcollapse-perf.pl drops it too)",
            _ => kind.ToString(),
        };
    }

    private PerfStacks Merge()
    {
        string type = _filter is null ? "samples" : System.Text.Encoding.UTF8.GetString(_filter);
        bool clock = type.StartsWith("cpu-clock", StringComparison.Ordinal) || type.StartsWith("task-clock", StringComparison.Ordinal);
        var sampleType = new SampleType(type, clock ? "nanoseconds" : "count");

        // The parser with the most stacks is the base; the others are re-keyed into it.
        PerfChunkParser target = _seq;
        foreach (PerfChunkParser p in _workers)
        {
            if (p.Stacks.Count > target.Stacks.Count)
            {
                target = p;
            }
        }

        var key = new int[256];
        foreach (PerfChunkParser p in Parsers())
        {
            if (p == target || p.Stacks.Count == 0)
            {
                continue;
            }

            FrameTable frames = p.Builder.Frames;
            var map = new int[frames.Count];
            for (int f = 0; f < map.Length; f++)
            {
                ReadOnlySpan<byte> name = p.Builder.Strings.GetBytes(frames.Name((FrameId)f));
                map[f] = (int)target.Builder.Frame(target.Builder.Intern(name));
            }

            StackAggregator stacks = p.Stacks;
            for (int i = 0; i < stacks.Count; i++)
            {
                ReadOnlySpan<int> k = stacks.Key(i);
                if (key.Length < k.Length)
                {
                    key = new int[Math.Max(k.Length, key.Length * 2)];
                }

                for (int j = 0; j < k.Length; j++)
                {
                    key[j] = map[k[j]];
                }

                target.Stacks.Add(key.AsSpan(0, k.Length), stacks.Value(i));
            }
        }

        return new PerfStacks(target.Builder, target.Stacks, sampleType);
    }
}
