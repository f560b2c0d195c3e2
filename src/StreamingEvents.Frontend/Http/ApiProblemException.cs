namespace StreamingEvents.Frontend.Http;

/// <summary>A request the API refuses; turned into an RFC 9457 problem response in one place.</summary>
internal sealed class ApiProblemException(int status, string code, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    /// <summary>The request field (query parameter, header or JSON member) at fault, if one is.</summary>
    public string? Field { get; } = field;

    public static ApiProblemException BadRequest(string field, string detail) => new(StatusCodes.Status400BadRequest, "invalid_request", detail, field);
}
