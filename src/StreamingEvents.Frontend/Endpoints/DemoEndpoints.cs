using System.Collections.Concurrent;
using StreamingEvents.Activities;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>
/// <c>POST /v1/demo</c>: runs the example activities in this process — a simulated LLM token stream at the chosen rate
/// and a progress task — in a new execution, so a newcomer sees streaming with nothing else running.
/// </summary>
internal static class DemoEndpoints
{
    public static void Map(RouteGroupBuilder v1) =>
        v1.MapPost("/demo", StartAsync)
            .WithTags("Demo").WithName("StartDemo")
            .RequireAuthorization(Security.SecurityHostingExtensions.PublishPolicy)
            .RequireRateLimiting(Security.SecurityHostingExtensions.PublishRateLimit)
            .WithSummary("Starts a simulated LLM token stream and a progress task in a new execution.")
            .Accepts<DemoRequest>(isOptional: true, "application/json")
            .Produces<DemoResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest);

    private static async Task<IResult> StartAsync(HttpRequest request, DemoRunner runner, IStreamingEventsClient client)
    {
        var body = await RequestJson.ReadObjectAsync(request, optional: true);
        var @namespace = Security.Tenancy.Namespace(request.HttpContext);

        // With a key, the execution comes from it: a repeat finds the demo it started and starts nothing.
        string? executionId = null;
        if (IdempotencyKeys.Read(request) is { } key)
        {
            executionId = IdempotencyKeys.Derive("demo-", @namespace, key, "demo");
            if (runner.IsRunning(executionId) || (await client.GetStreamInfoAsync(new ExecutionId(@namespace, executionId))).Exists)
            {
                request.HttpContext.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
                return TypedResults.Accepted($"/v1/streams/{executionId}", new DemoResponse(@namespace, executionId, DemoRunner.WorkflowName));
            }
        }

        var settings = new TokenStreamSettings(
            Tokens: RequestJson.OptionalInt(body, "tokens", 1, 5000) ?? 120,
            TokensPerSecond: RequestJson.OptionalInt(body, "tokens_per_second", 1, 1000) ?? 20,
            Seed: Random.Shared.Next(),
            Updates: StateUpdates.Deltas);
        var steps = RequestJson.OptionalInt(body, "progress_steps", 1, 1000) ?? 20;
        var context = runner.Start(settings, steps, @namespace, executionId);
        return TypedResults.Accepted($"/v1/streams/{context.WorkflowExecId}", new DemoResponse(context.Namespace, context.WorkflowExecId, context.WorkflowName!));
    }
}

/// <summary>Runs demo activities in the background and stops them with the host.</summary>
internal sealed partial class DemoRunner(DemoActivities activities, IHostApplicationLifetime lifetime, ILogger<DemoRunner> logger)
{
    public const string WorkflowName = "demo";
    private const int MaxRunning = 20;
    private readonly ConcurrentDictionary<string, Task> _running = new();

    public bool IsRunning(string executionId) => _running.ContainsKey(executionId);

    public WorkflowContext Start(TokenStreamSettings settings, int progressSteps, string @namespace, string? executionId = null)
    {
        if (_running.Count >= MaxRunning)
        {
            throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "too_many_demos", $"At most {MaxRunning} demos run at once; wait for one to end.");
        }

        var context = new WorkflowContext(WorkflowExecId: executionId ?? "demo-" + Guid.CreateVersion7().ToString("N")[..20], WorkflowName: WorkflowName, Namespace: @namespace).Normalize();
        var words = string.Join(' ', SimulatedLlm.Tokens(progressSteps, settings.Seed + 1).Select(t => t.Trim(' ', '.')));
        var perWord = TimeSpan.FromSeconds(settings.Tokens / (double)settings.TokensPerSecond / progressSteps);
        _running[context.WorkflowExecId] = RunAsync(context, activities.RunWorkflowAsync(context, settings, words, perWord, lifetime.ApplicationStopping));
        return context;
    }

    private async Task RunAsync(WorkflowContext context, Task run)
    {
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // The host is stopping, or the execution was canceled (its Stop button): its tasks and itself ended CANCELED.
        }
        catch (Exception exception)
        {
            LogDemoFailed(logger, exception, context.WorkflowExecId);
        }
        finally
        {
            _running.TryRemove(context.WorkflowExecId, out _);
        }
    }

    [LoggerMessage(3003, LogLevel.Warning, "The demo in execution {Execution} failed")]
    private static partial void LogDemoFailed(ILogger logger, Exception exception, string execution);
}
