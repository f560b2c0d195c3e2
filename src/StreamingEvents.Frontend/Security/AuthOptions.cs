using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StreamingEvents.Frontend.Security;

/// <summary>
/// API keys, bound from <c>StreamingEvents:Auth</c>. With no key configured the frontend runs in development mode
/// (every request may do everything) and refuses to listen on anything but loopback.
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "StreamingEvents:Auth";

    /// <summary>The accepted keys; each is stored as the SHA-256 of the key, never the key itself.</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Publishing requests each key may make per second (token bucket; default 1000).</summary>
    public int PublishPermitsPerSecond { get; set; } = 1000;

    /// <summary>The burst a key may publish at once above its rate (default 2000).</summary>
    public int PublishBurst { get; set; } = 2000;

    /// <summary>The most SSE connections one key may hold open (default 200).</summary>
    public int MaxConnectionsPerKey { get; set; } = 200;

    /// <summary>
    /// The secret that signs stream tokens (<c>POST /v1/stream-tokens</c>): base64 of at least 32 random bytes, the same
    /// on every frontend replica. Unset, each process makes its own at start: its tokens hold for that process only.
    /// </summary>
    public string? TokenSigningKey { get; set; }

    /// <summary>The longest a stream token lives, and how long it lives unless the request asks for less (default 15 min).</summary>
    public TimeSpan StreamTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Whether an API key may come as <c>access_token</c> in a query string (default <c>false</c>): a URL is kept by proxy
    /// logs, browser history and <c>Referer</c>. Browsers use a stream token there instead.
    /// </summary>
    public bool AllowKeysInQueryString { get; set; }

    public bool Enabled => Keys.Count > 0;

    /// <summary>The hash to configure for a key: lowercase hex SHA-256 of its UTF-8 bytes (<c>printf %s KEY | sha256sum</c>).</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>One API key.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A name for the key (logs, rate-limit partition); not secret.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Lowercase hex SHA-256 of the key.</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>Any of <c>publish</c>, <c>subscribe</c>, <c>admin</c> (admin implies the others).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The namespaces (tenants) the key reaches; the first is used when a request names none.</summary>
    public List<string> Namespaces { get; set; } = [];
}

/// <summary>Names every wrong setting at once.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    private static readonly string[] KnownScopes = [Scopes.Publish, Scopes.Subscribe, Scopes.Admin];

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var at = $"{AuthOptions.SectionName}:Keys:{i}";
            if (string.IsNullOrWhiteSpace(key.Id) || !ids.Add(key.Id))
            {
                failures.Add($"{at}:Id must be set and unique.");
            }

            if (key.Sha256.Length != 64 || !key.Sha256.All(char.IsAsciiHexDigitLower))
            {
                failures.Add($"{at}:Sha256 must be 64 lowercase hex characters (printf %s KEY | sha256sum).");
            }

            if (key.Scopes.Count == 0 || key.Scopes.Any(s => !KnownScopes.Contains(s)))
            {
                failures.Add($"{at}:Scopes must list one or more of {string.Join(", ", KnownScopes)}.");
            }

            if (key.Namespaces.Count == 0 || key.Namespaces.Any(n => n != "*" && !Names.IsValidNamespace(n)))
            {
                failures.Add($"{at}:Namespaces must list one or more namespaces ({Names.NamespaceRule}) or '*'.");
            }
        }

        if (options.PublishPermitsPerSecond < 1 || options.PublishBurst < 1)
        {
            failures.Add($"{AuthOptions.SectionName}:PublishPermitsPerSecond and PublishBurst must be positive.");
        }

        if (!string.IsNullOrEmpty(options.TokenSigningKey) && !IsStrongKey(options.TokenSigningKey))
        {
            failures.Add($"{AuthOptions.SectionName}:TokenSigningKey must be base64 of at least 32 bytes (openssl rand -base64 32).");
        }

        if (options.StreamTokenLifetime <= TimeSpan.Zero || options.StreamTokenLifetime > TimeSpan.FromDays(1))
        {
            failures.Add($"{AuthOptions.SectionName}:StreamTokenLifetime must be positive and at most one day.");
        }

        if (options.MaxConnectionsPerKey < 1)
        {
            failures.Add($"{AuthOptions.SectionName}:MaxConnectionsPerKey must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsStrongKey(string base64)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var length) && length >= 32;
    }
}

/// <summary>The scopes a key may hold.</summary>
public static class Scopes
{
    public const string Publish = "publish";
    public const string Subscribe = "subscribe";
    public const string Admin = "admin";
}
