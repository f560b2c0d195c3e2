using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// Documents the query parameters and headers that the streaming and listing routes read by hand (they are parsed
/// manually so each refusal names its parameter, which hides them from the generator).
/// </summary>
internal static class OpenApiDocumentation
{
    private static readonly Dictionary<string, (string Name, ParameterLocation In, string Description)[]> Parameters = new(StringComparer.Ordinal)
    {
        ["GetStreamEvents"] =
        [
            ("scope", ParameterLocation.Query, "workflow, activity or * (any)."),
            ("activity_name", ParameterLocation.Query, "Only tasks of this activity; * for any."),
            ("activity_id", ParameterLocation.Query, "Only tasks of this activity id; * for any."),
            ("workflow_name", ParameterLocation.Query, "Only executions of this workflow; * for any."),
            ("workflow_exec_id", ParameterLocation.Query, "One execution (record ids are broker_sequence); * or absent spans executions (record ids are cursors)."),
            ("root_workflow_exec_id", ParameterLocation.Query, "Only executions under this root; * for any."),
            ("parent_workflow_exec_id", ParameterLocation.Query, "Only children of this execution; * for any."),
            ("stream", ParameterLocation.Query, "Only this topic (task type); * for any."),
            ("start_seq", ParameterLocation.Query, "Inclusive broker_sequence to start from (0: the oldest retained), per execution."),
            ("metadata_filters", ParameterLocation.Query, "A JSON object: only tasks whose metadata has these members."),
            ("workflow_event_types", ParameterLocation.Query, "Repeated (or comma-separated): only these event types."),
            ("state_mode", ParameterLocation.Query, "as_published (default) or full: json_patch payloads rewritten as whole states."),
            ("namespace", ParameterLocation.Query, "The namespace, when the API key reaches several."),
            ("access_token", ParameterLocation.Query, "A stream token (POST /v1/stream-tokens) for its one execution, for a browser's EventSource; API keys go in headers."),
            ("Last-Event-ID", ParameterLocation.Header, "Resume after this record id (exclusive): a broker_sequence or a cursor."),
        ],
        ["StreamExecution"] =
        [
            ("event_source", ParameterLocation.Query, "DATABASE (history, then the end), LIVE (from now) or HYBRID (history, then live; default)."),
            ("last_event_id", ParameterLocation.Query, "Resume after this broker_sequence (exclusive)."),
            ("namespace", ParameterLocation.Query, "The namespace, when the API key reaches several."),
            ("access_token", ParameterLocation.Query, "A stream token (POST /v1/stream-tokens), for a browser's EventSource; API keys go in headers."),
            ("Last-Event-ID", ParameterLocation.Header, "Resume after this broker_sequence (exclusive)."),
        ],
        ["ListEvents"] =
        [
            ("cursor", ParameterLocation.Query, "next_cursor of the previous page."),
            ("limit", ParameterLocation.Query, "Events per page (default 100)."),
            ("workflow_exec_id", ParameterLocation.Query, "Only this execution."),
            ("root_workflow_exec_id", ParameterLocation.Query, "Only executions under this root."),
            ("workflow_run_id", ParameterLocation.Query, "Only events of this run."),
            ("namespace", ParameterLocation.Query, "The namespace, when the API key reaches several."),
        ],
        ["ListStreams"] =
        [
            ("workflow_name", ParameterLocation.Query, "Only executions of this workflow."),
            ("root_workflow_exec_id", ParameterLocation.Query, "Only executions under this root."),
            ("limit", ParameterLocation.Query, "Executions per page (default 50)."),
            ("before", ParameterLocation.Query, "next_before of the previous page."),
            ("namespace", ParameterLocation.Query, "The namespace, when the API key reaches several."),
        ],
    };

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.OperationId is { } id && Parameters.TryGetValue(id, out var parameters))
        {
            operation.Parameters ??= [];
            foreach (var (name, location, description) in parameters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = location,
                    Description = description,
                    Required = false,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
        }

        return Task.CompletedTask;
    }
}
