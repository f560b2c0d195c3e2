using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Frontend.Sse;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>
/// The SSE routes of Mistral's API. A subscription to one concrete execution resumes by <c>broker_sequence</c> (record
/// id; <c>start_seq</c> inclusive, <c>Last-Event-ID</c> exclusive); one that spans executions uses a cursor as its id.
/// </summary>
internal static class EventStreamEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/workflows/events/stream", StreamEventsAsync)
            .WithTags("Events")
            .RequireAuthorization(SecurityHostingExtensions.SubscribePolicy)
            .WithMetadata(AcceptsStreamTokens.Instance)
            .WithName("GetStreamEvents")
            .WithSummary("Events of one execution or of every matching execution, replayed then live, as Server-Sent Events.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status410Gone);
        v1.MapGet("/workflows/executions/{execution_id}/stream", StreamExecutionAsync)
            .WithTags("Events")
            .RequireAuthorization(SecurityHostingExtensions.SubscribePolicy)
            .WithMetadata(AcceptsStreamTokens.Instance)
            .WithName("StreamExecution")
            .WithSummary("Events of one execution: DATABASE (history, then the stream ends), LIVE (from now) or HYBRID (history, then live).")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status410Gone);
    }

    private static async Task StreamEventsAsync(HttpContext context, IStreamingEventsClient client, IOptions<FrontendOptions> options,
        SseConnections connections, ILogger<FrontendOptions> logger)
    {
        RequireEventStream(context.Request);
        var query = EventStreamQuery.Parse(context.Request);
        Tenancy.RequireExecution(context, query.IsSingleExecution ? query.Executions.WorkflowExecId : null);
        var matcher = new EventMatcher(query);
        Func<CancellationToken, IAsyncEnumerable<SseRecord>> records;
        if (query.IsSingleExecution)
        {
            var execution = new ExecutionId(query.Executions.Namespace, query.Executions.WorkflowExecId!);
            var from = query.LastEventId is { } last ? EventStreamQuery.ParseSequence(last, "Last-Event-ID") + 1 : query.StartSeq;
            await EnsureRetainedAsync(client, execution, from);
            records = ct => SingleAsync(client, execution, StreamPosition.FromSequence(from), query, matcher, ct);
        }
        else
        {
            string? cursor = null;
            if (query.LastEventId is { } last)
            {
                cursor = WildcardCursor.IsCursor(last) ? last : throw ApiProblemException.BadRequest("Last-Event-ID", "'Last-Event-ID' must be a cursor from this stream.");
                Validate(cursor);
            }

            records = ct => ManyAsync(client, query, cursor, matcher, ct);
        }

        await SseStreaming.SendAsync(context, records, options.Value, connections, logger);
    }

    private static async Task StreamExecutionAsync(HttpContext context, string execution_id, IStreamingEventsClient client,
        IOptions<FrontendOptions> options, SseConnections connections, ILogger<FrontendOptions> logger)
    {
        RequireEventStream(context.Request);
        ExecutionId execution;
        try
        {
            execution = new ExecutionId(Tenancy.Namespace(context), execution_id);
            Tenancy.RequireExecution(context, execution.WorkflowExecId);
        }
        catch (InvalidIdentifierException error)
        {
            throw ApiProblemException.BadRequest("execution_id", error.Message);
        }

        var source = context.Request.Query["event_source"].FirstOrDefault()?.ToUpperInvariant() ?? "HYBRID";
        if (source is not ("DATABASE" or "LIVE" or "HYBRID"))
        {
            throw ApiProblemException.BadRequest("event_source", "'event_source' is one of DATABASE, LIVE or HYBRID.");
        }

        var lastEventId = context.Request.Query["last_event_id"].FirstOrDefault() is { Length: > 0 } fromQuery
            ? EventStreamQuery.ParseSequence(fromQuery, "last_event_id")
            : EventStreamQuery.ReadLastEventId(context.Request) is { } fromHeader ? EventStreamQuery.ParseSequence(fromHeader, "Last-Event-ID") : (long?)null;
        var from = lastEventId is { } last ? StreamPosition.After(last) : source == "LIVE" ? StreamPosition.Live : StreamPosition.Start;
        if (!from.IsLive)
        {
            await EnsureRetainedAsync(client, execution, from.Sequence);
        }

        Func<CancellationToken, IAsyncEnumerable<SseRecord>> records = source == "DATABASE"
            ? ct => HistoryAsync(client, execution, from, ct)
            : ct => Records(client.SubscribeAsync(execution, from, cancellationToken: ct));
        await SseStreaming.SendAsync(context, records, options.Value, connections, logger);
    }

    private static async IAsyncEnumerable<SseRecord> SingleAsync(IStreamingEventsClient client, ExecutionId execution, StreamPosition from,
        EventStreamQuery query, EventMatcher matcher, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var executions = query.Executions;
        bool? executionMatches = executions.WorkflowName is null && executions.RootWorkflowExecId is null && executions.ParentWorkflowExecId is null ? true : null;
        var events = client.SubscribeAsync(execution, from, query.Topic, cancellationToken);
        if (query.WholeStates)
        {
            events = events.WithWholeStates(client, execution, cancellationToken);
        }

        await foreach (var streamEvent in events)
        {
            // The execution-level filters (workflow name, root, parent) are checked once its context is known.
            executionMatches ??= query.Executions.Matches((await client.GetStreamInfoAsync(execution, cancellationToken)).Context!);
            if (executionMatches.Value && matcher.Matches(streamEvent))
            {
                yield return new SseRecord(streamEvent.BrokerSequence.ToString(CultureInfo.InvariantCulture), streamEvent.Json);
            }
        }
    }

    private static async IAsyncEnumerable<SseRecord> ManyAsync(IStreamingEventsClient client, EventStreamQuery query, string? cursor,
        EventMatcher matcher, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reconstructors = new Dictionary<ExecutionId, WholeStateReconstructor>();
        await foreach (var item in client.SubscribeManyAsync(query.Executions, cursor, query.StartSeq, query.Topic, cancellationToken))
        {
            var streamEvent = item.Event;
            if (query.WholeStates)
            {
                if (!reconstructors.TryGetValue(item.Execution, out var reconstructor))
                {
                    var execution = item.Execution;
                    reconstructor = new WholeStateReconstructor((task, before, ct) => client.GetTaskStateAsync(execution, task, before, ct));
                    reconstructors[execution] = reconstructor;
                }

                streamEvent = await reconstructor.ToWholeStateAsync(streamEvent, cancellationToken);
            }

            if (matcher.Matches(streamEvent))
            {
                yield return new SseRecord(item.Cursor, streamEvent.Json);
            }
        }
    }

    /// <summary>
    /// History up to the head as it was when the request came, then the end of the stream. The next page is read while
    /// this one is written.
    /// </summary>
    private static async IAsyncEnumerable<SseRecord> HistoryAsync(IStreamingEventsClient client, ExecutionId execution, StreamPosition from,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var head = (await client.GetStreamInfoAsync(execution, cancellationToken)).Head;
        var position = from;
        var next = position.Sequence <= head ? client.ReadAsync(execution, position, cancellationToken: cancellationToken) : null;
        try
        {
            while (next is not null)
            {
                var page = await next;
                next = null;
                var advanced = page.NextSequence > position.Sequence;
                if (advanced && page.NextSequence <= head)
                {
                    next = client.ReadAsync(execution, StreamPosition.FromSequence(page.NextSequence), cancellationToken: cancellationToken);
                }

                foreach (var streamEvent in page.Events.Where(e => e.BrokerSequence <= head))
                {
                    yield return new SseRecord(streamEvent.BrokerSequence.ToString(CultureInfo.InvariantCulture), streamEvent.Json);
                }

                if (!advanced)
                {
                    yield break;
                }

                position = StreamPosition.FromSequence(page.NextSequence);
            }
        }
        finally
        {
            if (next is not null)
            {
                // The client left before this page was due: it is never sent, so its outcome does not matter.
                await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static async IAsyncEnumerable<SseRecord> Records(IAsyncEnumerable<StreamEvent> events)
    {
        await foreach (var streamEvent in events)
        {
            yield return new SseRecord(streamEvent.BrokerSequence.ToString(CultureInfo.InvariantCulture), streamEvent.Json);
        }
    }

    /// <summary>A position older than retention is refused before the stream starts: 410 with the oldest available.</summary>
    private static async Task EnsureRetainedAsync(IStreamingEventsClient client, ExecutionId execution, long from)
    {
        var info = await client.GetStreamInfoAsync(execution, CancellationToken.None);
        if (from >= 1 && from < info.OldestRetained)
        {
            throw new StreamPositionExpiredException(execution.Key, from, info.OldestRetained);
        }
    }

    private static void RequireEventStream(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count > 0 && !accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) || a.MatchesAllTypes
            || (a.MediaType.Equals("text/*", StringComparison.OrdinalIgnoreCase))))
        {
            throw new ApiProblemException(StatusCodes.Status406NotAcceptable, "not_acceptable",
                $"This route answers text/event-stream; the request accepts only {request.Headers[HeaderNames.Accept]}.", "Accept");
        }
    }

    private static void Validate(string cursor)
    {
        try
        {
            WildcardCursor.Decode(cursor);
        }
        catch (FormatException error)
        {
            throw ApiProblemException.BadRequest("Last-Event-ID", $"'Last-Event-ID' is not a cursor of this stream: {error.Message}");
        }
    }
}
