namespace Orac.Model;

public sealed partial class Profile
{
    /// <summary>
    /// Compares two profiles stack by stack for value column <paramref name="type"/>. The result is a
    /// profile with two value columns, <c>before</c> and <c>after</c> (in the inputs' unit), one
    /// untimed, unlabelled row per stack present in either input; a stack missing from one side has 0 there.
    /// </summary>
    /// <remarks>
    /// With <paramref name="normalize"/>, each stack's before value (summed over the before profile's
    /// rows) is scaled to the after profile's total with <see cref="DiffMath.Scale"/> (truncating, as
    /// difffolded.pl <c>-n</c> does), unless the totals are equal or the before total is 0.
    /// Labels and timestamps are dropped: the diff is per stack.
    /// </remarks>
    public static Profile Diff(Profile before, Profile after, bool normalize = false, int type = 0)
    {
        string unit = before._types[type].Unit;
        var builder = new ProfileBuilder(new SampleType("before", unit), new SampleType("after", unit))
        {
            Metadata = after.Metadata,
        };
        long[] sums = [];
        bool[] present = [];
        long totalBefore = Accumulate(before, builder, type, 0, ref sums, ref present);
        long totalAfter = Accumulate(after, builder, type, 1, ref sums, ref present);
        Span<long> row = stackalloc long[2];
        int stackCount = builder.Stacks.Count;
        for (int s = 0; s <= stackCount; s++)
        {
            if (s >= present.Length || !present[s])
            {
                continue;
            }

            long b = sums[2 * s];
            row[0] = normalize ? DiffMath.Scale(b, totalBefore, totalAfter) : b;
            row[1] = sums[(2 * s) + 1];
            builder.Add((StackId)(s - 1), row);
        }

        return builder.Build();
    }

    // Sums column `type` of `source` per remapped stack into sums[2*(stack+1) + side]; returns the column total.
    private static long Accumulate(Profile source, ProfileBuilder builder, int type, int side, ref long[] sums, ref bool[] present)
    {
        var map = new ProfileRemapper(source, builder);
        map.MapAllStacks();
        int need = builder.Stacks.Count + 1;
        if (present.Length < need)
        {
            Array.Resize(ref present, need);
            Array.Resize(ref sums, need * 2);
        }

        int width = source._types.Length;
        long total = 0;
        for (int r = 0; r < source._stacks.Length; r++)
        {
            long v = source._values[(r * width) + type];
            int s = (int)map.Stack(source._stacks[r]) + 1;
            sums[(2 * s) + side] += v;
            present[s] = true;
            total += v;
        }

        return total;
    }
}

/// <summary>Arithmetic shared by the profile diff and the streaming folded diff.</summary>
public static class DiffMath
{
    /// <summary>
    /// Scales <paramref name="value"/> from a profile totalling <paramref name="fromTotal"/> to one
    /// totalling <paramref name="toTotal"/>, truncating toward zero like perl's
    /// <c>int($v * $t2 / $t1)</c>: the product is exact when it fits in 64 bits; the quotient is exact
    /// when it divides evenly, otherwise it is computed in double precision (as perl does) and truncated.
    /// Returns <paramref name="value"/> unchanged when the totals are equal or <paramref name="fromTotal"/> is 0.
    /// </summary>
    public static long Scale(long value, long fromTotal, long toTotal)
    {
        if (fromTotal == toTotal || fromTotal == 0)
        {
            return value;
        }

        double q;
        long high = Math.BigMul(value, toTotal, out long product);
        if (high != (product >> 63))
        {
            // The product overflows 64 bits: perl falls back to floating point for the whole expression.
            q = (double)value * toTotal / fromTotal;
            return Truncate(q);
        }

        if (product % fromTotal == 0)
        {
            return product / fromTotal;
        }

        q = (double)product / fromTotal;
        return Truncate(q);
    }

    private static long Truncate(double q) => q >= long.MaxValue ? long.MaxValue : q <= long.MinValue ? long.MinValue : (long)Math.Truncate(q);
}
