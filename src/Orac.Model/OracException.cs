namespace Orac.Model;

/// <summary>
/// An anticipated user error (bad input, missing file, bad option). The CLI prints its message as
/// one line, without a stack trace, and exits with <see cref="ExitCode"/>. Anything else that
/// escapes is a bug and crashes loudly.
/// </summary>
public sealed class OracException : Exception
{
    /// <summary>Exit code for failures (1).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for usage errors (2).</summary>
    public const int Usage = 2;

    /// <summary>Creates a user error.</summary>
    public OracException(string message, int exitCode = Failure)
        : base(message) => ExitCode = exitCode;

    /// <summary>Creates a user error wrapping a cause.</summary>
    public OracException(string message, Exception inner, int exitCode = Failure)
        : base(message, inner) => ExitCode = exitCode;

    /// <summary>Creates a user error with exit code 1.</summary>
    public OracException()
        : this("error")
    {
    }

    /// <summary>Creates a user error with exit code 1.</summary>
    public OracException(string message, Exception inner)
        : this(message, inner, Failure)
    {
    }

    /// <summary>Process exit code: 1 failure, 2 usage error.</summary>
    public int ExitCode { get; }
}

/// <summary>
/// Counted, reported skips of bad input: each kind of problem is counted, and the first few
/// occurrences keep where they happened (file and line) so the CLI can print a short summary.
/// Thread-safe.
/// </summary>
public sealed class ParseWarnings
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (long Count, List<string> Examples)> _byKind = new(StringComparer.Ordinal);

    /// <summary>Examples kept per kind.</summary>
    public int MaxExamples { get; init; } = 3;

    /// <summary>Records one occurrence of <paramref name="kind"/> at <paramref name="where"/> (e.g. <c>file:line</c>).</summary>
    public void Add(string kind, string where)
    {
        lock (_gate)
        {
            if (!_byKind.TryGetValue(kind, out var entry))
            {
                entry = (0, []);
            }

            if (entry.Examples.Count < MaxExamples)
            {
                entry.Examples.Add(where);
            }

            _byKind[kind] = (entry.Count + 1, entry.Examples);
        }
    }

    /// <summary>Adds <paramref name="count"/> occurrences without examples.</summary>
    public void AddCount(string kind, long count)
    {
        if (count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var entry = _byKind.TryGetValue(kind, out var e) ? e : (0, []);
            _byKind[kind] = (entry.Count + count, entry.Examples);
        }
    }

    /// <summary>Total occurrences of all kinds.</summary>
    public long Total
    {
        get
        {
            lock (_gate)
            {
                long t = 0;
                foreach (var kv in _byKind)
                {
                    t += kv.Value.Count;
                }

                return t;
            }
        }
    }

    /// <summary>Occurrences of one kind.</summary>
    public long Count(string kind)
    {
        lock (_gate)
        {
            return _byKind.TryGetValue(kind, out var e) ? e.Count : 0;
        }
    }

    /// <summary>Writes one line per kind: <c>orac: warning: skipped N KIND (first at WHERE, …)</c>.</summary>
    public void WriteTo(TextWriter error)
    {
        lock (_gate)
        {
            foreach (var kv in _byKind.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                string at = kv.Value.Examples.Count > 0 ? $" (first at {string.Join(", ", kv.Value.Examples)})" : "";
                error.WriteLine($"orac: warning: {kv.Value.Count} {kv.Key}{at}");
            }
        }
    }
}
