using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// Memoizes frame lines: the bytes after the address (symbol, offset and module) map to the
/// frames they produce, so the tidy rules run once per distinct line text instead of once per
/// line. Most lines repeat (big.perf: 3.4 M frame lines, 20 k distinct). A value is a
/// <see cref="FrameId"/> (&gt;= 0), <see cref="None"/> for a line that adds no frame, or an
/// index into a side list for an inline chain of several frames. The key bytes live in one arena
/// capped at <see cref="MaxArenaBytes"/>; past the cap new lines are simply not cached, so a
/// hostile input cannot grow it without bound.
/// </summary>
internal sealed class FrameLineCache
{
    public const int None = -1;
    public const int MaxArenaBytes = 32 << 20;

    private byte[] _arena = new byte[1 << 16];
    private int _arenaUsed;
    private int[] _slotHash;
    private int[] _slotEntry; // entry + 1; 0 = empty
    private int _mask;
    private int[] _keyStart = new int[1024];
    private int[] _keyLen = new int[1024];
    private int[] _value = new int[1024];
    private int _count;
    private int[] _multi = new int[64];
    private int _multiUsed;

    public FrameLineCache()
    {
        _slotHash = new int[4096];
        _slotEntry = new int[4096];
        _mask = 4095;
    }

    /// <summary>Looks up <paramref name="key"/> (hashed with <see cref="PerfBytes.Hash"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ReadOnlySpan<byte> key, int hash, out int value)
    {
        int i = hash & _mask;
        while (true)
        {
            int e = _slotEntry[i];
            if (e == 0)
            {
                value = 0;
                return false;
            }

            if (_slotHash[i] == hash)
            {
                e--;
                if (_keyLen[e] == key.Length && PerfBytes.EqualBytes(ref _arena[_keyStart[e]], ref MemoryMarshal.GetReference(key), key.Length))
                {
                    value = _value[e];
                    return true;
                }
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>The frames of a multi-frame value, in the order perl pushes them.</summary>
    public ReadOnlySpan<int> Multi(int value)
    {
        int at = -value - 2;
        return new ReadOnlySpan<int>(_multi, at + 1, _multi[at]);
    }

    /// <summary>Stores a value for several frames and returns its encoded value.</summary>
    public int AddMulti(ReadOnlySpan<FrameId> frames)
    {
        if (_multiUsed + frames.Length + 1 > _multi.Length)
        {
            Array.Resize(ref _multi, Math.Max(_multi.Length * 2, _multiUsed + frames.Length + 1));
        }

        int at = _multiUsed;
        _multi[at] = frames.Length;
        for (int i = 0; i < frames.Length; i++)
        {
            _multi[at + 1 + i] = (int)frames[i];
        }

        _multiUsed += frames.Length + 1;
        return -at - 2;
    }

    /// <summary>Adds a key that <see cref="TryGet"/> did not find. Does nothing once the arena is full.</summary>
    public void Add(ReadOnlySpan<byte> key, int hash, int value)
    {
        if (_arenaUsed + key.Length > _arena.Length)
        {
            if ((long)_arenaUsed + key.Length > MaxArenaBytes)
            {
                return;
            }

            Array.Resize(ref _arena, (int)Math.Min(MaxArenaBytes, Math.Max((long)_arena.Length * 2, (long)_arenaUsed + key.Length)));
        }

        if (_count == _keyStart.Length)
        {
            Array.Resize(ref _keyStart, _count * 2);
            Array.Resize(ref _keyLen, _count * 2);
            Array.Resize(ref _value, _count * 2);
        }

        key.CopyTo(_arena.AsSpan(_arenaUsed));
        _keyStart[_count] = _arenaUsed;
        _keyLen[_count] = key.Length;
        _value[_count] = value;
        _arenaUsed += key.Length;
        _count++;
        Insert(hash, _count);
        if (_count * 2 > _mask)
        {
            Grow();
        }
    }

    private void Insert(int hash, int entryPlusOne)
    {
        int i = hash & _mask;
        while (_slotEntry[i] != 0)
        {
            i = (i + 1) & _mask;
        }

        _slotEntry[i] = entryPlusOne;
        _slotHash[i] = hash;
    }

    private void Grow() => _mask = HashSlots.Grow(ref _slotHash, ref _slotEntry);
}
