using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

public sealed class SmokeTests
{
    private static readonly string[] HiTokens = ["Hi"];

    [Fact]
    public async Task A_task_published_over_http_is_read_back_over_sse_on_a_real_kestrel()
    {
        await using var server = await FrontendServer.StartAsync();
        var created = await server.Http.PostAsJsonAsync("v1/tasks", new { type = "token", state = new { tokens = Array.Empty<string>() }, workflow_context = new { workflow_exec_id = "smoke" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var taskId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task_id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"v1/tasks/{taskId}/state", new { state = new { tokens = HiTokens } })).StatusCode);

        using var response = await SseClient.OpenAsync(server.Http, "v1/workflows/events/stream?workflow_exec_id=smoke&start_seq=0");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var records = await SseClient.ReadAsync(response).TakeAsync(2);
        Assert.Equal(["1", "2"], records.Select(r => r.Id));
        Assert.Equal(2000, records[0].Retry);
    }
}
