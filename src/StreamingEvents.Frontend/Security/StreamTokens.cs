using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace StreamingEvents.Frontend.Security;

/// <summary>What a stream token allows: subscribing to one execution's events until it expires.</summary>
internal sealed record StreamToken(
    [property: JsonPropertyName("ns")] string Namespace,
    [property: JsonPropertyName("exec")] string WorkflowExecId,
    [property: JsonPropertyName("exp")] long ExpiresUnixSeconds,
    [property: JsonPropertyName("kid")] string KeyId);

/// <summary>Marks the SSE routes, the only ones that accept a stream token (as <c>access_token</c>).</summary>
internal sealed class AcceptsStreamTokens
{
    public static AcceptsStreamTokens Instance { get; } = new();
}

/// <summary>
/// Short-lived, subscribe-only tokens for one execution, for browsers: an <c>EventSource</c> cannot send headers, so its
/// credential travels in the URL, where proxy logs and history keep it; a token there is worth one execution's events
/// for minutes, not a key's every right for ever (like Trigger.dev's public access tokens and Centrifugo's
/// subscription tokens). A token is <c>se1.</c>, its claims as base64url JSON, a dot, and their HMAC-SHA256 under
/// <see cref="AuthOptions.TokenSigningKey"/> (or a key made at start, then tokens hold for this process only).
/// </summary>
internal sealed class StreamTokens(IOptionsMonitor<AuthOptions> auth, TimeProvider time)
{
    public const string Prefix = "se1.";

    private readonly byte[] _processKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>A token for <paramref name="workflowExecId"/> in <paramref name="namespace"/>, valid for <paramref name="lifetime"/>.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Mint(string @namespace, string workflowExecId, TimeSpan lifetime, string keyId)
    {
        var expiresAt = time.GetUtcNow().Add(lifetime);
        var claims = JsonSerializer.SerializeToUtf8Bytes(new StreamToken(@namespace, workflowExecId, expiresAt.ToUnixTimeSeconds(), keyId));
        var payload = Base64Url.EncodeToString(claims);
        return (Prefix + payload + "." + Base64Url.EncodeToString(Sign(payload)), DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds()));
    }

    /// <summary>The token's claims, or why it is refused.</summary>
    public (StreamToken? Token, string? Refusal) Validate(string presented)
    {
        var parts = presented[Prefix.Length..].Split('.');
        if (parts.Length != 2 || !Base64Url.IsValid(parts[0]) || !Base64Url.IsValid(parts[1]))
        {
            return (null, "The stream token is malformed.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Sign(parts[0]), Base64Url.DecodeFromChars(parts[1])))
        {
            return (null, "The stream token's signature is not valid.");
        }

        StreamToken? token;
        try
        {
            token = JsonSerializer.Deserialize<StreamToken>(Base64Url.DecodeFromChars(parts[0]));
        }
        catch (JsonException)
        {
            return (null, "The stream token is malformed.");
        }

        if (token is null || string.IsNullOrEmpty(token.Namespace) || string.IsNullOrEmpty(token.WorkflowExecId))
        {
            return (null, "The stream token is malformed.");
        }

        return token.ExpiresUnixSeconds <= time.GetUtcNow().ToUnixTimeSeconds() ? (null, "The stream token has expired; mint another.") : (token, null);
    }

    private byte[] Sign(string payload)
    {
        var configured = auth.CurrentValue.TokenSigningKey;
        var key = string.IsNullOrEmpty(configured) ? _processKey : Convert.FromBase64String(configured);
        return HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes(payload));
    }
}
