using System.Buffers.Text;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orac.Model;

namespace Orac.Server.Auth;

/// <summary>
/// Orgs and API tokens. A token is <c>orac_</c> + 32 random bytes in base64url; only its SHA-256 is kept, in
/// <c>DATA/auth.json</c> (mode 0600, written to a temporary file, fsynced, then renamed over the old one, under an
/// exclusive lock on <c>DATA/auth.lock</c> so <c>orac admin</c> and a running server can both change it). A running
/// server notices changes made by other processes within a second. Thread-safe.
/// </summary>
public sealed class AuthStore
{
    /// <summary>File name inside the data folder.</summary>
    public const string FileName = "auth.json";

    /// <summary>Org created on first run.</summary>
    public const string DefaultOrg = "local";

    /// <summary>Every token starts with this.</summary>
    public const string TokenPrefix = "orac_";

    private static readonly TimeSpan s_recheck = TimeSpan.FromSeconds(1);
    private readonly string? _path;
    private readonly Lock _gate = new();
    private AuthFile _file = new();
    private byte[][] _hashes = [];
    private (long Length, DateTime Mtime) _stamp;
    private long _checkedAt;

    private AuthStore(string? path) => _path = path;

    /// <summary>Opens (or starts) the auth store of a data folder, creating the folder (mode 0700) when needed.</summary>
    public static AuthStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        try
        {
            if (!Directory.Exists(dataDirectory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(dataDirectory);
                }
                else
                {
                    Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{dataDirectory}: cannot create the data folder: {e.Message}");
        }

        var store = new AuthStore(Path.Combine(dataDirectory, FileName));
        lock (store._gate)
        {
            store.Reload();
        }

        return store;
    }

    /// <summary>An auth store that lives only in memory (<c>orac serve --memory</c>, tests).</summary>
    public static AuthStore InMemory() => new(null);

    /// <summary>Path of auth.json, or null in memory.</summary>
    public string? FilePath => _path;

    /// <summary>
    /// First run: when no token exists, creates org <see cref="DefaultOrg"/> and an admin token named <c>bootstrap</c>
    /// and returns the token (show it once). Returns null when tokens already exist.
    /// </summary>
    public string? Bootstrap() => Update(f =>
    {
        if (f.Tokens.Count > 0)
        {
            return null;
        }

        if (!f.Orgs.Exists(o => o.Name == DefaultOrg))
        {
            f.Orgs.Add(new OrgEntry { Name = DefaultOrg, CreatedUnixMs = NowMs() });
        }

        return AddToken(f, DefaultOrg, Role.Admin, "bootstrap");
    });

    /// <summary>Creates an org. Throws <see cref="OracException"/> (usage) for a bad or existing name.</summary>
    public void CreateOrg(string name)
    {
        CheckOrgName(name);
        Update<object?>(f =>
        {
            if (f.Orgs.Exists(o => o.Name == name))
            {
                throw new OracException($"org '{name}' already exists", OracException.Usage);
            }

            f.Orgs.Add(new OrgEntry { Name = name, CreatedUnixMs = NowMs() });
            return null;
        });
    }

    /// <summary>Creates a token for an existing org and returns it; only its hash is kept.</summary>
    public string CreateToken(string org, Role role, string name)
    {
        if (name.Length > 128 || name.AsSpan().ContainsAnyInRange('\0', '\x1f'))
        {
            throw new OracException("token name must be at most 128 printable characters", OracException.Usage);
        }

        return Update(f =>
        {
            if (!f.Orgs.Exists(o => o.Name == org))
            {
                throw new OracException($"unknown org '{Escape(org)}' (create it first)", OracException.Usage);
            }

            return AddToken(f, org, role, name);
        });
    }

    /// <summary>Whether the org exists.</summary>
    public bool OrgExists(string org)
    {
        lock (_gate)
        {
            RefreshIfChanged();
            return _file.Orgs.Exists(o => o.Name == org);
        }
    }

    /// <summary>All org names, sorted.</summary>
    public IReadOnlyList<string> Orgs()
    {
        lock (_gate)
        {
            RefreshIfChanged();
            return [.. _file.Orgs.Select(o => o.Name).Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// The principal a bearer token stands for, or null for an unknown token. Hashes are compared in constant time
    /// against every stored hash (no early exit), so timing says nothing about which bytes matched.
    /// </summary>
    public Principal? Authenticate(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        lock (_gate)
        {
            RefreshIfChanged();
            int found = -1;
            for (int i = 0; i < _hashes.Length; i++)
            {
                if (CryptographicOperations.FixedTimeEquals(_hashes[i], hash) && found < 0)
                {
                    found = i;
                }
            }

            if (found < 0)
            {
                return null;
            }

            TokenEntry t = _file.Tokens[found];
            return Roles.TryParse(t.Role, out Role role) ? new Principal(t.Org, role, t.Name) : null;
        }
    }

    /// <summary>Throws <see cref="OracException"/> (usage) unless <paramref name="name"/> is a valid org name.</summary>
    public static void CheckOrgName(string? name)
    {
        if (!IsValidOrgName(name))
        {
            throw new OracException(
                $"bad org name '{Escape(name ?? "")}': use lower-case letters, digits, '-', '_' and '.', starting with a letter or digit, at most 63 characters",
                OracException.Usage);
        }
    }

    /// <summary>Org names: <c>[a-z0-9][a-z0-9._-]{0,62}</c>.</summary>
    public static bool IsValidOrgName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 63 || !(char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0])))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    internal static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 64 ? s[..64] : s)
        {
            sb.Append(c < ' ' || c == 0x7f ? $"\\x{(int)c:x2}" : c);
        }

