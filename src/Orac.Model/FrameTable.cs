using System.Diagnostics;

namespace Orac.Model;

/// <summary>
/// Interned frames: a frame is a function name plus an optional module (both <see cref="StringId"/>s
/// of the owning profile's <see cref="StringTable"/>). Side data lives in arrays indexed by id.
/// </summary>
public sealed class FrameTable
{
    private StringId[] _names = new StringId[1024];
    private StringId[] _modules = new StringId[1024];
    private readonly LongIntMap _index = new(1024);
    private int _count;

    /// <summary>Number of frames.</summary>
    public int Count => _count;

    /// <summary>The frame's function name.</summary>
    public StringId Name(FrameId id)
    {
        Debug.Assert((uint)id < (uint)_count);
        return _names[(int)id];
    }

    /// <summary>The frame's module, or <see cref="StringId.Empty"/>.</summary>
    public StringId Module(FrameId id)
    {
        Debug.Assert((uint)id < (uint)_count);
        return _modules[(int)id];
    }

    /// <summary>Interns the frame (name, module).</summary>
    internal FrameId Intern(StringId name, StringId module = StringId.Empty)
    {
        long key = ((long)(int)module << 32) | (uint)(int)name;
        int id = _index.GetOrAdd(key, _count);
        if (id == _count)
        {
            if (_count == _names.Length)
            {
                Array.Resize(ref _names, _count * 2);
                Array.Resize(ref _modules, _count * 2);
            }

            _names[_count] = name;
            _modules[_count] = module;
            _count++;
        }

        return (FrameId)id;
    }
}

/// <summary>
/// Interned stacks as a prefix table: stack i is (leaf frame, caller stack), where the caller is
/// <see cref="StackId.Root"/> for a one-frame stack. Callers always have smaller ids than their callees,
/// so a pass in id order visits parents first.
/// </summary>
public sealed class StackTable
{
    private FrameId[] _frames = new FrameId[1024];
    private StackId[] _callers = new StackId[1024];
    private int[] _depths = new int[1024];
    private readonly LongIntMap _index = new(1024);
    private int _count;

    /// <summary>Number of stacks (the empty root stack is not counted).</summary>
    public int Count => _count;

    /// <summary>The leaf frame of <paramref name="id"/>.</summary>
    public FrameId Frame(StackId id) => _frames[(int)id];

    /// <summary>The caller stack of <paramref name="id"/>; <see cref="StackId.Root"/> for a root frame.</summary>
    public StackId Caller(StackId id) => _callers[(int)id];

    /// <summary>Number of frames in the stack (1 for a root frame, 0 for <see cref="StackId.Root"/>).</summary>
    public int Depth(StackId id) => id == StackId.Root ? 0 : _depths[(int)id];

    /// <summary>Interns the stack made of <paramref name="caller"/> plus <paramref name="frame"/> as its new leaf.</summary>
    internal StackId Push(StackId caller, FrameId frame)
    {
        long key = ((long)(int)caller << 32) | (uint)(int)frame;
        int id = _index.GetOrAdd(key, _count);
        if (id == _count)
        {
            if (_count == _frames.Length)
            {
                Array.Resize(ref _frames, _count * 2);
                Array.Resize(ref _callers, _count * 2);
                Array.Resize(ref _depths, _count * 2);
            }

            _frames[_count] = frame;
            _callers[_count] = caller;
            _depths[_count] = caller == StackId.Root ? 1 : _depths[(int)caller] + 1;
            _count++;
        }

        return (StackId)id;
    }

    /// <summary>Writes the frames of <paramref name="id"/> root first into <paramref name="destination"/> and returns the count.</summary>
    public int CopyFrames(StackId id, Span<FrameId> destination)
    {
        int depth = Depth(id);
        if (destination.Length < depth)
        {
            throw new ArgumentException($"destination holds {destination.Length} frames, the stack has {depth}", nameof(destination));
        }

        for (int i = depth - 1; i >= 0; i--)
        {
            destination[i] = _frames[(int)id];
            id = _callers[(int)id];
        }

        return depth;
    }

    /// <summary>The frames of <paramref name="id"/>, root first.</summary>
    public FrameId[] GetFrames(StackId id)
    {
        var result = new FrameId[Depth(id)];
        CopyFrames(id, result);
        return result;
    }
}
