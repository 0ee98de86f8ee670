using Orac.Model;

namespace Orac.Cli;

/// <summary>
/// Where <c>ask --llm</c> sends the question: an OpenAI-compatible chat-completions endpoint (llama.cpp's
/// <c>llama-server</c>, Ollama, vLLM, OpenAI, …). Each of URL, model and key comes from its flag
/// (<c>--llm-url</c>, <c>--llm-model</c>, <c>--llm-key</c>), else ORAC_LLM_URL / ORAC_LLM_MODEL / ORAC_LLM_KEY,
/// else <c>llmUrl</c> / <c>llmModel</c> / <c>llmKey</c> in the CLI config file (<see cref="CliConfig"/>).
/// </summary>
/// <param name="Endpoint">The API base, ending in the version segment (<c>http://127.0.0.1:8080/v1</c>); requests go to <c>{Endpoint}/chat/completions</c>.</param>
/// <param name="Model">Model name as the endpoint knows it.</param>
/// <param name="Key">Bearer key, or null for endpoints without one.</param>
public sealed record LlmSettings(Uri Endpoint, string Model, string? Key)
{
    /// <summary>Adds <c>--llm-url</c>, <c>--llm-model</c> and <c>--llm-key</c> to a verb's parser.</summary>
    public static ArgParser AddOptions(ArgParser p) => p.Option("--llm-url").Option("--llm-model").Option("--llm-key");

    /// <summary>Resolves the settings from a parsed command line, the environment and the config file.</summary>
    public static LlmSettings Resolve(ArgParser p, CliContext ctx) =>
        Resolve(p.Get("--llm-url"), p.Get("--llm-model"), p.Get("--llm-key"), ctx.GetEnv);

    /// <summary>
    /// Resolves the settings: each flag value (may be null), else its environment variable, else the config file
    /// (read only when something is still missing). Missing URL or model, or a URL that is not http(s), is one
    /// <see cref="OracException"/> line (exit 2) saying how to configure it.
    /// </summary>
    public static LlmSettings Resolve(string? url, string? model, string? key, Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        url = NonEmpty(url) ?? NonEmpty(env("ORAC_LLM_URL"));
        model = NonEmpty(model) ?? NonEmpty(env("ORAC_LLM_MODEL"));
        key = NonEmpty(key) ?? NonEmpty(env("ORAC_LLM_KEY"));
        string? configPath = null;
        if (url is null || model is null || key is null)
        {
            configPath = CliConfig.PathFor(env);
            CliConfig config = CliConfig.Load(configPath);
            url ??= NonEmpty(config.LlmUrl);
            model ??= NonEmpty(config.LlmModel);
            key ??= NonEmpty(config.LlmKey);
        }

        if (url is null)
        {
            throw new OracException($"ask --llm: no model endpoint configured: give --llm-url URL (e.g. http://127.0.0.1:8080/v1) and --llm-model NAME, set ORAC_LLM_URL and ORAC_LLM_MODEL, or put llmUrl and llmModel in {configPath}", OracException.Usage);
        }

        Uri endpoint = ParseUrl(url);
        if (model is null)
        {
            throw new OracException($"ask --llm: no model named for {endpoint}: give --llm-model NAME, set ORAC_LLM_MODEL, or put llmModel in {configPath}", OracException.Usage);
        }

        return new LlmSettings(endpoint, model, key);
    }

    /// <summary>
    /// Parses an endpoint URL: http or https with a host; a bare <c>host:port</c> means http, and a URL with no path
    /// gets <c>/v1</c> (where llama.cpp, Ollama, vLLM and OpenAI all serve the API).
    /// </summary>
    public static Uri ParseUrl(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        t = t.Contains("://", StringComparison.Ordinal) ? t : "http://" + t;
        if (!Uri.TryCreate(t, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new OracException($"ask --llm: bad model endpoint URL '{text}': expected http(s)://HOST[:PORT][/PATH], e.g. http://127.0.0.1:8080/v1", OracException.Usage);
        }

        string path = uri.AbsolutePath.TrimEnd('/');
        if (path.Length == 0)
        {
            path = "/v1";
        }

        return new UriBuilder(uri) { Path = path }.Uri;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Model} at {Endpoint}";

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
