namespace Orac.Cli;

/// <summary>
/// What a verb may touch: standard streams (binary for data, text for messages) and the working
/// directory. Tests pass memory streams; <see cref="Program"/> passes the console.
/// </summary>
public sealed class CliContext
{
    /// <summary>Standard input, binary.</summary>
    public required Stream StdIn { get; init; }

    /// <summary>Standard output, binary (folded text and SVG are written as bytes).</summary>
    public required Stream StdOut { get; init; }

    /// <summary>Standard error for warnings, progress and the one-line error message.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>
    /// Cancelled at the first Ctrl-C when the running verb has set <see cref="StopsGracefully"/>
    /// (e.g. <c>record</c>: stop sampling and still write everything); a second Ctrl-C, or one during
    /// any other verb, exits at once with status 130.
    /// </summary>
    public CancellationTokenSource Interrupt { get; } = new();

    /// <summary>
    /// Reads an environment variable (ORAC_SERVER, ORAC_TOKEN, XDG_CONFIG_HOME, HOME); tests pass their own
    /// lookup instead of changing the process environment.
    /// </summary>
    public Func<string, string?> GetEnv { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>True when standard input is a terminal (a person can answer a prompt: <c>ask</c>'s confirmation, <c>chat</c>'s <c>orac&gt; </c>).</summary>
    public bool StdInIsTerminal { get; init; }

    /// <summary>Set by a verb that handles <see cref="Interrupt"/> itself.</summary>
    public bool StopsGracefully { get; set; }

    /// <summary>Opens the output named by <c>-o</c>, or standard output when <paramref name="path"/> is null or "-".</summary>
    public Stream OpenOutput(string? path)
    {
        if (path is null || path == "-")
        {
            return new NonClosingStream(StdOut);
        }

        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Orac.Model.OracException($"{path}: cannot write: {e.Message}");
        }
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Flush();
            }

            base.Dispose(disposing);
        }
    }
}
