using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;

namespace Orac.Server.Fleet;

/// <summary>
/// Who did what to which hosts: one JSON line per <c>task.create</c>, <c>fleet.set</c> and <c>agent.register</c> (new
/// agent, or its host name, labels or version changed; a plain restart is not news) appended to <c>DATA/audit.log</c>
/// and fsynced before the action is answered. The newest 10,000 entries stay in memory for <c>GET /api/v1/audit</c>;
/// the file is the full record. A line that does not parse (a torn write at a crash) is skipped at start, counted and
/// logged with its line number.
/// </summary>
internal sealed class AuditLog : IDisposable
{
    /// <summary>File name inside the data folder.</summary>
    public const string FileName = "audit.log";

    /// <summary>Entries kept in memory.</summary>
    public const int Kept = 10_000;

    private readonly Lock _gate = new();
    private readonly LinkedList<AuditEntry> _recent = new();
    private readonly FileStream? _file;

    private AuditLog(FileStream? file) => _file = file;

    /// <summary>Lines skipped at start because they did not parse.</summary>
    public int Skipped { get; private set; }

    /// <summary>Opens the log of a data folder (null: memory only); <paramref name="log"/> gets one line about skipped lines.</summary>
    public static AuditLog Open(string? dataDirectory, Action<string> log)
    {
        if (dataDirectory is null)
        {
            return new AuditLog(null);
        }

        string path = Path.Combine(dataDirectory, FileName);
        var entries = new List<AuditEntry>();
        int skipped = 0;
        int firstBad = 0;
        if (File.Exists(path))
        {
            int lineNo = 0;
            foreach (string line in File.ReadLines(path))
            {
                lineNo++;
                if (line.Length == 0)
                {
                    continue;
                }

                try
                {
                    AuditEntry? e = JsonSerializer.Deserialize(line, OracServer.Json.AuditEntry);
                    if (e is null || e.Org is null || e.Action is null)
                    {
                        throw new JsonException("not an audit entry");
                    }

                    entries.Add(e);
                }
                catch (JsonException)
                {
                    skipped++;
                    firstBad = firstBad == 0 ? lineNo : firstBad;
                }
            }
        }

        if (skipped > 0)
        {
            log($"orac: {path}: skipped {skipped} damaged line(s), the first at line {firstBad}");
        }

        FileStream file;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            file = new FileStream(path, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{path}: cannot open the audit log: {e.Message}");
        }

        var audit = new AuditLog(file) { Skipped = skipped };
        foreach (AuditEntry e in entries.Skip(Math.Max(0, entries.Count - Kept)))
        {
            audit._recent.AddFirst(e);
        }

        return audit;
    }

    /// <summary>Appends an entry (durable when this returns).</summary>
    public void Append(AuditEntry entry)
    {
        byte[] line = [.. JsonSerializer.SerializeToUtf8Bytes(entry, OracServer.Json.AuditEntry), (byte)'\n'];
        lock (_gate)
        {
            if (_file is not null)
            {
                try
                {
                    _file.Write(line);
                    _file.Flush(flushToDisk: true);
                }
                catch (IOException e)
                {
                    throw new OracException($"{_file.Name}: cannot append to the audit log: {e.Message}");
                }
            }

            _recent.AddFirst(entry);
            if (_recent.Count > Kept)
            {
                _recent.RemoveLast();
            }
        }
    }

    /// <summary>The newest <paramref name="limit"/> entries of <paramref name="orgs"/>, newest first.</summary>
    public List<AuditEntry> Newest(IReadOnlyList<string> orgs, int limit)
    {
        lock (_gate)
        {
            var list = new List<AuditEntry>();
            foreach (AuditEntry e in _recent)
            {
                if (list.Count >= limit)
                {
                    break;
                }

                if (orgs.Contains(e.Org))
                {
                    list.Add(e);
                }
            }

            return list;
        }
    }

    /// <summary>"name (role)" for the who field.</summary>
    public static string Who(Auth.Principal who) => new StringBuilder(who.Name.Length == 0 ? "(unnamed token)" : who.Name).Append(" (").Append(Auth.Roles.Name(who.Role)).Append(')').ToString();

    /// <inheritdoc/>
    public void Dispose() => _file?.Dispose();
}
