using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;
using StreamingEvents.Contracts;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// The filters of <c>GET /v1/workflows/events/stream</c>, as Mistral's clients send them: every one optional, <c>*</c>
/// (their default) meaning any. Each refusal names its parameter.
/// </summary>
internal sealed record EventStreamQuery(
    ExecutionQuery Executions,
    string? Scope,
    string? ActivityName,
    string? ActivityId,
    string? Topic,
    long StartSeq,
    JsonObject? MetadataFilters,
    IReadOnlySet<EventType>? EventTypes,
    string? LastEventId,
    bool WholeStates = false,
    bool MetadataAsText = false)
{
    public bool IsSingleExecution => Executions.WorkflowExecId is not null;

    public static EventStreamQuery Parse(HttpRequest request)
    {
        var query = request.Query;
        var scope = Wildcard(query, "scope");
        if (scope is not null and not ("activity" or "workflow"))
        {
            throw ApiProblemException.BadRequest("scope", "'scope' is one of 'workflow', 'activity' or '*'.");
        }

        return new EventStreamQuery(
            Executions: new ExecutionQuery(
                Namespace: Security.Tenancy.Namespace(request.HttpContext),
                WorkflowExecId: Identifier(query, "workflow_exec_id"),
                WorkflowName: WorkflowName(query, "workflow_name"),
                RootWorkflowExecId: Identifier(query, "root_workflow_exec_id"),
                ParentWorkflowExecId: Identifier(query, "parent_workflow_exec_id")),
            Scope: scope,
            ActivityName: WorkflowName(query, "activity_name"),
            ActivityId: Identifier(query, "activity_id"),
            Topic: Wildcard(query, "stream") is { } topic ? Checked("stream", () => Names.ValidateStreamName(topic)) : null,
            StartSeq: Sequence(query, "start_seq") ?? 0,
            MetadataFilters: Metadata(query) ?? ExplodedMetadata(query),
            EventTypes: Types(query),
            LastEventId: ReadLastEventId(request),
            WholeStates: StateMode(query),
            MetadataAsText: Wildcard(query, "metadata_filters") is null);
    }

    /// <summary>A <c>Last-Event-ID</c> of a single-execution stream: the last delivered sequence.</summary>
    public static long ParseSequence(string value, string field) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence is >= 0 and < long.MaxValue
            ? sequence
            : throw ApiProblemException.BadRequest(field, $"'{field}' must be a broker_sequence (a non-negative integer below {long.MaxValue}) for a single-execution stream.");

    public static string? ReadLastEventId(HttpRequest request) =>
        request.Headers["Last-Event-ID"] is { Count: > 0 } header && !string.IsNullOrEmpty(header[0]) ? header[0] : null;

    public static long? Sequence(IQueryCollection query, string name) => Single(query, name) switch
    {
        null or "" => null,
        var text => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < long.MaxValue
            ? value
            : throw ApiProblemException.BadRequest(name, $"'{name}' must be a non-negative integer below {long.MaxValue}."),
    };

    /// <summary>The parameters this route knows; any other one is a metadata filter (see <see cref="ExplodedMetadata"/>).</summary>
    private static readonly HashSet<string> KnownParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "scope", "activity_name", "activity_id", "workflow_name", "workflow_exec_id", "root_workflow_exec_id", "parent_workflow_exec_id",
        "stream", "start_seq", "metadata_filters", "workflow_event_types", "state_mode", "namespace", "access_token", "last-event-id", "last_event_id",
    };

    /// <summary>
    /// Mistral's TypeScript SDK sends <c>metadataFilters: {user: "ann"}</c> exploded, as <c>user=ann</c>: without a
    /// <c>metadata_filters</c> parameter, every unknown parameter is a metadata filter, compared as text.
    /// </summary>
    private static JsonObject? ExplodedMetadata(IQueryCollection query)
    {
        var filters = new JsonObject();
        foreach (var (name, values) in query)
        {
            if (!KnownParameters.Contains(name) && values.Count == 1 && values[0] is { } value)
            {
                filters[name] = value;
            }
        }

        return filters.Count > 0 ? filters : null;
    }

    /// <summary><c>state_mode</c>: <c>as_published</c> (default) or <c>full</c> (patches rewritten as whole states).</summary>
    private static bool StateMode(IQueryCollection query) => Single(query, "state_mode") switch
    {
        null or "" or "as_published" => false,
        "full" => true,
        _ => throw ApiProblemException.BadRequest("state_mode", "'state_mode' is 'as_published' (default) or 'full' (json_patch payloads rewritten as whole states)."),
    };

    private static string? Wildcard(IQueryCollection query, string name) => Single(query, name) is { Length: > 0 } value && value != "*" ? value : null;

    private static string? Identifier(IQueryCollection query, string name) =>
        Wildcard(query, name) is { } value ? Checked(name, () => Names.ValidateIdentifier(value, name)) : null;

    private static string? WorkflowName(IQueryCollection query, string name) =>
        Wildcard(query, name) is { } value ? Checked(name, () => Names.ValidateWorkflowName(value, name)) : null;

    private static string? Single(IQueryCollection query, string name)
    {
        var values = query[name];
        return values.Count > 1 ? throw ApiProblemException.BadRequest(name, $"'{name}' may be given once.") : values.FirstOrDefault();
    }

    private static JsonObject? Metadata(IQueryCollection query)
    {
        if (Wildcard(query, "metadata_filters") is not { } text)
        {
            return null;
        }

        var json = Encoding.UTF8.GetBytes(text);
        try
        {
            JsonPayloads.Validate(json, "'metadata_filters'", JsonValueKind.Object);
        }
        catch (InvalidPayloadException exception)
        {
            throw ApiProblemException.BadRequest("metadata_filters", exception.Message);
        }

        return JsonNode.Parse(json)!.AsObject();
    }

    private static HashSet<EventType>? Types(IQueryCollection query)
    {
        StringValues values = query["workflow_event_types"];
        var names = values.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0 || names.Contains("*"))
        {
            return null;
        }

        var types = new HashSet<EventType>();
        foreach (var name in names)
        {
            types.Add(StreamingEvents.EventTypes.TryParse(name, out var type)
                ? type
                : throw ApiProblemException.BadRequest("workflow_event_types", $"Unknown event type '{name}'; use values such as CUSTOM_TASK_IN_PROGRESS."));
        }

        return types;
    }

    private static string Checked(string field, Func<string> validate)
    {
        try
        {
            return validate();
        }
        catch (StreamingEventsException error)
        {
            throw ApiProblemException.BadRequest(field, error.Message);
        }
    }
}
