using System.Globalization;
using System.Net;
using System.Text.Json;

namespace StreamingEvents.Cli.Http;

/// <summary>
/// A refusal or failure answered by the server: an RFC 9457 problem (<c>detail</c>, <c>error_code</c>, and for 410 Gone
/// <c>oldest_available</c>) when the body is one, otherwise the status and the start of the body.
/// </summary>
internal sealed record ApiProblem(int Status, string? Reason, string? ErrorCode, string? Detail, long? OldestAvailable, TimeSpan? RetryAfter)
{
    private const int MaxBodyCharacters = 500;

    /// <summary>4xx other than 408 (timeout) and 429 (too many requests): asking again will not help.</summary>
    public bool IsPermanent => Status is >= 400 and < 500 and not (int)HttpStatusCode.RequestTimeout and not (int)HttpStatusCode.TooManyRequests;

    public static async Task<ApiProblem> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            body = string.Empty;
        }

        var retryAfter = response.Headers.RetryAfter?.Delta;
        string? errorCode = null;
        string? detail = null;
        long? oldest = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                errorCode = String(json.RootElement, "error_code");
                detail = String(json.RootElement, "detail") ?? String(json.RootElement, "title");
                oldest = json.RootElement.TryGetProperty("oldest_available", out var value) && value.TryGetInt64(out var number) ? number : null;
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's page, plain text): the body itself is the detail.
        }

        if (detail is null && body.Trim() is { Length: > 0 } text)
        {
            detail = text.Length > MaxBodyCharacters ? text[..MaxBodyCharacters] + "…" : text;
        }

        return new ApiProblem((int)response.StatusCode, response.ReasonPhrase, errorCode, detail, oldest, retryAfter);
    }

    /// <summary>One line: <c>410 Gone (position_expired): Position 1 … has expired.</c></summary>
    public string Describe()
    {
        var status = Status.ToString(CultureInfo.InvariantCulture) + (string.IsNullOrEmpty(Reason) ? string.Empty : " " + Reason);
        var code = ErrorCode is null ? string.Empty : $" ({ErrorCode})";
        return Detail is null ? status + code : $"{status}{code}: {Detail}";
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>A request the server answered with a problem.</summary>
internal sealed class ApiProblemException(string request, ApiProblem problem) : Exception($"{request} answered {problem.Describe()}")
{
    public string Request { get; } = request;

    public ApiProblem Problem { get; } = problem;
}
