using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Orac.Formats.Perf;

/// <summary>
/// Inlined byte search and compare for the per-line paths. The BCL's span helpers are fine, but
/// with tiered PGO on (the default) they are re-jitted with instrumentation while the parser
/// runs, which costs more than the work itself on short lines; these inline into the
/// <see cref="MethodImplOptions.AggressiveOptimization"/> callers instead.
/// </summary>
internal static class PerfBytes
{
    /// <summary>Index of the first '\n' in <paramref name="s"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOfNewline(ReadOnlySpan<byte> s)
    {
        ref byte p = ref MemoryMarshal.GetReference(s);
        int n = s.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<byte> nl = Vector256.Create((byte)'\n');
            for (; i + 32 <= n; i += 32)
            {
                uint mask = Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)i), nl).ExtractMostSignificantBits();
                if (mask != 0)
                {
                    return i + BitOperations.TrailingZeroCount(mask);
                }
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> nl = Vector128.Create((byte)'\n');
            for (; i + 16 <= n; i += 16)
            {
                uint mask = Vector128.Equals(Vector128.LoadUnsafe(ref p, (nuint)i), nl).ExtractMostSignificantBits();
                if (mask != 0)
                {
                    return i + BitOperations.TrailingZeroCount(mask);
                }
            }
        }

        for (; i < n; i++)
        {
            if (Unsafe.Add(ref p, i) == (byte)'\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Byte equality of two spans of the same length <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualBytes(ref byte a, ref byte b, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            if (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref a, i)) != Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, i)))
            {
                return false;
            }
        }

        if (i + 4 <= n)
        {
            if (Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a, i)) != Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, i)))
            {
                return false;
            }

            i += 4;
        }

        for (; i < n; i++)
        {
            if (Unsafe.Add(ref a, i) != Unsafe.Add(ref b, i))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A fast hash for cache keys: two multiply-add lanes over 8-byte words (short dependency
    /// chains), then a final mix. Equal bytes give equal hashes; collisions only cost a compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Hash(ReadOnlySpan<byte> s)
    {
        ref byte p = ref MemoryMarshal.GetReference(s);
        int n = s.Length;
        ulong h1 = 0x9E3779B97F4A7C15UL ^ (ulong)n;
        ulong h2 = 0xC2B2AE3D27D4EB4FUL;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            h1 += Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)) * 0x87C37B91114253D5UL;
            h2 += Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)) * 0x4CF5AD432745937FUL;
            h1 = BitOperations.RotateLeft(h1, 31);
            h2 = BitOperations.RotateLeft(h2, 27);
        }

        if (i + 8 <= n)
        {
            h1 += Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)) * 0x87C37B91114253D5UL;
            i += 8;
        }

        if (i < n)
        {
            // The last 8 bytes of the key (overlapping what was hashed) or the short remainder.
            ulong tail;
            if (n >= 8)
            {
                tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8));
            }
            else
            {
                tail = 0;
                for (int k = i; k < n; k++)
                {
                    tail = (tail << 8) | Unsafe.Add(ref p, k);
                }
            }

            h2 += tail * 0x4CF5AD432745937FUL;
        }

        ulong h = h1 ^ BitOperations.RotateLeft(h2, 17);
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 29;
        return (int)h & int.MaxValue;
    }
}
