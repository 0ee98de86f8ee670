namespace Orac.Server;

/// <summary>
/// A request the server refuses with a specific HTTP status (401, 403, 404, 413, 415, …) and a one-line reason.
/// Plain <see cref="Orac.Model.OracException"/>s from parsers and the store become 400.
/// </summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates a refusal with status <paramref name="status"/>.</summary>
    public ApiException(int status, string message)
        : base(message) => Status = status;

    /// <summary>Creates a 400 refusal.</summary>
    public ApiException()
        : this(400, "bad request")
    {
    }

    /// <summary>Creates a 400 refusal.</summary>
    public ApiException(string message)
        : this(400, message)
    {
    }

    /// <summary>Creates a 400 refusal wrapping a cause.</summary>
    public ApiException(string message, Exception inner)
        : base(message, inner) => Status = 400;

    /// <summary>The HTTP status code to answer with.</summary>
    public int Status { get; }
}
