using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Orac.Model;

/// <summary>
/// The mutable side of a profile: parsers intern strings, frames and stacks here and add samples;
/// <see cref="Build"/> freezes everything into an immutable <see cref="Profile"/> and the builder
/// must not be used afterwards.
/// </summary>
/// <remarks>
/// Samples without a timestamp are aggregated per (stack, label set): adding the same stack twice
/// adds the values. Samples with a timestamp are kept one by one, in the order added.
/// </remarks>
public sealed class ProfileBuilder
{
    private readonly StringTable _strings = new();
    private readonly FrameTable _frames = new();
    private readonly StackTable _stacks = new();
    private readonly LabelSetTable _labelSets = new();
    private readonly SampleType[] _types;
    private readonly int _width;
    private readonly LongIntMap _aggregate = new(1024);
    private StackId[] _sampleStacks = new StackId[1024];
    private LabelSetId[] _sampleLabels = new LabelSetId[1024];
    private long[] _values;
    private long[]? _timestamps;
    private int _samples;
    private bool _built;

    /// <summary>Creates a builder whose samples carry one value per <paramref name="sampleTypes"/> entry.</summary>
    public ProfileBuilder(params SampleType[] sampleTypes)
    {
        if (sampleTypes.Length == 0)
        {
            sampleTypes = [SampleType.Samples];
        }

        _types = (SampleType[])sampleTypes.Clone();
        _width = _types.Length;
        _values = new long[1024 * _width];
    }

    /// <summary>Metadata copied into the built profile.</summary>
    public ProfileMetadata Metadata { get; set; } = new();

    /// <summary>Number of value columns per sample.</summary>
    public int Width => _width;

    /// <summary>The strings interned so far (read-only view).</summary>
    public StringTable Strings => _strings;

    /// <summary>The frames interned so far (read-only view).</summary>
    public FrameTable Frames => _frames;

    /// <summary>The stacks interned so far (read-only view).</summary>
    public StackTable Stacks => _stacks;

    /// <summary>Number of samples (aggregated rows) so far.</summary>
    public int SampleCount => _samples;

    /// <summary>Interns UTF-8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StringId Intern(ReadOnlySpan<byte> utf8) => _strings.Intern(utf8);

    /// <summary>Interns a string.</summary>
    public StringId Intern(string value) => _strings.Intern(value);

    /// <summary>Interns a frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FrameId Frame(StringId name, StringId module = StringId.Empty) => _frames.Intern(name, module);

    /// <summary>Interns a frame named by UTF-8 bytes.</summary>
    public FrameId Frame(ReadOnlySpan<byte> name) => _frames.Intern(_strings.Intern(name));

    /// <summary>Interns a frame named by a string.</summary>
    public FrameId Frame(string name) => _frames.Intern(_strings.Intern(name));

    /// <summary>Returns the stack <paramref name="caller"/> with <paramref name="frame"/> called from its leaf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StackId Push(StackId caller, FrameId frame) => _stacks.Push(caller, frame);

    /// <summary>Interns a whole stack given root first.</summary>
    public StackId Stack(ReadOnlySpan<FrameId> rootFirst)
    {
        StackId s = StackId.Root;
        foreach (FrameId f in rootFirst)
        {
            s = _stacks.Push(s, f);
        }

        return s;
    }

    /// <summary>Interns a label set.</summary>
    public LabelSetId Labels(ReadOnlySpan<Label> labels) => _labelSets.Intern(labels);

    /// <summary>Adds <paramref name="value"/> to the first value column of <paramref name="stack"/>'s unlabelled, untimed sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(StackId stack, long value)
    {
        int row = AggregateRow(stack, LabelSetId.None);
        _values[row * _width] += value;
    }

    /// <summary>
    /// Adds one sample. Without <paramref name="timestampNs"/> the values are added to the
    /// aggregated row for (stack, labels); with it, a new row is kept.
    /// </summary>
    public void Add(StackId stack, ReadOnlySpan<long> values, LabelSetId labels = LabelSetId.None, long? timestampNs = null)
    {
        if (values.Length != _width)
        {
            throw new ArgumentException($"expected {_width} values, got {values.Length}", nameof(values));
        }

        int row;
        if (timestampNs is long ts)
        {
            row = NewRow(stack, labels);
            _timestamps ??= new long[_sampleStacks.Length];
            if (_timestamps.Length < _sampleStacks.Length)
            {
                Array.Resize(ref _timestamps, _sampleStacks.Length);
            }

            _timestamps[row] = ts;
        }
        else
        {
            row = AggregateRow(stack, labels);
        }

        Span<long> dst = _values.AsSpan(row * _width, _width);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] += values[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int AggregateRow(StackId stack, LabelSetId labels)
    {
        long key = ((long)(int)labels << 32) | (uint)(int)stack;
        int row = _aggregate.GetOrAdd(key, _samples);
        if (row == _samples)
        {
            NewRow(stack, labels);
        }

        return row;
    }

    private int NewRow(StackId stack, LabelSetId labels)
    {
        Debug.Assert(!_built, "builder used after Build()");
        if (_samples == _sampleStacks.Length)
        {
            int n = _samples * 2;
            Array.Resize(ref _sampleStacks, n);
            Array.Resize(ref _sampleLabels, n);
            Array.Resize(ref _values, n * _width);
            if (_timestamps is not null)
            {
                Array.Resize(ref _timestamps, n);
            }
        }

        _sampleStacks[_samples] = stack;
        _sampleLabels[_samples] = labels;
        return _samples++;
    }

    /// <summary>Freezes the builder into a <see cref="Profile"/>. The builder must not be used afterwards.</summary>
    public Profile Build()
    {
        if (_built)
        {
            throw new InvalidOperationException("Build() was already called on this ProfileBuilder");
        }

        _built = true;
        int n = _samples;
        return new Profile(
            _strings, _frames, _stacks, _labelSets, _types, Metadata,
            _sampleStacks.AsSpan(0, n).ToArray(),
            _sampleLabels.AsSpan(0, n).ToArray(),
            _values.AsSpan(0, n * _width).ToArray(),
            _timestamps?.AsSpan(0, n).ToArray());
    }
}
