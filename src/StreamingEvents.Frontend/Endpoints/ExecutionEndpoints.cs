using StreamingEvents.Contracts;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>
/// An execution's lifecycle over HTTP, as Mistral's API has it: its status (<c>GET</c>), a cancel that reaches the
/// producers, and — for publishers in other languages — its start and end events.
/// </summary>
internal static class ExecutionEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var executions = v1.MapGroup("/workflows/executions").WithTags("Executions");
        executions.MapGet("/{execution_id}", GetAsync)
            .RequireAuthorization(SecurityHostingExtensions.SubscribePolicy)
            .WithName("GetWorkflowExecution").WithSummary("An execution's status, start and end time and result (Mistral's WorkflowExecutionResponse).")
            .Produces<WorkflowExecutionResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        var publishing = executions.MapGroup("/")
            .RequireAuthorization(SecurityHostingExtensions.PublishPolicy)
            .RequireRateLimiting(SecurityHostingExtensions.PublishRateLimit);
        publishing.MapPost("/{execution_id}/cancel", CancelAsync)
            .WithName("CancelWorkflowExecution")
            .WithSummary("Cancels the execution: its open tasks end, then WORKFLOW_EXECUTION_CANCELED; the producers' cancellation tokens fire.")
            .Accepts<CancelTaskRequest>(isOptional: true, "application/json")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        publishing.MapPost("/{execution_id}/start", StartAsync)
            .WithName("StartWorkflowExecution").WithSummary("Publishes WORKFLOW_EXECUTION_STARTED with the workflow's input.")
            .Accepts<StartExecutionRequest>("application/json")
            .Produces<SequenceResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        publishing.MapPost("/{execution_id}/complete", CompleteAsync)
            .WithName("CompleteWorkflowExecution").WithSummary("Publishes WORKFLOW_EXECUTION_COMPLETED with the workflow's result.")
            .Accepts<CompleteExecutionRequest>(isOptional: true, "application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        publishing.MapPost("/{execution_id}/fail", FailAsync)
            .WithName("FailWorkflowExecution").WithSummary("Publishes WORKFLOW_EXECUTION_FAILED; open tasks end first.")
            .Accepts<FailTaskRequest>("application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> GetAsync(string execution_id, HttpRequest request, IStreamingEventsClient client)
    {
        var info = await client.GetExecutionAsync(Execution(request, execution_id), request.HttpContext.RequestAborted);
        return TypedResults.Ok(WorkflowExecutionResponse.From(info));
    }

    private static async Task<IResult> CancelAsync(string execution_id, HttpRequest request, IStreamingEventsClient client)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        await client.CancelExecutionAsync(Execution(request, execution_id), RequestJson.OptionalString(body, "reason"), request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> StartAsync(string execution_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var key = IdempotencyKeys.Read(request);
        var execution = Execution(request, execution_id);
        var workflowName = RequestJson.RequiredString(body, "workflow_name");
        if (!Names.IsValidWorkflowName(workflowName))
        {
            throw ApiProblemException.BadRequest("workflow_name", "'workflow_name' is not a valid workflow name.");
        }

        var context = new WorkflowContext(
            execution.WorkflowExecId, workflowName,
            WorkflowRunId: RequestJson.OptionalString(body, "run_id"),
            ParentWorkflowExecId: RequestJson.OptionalString(body, "parent_workflow_exec_id"),
            RootWorkflowExecId: RequestJson.OptionalString(body, "root_workflow_exec_id"),
            Namespace: execution.Namespace).Normalize();
        var producer = key is null ? Guid.NewGuid().ToString("N") : IdempotencyKeys.Derive("key_", context.Namespace, key, "producer");
        var start = new TaskStart(Lifecycle.WorkflowTaskId(execution), context, Lifecycle.WorkflowStream, RequestJson.OptionalValue(body, "input") ?? "null"u8.ToArray(),
            null, ProducerId: producer, Key: key, Kind: TaskKind.Workflow, DisplayName: RequestJson.OptionalString(body, "display_name"));
        var started = await grains.GetTaskGrain(start.Address).StartAsync(start);
        if (started.Replayed)
        {
            request.HttpContext.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        }

        return TypedResults.Created($"/v1/workflows/executions/{Uri.EscapeDataString(execution.WorkflowExecId)}", new SequenceResponse(started.BrokerSequence));
    }

    private static async Task<IResult> CompleteAsync(string execution_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        return await EndAsync(execution_id, request, grains, TaskEventDraft.WorkflowCompleted(RequestJson.OptionalValue(body, "result") ?? "null"u8.ToArray()));
    }

    private static async Task<IResult> FailAsync(string execution_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        return await EndAsync(execution_id, request, grains, TaskEventDraft.WorkflowFailed(RequestJson.RequiredString(body, "message")));
    }

    private static async Task<IResult> EndAsync(string executionId, HttpRequest request, IGrainFactory grains, TaskEventDraft terminal)
    {
        var execution = Execution(request, executionId);
        var lifecycle = grains.GetTaskGrain(new TaskAddress(execution.Namespace, Lifecycle.WorkflowTaskId(execution)));
        return TaskEndpoints.Sequence(request, await lifecycle.FinishAsync(PublishRequest.Of(terminal, IdempotencyKeys.Read(request))));
    }

    private static ExecutionId Execution(HttpRequest request, string executionId) =>
        new(Tenancy.Namespace(request.HttpContext), Names.ValidateIdentifier(executionId, "execution_id"));
}
