namespace Orac.Model;

/// <summary>How <see cref="TopFunctions"/> orders its rows.</summary>
public enum TopOrder
{
    /// <summary>By self value, descending.</summary>
    Self,

    /// <summary>By total (inclusive) value, descending.</summary>
    Total,
}

/// <summary>One function's values in a <see cref="TopFunctions"/> table, in the profile's units.</summary>
/// <param name="Frame">The function (a frame: name plus module) in the source profile.</param>
/// <param name="Self">Value of samples whose leaf is this function.</param>
/// <param name="Total">Value of samples with this function anywhere on the stack, counted once per stack even when recursive.</param>
public readonly record struct TopFunction(FrameId Frame, long Self, long Total);

/// <summary>
/// Functions ranked by self or total value for one value column of a profile.
/// </summary>
/// <remarks>
/// Invariants (for non-negative sample values): <c>Self ≤ Total ≤ ProfileTotal</c> for every row;
/// Σ Self over all rows equals the profile total minus samples with an empty stack. A recursive
/// function counts once per stack for its total. Ties are broken by the other value, then by
/// function name (ordinal bytes), so the order is deterministic.
/// </remarks>
public sealed class TopFunctions
{
    private readonly TopFunction[] _rows;

    private TopFunctions(Profile profile, int type, TopFunction[] rows, long profileTotal)
    {
        Profile = profile;
        Type = type;
        _rows = rows;
        ProfileTotal = profileTotal;
    }

    /// <summary>The profile the rows refer to (resolve frame names through it).</summary>
    public Profile Profile { get; }

    /// <summary>The value column ranked.</summary>
    public int Type { get; }

    /// <summary>Sum of the value column over all samples (the 100% for percentages).</summary>
    public long ProfileTotal { get; }

    /// <summary>All functions with a non-zero self or total, best first.</summary>
    public ReadOnlySpan<TopFunction> Rows => _rows;

    /// <summary>Ranks every function of <paramref name="profile"/> by <paramref name="order"/> for value column <paramref name="type"/>.</summary>
    public static TopFunctions Compute(Profile profile, TopOrder order = TopOrder.Self, int type = 0)
    {
        int width = profile.SampleTypes.Count;
        if ((uint)type >= (uint)width)
        {
            throw new ArgumentOutOfRangeException(nameof(type), $"profile has {width} value columns");
        }

        // Sum values per distinct stack first: walking each stack once keeps the cost O(Σ distinct depths).
        int stackCount = profile.Stacks.Count;
        var perStack = new long[stackCount];
        var hasRow = new bool[stackCount];
        ReadOnlySpan<StackId> sampleStacks = profile.SampleStacks;
        ReadOnlySpan<long> values = profile.Values;
        long profileTotal = 0;
        for (int r = 0; r < sampleStacks.Length; r++)
        {
            long v = values[(r * width) + type];
            profileTotal += v;
            StackId s = sampleStacks[r];
            if (s != StackId.Root)
            {
                perStack[(int)s] += v;
                hasRow[(int)s] = true;
            }
        }

        int frameCount = profile.Frames.Count;
        var self = new long[frameCount];
        var total = new long[frameCount];
        var seenStamp = new int[frameCount];
        var touched = new bool[frameCount];
        StackTable stacks = profile.Stacks;
        for (int s = 0; s < stackCount; s++)
        {
            if (!hasRow[s])
            {
                continue;
            }

            long v = perStack[s];
            int stamp = s + 1;
            var id = (StackId)s;
            self[(int)stacks.Frame(id)] += v;
            while (id != StackId.Root)
            {
                int f = (int)stacks.Frame(id);
                if (seenStamp[f] != stamp)
                {
                    seenStamp[f] = stamp;
                    total[f] += v;
                    touched[f] = true;
                }

                id = stacks.Caller(id);
            }
        }

        var rows = new List<TopFunction>();
        for (int f = 0; f < frameCount; f++)
        {
            if (touched[f] && (self[f] != 0 || total[f] != 0))
            {
                rows.Add(new TopFunction((FrameId)f, self[f], total[f]));
            }
        }

        TopFunction[] arr = [.. rows];
        Array.Sort(arr, new RowComparer(profile, order));
        return new TopFunctions(profile, type, arr, profileTotal);
    }

    private sealed class RowComparer(Profile profile, TopOrder order) : IComparer<TopFunction>
    {
        public int Compare(TopFunction a, TopFunction b)
        {
            long ka = order == TopOrder.Self ? a.Self : a.Total;
            long kb = order == TopOrder.Self ? b.Self : b.Total;
            int c = kb.CompareTo(ka);
            if (c != 0)
            {
                return c;
            }

            long oa = order == TopOrder.Self ? a.Total : a.Self;
            long ob = order == TopOrder.Self ? b.Total : b.Self;
            c = ob.CompareTo(oa);
            if (c != 0)
            {
                return c;
            }

            c = profile.FrameNameBytes(a.Frame).SequenceCompareTo(profile.FrameNameBytes(b.Frame));
            return c != 0 ? c : ((int)a.Frame).CompareTo((int)b.Frame);
        }
    }
}
