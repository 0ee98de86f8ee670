using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Formats.Perf;

/// <summary>
/// Sums sample weights per whole stack: a hash table keyed by the stack's frame ids, root (the comm
/// frame) first. One lookup per sample replaces one prefix-table lookup per frame,
/// and the keys (4 bytes a frame, stored back to back) take far less memory than a prefix table.
/// Keys live in fixed-size blocks that are never copied, so growing leaves no garbage behind.
/// </summary>
internal sealed class StackAggregator
{
    private const int BlockInts = 1 << 16;
    private int[][] _blocks = new int[16][];
    private int _blockCount;
    private int[] _current = [];
    private int _currentUsed;
    private int[] _block = new int[1024];
    private int[] _start = new int[1024];
    private int[] _length = new int[1024];
    private long[] _value = new long[1024];
    private int _count;
    private int[] _slotHash = new int[4096];
    private int[] _slotEntry = new int[4096]; // entry + 1; 0 = empty
    private int _mask = 4095;

    /// <summary>Number of distinct stacks.</summary>
    public int Count => _count;

    /// <summary>Frame ids of stack <paramref name="i"/>, root first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<int> Key(int i) => new(_blocks[_block[i]], _start[i], _length[i]);

    /// <summary>Summed weight of stack <paramref name="i"/>.</summary>
    public long Value(int i) => _value[i];

    /// <summary>Adds <paramref name="value"/> to the stack <paramref name="key"/> (root first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<int> key, long value)
    {
        int hash = PerfBytes.Hash(MemoryMarshal.AsBytes(key));
        int i = hash & _mask;
        while (true)
        {
            int e = _slotEntry[i];
            if (e == 0)
            {
                break;
            }

            if (_slotHash[i] == hash)
            {
                e--;
                if (_length[e] == key.Length && PerfBytes.EqualBytes(ref Unsafe.As<int, byte>(ref _blocks[_block[e]][_start[e]]), ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(key)), key.Length * sizeof(int)))
                {
                    _value[e] += value;
                    return;
                }
            }

            i = (i + 1) & _mask;
        }

        Insert(key, value, hash, i);
    }

    private void Insert(ReadOnlySpan<int> key, long value, int hash, int slot)
    {
        if (_currentUsed + key.Length > _current.Length)
        {
            NewBlock(key.Length);
        }

        if (_count == _start.Length)
        {
            Array.Resize(ref _block, _count * 2);
            Array.Resize(ref _start, _count * 2);
            Array.Resize(ref _length, _count * 2);
            Array.Resize(ref _value, _count * 2);
        }

        key.CopyTo(_current.AsSpan(_currentUsed));
        _block[_count] = _blockCount - 1;
        _start[_count] = _currentUsed;
        _length[_count] = key.Length;
        _value[_count] = value;
        _currentUsed += key.Length;
        _count++;
        _slotEntry[slot] = _count;
        _slotHash[slot] = hash;
        if (_count * 2 > _mask)
        {
            Grow();
        }
    }

    private void NewBlock(int atLeast)
    {
        if (_blockCount == _blocks.Length)
        {
            Array.Resize(ref _blocks, _blocks.Length * 2);
        }

        _current = new int[Math.Max(BlockInts, atLeast)];
        _blocks[_blockCount++] = _current;
        _currentUsed = 0;
    }

    private void Grow() => _mask = HashSlots.Grow(ref _slotHash, ref _slotEntry);
}
