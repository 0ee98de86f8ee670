using System.Runtime.CompilerServices;

namespace Orac.Model;

/// <summary>
/// Open-addressing map from a 64-bit key to a non-negative int, used to intern pairs of ids.
/// Keys are arbitrary; values must be &gt;= 0.
/// </summary>
internal sealed class LongIntMap
{
    private long[] _keys;
    private int[] _values; // value + 1; 0 marks an empty slot
    private int _count;
    private int _mask;

    public LongIntMap(int capacity = 1024)
    {
        int size = 16;
        while (size < capacity * 2)
        {
            size <<= 1;
        }

        _keys = new long[size];
        _values = new int[size];
        _mask = size - 1;
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(long key)
    {
        ulong h = (ulong)key * 0x9E3779B97F4A7C15UL;
        return (int)(h >> 32) ^ (int)h;
    }

    /// <summary>Returns the value for <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Get(long key)
    {
        int i = Hash(key) & _mask;
        while (true)
        {
            int v = _values[i];
            if (v == 0)
            {
                return -1;
            }

            if (_keys[i] == key)
            {
                return v - 1;
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Returns the existing value for the key, or stores <paramref name="value"/> and returns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAdd(long key, int value)
    {
        int i = Hash(key) & _mask;
        while (true)
        {
            int v = _values[i];
            if (v == 0)
            {
                _keys[i] = key;
                _values[i] = value + 1;
                if (++_count * 2 > _mask)
                {
                    Grow();
                }

                return value;
            }

            if (_keys[i] == key)
            {
                return v - 1;
            }

            i = (i + 1) & _mask;
        }
    }

    private void Grow()
    {
        long[] oldKeys = _keys;
        int[] oldValues = _values;
        int size = oldKeys.Length * 2;
        _keys = new long[size];
        _values = new int[size];
        _mask = size - 1;
        for (int j = 0; j < oldKeys.Length; j++)
        {
            if (oldValues[j] != 0)
            {
                int i = Hash(oldKeys[j]) & _mask;
                while (_values[i] != 0)
                {
                    i = (i + 1) & _mask;
                }

                _keys[i] = oldKeys[j];
                _values[i] = oldValues[j];
            }
        }
    }
}

/// <summary>
/// The slot arrays of an open-addressing hash table keyed by a 31-bit hash: <c>hashes[i]</c> is the
/// hash stored in slot i and <c>entries[i]</c> its entry + 1 (0 marks an empty slot). Callers probe
/// linearly from <c>hash &amp; mask</c> and compare keys themselves; this type only grows the arrays.
/// Used by every interning table (strings, perf frame lines, stacks, diff lines).
/// </summary>
public static class HashSlots
{
    /// <summary>Doubles both arrays, reinserts every occupied slot, and returns the new mask.</summary>
    public static int Grow(ref int[] hashes, ref int[] entries)
    {
        int[] oldHashes = hashes;
        int[] oldEntries = entries;
        hashes = new int[oldHashes.Length * 2];
        entries = new int[oldHashes.Length * 2];
        int mask = hashes.Length - 1;
        for (int j = 0; j < oldEntries.Length; j++)
        {
            if (oldEntries[j] != 0)
            {
                int i = oldHashes[j] & mask;
                while (entries[i] != 0)
                {
                    i = (i + 1) & mask;
                }

                entries[i] = oldEntries[j];
                hashes[i] = oldHashes[j];
            }
        }

        return mask;
    }
}
