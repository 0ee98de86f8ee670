namespace Orac.Model;

public sealed partial class Profile
{
    /// <summary>
    /// Merges profiles into a new one: strings, frames, stacks and label sets are remapped into one
    /// builder, untimed rows with the same (stack, labels) are summed, timed rows are kept.
    /// </summary>
    /// <remarks>
    /// Invariant: merge is associative and commutative in value terms: every order and grouping of
    /// the same inputs gives the same value per (stack, labels), hence the same folded output.
    /// All inputs must have the same sample types (name and unit, in order); otherwise an
    /// <see cref="OracException"/> is thrown. Metadata comes from the first profile with a non-empty
    /// field; the time range is the union of the inputs' ranges.
    /// </remarks>
    public static Profile Merge(params ReadOnlySpan<Profile> profiles)
    {
        if (profiles.IsEmpty)
        {
            return new ProfileBuilder(SampleType.Samples).Build();
        }

        SampleType[] types = profiles[0]._types;
        foreach (Profile p in profiles)
        {
            if (!SameTypes(types, p._types))
            {
                throw new OracException($"cannot merge profiles with different sample types ({string.Join(", ", types)} vs {string.Join(", ", p._types)})");
            }
        }

        var builder = new ProfileBuilder(types) { Metadata = MergeMetadata(profiles) };
        foreach (Profile p in profiles)
        {
            var map = new ProfileRemapper(p, builder);
            map.AddSamples();
        }

        return builder.Build();
    }

    private static bool SameTypes(SampleType[] a, SampleType[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }

    private static ProfileMetadata MergeMetadata(ReadOnlySpan<Profile> profiles)
    {
        ProfileMetadata m = profiles[0].Metadata;
        foreach (Profile p in profiles)
        {
            ProfileMetadata o = p.Metadata;
            m = m with
            {
                Host = m.Host.Length > 0 ? m.Host : o.Host,
                Service = m.Service.Length > 0 ? m.Service : o.Service,
                Org = m.Org.Length > 0 ? m.Org : o.Org,
                Period = m.Period != 0 ? m.Period : o.Period,
                PeriodType = m.PeriodType != default ? m.PeriodType : o.PeriodType,
                StartNs = m.StartNs == 0 ? o.StartNs : (o.StartNs == 0 ? m.StartNs : Math.Min(m.StartNs, o.StartNs)),
                EndNs = Math.Max(m.EndNs, o.EndNs),
            };
        }

        return m;
    }
}

/// <summary>
/// Copies one profile's interned tables into another builder, lazily, with arrays indexed by the
/// source ids (-1 = not mapped yet). Stacks map in one pass because callers have smaller ids.
/// </summary>
public sealed class ProfileRemapper
{
    private readonly Profile _source;
    private readonly ProfileBuilder _target;
    private readonly int[] _strings;
    private readonly int[] _frames;
    private readonly int[] _stacks;
    private readonly int[] _labels;

    /// <summary>Prepares to copy from <paramref name="source"/> into <paramref name="target"/>.</summary>
    public ProfileRemapper(Profile source, ProfileBuilder target)
    {
        _source = source;
        _target = target;
        _strings = Filled(source.Strings.Count);
        _frames = Filled(source.Frames.Count);
        _stacks = Filled(source.Stacks.Count);
        _labels = Filled(source.LabelSets.Count);
    }

    private static int[] Filled(int n)
    {
        var a = new int[n];
        Array.Fill(a, -1);
        return a;
    }

    /// <summary>The target's id for a source string.</summary>
    public StringId String(StringId id)
    {
        int m = _strings[(int)id];
        if (m < 0)
        {
            m = (int)_target.Intern(_source.Strings.GetBytes(id));
            _strings[(int)id] = m;
        }

        return (StringId)m;
    }

    /// <summary>The target's id for a source frame.</summary>
    public FrameId Frame(FrameId id)
    {
        int m = _frames[(int)id];
        if (m < 0)
        {
            m = (int)_target.Frame(String(_source.Frames.Name(id)), String(_source.Frames.Module(id)));
            _frames[(int)id] = m;
        }

        return (FrameId)m;
    }

    /// <summary>The target's id for a source stack (callers first).</summary>
    public StackId Stack(StackId id)
    {
        if (id == StackId.Root)
        {
            return StackId.Root;
        }

        int m = _stacks[(int)id];
        if (m < 0)
        {
            // Recursion depth is bounded by the stack depth; iterate to the deepest mapped caller instead.
            StackId caller = _source.Stacks.Caller(id);
            StackId mappedCaller = Stack(caller);
            m = (int)_target.Push(mappedCaller, Frame(_source.Stacks.Frame(id)));
            _stacks[(int)id] = m;
        }

        return (StackId)m;
    }

    /// <summary>The target's id for a source label set.</summary>
    public LabelSetId Labels(LabelSetId id)
    {
        if (id == LabelSetId.None)
        {
            return LabelSetId.None;
        }

        int m = _labels[(int)id];
        if (m < 0)
        {
            ReadOnlySpan<Label> src = _source.LabelSets.Get(id);
            var copy = new Label[src.Length];
            for (int i = 0; i < src.Length; i++)
            {
                copy[i] = new Label(String(src[i].Key), String(src[i].Value));
            }

            m = (int)_target.Labels(copy);
            _labels[(int)id] = m;
        }

        return (LabelSetId)m;
    }

    /// <summary>Maps every stack in id order first, so <see cref="Stack"/> never recurses deeply.</summary>
    public void MapAllStacks()
    {
        for (int i = 0; i < _stacks.Length; i++)
        {
            Stack((StackId)i);
        }
    }

    /// <summary>Adds every sample row of the source to the target.</summary>
    public void AddSamples()
    {
        MapAllStacks();
        int width = _source.SampleTypes.Count;
        ReadOnlySpan<StackId> stacks = _source.SampleStacks;
        ReadOnlySpan<LabelSetId> labels = _source.SampleLabels;
        ReadOnlySpan<long> values = _source.Values;
        ReadOnlySpan<long> times = _source.Timestamps;
        bool timed = _source.HasTimestamps;
        for (int r = 0; r < stacks.Length; r++)
        {
            _target.Add(Stack(stacks[r]), values.Slice(r * width, width), Labels(labels[r]), timed ? times[r] : (long?)null);
        }
    }
}
