namespace Orac.Model;

/// <summary>A label: key and value strings of the owning profile.</summary>
public readonly record struct Label(StringId Key, StringId Value);

/// <summary>Interned label sets. Set 0 is empty. Each set is stored sorted by key id, so equal sets intern to the same id.</summary>
public sealed class LabelSetTable
{
    private readonly List<Label[]> _sets = [[]];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal) { [""] = 0 };

    /// <summary>Number of label sets, the empty set included.</summary>
    public int Count => _sets.Count;

    /// <summary>The labels of <paramref name="id"/>, sorted by key id.</summary>
    public ReadOnlySpan<Label> Get(LabelSetId id) => _sets[(int)id];

    /// <summary>Interns a set of labels (order does not matter; a repeated key keeps its last value).</summary>
    internal LabelSetId Intern(ReadOnlySpan<Label> labels)
    {
        if (labels.IsEmpty)
        {
            return LabelSetId.None;
        }

        var sorted = new SortedDictionary<int, int>();
        foreach (Label l in labels)
        {
            sorted[(int)l.Key] = (int)l.Value;
        }

        var key = new System.Text.StringBuilder();
        var arr = new Label[sorted.Count];
        int i = 0;
        foreach (var kv in sorted)
        {
            arr[i++] = new Label((StringId)kv.Key, (StringId)kv.Value);
            key.Append(kv.Key).Append('=').Append(kv.Value).Append(',');
        }

        string k = key.ToString();
        if (_index.TryGetValue(k, out int existing))
        {
            return (LabelSetId)existing;
        }

        _sets.Add(arr);
        _index[k] = _sets.Count - 1;
        return (LabelSetId)(_sets.Count - 1);
    }
}
