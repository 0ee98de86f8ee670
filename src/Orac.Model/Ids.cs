namespace Orac.Model;

/// <summary>An interned UTF-8 string. 0 is always the empty string.</summary>
public enum StringId : int
{
    /// <summary>The empty string.</summary>
    Empty = 0,
}

/// <summary>An interned frame (function name plus optional module). Valid ids are 0..Count-1 of the owning table.</summary>
public enum FrameId : int
{
}

/// <summary>
/// An interned stack in a prefix table: a stack is (leaf frame, caller stack).
/// <see cref="Root"/> (-1) is the empty stack that every other stack grows from.
/// </summary>
public enum StackId : int
{
    /// <summary>The empty stack, the caller of every root frame.</summary>
    Root = -1,
}

/// <summary>An interned set of labels (key/value string pairs). 0 is the empty set.</summary>
public enum LabelSetId : int
{
    /// <summary>No labels.</summary>
    None = 0,
}
