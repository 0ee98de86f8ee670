using System.Text;

namespace Orac.Cost.Gpu;

/// <summary>
/// Lines of a text with a hard cap on line length: a longer line (or binary without newlines) is consumed and reported
/// as too long instead of being buffered whole. Line numbers are 1-based.
/// </summary>
internal sealed class LineReader(TextReader text, int maxLineChars)
{
    private readonly char[] _buf = new char[8192];
    private readonly StringBuilder _line = new();
    private int _pos;
    private int _len;
    private bool _eof;

    /// <summary>Number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>
    /// Next line without its terminator (a trailing '\r' removed); null at the end. <paramref name="tooLong"/> is true
    /// when the line exceeded the cap (the returned text is then its first <c>maxLineChars</c> characters).
    /// </summary>
    public string? Next(out bool tooLong)
    {
        tooLong = false;
        _line.Clear();
        bool any = false;
        while (true)
        {
            if (_pos == _len)
            {
                if (_eof)
                {
                    break;
                }

                _len = text.Read(_buf, 0, _buf.Length);
                _pos = 0;
                if (_len <= 0)
                {
                    _len = 0;
                    _eof = true;
                    break;
                }
            }

            any = true;
            int nl = Array.IndexOf(_buf, '\n', _pos, _len - _pos);
            int end = nl < 0 ? _len : nl;
            int room = maxLineChars - _line.Length;
            int take = end - _pos;
            if (take > room)
            {
                tooLong = true;
                take = Math.Max(0, room);
            }

            _line.Append(_buf, _pos, take);
            _pos = nl < 0 ? _len : nl + 1;
            if (nl >= 0)
            {
                LineNumber++;
                return Trimmed();
            }
        }

        if (!any)
        {
            return null;
        }

        LineNumber++;
        return Trimmed();
    }

    private string Trimmed()
    {
        if (_line.Length > 0 && _line[^1] == '\r')
        {
            _line.Length--;
        }

        return _line.ToString();
    }
}
