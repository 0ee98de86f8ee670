namespace Orac.Model;

/// <summary>
/// A call tree built from a profile: one node per distinct call path (root first). Node 0 is the
/// synthetic root (no frame); every other node is one frame called from its parent.
/// </summary>
/// <remarks>
/// Values are in the profile's units, one column per sample type. <see cref="Self"/> is the sum of
/// samples whose leaf is exactly this path; <see cref="Total"/> is self plus the totals of all
/// children. Invariant (for non-negative sample values, as every parser produces):
/// <c>Total(n) ≥ Σ Total(child)</c> for every node, and the root's total equals the profile total.
/// Children are ordered by frame name bytes (ordinal), then module bytes, so the tree is
/// deterministic whatever order samples were added in.
/// </remarks>
public sealed class CallTree
{
    private readonly Profile _profile;
    private readonly FrameId[] _frames;
    private readonly int[] _parents;
    private readonly int[] _childStart;
    private readonly int[] _childCount;
    private readonly int[] _children;
    private readonly long[] _self;
    private readonly long[] _total;
    private readonly int _width;

    /// <summary>Builds the call tree of <paramref name="profile"/>.</summary>
    public CallTree(Profile profile)
    {
        _profile = profile;
        _width = profile.SampleTypes.Count;
        int nodes = profile.Stacks.Count + 1; // node = stack id + 1; node 0 is the root
        _frames = new FrameId[nodes];
        _parents = new int[nodes];
        _self = new long[nodes * _width];
        _total = new long[nodes * _width];
        _parents[0] = -1;
        StackTable stacks = profile.Stacks;
        for (int n = 1; n < nodes; n++)
        {
            var s = (StackId)(n - 1);
            _frames[n] = stacks.Frame(s);
            _parents[n] = (int)stacks.Caller(s) + 1;
        }

        ReadOnlySpan<StackId> sampleStacks = profile.SampleStacks;
        ReadOnlySpan<long> values = profile.Values;
        for (int r = 0; r < sampleStacks.Length; r++)
        {
            int n = (int)sampleStacks[r] + 1;
            for (int t = 0; t < _width; t++)
            {
                _self[(n * _width) + t] += values[(r * _width) + t];
            }
        }

        Array.Copy(_self, _total, _self.Length);

        // Callers have smaller ids than callees, so one pass from the end adds every subtree before its parent reads it.
        for (int n = nodes - 1; n >= 1; n--)
        {
            int p = _parents[n];
            for (int t = 0; t < _width; t++)
            {
                _total[(p * _width) + t] += _total[(n * _width) + t];
            }
        }

        // Children as one array grouped by parent (counting sort), then each group sorted by name.
        _childCount = new int[nodes];
        for (int n = 1; n < nodes; n++)
        {
            _childCount[_parents[n]]++;
        }

        _childStart = new int[nodes];
        int acc = 0;
        for (int n = 0; n < nodes; n++)
        {
            _childStart[n] = acc;
            acc += _childCount[n];
        }

        _children = new int[Math.Max(acc, 0)];
        var fill = new int[nodes];
        for (int n = 1; n < nodes; n++)
        {
            int p = _parents[n];
            _children[_childStart[p] + fill[p]++] = n;
        }

        var comparer = new NodeComparer(this);
        for (int n = 0; n < nodes; n++)
        {
            if (_childCount[n] > 1)
            {
                Array.Sort(_children, _childStart[n], _childCount[n], comparer);
            }
        }
    }

    /// <summary>The profile this tree was built from.</summary>
    public Profile Profile => _profile;

    /// <summary>Number of nodes, the root included.</summary>
    public int NodeCount => _parents.Length;

    /// <summary>The root node id (0).</summary>
    public const int Root = 0;

    /// <summary>The node's frame; undefined for the root.</summary>
    public FrameId Frame(int node) => _frames[node];

    /// <summary>The node's parent, or -1 for the root.</summary>
    public int Parent(int node) => _parents[node];

    /// <summary>The node's children, ordered by frame name (ordinal bytes), then module.</summary>
    public ReadOnlySpan<int> Children(int node) => _children.AsSpan(_childStart[node], _childCount[node]);

    /// <summary>Value of samples ending exactly at this node, for value column <paramref name="type"/>.</summary>
    public long Self(int node, int type = 0) => _self[(node * _width) + type];

    /// <summary>Self plus all descendants' self, for value column <paramref name="type"/>.</summary>
    public long Total(int node, int type = 0) => _total[(node * _width) + type];

    /// <summary>The call stack this node stands for (the node id minus one); <see cref="StackId.Root"/> for the root.</summary>
    public static StackId StackOf(int node) => (StackId)(node - 1);

    private sealed class NodeComparer(CallTree tree) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            Profile p = tree._profile;
            FrameId fa = tree._frames[a];
            FrameId fb = tree._frames[b];
            int c = p.Strings.GetBytes(p.Frames.Name(fa)).SequenceCompareTo(p.Strings.GetBytes(p.Frames.Name(fb)));
            if (c != 0)
            {
                return c;
            }

            c = p.Strings.GetBytes(p.Frames.Module(fa)).SequenceCompareTo(p.Strings.GetBytes(p.Frames.Module(fb)));
            return c != 0 ? c : a.CompareTo(b);
        }
    }
}
