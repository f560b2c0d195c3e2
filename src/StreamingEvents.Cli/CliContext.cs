using StreamingEvents.Cli.Commands;
using StreamingEvents.Cli.Http;

namespace StreamingEvents.Cli;

/// <summary>
/// What a command writes to and reads from outside itself: stdout (the data), stderr (status and errors), the
/// environment, whether stdout may be colored, and (for tests) the HTTP handler. The program passes the process's;
/// tests pass their own.
/// </summary>
internal sealed class CliContext(
    TextWriter output, TextWriter error, Func<string, string?>? environment = null, bool color = false, Func<HttpMessageHandler>? httpHandler = null)
{
    public const string UrlVariable = "STREAMING_EVENTS_URL";

    public const string ApiKeyVariable = "STREAMING_EVENTS_API_KEY";

    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>The data: events, published sequences, tables.</summary>
    public TextWriter Out { get; } = output;

    /// <summary>Status lines and errors, so piped stdout stays clean.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>Whether stdout is a terminal that shows colors.</summary>
    public bool Color { get; } = color;

    public string? GetEnvironmentVariable(string name) => (environment ?? Environment.GetEnvironmentVariable)(name);

    /// <summary>A client for the server and key of <paramref name="settings"/>; null (reported) if the URL is wrong.</summary>
    public ApiClient? Connect(ServerSettings settings) =>
        ResolveServer(settings.Url) is { } server
            ? new ApiClient(server, settings.ApiKey ?? (GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key.Trim() : null), httpHandler?.Invoke())
            : null;

    /// <summary>The server: <c>--url</c>, else <c>STREAMING_EVENTS_URL</c>, else <see cref="DefaultUrl"/>; null (reported) if not an http(s) URL.</summary>
    public Uri? ResolveServer(string? url)
    {
        var fromEnvironment = GetEnvironmentVariable(UrlVariable);
        var (text, source) = url is not null ? (url, "--url")
            : !string.IsNullOrWhiteSpace(fromEnvironment) ? (fromEnvironment.Trim(), UrlVariable)
            : (DefaultUrl, "the default");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            Error.WriteLine($"error: '{text}' (from {source}) is not an http(s) URL.");
            return null;
        }

        // A base address with a path (behind a proxy) keeps it: relative request paths resolve under it.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }
}
