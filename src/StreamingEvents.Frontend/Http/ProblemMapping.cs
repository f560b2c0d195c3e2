using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// Maps every refusal to an RFC 9457 problem (<c>application/problem+json</c>): typed service errors by their code, API
/// refusals, and the framework's own (body too large, bad request). Only failures of the service itself are 5xx.
/// </summary>
internal sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public const string TypePrefix = "https://streaming-events.dev/problems/";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = ToProblem(exception);
        if (problem.Status >= 500)
        {
            LogServerProblem(logger, exception, httpContext.Request.Path);
        }

        if (problem.Extensions.TryGetValue("retry_after_seconds", out var retryAfter))
        {
            httpContext.Response.Headers.RetryAfter = retryAfter!.ToString();
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            // A publish whose outcome is unknown may be stored: repeating it is safe only under the same Idempotency-Key.
            problem.Extensions["retryable_with_key"] = !HttpMethods.IsPost(httpContext.Request.Method) || IdempotencyKeys.HasKey(httpContext.Request);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception }))
        {
            // The problem writer declines clients that accept only text/event-stream (EventSource, Mistral's SDKs);
            // they must still learn why, so the problem is written as application/problem+json regardless.
            await TypedResults.Problem(problem).ExecuteAsync(httpContext);
        }

        return true;
    }

    /// <summary>
    /// Gives the problems the framework writes itself (routing's 404/405/415, status code pages) the same shape as
    /// ours: a <c>type</c>, an <c>error_code</c> and a <c>detail</c>.
    /// </summary>
    public static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("error_code"))
        {
            return;
        }

        var (code, detail) = problem.Status switch
        {
            StatusCodes.Status400BadRequest => ("bad_request", "The request is malformed."),
            StatusCodes.Status401Unauthorized => ("unauthorized", "A valid API key is required."),
            StatusCodes.Status403Forbidden => ("forbidden", "The API key may not do this."),
            StatusCodes.Status404NotFound => ("not_found", $"No route or resource at {context.HttpContext.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", $"{context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}."),
            StatusCodes.Status406NotAcceptable => ("not_acceptable", "The route cannot answer in a type the request accepts."),
            StatusCodes.Status413PayloadTooLarge => ("request_too_large", "The request body is over the limit."),
            StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", $"The body must be application/json, not '{context.HttpContext.Request.ContentType ?? "(none)"}'."),
            StatusCodes.Status429TooManyRequests => ("rate_limited", "Too many requests; retry later."),
            _ => ("error", problem.Title ?? "The request failed."),
        };
        problem.Extensions["error_code"] = code;
        problem.Detail ??= detail;
        problem.Type = TypePrefix + code;
    }

    /// <summary>
    /// Status code pages (a bare 404/405/415 from routing): a problem in our shape, written as
    /// <c>application/problem+json</c> even when the client accepts only <c>text/event-stream</c>.
    /// </summary>
    public static async Task WriteStatusCodeAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var problem = new ProblemDetails { Status = http.Response.StatusCode };
        var service = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }))
        {
            Complete(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
            await TypedResults.Problem(problem).ExecuteAsync(http);
        }
    }

    /// <summary>Writes a problem response whatever the request's Accept header says.</summary>
    public static Task WriteAsync(HttpContext context, Exception exception)
    {
        var problem = ToProblem(exception);
        context.Response.StatusCode = problem.Status!.Value;
        return TypedResults.Problem(problem).ExecuteAsync(context);
    }

    public static ProblemDetails ToProblem(Exception exception) => exception switch
    {
        ApiProblemException api => Create(api.Status, api.Code, api.Message, api.Field is null ? null : new() { ["field"] = api.Field }),
        StreamingEventsException typed => FromServiceError(typed),
        BadHttpRequestException bad => Create(bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : "bad_request", bad.Message),
        OrleansMessageRejectionException or SiloUnavailableException or TimeoutException =>
            Create(StatusCodes.Status503ServiceUnavailable, "unavailable", "The cluster did not answer in time; retry shortly.", new() { ["retry_after_seconds"] = 2 }),
        _ => Create(StatusCodes.Status500InternalServerError, "internal", "The request failed inside the service."),
    };

    private static ProblemDetails FromServiceError(StreamingEventsException error) => error switch
    {
        EventTooLargeException tooLarge => Create(StatusCodes.Status413PayloadTooLarge, error.ErrorCode, error.Message,
            new() { ["size_bytes"] = tooLarge.SizeBytes, ["limit_bytes"] = tooLarge.LimitBytes }),
        StreamPositionExpiredException expired => Create(StatusCodes.Status410Gone, error.ErrorCode, error.Message,
            new() { ["oldest_available"] = expired.OldestAvailable, ["requested"] = expired.Requested }),
        TaskNotFoundException or ExecutionNotFoundException => Create(StatusCodes.Status404NotFound, error.ErrorCode, error.Message),
        ExecutionFinishedException ended => Create(StatusCodes.Status409Conflict, error.ErrorCode, error.Message,
            new() { ["execution_status"] = Contracts.ExecutionStatuses.ToWire(ended.Status) }),
        TaskAlreadyFinishedException finished => Create(StatusCodes.Status409Conflict, error.ErrorCode, error.Message,
            new() { ["task_status"] = finished.Status.ToString().ToLowerInvariant() }),
        TaskAlreadyExistsException or WorkflowContextConflictException or ProducerFencedException or PublishSequenceGapException =>
            Create(StatusCodes.Status409Conflict, error.ErrorCode, error.Message),
        IdempotencyKeyReusedException => Create(StatusCodes.Status422UnprocessableEntity, error.ErrorCode, error.Message, new() { ["field"] = IdempotencyKeys.Header }),
        InvalidIdentifierException invalid => Create(StatusCodes.Status400BadRequest, error.ErrorCode, error.Message, new() { ["field"] = invalid.Field }),
        InvalidStreamNameException or InvalidPayloadException or SubscriptionLimitException => Create(StatusCodes.Status400BadRequest, error.ErrorCode, error.Message),
        _ when error.IsTransient => Create(StatusCodes.Status503ServiceUnavailable, error.ErrorCode, error.Message, new() { ["retry_after_seconds"] = 1 }),
        _ => Create(StatusCodes.Status500InternalServerError, error.ErrorCode, error.Message),
    };

    private static ProblemDetails Create(int status, string code, string detail, Dictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Type = TypePrefix + code,
            Title = code.Replace('_', ' '),
            Detail = detail,
        };
        problem.Extensions["error_code"] = code;
        foreach (var (key, value) in extensions ?? [])
        {
            problem.Extensions[key] = value;
        }

        return problem;
    }

    [LoggerMessage(3001, LogLevel.Error, "Request {Path} failed inside the service")]
    private static partial void LogServerProblem(ILogger logger, Exception exception, string path);
}
