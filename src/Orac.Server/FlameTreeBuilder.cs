using Orac.Model;
using Orac.Model.Query;
using Orac.Model.Wire;

namespace Orac.Server;

/// <summary>
/// Turns a merged profile into the columnar flame tree of docs/api.md: nodes in depth-first pre-order, children sorted
/// by name (the <see cref="CallTree"/> order), at most <c>maxNodes</c> nodes. Truncation keeps the nodes with the largest
/// totals; since a child's total never exceeds its parent's and a parent's id is smaller than its children's, the kept
/// set always includes every kept node's ancestors. A dropped subtree's total is added to its kept parent's self, so
/// every kept node's total and the root total stay exact.
/// </summary>
public static class FlameTreeBuilder
{
    /// <summary>Default and largest <c>maxNodes</c>.</summary>
    public const int DefaultMaxNodes = 200_000;

    /// <summary>
    /// Builds the tree of column <paramref name="column"/>; with <paramref name="baseColumn"/>, adds the diff's base columns.
    /// <paramref name="unit"/> overrides the type's unit (priced trees: <c>microdollars</c>), <paramref name="provenance"/>
    /// says whether values are measured or estimated.
    /// </summary>
    public static FlameTree Build(Profile profile, ProfileTypeId type, long startNs, long endNs, int maxNodes, int column = 0, int? baseColumn = null,
        string? unit = null, string provenance = "measured", bool partial = false)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var tree = new CallTree(profile);
        int n = tree.NodeCount;
        bool[] keep = new bool[n];
        if (n <= maxNodes)
        {
            Array.Fill(keep, true);
        }
        else
        {
            long Key(int node) => baseColumn is int b ? Math.Max(tree.Total(node, column), tree.Total(node, b)) : tree.Total(node, column);
            int[] order = new int[n];
            long[] keys = new long[n];
            for (int i = 0; i < n; i++)
            {
                order[i] = i;
                keys[i] = Key(i);
            }

            Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
            for (int i = 0; i < Math.Max(1, maxNodes); i++)
            {
                keep[order[i]] = true;
            }
        }

        var names = new List<string> { "total" };
        var nameIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var parent = new List<int>();
        var name = new List<int>();
        var total = new List<long>();
        var self = new List<long>();
        List<long>? baseTotal = baseColumn is null ? null : [];
        List<long>? baseSelf = baseColumn is null ? null : [];
        var stack = new Stack<(int Node, int Parent)>();
        stack.Push((CallTree.Root, -1));
        int kept = 0;
        while (stack.Count > 0)
        {
            (int node, int parentIndex) = stack.Pop();
            int index = kept++;
            parent.Add(parentIndex);
            if (node == CallTree.Root)
            {
                name.Add(0);
            }
            else
            {
                string frame = profile.FrameName(tree.Frame(node));
                if (!nameIndex.TryGetValue(frame, out int ni))
                {
                    ni = names.Count;
                    names.Add(frame);
                    nameIndex[frame] = ni;
                }

                name.Add(ni);
            }

            long s = tree.Self(node, column);
            long bs = baseColumn is int bc ? tree.Self(node, bc) : 0;
            ReadOnlySpan<int> children = tree.Children(node);
            for (int c = children.Length - 1; c >= 0; c--)
            {
                int child = children[c];
                if (keep[child])
                {
                    stack.Push((child, index));
                }
                else
                {
                    s += tree.Total(child, column);
                    bs += baseColumn is int bc2 ? tree.Total(child, bc2) : 0;
                }
            }

            total.Add(tree.Total(node, column));
            self.Add(s);
            if (baseColumn is int b3)
            {
                baseTotal!.Add(tree.Total(node, b3));
                baseSelf!.Add(bs);
            }
        }

        SampleType unitType = type.Value;
        return new FlameTree
        {
            Type = type.ToString(),
            Unit = unit ?? unitType.Unit,
            Provenance = provenance,
            Partial = partial,
            From = startNs / 1_000_000,
            Until = endNs / 1_000_000,
            Total = tree.Total(CallTree.Root, column),
            Names = names,
            Nodes = new FlameNodes
            {
                Parent = [.. parent],
                Name = [.. name],
                Total = [.. total],
                Self = [.. self],
                BaseTotal = baseTotal?.ToArray(),
                BaseSelf = baseSelf?.ToArray(),
            },
            Truncated = n - kept,
            BaseTotalValue = baseColumn is int b4 ? tree.Total(CallTree.Root, b4) : null,
        };
    }
}
