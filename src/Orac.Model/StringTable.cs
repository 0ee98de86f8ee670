using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Text;

namespace Orac.Model;

/// <summary>
/// Interns UTF-8 byte strings. Strings are stored back to back in one growing byte buffer;
/// id 0 is the empty string. Lookups by span allocate nothing, so repeated names cost a hash
/// and a compare. Bytes are kept exactly as given (invalid UTF-8 survives a round trip).
/// </summary>
public sealed class StringTable
{
    private byte[] _bytes = new byte[1 << 16];
    private int _used;
    private int[] _offsets = new int[1024];  // start of string i; _offsets[i+1] is its end
    private int _count;
    private int[] _slots;                    // id + 1; 0 marks an empty slot
    private int[] _slotHashes;
    private int _mask;

    /// <summary>Creates a table holding only the empty string.</summary>
    public StringTable()
    {
        _slots = new int[1024];
        _slotHashes = new int[1024];
        _mask = _slots.Length - 1;
        _offsets[0] = 0;
        _offsets[1] = 0;
        _count = 1;
        Insert(ReadOnlySpan<byte>.Empty, Hash(ReadOnlySpan<byte>.Empty), 0);
    }

    /// <summary>Number of distinct strings, the empty string included.</summary>
    public int Count => _count;

    /// <summary>Total bytes held by all strings.</summary>
    public long ByteCount => _used;

    /// <summary>The UTF-8 bytes of <paramref name="id"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetBytes(StringId id)
    {
        int i = (int)id;
        Debug.Assert((uint)i < (uint)_count);
        int start = _offsets[i];
        return new ReadOnlySpan<byte>(_bytes, start, _offsets[i + 1] - start);
    }

    /// <summary>The string for <paramref name="id"/>, decoded from UTF-8 (invalid bytes become U+FFFD).</summary>
    public string GetString(StringId id) => Encoding.UTF8.GetString(GetBytes(id));

    /// <summary>Interns a string given as UTF-16.</summary>
    internal StringId Intern(string value) => Intern(Encoding.UTF8.GetBytes(value));

    /// <summary>Interns <paramref name="utf8"/> and returns its id; equal bytes always give the same id.</summary>
    internal StringId Intern(ReadOnlySpan<byte> utf8)
    {
        int hash = Hash(utf8);
        int i = hash & _mask;
        while (true)
        {
            int slot = _slots[i];
            if (slot == 0)
            {
                break;
            }

            if (_slotHashes[i] == hash && GetBytes((StringId)(slot - 1)).SequenceEqual(utf8))
            {
                return (StringId)(slot - 1);
            }

            i = (i + 1) & _mask;
        }

        int id = Append(utf8);
        _slots[i] = id + 1;
        _slotHashes[i] = hash;
        if (_count * 2 > _mask)
        {
            Rehash();
        }

        return (StringId)id;
    }

    /// <summary>Returns the id of <paramref name="utf8"/> if it is interned.</summary>
    public bool TryGet(ReadOnlySpan<byte> utf8, out StringId id)
    {
        int hash = Hash(utf8);
        int i = hash & _mask;
        while (true)
        {
            int slot = _slots[i];
            if (slot == 0)
            {
                id = default;
                return false;
            }

            if (_slotHashes[i] == hash && GetBytes((StringId)(slot - 1)).SequenceEqual(utf8))
            {
                id = (StringId)(slot - 1);
                return true;
            }

            i = (i + 1) & _mask;
        }
    }

    private int Append(ReadOnlySpan<byte> utf8)
    {
        if (_used + utf8.Length > _bytes.Length)
        {
            long size = Math.Max((long)_bytes.Length * 2, (long)_used + utf8.Length);
            if (size > Array.MaxLength)
            {
                ThrowTooLarge();
            }

            Array.Resize(ref _bytes, (int)size);
        }

        utf8.CopyTo(_bytes.AsSpan(_used));
        _used += utf8.Length;
        if (_count + 1 >= _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
        }

        int id = _count++;
        _offsets[id + 1] = _used;
        return id;
    }

    private void Insert(ReadOnlySpan<byte> utf8, int hash, int id)
    {
        _ = utf8;
        int i = hash & _mask;
        while (_slots[i] != 0)
        {
            i = (i + 1) & _mask;
        }

        _slots[i] = id + 1;
        _slotHashes[i] = hash;
    }

    private void Rehash() => _mask = HashSlots.Grow(ref _slotHashes, ref _slots);

    /// <summary>A fast non-cryptographic hash of a byte string (8 bytes per step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Hash(ReadOnlySpan<byte> data)
    {
        ulong h = 0xCBF29CE484222325UL ^ (ulong)data.Length;
        ref byte p = ref MemoryMarshal.GetReference(data);
        int n = data.Length;
        int i = 0;
        if (n >= 64)
        {
            (h, i) = HashLanes(ref p, n, h);
        }

        for (; i + 8 <= n; i += 8)
        {
            ulong v = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i));
            h = (BitOperations.RotateLeft(h ^ v, 29) * 0x9E3779B97F4A7C15UL) + 0x632BE59BD9B4E019UL;
        }

        if (i < n)
        {
            ulong v = 0;
            int rest = n - i;
            if (rest >= 4)
            {
                v = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(n - 4)) << 32);
            }
            else
            {
                for (int k = 0; k < rest; k++)
                {
                    v = (v << 8) | Unsafe.Add(ref p, i + k);
                }
            }

            h = (BitOperations.RotateLeft(h ^ v, 29) * 0x9E3779B97F4A7C15UL) + 0x632BE59BD9B4E019UL;
        }

        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 29;
        return (int)h & int.MaxValue;
    }

    /// <summary>
    /// The bulk of a long string (whole folded lines are ~1 KB) in four independent lanes of 8 bytes, so
    /// the multiply chains overlap instead of waiting on each other; returns the state and how many
    /// bytes it consumed (a multiple of 32).
    /// </summary>
    private static (ulong State, int Consumed) HashLanes(ref byte p, int n, ulong seed)
    {
        const ulong K1 = 0x9E3779B97F4A7C15UL;
        const ulong K2 = 0x632BE59BD9B4E019UL;
        ulong a = seed;
        ulong b = seed ^ 0xA0761D6478BD642FUL;
        ulong c = seed ^ 0xE7037ED1A0B428DBUL;
        ulong d = seed ^ 0x8EBC6AF09C88C6E3UL;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a = (BitOperations.RotateLeft(a ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)), 29) * K1) + K2;
            b = (BitOperations.RotateLeft(b ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)), 29) * K1) + K2;
            c = (BitOperations.RotateLeft(c ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16)), 29) * K1) + K2;
            d = (BitOperations.RotateLeft(d ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24)), 29) * K1) + K2;
        }

        // Each lane is folded (high bits down, then multiplied up) before they are combined: a lane's
        // last step spreads a change only upwards, so two lanes' changes could otherwise cancel.
        ulong h = Fold(a);
        h = (BitOperations.RotateLeft(h ^ Fold(b), 29) * K1) + K2;
        h = (BitOperations.RotateLeft(h ^ Fold(c), 29) * K1) + K2;
        h = (BitOperations.RotateLeft(h ^ Fold(d), 29) * K1) + K2;
        return (h, i);
    }

    private static ulong Fold(ulong x) => (x ^ (x >> 31)) * 0xBF58476D1CE4E5B9UL;

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTooLarge() => throw new InvalidOperationException("string table exceeds 2 GiB");
}
