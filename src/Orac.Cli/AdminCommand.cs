using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orac.Model;
using Orac.Model.Wire;
using Orac.Server.Auth;

namespace Orac.Cli;

/// <summary>
/// The <c>orac admin</c> verb: <c>org create NAME</c> and <c>token create --org ORG --role ROLE [--name N]</c>.
/// Works on a data folder's auth store directly (<c>--data DIR</c>, default the serve data folder; a running server
/// sees the change within a second) or through a running server (<c>--server URL --token ADMIN_TOKEN</c>).
/// A new token is printed once on standard output.
/// </summary>
public static class AdminCommand
{
    private const string UsageLine =
        "usage: orac admin org create NAME | orac admin token create --org ORG --role ingest|read|admin [--name N]   [--data DIR | --server URL --token T]";

    /// <summary>The verb's option parser.</summary>
    public static ArgParser Create() => new ArgParser("admin")
        .Option("--org")
        .Option("--role")
        .Option("--name")
        .Option("--data")
        .Option("--server")
        .Option("--token")
        .Flag("--help", "-h");

    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliContext ctx)
    {
        ArgParser p = Create().Parse(args);
        if (p.Has("--help") || p.Positionals.Count == 0)
        {
            ctx.Error.WriteLine(UsageLine);
            ctx.Error.WriteLine("  --data DIR           change the data folder's auth.json directly (default the 'orac serve' data folder)");
            ctx.Error.WriteLine("  --server URL --token T   ask a running server (admin token)");
            return p.Has("--help") ? 0 : OracException.Usage;
        }

        string? server = p.Get("--server");
        if (server is not null && p.Has("--data"))
        {
            throw p.Usage("--data and --server exclude each other");
        }

        if (server is not null && p.Get("--token") is null)
        {
            throw p.Usage("--server needs --token (an admin token)");
        }

        string what = string.Join(' ', p.Positionals.Take(2));
        switch (what)
        {
            case "org create":
                {
                    if (p.Positionals.Count != 3)
                    {
                        throw p.Usage("org create needs one NAME");
                    }

                    string name = p.Positionals[2];
                    AuthStore.CheckOrgName(name);
                    if (server is null)
                    {
                        Local(p).CreateOrg(name);
                    }
                    else
                    {
                        Post(server, p.Get("--token")!, "/api/v1/orgs", JsonSerializer.SerializeToUtf8Bytes(new OrgDocument { Org = name }, OracJsonContext.Default.OrgDocument));
                    }

                    ctx.Error.WriteLine($"orac: created org '{name}'");
                    return 0;
                }

            case "token create":
                {
                    if (p.Positionals.Count != 2)
                    {
                        throw p.Usage($"unexpected argument '{p.Positionals[2]}'");
                    }

                    string org = p.Get("--org") ?? throw p.Usage("token create needs --org ORG");
                    if (!Roles.TryParse(p.Get("--role"), out Role role))
                    {
                        throw p.Usage("token create needs --role ingest, read or admin");
                    }

                    string name = p.Get("--name") ?? "";
                    string token;
                    if (server is null)
                    {
                        token = Local(p).CreateToken(org, role, name);
                    }
                    else
                    {
                        var req = new TokenRequest { Org = org, Role = Roles.Name(role), Name = name };
                        byte[] answer = Post(server, p.Get("--token")!, "/api/v1/tokens", JsonSerializer.SerializeToUtf8Bytes(req, OracJsonContext.Default.TokenRequest));
                        token = JsonSerializer.Deserialize(answer, OracJsonContext.Default.TokenDocument)?.Token
                            ?? throw new OracException("the server answered without a token");
                    }

                    ctx.Error.WriteLine($"orac: {Roles.Name(role)} token for org '{org}' (shown once, keep it):");
                    ctx.StdOut.Write(Encoding.UTF8.GetBytes(token + "\n"));
                    return 0;
                }

            default:
                throw p.Usage($"unknown admin command '{what}' (org create, token create)");
        }
    }

    private static AuthStore Local(ArgParser p) => AuthStore.Open(p.Get("--data") ?? ServeCommand.DefaultDataDirectory());

    private static byte[] Post(string server, string token, string path, byte[] json)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out Uri? baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new OracException($"bad --server '{server}': expected a URL like http://127.0.0.1:4040", OracException.Usage);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, path)) { Content = new ByteArrayContent(json) };
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using HttpResponseMessage resp = http.Send(req);
            byte[] body = resp.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            if (!resp.IsSuccessStatusCode)
            {
                string why = Encoding.UTF8.GetString(body);
                try
                {
                    why = JsonSerializer.Deserialize(body, OracJsonContext.Default.ApiError)?.Error ?? why;
                }
                catch (JsonException)
                {
                }

                throw new OracException($"{server}: {(int)resp.StatusCode}: {why}");
            }

            return body;
        }
        catch (HttpRequestException e)
        {
            throw new OracException($"{server}: {e.Message}");
        }
    }
}
