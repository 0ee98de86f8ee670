using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Orac.Server.Auth;

namespace Orac.Cli.Tests;

public sealed class ServeCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-serve-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new MemoryStream();
        var err = new StringWriter();
        int code = Program.Run(args, new CliContext { StdIn = new MemoryStream(), StdOut = stdout, Error = err });
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), err.ToString());
    }

    [Fact]
    public void AdminOnDataFolder_CreatesOrgAndToken_PrintedOnce()
    {
        Assert.Equal(0, Run("admin", "org", "create", "search", "--data", _dir).Code);
        var (code, output, err) = Run("admin", "token", "create", "--org", "search", "--role", "read", "--name", "ci", "--data", _dir);
        Assert.Equal(0, code);
        string token = output.Trim();
        Assert.Matches("^orac_[A-Za-z0-9_-]{43}$", token);
        Assert.Contains("shown once", err, StringComparison.Ordinal);
        Assert.Equal(new Principal("search", Role.Read, "ci"), AuthStore.Open(_dir).Authenticate(token));

        var dup = Run("admin", "org", "create", "search", "--data", _dir);
        Assert.Equal(2, dup.Code);
        Assert.Contains("already exists", dup.Err, StringComparison.Ordinal);
        Assert.Equal(2, Run("admin", "token", "create", "--org", "search", "--role", "root", "--data", _dir).Code);
        Assert.Contains("unknown org", Run("admin", "token", "create", "--org", "nope", "--role", "read", "--data", _dir).Err, StringComparison.Ordinal);
        Assert.Equal(2, Run("admin", "frobnicate").Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Serve_PrintsAddressAndBootstrapToken_ServesAndStopsOnInterrupt()
    {
        var err = new StringWriter();
        var ctx = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = TextWriter.Synchronized(err) };
        Task<int> serving = Task.Run(() => Program.Run(["serve", "--listen", "127.0.0.1:0", "--data", _dir], ctx));

        Match address = Match.Empty;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!address.Success && DateTime.UtcNow < deadline && !serving.IsCompleted)
        {
            await Task.Delay(50);
            address = Regex.Match(err.ToString(), @"serving on (http://127\.0\.0\.1:\d+)");
        }

        Assert.True(address.Success, "no address printed: " + err);
        string token = Regex.Match(err.ToString(), "^orac_[A-Za-z0-9_-]{43}$", RegexOptions.Multiline).Value;
        Assert.NotEmpty(token);
        var baseUri = new Uri(address.Groups[1].Value);

        using var http = new HttpClient();
        using (var req = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/ingest?name=cli.cpu&sampleRate=100")) { Content = new StringContent("main;work 2\n") })
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var resp = await http.SendAsync(req);
            Assert.Equal(200, (int)resp.StatusCode);
        }

        // orac admin through the running server.
        var viaServer = Run("admin", "token", "create", "--org", "local", "--role", "read", "--server", baseUri.ToString(), "--token", token);
        Assert.Equal(0, viaServer.Code);
        string read = viaServer.Out.Trim();
        using (var req = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/api/v1/query/top")))
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", read);
            using var resp = await http.SendAsync(req);
            string body = await resp.Content.ReadAsStringAsync();
            Assert.Equal(200, (int)resp.StatusCode);
            Assert.Contains("\"profileTotal\":20000000", body, StringComparison.Ordinal);
        }

        var refused = Run("admin", "org", "create", "x", "--server", baseUri.ToString(), "--token", read);
        Assert.Equal(1, refused.Code);
        Assert.Contains("403", refused.Err, StringComparison.Ordinal);

        ctx.Interrupt.Cancel();
        Assert.Equal(0, await serving);
        Assert.Contains("orac: stopping", err.ToString(), StringComparison.Ordinal);

        // Second run: tokens exist, so no new bootstrap token is printed.
        var again = new StringWriter();
        var ctx2 = new CliContext { StdIn = new MemoryStream(), StdOut = new MemoryStream(), Error = TextWriter.Synchronized(again) };
        ctx2.Interrupt.Cancel();
        Assert.Equal(0, Program.Run(["serve", "--listen", "127.0.0.1:0", "--data", _dir], ctx2));
        Assert.DoesNotContain("orac_", again.ToString(), StringComparison.Ordinal);
    }
}
