using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>Publishing over HTTP, for workers in any language: open a task, update it, end it.</summary>
internal static class TaskEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var tasks = v1.MapGroup("/tasks").WithTags("Tasks");
        var publishing = tasks.MapGroup("/")
            .RequireAuthorization(SecurityHostingExtensions.PublishPolicy)
            .RequireRateLimiting(SecurityHostingExtensions.PublishRateLimit);
        publishing.MapPost("/", CreateAsync)
            .WithName("CreateTask").WithSummary("Opens a task and publishes CUSTOM_TASK_STARTED with its initial state.")
            .Accepts<CreateTaskRequest>("application/json")
            .Produces<CreateTaskResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        publishing.MapPost("/{task_id}/state", UpdateAsync)
            .WithName("UpdateTaskState").WithSummary("Publishes CUSTOM_TASK_IN_PROGRESS: an object merged into the state ({update}), a whole state ({state}) or patch operations ({patch}).")
            .Accepts<UpdateStateRequest>("application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        publishing.MapPost("/{task_id}/complete", CompleteAsync)
            .WithName("CompleteTask").WithSummary("Publishes CUSTOM_TASK_COMPLETED with the given state, or the current one.")
            .Accepts<CompleteTaskRequest>(isOptional: true, "application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        publishing.MapPost("/{task_id}/fail", FailAsync)
            .WithName("FailTask").WithSummary("Publishes CUSTOM_TASK_FAILED with a message.")
            .Accepts<FailTaskRequest>("application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        publishing.MapPost("/{task_id}/cancel", CancelAsync)
            .WithName("CancelTask").WithSummary("Publishes CUSTOM_TASK_CANCELED with an optional reason.")
            .Accepts<CancelTaskRequest>(isOptional: true, "application/json")
            .Produces<SequenceResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        tasks.MapGet("/{task_id}", GetAsync)
            .RequireAuthorization(SecurityHostingExtensions.SubscribePolicy)
            .WithName("GetTask").WithSummary("A task's status and current state.")
            .Produces<TaskResponse>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var key = IdempotencyKeys.Read(request);
        var type = RequestJson.RequiredString(body, "type");
        if (!Names.IsValidStreamName(type))
        {
            throw ApiProblemException.BadRequest("type", $"Invalid 'type' (the stream name): {Names.StreamNameRule}.");
        }

        var state = RequestJson.OptionalValue(body, "state") ?? throw ApiProblemException.BadRequest("state", "'state' is required (any JSON value).");
        var context = ReadContext(RequestJson.OptionalObject(body, "workflow_context"), request.HttpContext, key);
        var taskId = RequestJson.OptionalString(body, "task_id")
            ?? (key is null ? TaskOptions.NewTaskId() : IdempotencyKeys.Derive("tsk_", context.Namespace, key, "task"));
        var metadata = RequestJson.OptionalObject(body, "metadata") is { } meta ? RequestJson.ToUtf8(meta) : null;
        Names.ValidateIdentifier(taskId, "task_id");

        // With a key, the publisher's identity comes from it: the same request sent again is the same start.
        var producer = key is null ? Guid.NewGuid().ToString("N") : IdempotencyKeys.Derive("key_", context.Namespace, key, "producer");
        var start = new TaskStart(taskId, context, type, state, metadata,
            RequestJson.OptionalString(body, "activity_name"), RequestJson.OptionalString(body, "activity_id"), producer, key);
        var started = await grains.GetTaskGrain(start.Address).StartAsync(start);
        if (started.Replayed)
        {
            request.HttpContext.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        }

        return TypedResults.Created($"/v1/tasks/{Uri.EscapeDataString(taskId)}",
            new CreateTaskResponse(started.TaskId, started.Stream, started.BrokerSequence, started.Execution.Namespace, started.Execution.WorkflowExecId));
    }

    private static async Task<IResult> UpdateAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var update = RequestJson.OptionalValue(body, "update");
        var state = RequestJson.OptionalValue(body, "state");
        var patch = RequestJson.OptionalValue(body, "patch");
        if (patch is not null && body["patch"] is not JsonArray)
        {
            throw ApiProblemException.BadRequest("patch", "'patch' must be a JSON array of operations ({op, path, value}).");
        }

        if (update is not null && body["update"] is not JsonObject)
        {
            throw ApiProblemException.BadRequest("update", "'update' must be a JSON object: its members replace the state's, the others are kept.");
        }

        var draft = (update, state, patch) switch
        {
            ({ } changes, null, null) => TaskEventDraft.Merge(changes),
            (null, { } whole, null) => TaskEventDraft.Progress(whole),
            (null, null, { } operations) => TaskEventDraft.Patch(operations),
            (null, null, null) => throw ApiProblemException.BadRequest("update",
                "Give 'update' (an object merged into the state), 'state' (the whole new state) or 'patch' (operations)."),
            _ => throw ApiProblemException.BadRequest("update", "Give only one of 'update', 'state' and 'patch'."),
        };
        var task = await VisibleTaskAsync(request.HttpContext, grains, task_id);
        return Sequence(request, await task.UpdateAsync(PublishRequest.Of(draft, IdempotencyKeys.Read(request))));
    }

    private static async Task<IResult> CompleteAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        var state = RequestJson.OptionalValue(body, "state");
        return await FinishAsync(task_id, request, grains, state is null ? TaskEventDraft.Completed() : TaskEventDraft.Completed(state));
    }

    private static async Task<IResult> FailAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        return await FinishAsync(task_id, request, grains, TaskEventDraft.Failed(RequestJson.RequiredString(body, "message")));
    }

    private static async Task<IResult> CancelAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        return await FinishAsync(task_id, request, grains, TaskEventDraft.Canceled(RequestJson.OptionalString(body, "reason")));
    }

    private static async Task<IResult> FinishAsync(string taskId, HttpRequest request, IGrainFactory grains, TaskEventDraft terminal)
    {
        var task = await VisibleTaskAsync(request.HttpContext, grains, taskId);
        return Sequence(request, await task.FinishAsync(PublishRequest.Of(terminal, IdempotencyKeys.Read(request))));
    }

    /// <summary>The answer to a publish: the first number it got, marked as replayed when its Idempotency-Key was seen.</summary>
    internal static Microsoft.AspNetCore.Http.HttpResults.Ok<SequenceResponse> Sequence(HttpRequest request, AppendReceipt receipt)
    {
        IdempotencyKeys.MarkReplayed(request.HttpContext.Response, receipt);
        return TypedResults.Ok(new SequenceResponse(receipt.FirstSequence));
    }

    private static async Task<IResult> GetAsync(string task_id, HttpContext context, IGrainFactory grains)
    {
        var grain = await VisibleTaskAsync(context, grains, task_id);
        var info = await grain.GetInfoAsync();
        var state = await grain.GetStateAsync();
        return TypedResults.Ok(new TaskResponse(info.TaskId, info.Type, info.Status.ToString().ToLowerInvariant(), info.Execution.Namespace,
            info.Execution.WorkflowExecId, info.StartedSequence, info.TerminalSequence, info.ActivityName, info.ActivityId,
            state is null ? null : JsonDocument.Parse(state).RootElement));
    }

    /// <summary>
    /// A task of the namespace the request acts in. Task ids are unique per namespace, so another tenant's task with the
    /// same id is simply another task, never seen from here.
    /// </summary>
    private static Task<ITaskGrain> VisibleTaskAsync(HttpContext context, IGrainFactory grains, string taskId) =>
        Task.FromResult(grains.GetTaskGrain(new TaskAddress(Tenancy.Namespace(context), Names.ValidateIdentifier(taskId, "task_id"))));

    /// <summary>
    /// The posted context, with defaults: namespace <c>default</c>; a new execution id when none is given (returned in
    /// the answer); the SDK's defaults for the rest (<see cref="WorkflowContext.Normalize"/>).
    /// </summary>
    private static WorkflowContext ReadContext(JsonObject? context, HttpContext http, RequestKey? key)
    {
        var requested = context is null ? null : RequestJson.OptionalString(context, "namespace");
        if (requested is not null && Names.IsValidNamespace(requested) && !Tenancy.Reaches(http.User, requested))
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden", $"The API key does not reach namespace '{requested}'.", "workflow_context.namespace");
        }

        var @namespace = requested ?? Tenancy.Namespace(http);
        return ReadContext(context, @namespace,
            key is null ? "exec_" + Guid.CreateVersion7().ToString("N") : IdempotencyKeys.Derive("exec_", @namespace, key, "execution"));
    }

    private static WorkflowContext ReadContext(JsonObject? context, string @namespace, string newExecutionId) => new WorkflowContext(
        WorkflowExecId: (context is null ? null : RequestJson.OptionalString(context, "workflow_exec_id")) ?? newExecutionId,
        WorkflowName: context is null ? null : RequestJson.OptionalString(context, "workflow_name"),
        WorkflowRunId: context is null ? null : RequestJson.OptionalString(context, "workflow_run_id"),
        ParentWorkflowExecId: context is null ? null : RequestJson.OptionalString(context, "parent_workflow_exec_id"),
        RootWorkflowExecId: context is null ? null : RequestJson.OptionalString(context, "root_workflow_exec_id"),
        Namespace: @namespace).Normalize();
}
