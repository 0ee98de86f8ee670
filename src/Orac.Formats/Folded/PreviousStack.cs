namespace Orac.Formats.Folded;

/// <summary>
/// The last stack a folded-text reader took apart: its bytes, where each frame ends, and one value
/// per frame (an interned frame id, a trie node). Folded files are usually sorted, so the next stack
/// shares most leading frames with this one; <see cref="Shared"/> finds them with one vectorised
/// prefix comparison, and their values are reused instead of hashing and looking the frames up again.
/// </summary>
internal sealed class PreviousStack
{
    private byte[] _bytes = new byte[256];
    private int _length;
    private int[] _ends = new int[64];
    private int[] _values = new int[64];
    private int _depth;

    /// <summary>
    /// How many leading frames of <paramref name="stack"/> are the previous stack's (same bytes, and
    /// <paramref name="stack"/> also ends the frame there). <paramref name="next"/> is where the next
    /// frame of <paramref name="stack"/> starts: past its end when the stack is exactly those frames.
    /// </summary>
    public int Shared(ReadOnlySpan<byte> stack, out int next)
    {
        int common = stack.CommonPrefixLength(_bytes.AsSpan(0, _length));
        int depth = 0;
        while (depth < _depth)
        {
            int end = _ends[depth];
            if (end > common || (end < stack.Length && stack[end] != (byte)';'))
            {
                break;
            }

            depth++;
        }

        next = depth == 0 ? 0 : _ends[depth - 1] + 1;
        return depth;
    }

    /// <summary>The value kept for frame <paramref name="frame"/>.</summary>
    public int Value(int frame) => _values[frame];

    /// <summary>The values of the first <paramref name="depth"/> frames.</summary>
    public ReadOnlySpan<int> Values(int depth) => _values.AsSpan(0, depth);

    /// <summary>
    /// Makes <paramref name="stack"/> the previous stack, keeping the first <paramref name="shared"/>
    /// frames (from <see cref="Shared"/>); its other frames follow with <see cref="Add"/>.
    /// </summary>
    public void Replace(ReadOnlySpan<byte> stack, int shared)
    {
        if (_bytes.Length < stack.Length)
        {
            Array.Resize(ref _bytes, Math.Max(stack.Length, _bytes.Length * 2));
        }

        // The shared frames' bytes are already there; the ';' after the last of them may not be (it may have ended the previous stack).
        int from = shared == 0 ? 0 : _ends[shared - 1];
        stack[from..].CopyTo(_bytes.AsSpan(from));
        _length = stack.Length;
        _depth = shared;
    }

    /// <summary>Appends the next frame: the offset where it ends in the stack, and its value.</summary>
    public void Add(int end, int value)
    {
        if (_depth == _ends.Length)
        {
            Array.Resize(ref _ends, _depth * 2);
            Array.Resize(ref _values, _depth * 2);
        }

        _ends[_depth] = end;
        _values[_depth] = value;
        _depth++;
    }
}