        return s.Length > 64 ? sb.Append('…').ToString() : sb.ToString();
    }

    private static string AddToken(AuthFile f, string org, Role role, string name)
    {
        Span<byte> secret = stackalloc byte[32];
        RandomNumberGenerator.Fill(secret);
        string token = TokenPrefix + Base64Url.EncodeToString(secret);
        CryptographicOperations.ZeroMemory(secret);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        f.Tokens.Add(new TokenEntry
        {
            Sha256 = Convert.ToHexStringLower(hash),
            Org = org,
            Role = Roles.Name(role),
            Name = name,
            CreatedUnixMs = NowMs(),
        });
        return token;
    }

    private static void Hash(string token, Span<byte> hash)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(token);
        SHA256.HashData(utf8, hash);
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    // Read-modify-write under the process lock and, on disk, an exclusive file lock, so concurrent writers never lose each other's changes.
    private T Update<T>(Func<AuthFile, T> change)
    {
        lock (_gate)
        {
            if (_path is null)
            {
                T r = change(_file);
                Index();
                return r;
            }

            using FileStream fileLock = AcquireLock();
            Reload();
            AuthFile copy = Clone(_file);
            T result = change(copy);
            WriteAtomically(copy);
            _file = copy;
            Index();
            _stamp = Stamp();
            return result;
        }
    }

    private FileStream AcquireLock()
    {
        string lockPath = Path.Combine(Path.GetDirectoryName(_path)!, "auth.lock");
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new OracException($"{lockPath}: cannot lock the auth store: {e.Message}");
            }
        }
    }

    private void WriteAtomically(AuthFile file)
    {
        string tmp = _path + ".tmp";
        try
        {
            File.Delete(tmp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var fs = new FileStream(tmp, options))
            {
                JsonSerializer.Serialize(fs, file, AuthJsonContext.Default.AuthFile);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, _path!, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{_path}: cannot write the auth store: {e.Message}");
        }
    }

    private void RefreshIfChanged()
    {
        if (_path is null)
        {
            return;
        }

        long now = Environment.TickCount64;
        if (now - _checkedAt < (long)s_recheck.TotalMilliseconds)
        {
            return;
        }

        _checkedAt = now;
        if (Stamp() != _stamp)
        {
            Reload();
        }
    }

    private (long, DateTime) Stamp()
    {
        var info = new FileInfo(_path!);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    private void Reload()
    {
        var stamp = Stamp();
        AuthFile file;
        if (stamp.Item1 < 0)
        {
            file = new AuthFile();
        }
        else
        {
            try
            {
                using var fs = new FileStream(_path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                file = JsonSerializer.Deserialize(fs, AuthJsonContext.Default.AuthFile) ?? new AuthFile();
            }
            catch (JsonException e)
            {
                throw new OracException($"{_path}: the auth store is damaged ({e.Message}); restore it from a backup or move it away to start over");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new OracException($"{_path}: cannot read the auth store: {e.Message}");
            }
        }

        file.Orgs ??= [];
        file.Tokens ??= [];
        _file = file;
        _stamp = stamp;
        _checkedAt = Environment.TickCount64;
        Index();
    }

    private void Index()
    {
        var hashes = new byte[_file.Tokens.Count][];
        for (int i = 0; i < hashes.Length; i++)
        {
            // A damaged entry gets an all-zero hash, which no token hashes to.
            string hex = _file.Tokens[i].Sha256 ?? "";
            hashes[i] = new byte[SHA256.HashSizeInBytes];
            if (hex.Length == 64)
            {
                _ = Convert.FromHexString(hex, hashes[i], out _, out _);
            }
        }

        _hashes = hashes;
    }

    private static AuthFile Clone(AuthFile f) => new()
    {
        Version = f.Version,
        Orgs = [.. f.Orgs.Select(o => new OrgEntry { Name = o.Name, CreatedUnixMs = o.CreatedUnixMs })],
        Tokens = [.. f.Tokens.Select(t => new TokenEntry { Sha256 = t.Sha256, Org = t.Org, Role = t.Role, Name = t.Name, CreatedUnixMs = t.CreatedUnixMs })],
    };
}
