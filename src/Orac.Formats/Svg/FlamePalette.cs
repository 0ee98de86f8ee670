using System.Runtime.CompilerServices;

namespace Orac.Formats.Svg;

/// <summary>
/// Frame colours compatible with flamegraph.pl. Without <c>--hash</c> or <c>--random</c> each of the
/// three colour variables is the first drand48 value after seeding with the byte sum of the name, so a
/// name always gets the same colour. With <c>--hash</c> the variables come from a weighted hash of the
/// first characters of the name and of the reversed name. Names are raw bytes (annotations such as
/// <c>_[k]</c> included), as the perl tool sees them.
/// </summary>
public sealed class FlamePalette
{
    private readonly string _palette;
    private readonly bool _hash;
    private readonly Random? _random;

    /// <summary>Creates a palette; <paramref name="random"/> is used for <c>--random</c> (null: not random).</summary>
    public FlamePalette(string palette, bool hash, Random? random = null)
    {
        _palette = palette;
        _hash = hash;
        _random = random;
    }

    /// <summary>The fill of a frame named <paramref name="name"/> (raw bytes), as (r, g, b).</summary>
    public (int R, int G, int B) Color(ReadOnlySpan<byte> name)
    {
        double v1, v2, v3;
        if (_hash)
        {
            v1 = NameHash(name, reversed: false);
            v2 = v3 = NameHash(name, reversed: true);
        }
        else if (_random is not null)
        {
            v1 = _random.NextDouble();
            v2 = _random.NextDouble();
            v3 = _random.NextDouble();
        }
        else
        {
            v1 = v2 = v3 = SeededDrand48(ByteSum(name));
        }

        switch (_palette)
        {
            case "hot":
                return (205 + (int)(50 * v3), (int)(230 * v1), (int)(55 * v2));
            case "mem":
                return (0, 190 + (int)(50 * v2), (int)(210 * v1));
            case "io":
                {
                    int r = 80 + (int)(60 * v1);
                    return (r, r, 190 + (int)(55 * v2));
                }
        }

        return Basic(Family(_palette, name), v1);
    }

    private static string Family(string palette, ReadOnlySpan<byte> name)
    {
        switch (palette)
        {
            case "java":
                if (name.EndsWith("_[j]"u8))
                {
                    return "green";
                }

                if (name.EndsWith("_[i]"u8))
                {
                    return "aqua";
                }

                if (IsJavaPackage(name) || name.IndexOf(":::"u8) >= 0)
                {
                    return "green";
                }

                if (name.IndexOf("::"u8) >= 0)
                {
                    return "yellow";
                }

                return name.EndsWith("_[k]"u8) ? "orange" : "red";
            case "perl":
                if (name.IndexOf("::"u8) >= 0)
                {
                    return "yellow";
                }

                if (name.IndexOf("Perl"u8) >= 0 || name.IndexOf(".pl"u8) >= 0)
                {
                    return "green";
                }

                return name.EndsWith("_[k]"u8) ? "orange" : "red";
            case "js":
                if (name.EndsWith("_[j]"u8))
                {
                    return name.IndexOf((byte)'/') >= 0 ? "green" : "aqua";
                }

                if (name.IndexOf("::"u8) >= 0)
                {
                    return "yellow";
                }

                int slash = name.IndexOf((byte)'/');
                if (slash >= 0 && name[(slash + 1)..].IndexOf(".js"u8) >= 0)
                {
                    // perl's /\/.*\.js/ also allows any byte between the slash and ".js" except a newline; names have none.
                    return "green";
                }

                if (name.IndexOf((byte)':') >= 0)
                {
                    return "aqua";
                }

                if (name.SequenceEqual(" "u8))
                {
                    return "green";
                }

                return name.IndexOf("_[k]"u8) >= 0 ? "orange" : "red";
            case "wakeup":
                return "aqua";
            case "chain":
                return name.IndexOf("_[w]"u8) >= 0 ? "aqua" : "blue";
            default:
                return palette;
        }
    }

    private static bool IsJavaPackage(ReadOnlySpan<byte> name)
    {
        if (name.Length > 0 && name[0] == (byte)'L')
        {
            if (StartsWithPackage(name[1..]))
            {
                return true;
            }
        }

        return StartsWithPackage(name);
    }

    private static bool StartsWithPackage(ReadOnlySpan<byte> n) =>
        n.StartsWith("java/"u8) || n.StartsWith("javax/"u8) || n.StartsWith("jdk/"u8) || n.StartsWith("net/"u8) ||
        n.StartsWith("org/"u8) || n.StartsWith("com/"u8) || n.StartsWith("io/"u8) || n.StartsWith("sun/"u8);

    private static (int, int, int) Basic(string family, double v1)
    {
        switch (family)
        {
            case "red":
                {
                    int x = 50 + (int)(80 * v1);
                    return (200 + (int)(55 * v1), x, x);
                }

            case "green":
                {
                    int x = 50 + (int)(60 * v1);
                    return (x, 200 + (int)(55 * v1), x);
                }

            case "blue":
                {
                    int x = 80 + (int)(60 * v1);
                    return (x, x, 205 + (int)(50 * v1));
                }

            case "yellow":
                {
                    int x = 175 + (int)(55 * v1);
                    return (x, x, 50 + (int)(20 * v1));
                }

            case "purple":
                {
                    int x = 190 + (int)(65 * v1);
                    return (x, 80 + (int)(60 * v1), x);
                }

            case "aqua":
                {
                    int g = 165 + (int)(55 * v1);
                    return (50 + (int)(60 * v1), g, g);
                }

            case "orange":
                return (190 + (int)(65 * v1), 90 + (int)(65 * v1), 0);
            default:
                return (0, 0, 0);
        }
    }

    /// <summary>Sum of the name's bytes modulo 2^32 (perl's <c>unpack("%32W*")</c> on a byte string).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ByteSum(ReadOnlySpan<byte> name)
    {
        uint sum = 0;
        foreach (byte b in name)
        {
            sum += b;
        }

        return sum;
    }

    /// <summary>The first drand48() value after srand48(<paramref name="seed"/>).</summary>
    public static double SeededDrand48(uint seed)
    {
        const ulong Mask = (1UL << 48) - 1;
        ulong x = ((ulong)seed << 16) | 0x330E;
        x = ((0x5DEECE66DUL * x) + 0xB) & Mask;
        return x / (double)(1UL << 48);
    }

    /// <summary>
    /// flamegraph.pl's name hash: drops everything up to the first backquote (module prefix, keeping
    /// nothing of it), then weights the first three bytes, earlier ones more. Result in (0, 1].
    /// </summary>
    public static double NameHash(ReadOnlySpan<byte> name, bool reversed)
    {
        if (reversed)
        {
            byte[] rev = name.ToArray();
            Array.Reverse(rev);
            name = rev;
        }

        // perl: s/.(.*?)`// removes the first backquote and everything from one byte before the match start.
        int tick = name.Length > 1 ? name[1..].IndexOf((byte)'`') : -1;
        if (tick >= 0)
        {
            // The match starts at the first byte that can be followed by a backquote: position 0.
            name = name[(tick + 2)..];
        }

        double vector = 0;
        double weight = 1;
        double max = 1;
        int mod = 10;
        foreach (byte c in name)
        {
            int i = c % mod;
            vector += i / (double)(mod++ - 1) * weight;
            max += 1 * weight;
            weight *= 0.70;
            if (mod > 12)
            {
                break;
            }
        }

        return 1 - (vector / max);
    }
}
