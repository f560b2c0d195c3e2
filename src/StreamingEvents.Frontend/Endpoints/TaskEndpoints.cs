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
            .WithName("UpdateTaskState").WithSummary("Publishes CUSTOM_TASK_IN_PROGRESS with a whole state ({state}) or patch operations ({patch}).")
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
        var type = RequestJson.RequiredString(body, "type");
        if (!Names.IsValidStreamName(type))
        {
            throw ApiProblemException.BadRequest("type", $"Invalid 'type' (the stream name): {Names.StreamNameRule}.");
        }

        var state = RequestJson.OptionalValue(body, "state") ?? throw ApiProblemException.BadRequest("state", "'state' is required (any JSON value).");
        var context = ReadContext(RequestJson.OptionalObject(body, "workflow_context"), request.HttpContext);
        var taskId = RequestJson.OptionalString(body, "task_id") ?? TaskOptions.NewTaskId();
        var metadata = RequestJson.OptionalObject(body, "metadata") is { } meta ? RequestJson.ToUtf8(meta) : null;
        var start = new TaskStart(taskId, context, type, state, metadata,
            RequestJson.OptionalString(body, "activity_name"), RequestJson.OptionalString(body, "activity_id"));
        Names.ValidateIdentifier(taskId, "task_id");
        var started = await grains.GetGrain<ITaskGrain>(taskId).StartAsync(start);
        return TypedResults.Created($"/v1/tasks/{Uri.EscapeDataString(taskId)}",
            new CreateTaskResponse(started.TaskId, started.Stream, started.BrokerSequence, started.Execution.Namespace, started.Execution.WorkflowExecId));
    }

    private static async Task<IResult> UpdateAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var state = RequestJson.OptionalValue(body, "state");
        var patch = RequestJson.OptionalValue(body, "patch");
        if (patch is not null && body["patch"] is not System.Text.Json.Nodes.JsonArray)
        {
            throw ApiProblemException.BadRequest("patch", "'patch' must be a JSON array of operations ({op, path, value}).");
        }

        var draft = (state, patch) switch
        {
            ({ } whole, null) => TaskEventDraft.Progress(whole),
            (null, { } operations) => TaskEventDraft.Patch(operations),
            (null, null) => throw ApiProblemException.BadRequest("state", "Give either 'state' (the whole new state) or 'patch' (operations)."),
            _ => throw ApiProblemException.BadRequest("patch", "Give 'state' or 'patch', not both."),
        };
        var receipt = await (await VisibleTaskAsync(request.HttpContext, grains, task_id)).UpdateAsync([draft]);
        return TypedResults.Ok(new SequenceResponse(receipt.FirstSequence));
    }

    private static async Task<IResult> CompleteAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        var state = RequestJson.OptionalValue(body, "state");
        var receipt = await (await VisibleTaskAsync(request.HttpContext, grains, task_id)).FinishAsync(state is null ? TaskEventDraft.Completed() : TaskEventDraft.Completed(state));
        return TypedResults.Ok(new SequenceResponse(receipt.FirstSequence));
    }

    private static async Task<IResult> FailAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var receipt = await (await VisibleTaskAsync(request.HttpContext, grains, task_id)).FinishAsync(TaskEventDraft.Failed(RequestJson.RequiredString(body, "message")));
        return TypedResults.Ok(new SequenceResponse(receipt.FirstSequence));
    }

    private static async Task<IResult> CancelAsync(string task_id, HttpRequest request, IGrainFactory grains)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        var receipt = await (await VisibleTaskAsync(request.HttpContext, grains, task_id)).FinishAsync(TaskEventDraft.Canceled(RequestJson.OptionalString(body, "reason")));
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

    /// <summary>A task of a namespace the caller reaches; any other is reported as not found (tenants never see each other).</summary>
    private static async Task<ITaskGrain> VisibleTaskAsync(HttpContext context, IGrainFactory grains, string taskId)
    {
        var grain = grains.GetGrain<ITaskGrain>(Names.ValidateIdentifier(taskId, "task_id"));
        if (!Tenancy.Reaches(context.User, "*") && !Tenancy.Reaches(context.User, (await grain.GetInfoAsync()).Execution.Namespace))
        {
            throw new TaskNotFoundException(taskId);
        }

        return grain;
    }

    /// <summary>
    /// The posted context, with defaults: namespace <c>default</c>; a new execution id when none is given (returned in
    /// the answer); the SDK's defaults for the rest (<see cref="WorkflowContext.Normalize"/>).
    /// </summary>
    private static WorkflowContext ReadContext(JsonObject? context, HttpContext http)
    {
        var requested = context is null ? null : RequestJson.OptionalString(context, "namespace");
        if (requested is not null && Names.IsValidNamespace(requested) && !Tenancy.Reaches(http.User, requested))
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden", $"The API key does not reach namespace '{requested}'.", "workflow_context.namespace");
        }

        return ReadContext(context, requested ?? Tenancy.Namespace(http));
    }

    private static WorkflowContext ReadContext(JsonObject? context, string @namespace) => new WorkflowContext(
        WorkflowExecId: (context is null ? null : RequestJson.OptionalString(context, "workflow_exec_id")) ?? "exec_" + Guid.CreateVersion7().ToString("N"),
        WorkflowName: context is null ? null : RequestJson.OptionalString(context, "workflow_name"),
        WorkflowRunId: context is null ? null : RequestJson.OptionalString(context, "workflow_run_id"),
        ParentWorkflowExecId: context is null ? null : RequestJson.OptionalString(context, "parent_workflow_exec_id"),
        RootWorkflowExecId: context is null ? null : RequestJson.OptionalString(context, "root_workflow_exec_id"),
        Namespace: @namespace).Normalize();
}
