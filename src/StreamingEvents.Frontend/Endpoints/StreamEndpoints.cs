using StreamingEvents.Contracts;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>Executions' streams: their head, oldest retained event and task counts.</summary>
internal static class StreamEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var streams = v1.MapGroup("/streams").WithTags("Streams").RequireAuthorization(Security.SecurityHostingExtensions.SubscribePolicy);
        streams.MapGet("/", ListAsync)
            .WithName("ListStreams").WithSummary("Executions, newest first; filter by workflow_name or root_workflow_exec_id, page with before.")
            .Produces<StreamListResponse>().ProducesProblem(StatusCodes.Status400BadRequest);
        streams.MapGet("/{workflow_exec_id}", GetAsync)
            .WithName("GetStream").WithSummary("One execution's stream: head, oldest retained sequence, task counts.")
            .Produces<StreamResponse>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAsync(HttpRequest request, IStreamingEventsClient client)
    {
        var limit = (int)Math.Clamp(EventStreamQuery.Sequence(request.Query, "limit") ?? 50, 1, 500);
        var before = EventStreamQuery.Sequence(request.Query, "before") ?? long.MaxValue;
        var query = new ExecutionQuery(
            Namespace: Security.Tenancy.Namespace(request.HttpContext),
            WorkflowName: Filter(request, "workflow_name", Names.IsValidWorkflowName),
            RootWorkflowExecId: Filter(request, "root_workflow_exec_id", Names.IsValidIdentifier));
        var executions = await client.ListExecutionsAsync(query, limit, before, request.HttpContext.RequestAborted);
        return TypedResults.Ok(new StreamListResponse(
            [.. executions.Select(StreamResponse.From)], executions.Length == limit ? executions[^1].StreamId : null));
    }

    private static async Task<IResult> GetAsync(string workflow_exec_id, IStreamingEventsClient client, HttpRequest request)
    {
        var execution = new ExecutionId(Security.Tenancy.Namespace(request.HttpContext), workflow_exec_id);
        var info = await client.GetStreamInfoAsync(execution, request.HttpContext.RequestAborted);
        return info.Exists
            ? TypedResults.Ok(StreamResponse.From(info))
            : throw new ApiProblemException(StatusCodes.Status404NotFound, "stream_not_found", $"Execution '{workflow_exec_id}' has published nothing.");
    }

    private static string? Filter(HttpRequest request, string name, Func<string, bool> valid) =>
        request.Query[name].FirstOrDefault() is { Length: > 0 } value && value != "*"
            ? valid(value) ? value : throw ApiProblemException.BadRequest(name, $"'{name}' is not valid.")
            : null;
}
