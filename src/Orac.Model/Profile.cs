using System.Text;

namespace Orac.Model;

/// <summary>
/// An immutable profile: sample types, interned strings/frames/stacks/labels, and samples held in
/// parallel arrays indexed by sample row. Values are laid out row-major: row r's value for sample
/// type t is <c>Values[r * SampleTypes.Count + t]</c>. Build one with <see cref="ProfileBuilder"/>.
/// </summary>
public sealed partial class Profile
{
    private readonly SampleType[] _types;
    private readonly StackId[] _stacks;
    private readonly LabelSetId[] _labels;
    private readonly long[] _values;
    private readonly long[]? _timestamps;

    internal Profile(
        StringTable strings, FrameTable frames, StackTable stacks, LabelSetTable labelSets,
        SampleType[] types, ProfileMetadata metadata,
        StackId[] sampleStacks, LabelSetId[] sampleLabels, long[] values, long[]? timestamps)
    {
        Strings = strings;
        Frames = frames;
        Stacks = stacks;
        LabelSets = labelSets;
        _types = types;
        Metadata = metadata;
        _stacks = sampleStacks;
        _labels = sampleLabels;
        _values = values;
        _timestamps = timestamps;
    }

    /// <summary>Interned strings.</summary>
    public StringTable Strings { get; }

    /// <summary>Interned frames.</summary>
    public FrameTable Frames { get; }

    /// <summary>Interned stacks.</summary>
    public StackTable Stacks { get; }

    /// <summary>Interned label sets.</summary>
    public LabelSetTable LabelSets { get; }

    /// <summary>What each value column measures.</summary>
    public IReadOnlyList<SampleType> SampleTypes => _types;

    /// <summary>Host, service, period and time range.</summary>
    public ProfileMetadata Metadata { get; }

    /// <summary>Number of sample rows.</summary>
    public int SampleCount => _stacks.Length;

    /// <summary>Stack of each sample row.</summary>
    public ReadOnlySpan<StackId> SampleStacks => _stacks;

    /// <summary>Label set of each sample row.</summary>
    public ReadOnlySpan<LabelSetId> SampleLabels => _labels;

    /// <summary>All values, row-major (see the class remarks).</summary>
    public ReadOnlySpan<long> Values => _values;

    /// <summary>Timestamp of each row in Unix ns, or empty when no sample had one.</summary>
    public ReadOnlySpan<long> Timestamps => _timestamps;

    /// <summary>True when rows carry timestamps.</summary>
    public bool HasTimestamps => _timestamps is not null;

    /// <summary>The value of row <paramref name="row"/> for sample type <paramref name="type"/>.</summary>
    public long Value(int row, int type = 0) => _values[(row * _types.Length) + type];

    /// <summary>Sum of one value column over all rows.</summary>
    public long Total(int type = 0)
    {
        long sum = 0;
        for (int r = 0; r < _stacks.Length; r++)
        {
            sum += _values[(r * _types.Length) + type];
        }

        return sum;
    }

    /// <summary>The name of a frame as a string (presentation only).</summary>
    public string FrameName(FrameId frame) => Strings.GetString(Frames.Name(frame));

    /// <summary>The UTF-8 bytes of a frame's name.</summary>
    public ReadOnlySpan<byte> FrameNameBytes(FrameId frame) => Strings.GetBytes(Frames.Name(frame));

    /// <summary>A stack as <c>root;…;leaf</c> (presentation and tests only).</summary>
    public string StackToString(StackId stack)
    {
        var sb = new StringBuilder();
        foreach (FrameId f in Stacks.GetFrames(stack))
        {
            if (sb.Length > 0)
            {
                sb.Append(';');
            }

            sb.Append(FrameName(f));
        }

        return sb.ToString();
    }
}
