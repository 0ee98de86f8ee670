using System.Text;
using Orac.Model;
using Orac.Server.Auth;

namespace Orac.Server.Tests;

public sealed class AuthStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-auth-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Bootstrap_OnceOnly_StoresOnlyHashes_Mode0600()
    {
        AuthStore store = AuthStore.Open(_dir);
        string token = store.Bootstrap()!;
        Assert.Null(store.Bootstrap());
        Assert.Equal(new Principal(AuthStore.DefaultOrg, Role.Admin, "bootstrap"), store.Authenticate(token));
        Assert.Null(store.Authenticate(token + "x"));
        Assert.Null(store.Authenticate(token[..^1]));
        Assert.Null(store.Authenticate(""));

        string path = Path.Combine(_dir, AuthStore.FileName);
        string text = File.ReadAllText(path, Encoding.UTF8);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(token[5..], text, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(token))), text, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.False(File.Exists(path + ".tmp"));

        // A second store on the same folder (another process: orac admin) sees it, and its changes are seen back.
        AuthStore other = AuthStore.Open(_dir);
        Assert.Null(other.Bootstrap());
        other.CreateOrg("search");
        string read = other.CreateToken("search", Role.Read, "ci");
        Thread.Sleep(1100);
        Assert.Equal(new Principal("search", Role.Read, "ci"), store.Authenticate(read));
        Assert.Equal(["local", "search"], store.Orgs());
    }

    [Fact]
    public void Tokens_AreRandomAndWellFormed()
    {
        AuthStore store = AuthStore.InMemory();
        store.Bootstrap();
        var seen = new HashSet<string>();
        for (int i = 0; i < 50; i++)
        {
            string t = store.CreateToken("local", Role.Ingest, "n");
            Assert.Matches("^orac_[A-Za-z0-9_-]{43}$", t);
            Assert.True(seen.Add(t));
        }
    }

    [Fact]
    public void BadNamesAndDuplicates_AreUsageErrors()
    {
        AuthStore store = AuthStore.InMemory();
        foreach (string bad in new[] { "", "Upper", "-x", "a b", new string('a', 64), "a/b" })
        {
            Assert.Equal(OracException.Usage, Assert.Throws<OracException>(() => store.CreateOrg(bad)).ExitCode);
        }

        store.CreateOrg("ok-1.x_y");
        Assert.Throws<OracException>(() => store.CreateOrg("ok-1.x_y"));
        Assert.Throws<OracException>(() => store.CreateToken("missing", Role.Read, ""));
    }

    [Fact]
    public void DamagedFile_IsOneClearError()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, AuthStore.FileName), "{ not json");
        var e = Assert.Throws<OracException>(() => AuthStore.Open(_dir));
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
    }
}
