using System.Net;
using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> describes the API a client generator would see.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class OpenApiTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Theory]
    [InlineData("get", "/v1/workflows/events/stream")]
    [InlineData("get", "/v1/workflows/executions/{execution_id}/stream")]
    [InlineData("get", "/v1/workflows/events/list")]
    [InlineData("post", "/v1/tasks")]
    [InlineData("post", "/v1/tasks/{task_id}/state")]
    [InlineData("post", "/v1/tasks/{task_id}/complete")]
    [InlineData("post", "/v1/tasks/{task_id}/fail")]
    [InlineData("post", "/v1/tasks/{task_id}/cancel")]
    [InlineData("get", "/v1/tasks/{task_id}")]
    [InlineData("get", "/v1/streams")]
    [InlineData("get", "/v1/streams/{workflow_exec_id}")]
    [InlineData("get", "/v1/workflows/executions/{execution_id}")]
    [InlineData("post", "/v1/workflows/executions/{execution_id}/cancel")]
    [InlineData("post", "/v1/workflows/executions/{execution_id}/start")]
    [InlineData("post", "/v1/workflows/executions/{execution_id}/complete")]
    [InlineData("post", "/v1/workflows/executions/{execution_id}/fail")]
    public async Task The_openapi_document_lists_the_route(string method, string path)
    {
        var document = await DocumentAsync();

        Assert.True(document.GetProperty("paths").TryGetProperty(path, out var item), $"'{path}' is not in the document.");
        Assert.True(item.TryGetProperty(method, out _), $"'{path}' has no '{method}' operation.");
    }

    [Fact]
    public async Task The_openapi_document_says_the_sse_routes_answer_text_event_stream()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        foreach (var path in new[] { "/v1/workflows/events/stream", "/v1/workflows/executions/{execution_id}/stream" })
        {
            var ok = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200");
            Assert.True(ok.GetProperty("content").TryGetProperty("text/event-stream", out _), $"{path}: {ok}");
        }
    }

    [Theory]
    [InlineData("/v1/workflows/events/stream", "start_seq,stream,workflow_exec_id,workflow_name,root_workflow_exec_id,parent_workflow_exec_id,scope,activity_name,activity_id,metadata_filters,workflow_event_types")]
    [InlineData("/v1/workflows/executions/{execution_id}/stream", "event_source,last_event_id")]
    [InlineData("/v1/workflows/events/list", "cursor,limit,workflow_exec_id,root_workflow_exec_id,workflow_run_id")]
    public async Task The_openapi_document_describes_the_query_parameters_of_the_event_routes(string path, string names)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty("get");

        var documented = operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()).ToHashSet()
            : [];
        Assert.All(names.Split(','), name => Assert.True(documented.Contains(name), $"{path} does not document the query parameter '{name}'."));
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var response = await Api.Http.GetAsync("openapi/v1.json");
        return await Api.ExpectAsync(response, HttpStatusCode.OK);
    }
}
