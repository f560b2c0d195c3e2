using System.Security.Cryptography;
using System.Text;
using StreamingEvents.Contracts;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// The <c>Idempotency-Key</c> request header (IETF httpapi draft, as Stripe uses it) on POST routes: a request repeated
/// with the same key and the same body publishes nothing and answers what the first one did; the same key with another
/// body is refused (422). Keys are scoped to the namespace and stored with the events they published.
/// </summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    /// <summary>The response header that marks an answer repeated from the first request with the key.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public const int MaxLength = 255;

    private const string BodyHashItem = "se.body-sha256";

    /// <summary>Remembers the hash of the raw body, read once by <see cref="RequestJson"/>.</summary>
    public static void RecordBody(HttpContext context, ReadOnlySpan<byte> body) => context.Items[BodyHashItem] = SHA256.HashData(body);

    /// <summary>Whether the request carries a key (its retry after an unknown outcome is then safe).</summary>
    public static bool HasKey(HttpRequest request) => request.Headers.ContainsKey(Header);

    /// <summary>The request's key and the hash of what it asks (method, path, body); <c>null</c> without the header.</summary>
    public static RequestKey? Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return null;
        }

        if (values.Count != 1 || values[0] is not { Length: > 0 and <= MaxLength } key || key.Any(c => c is < (char)0x20 or > (char)0x7E))
        {
            throw ApiProblemException.BadRequest(Header, $"'{Header}' is one value of 1-{MaxLength} printable ASCII characters.");
        }

        var body = request.HttpContext.Items[BodyHashItem] as byte[] ?? SHA256.HashData(ReadOnlySpan<byte>.Empty);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}\n{Convert.ToHexStringLower(body)}"));
        return new RequestKey(key, hash);
    }

    /// <summary>
    /// An id derived from the key, stable across retries: a repeated create without an execution or task id must land
    /// where the first one did.
    /// </summary>
    public static string Derive(string prefix, string @namespace, RequestKey key, string purpose) =>
        prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{@namespace}\n{purpose}\n{key.Key}")), 0, 16);

    /// <summary>Marks a response as the repeat of an earlier one.</summary>
    public static void MarkReplayed(HttpResponse response, AppendReceipt receipt)
    {
        if (receipt.Replayed == receipt.Count)
        {
            response.Headers[ReplayedHeader] = "true";
        }
    }
}
