using Orac.Model;

namespace Orac.Formats;

/// <summary>
/// Streams lines of bytes from a <see cref="Stream"/> without decoding them. A line ends at '\n'
/// (a trailing '\r' is kept, callers decide). Lines longer than <see cref="MaxLineBytes"/> are not
/// held in memory: they are skipped whole and reported through <see cref="LongLinesSkipped"/>,
/// so a hostile 100 MB line costs no more memory than the cap.
/// </summary>
public sealed class LineReader
{
    private readonly Stream _stream;
    private byte[] _buf;
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>Creates a reader. <paramref name="maxLineBytes"/> bounds the memory a single line may take.</summary>
    public LineReader(Stream stream, int maxLineBytes = 16 << 20, int bufferSize = 1 << 20)
    {
        _stream = stream;
        MaxLineBytes = maxLineBytes;
        _buf = new byte[Math.Max(bufferSize, 4096)];
    }

    /// <summary>Longest line returned, in bytes; longer lines are skipped and counted.</summary>
    public int MaxLineBytes { get; }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Bytes consumed so far (offset of the next line).</summary>
    public long Offset { get; private set; }

    /// <summary>Line numbers of lines skipped for being longer than <see cref="MaxLineBytes"/>.</summary>
    public List<long> LongLinesSkipped { get; } = [];

    /// <summary>True when the last line returned had no terminating newline (the input ended mid-line).</summary>
    public bool LastLineUnterminated { get; private set; }

    /// <summary>Reads the next line (without its '\n'). Returns false at end of input.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = _buf.AsSpan(_start, nl);
                _start += nl + 1;
                Offset += nl + 1;
                LineNumber++;
                LastLineUnterminated = false;
                return true;
            }

            if (_eof)
            {
                if (_start < _end)
                {
                    line = _buf.AsSpan(_start, _end - _start);
                    Offset += _end - _start;
                    _start = _end;
                    LineNumber++;
                    LastLineUnterminated = true;
                    return true;
                }

                line = default;
                return false;
            }

            if (_end - _start >= MaxLineBytes)
            {
                SkipLongLine();
                continue;
            }

            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buf.Length)
        {
            int size = (int)Math.Min((long)_buf.Length * 2, (long)MaxLineBytes + 1);
            if (size <= _buf.Length)
            {
                size = _buf.Length + 4096;
            }

            Array.Resize(ref _buf, size);
        }

        int n;
        try
        {
            n = _stream.Read(_buf, _end, _buf.Length - _end);
        }
        catch (InvalidDataException e)
        {
            throw new OracException($"corrupt compressed input near byte {Offset + (_end - _start)}: {e.Message}");
        }

        if (n == 0)
        {
            _eof = true;
        }

        _end += n;
    }

    private void SkipLongLine()
    {
        LineNumber++;
        LongLinesSkipped.Add(LineNumber);
        // Drop everything up to and including the next newline, reading in buffer-sized steps.
        while (true)
        {
            int nl = _buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                Offset += nl + 1;
                _start += nl + 1;
                return;
            }

            Offset += _end - _start;
            _start = _end = 0;
            if (_eof)
            {
                return;
            }

            Fill();
        }
    }
}
