using System.Net;
using System.Text;
using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// <c>Idempotency-Key</c> on the POST routes, over real Kestrel: a repeat with the same key and body answers the first
/// request's status and body and publishes nothing; the same key with another body is a 422; a key is remembered with
/// the events it published, across restarts.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class IdempotencyKeyTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task A_repeat_with_the_same_key_and_body_answers_the_first_requests_status_and_body_and_publishes_nothing()
    {
        var exec = Api.NewId("idem");
        var create = new { type = "token", state = new { n = 0 }, workflow_context = new { workflow_exec_id = exec } };
        var (firstStatus, firstBody, firstReplayed) = await PostAsync(Api.Http, "v1/tasks", create, "create-" + exec);
        var (againStatus, againBody, againReplayed) = await PostAsync(Api.Http, "v1/tasks", create, "create-" + exec);
        var taskId = JsonDocument.Parse(firstBody).RootElement.GetProperty("task_id").GetString()!;

        var update = new { state = new { n = 1 } };
        var (_, updateBody, _) = await PostAsync(Api.Http, $"v1/tasks/{taskId}/state", update, "update-" + exec);
        var (updateAgainStatus, updateAgainBody, updateReplayed) = await PostAsync(Api.Http, $"v1/tasks/{taskId}/state", update, "update-" + exec);
        var (_, completeBody, _) = await PostAsync(Api.Http, $"v1/tasks/{taskId}/complete", new { }, "complete-" + exec);
        var (completeAgainStatus, completeAgainBody, _) = await PostAsync(Api.Http, $"v1/tasks/{taskId}/complete", new { }, "complete-" + exec);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (firstStatus, againStatus));
        Assert.Equal(firstBody, againBody);
        Assert.Equal((false, true), (firstReplayed, againReplayed));
        Assert.Equal(HttpStatusCode.OK, updateAgainStatus);
        Assert.Equal("""{"broker_sequence":2}""", updateBody);
        Assert.Equal(updateBody, updateAgainBody);
        Assert.True(updateReplayed);
        Assert.Equal(HttpStatusCode.OK, completeAgainStatus);
        Assert.Equal("""{"broker_sequence":3}""", completeBody);
        Assert.Equal(completeBody, completeAgainBody);
        await AssertHeadAsync(Api.Http, exec, 3);
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused_with_422_and_publishes_nothing()
    {
        var exec = Api.NewId("idem");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        await PostAsync(Api.Http, $"v1/tasks/{task.TaskId}/state", new { state = new { n = 1 } }, "reused-" + exec);

        using var request = Request($"v1/tasks/{task.TaskId}/state", new { state = new { n = 2 } }, "reused-" + exec);
        using var response = await Api.Http.SendAsync(request);
        await Problems.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused", "Idempotency-Key");

        // The same key on another route (another task) is another request too.
        var other = await Api.StartTaskAsync(exec, state: new { n = 0 });
        using var elsewhere = Request($"v1/tasks/{other.TaskId}/state", new { state = new { n = 1 } }, "reused-" + exec);
        using var elsewhereResponse = await Api.Http.SendAsync(elsewhere);
        await Problems.AssertProblemAsync(elsewhereResponse, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await AssertHeadAsync(Api.Http, exec, 3);
    }

    [Fact]
    public async Task A_create_without_an_execution_id_sent_again_lands_in_the_same_execution_and_task()
    {
        var key = Api.NewId("no-exec");
        var create = new { type = "token", state = new { n = 0 } };

        var (_, first, _) = await PostAsync(Api.Http, "v1/tasks", create, key);
        var (status, again, replayed) = await PostAsync(Api.Http, "v1/tasks", create, key);
        var (_, another, _) = await PostAsync(Api.Http, "v1/tasks", create, key + "-other");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(replayed);
        Assert.Equal(first, again);
        var exec = JsonDocument.Parse(first).RootElement.GetProperty("workflow_exec_id").GetString()!;
        Assert.NotEqual(exec, JsonDocument.Parse(another).RootElement.GetProperty("workflow_exec_id").GetString());
        await AssertHeadAsync(Api.Http, exec, 1);
    }

    [Fact]
    public async Task A_demo_started_again_with_its_key_is_the_same_demo()
    {
        var key = Api.NewId("demo");
        var body = new { tokens = 5, tokens_per_second = 1000, progress_steps = 2 };

        using var first = Request("v1/demo", body, key);
        using var firstResponse = await Api.Http.SendAsync(first);
        var started = await Api.ExpectAsync(firstResponse, HttpStatusCode.Accepted);
        using var again = Request("v1/demo", body, key);
        using var againResponse = await Api.Http.SendAsync(again);
        var repeated = await Api.ExpectAsync(againResponse, HttpStatusCode.Accepted);

        Assert.Equal(started.GetProperty("workflow_exec_id").GetString(), repeated.GetProperty("workflow_exec_id").GetString());
        Assert.True(againResponse.Headers.Contains("Idempotent-Replayed"));
        Assert.False(firstResponse.Headers.Contains("Idempotent-Replayed"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("x")]
    public async Task A_malformed_key_is_a_400_that_names_the_header(string key)
    {
        var value = key == "x" ? new string('k', 256) : key;
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tasks")
        {
            Content = new StringContent("""{"type":"token","state":1}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", value);

        using var response = await Api.Http.SendAsync(request);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request", "Idempotency-Key");
    }

    [Fact]
    public async Task A_key_is_remembered_across_a_restart_of_the_frontend()
    {
        await using var server = await FrontendServer.StartAsync();
        var exec = Api.NewId("restart");
        var create = new { type = "token", state = new { n = 0 }, workflow_context = new { workflow_exec_id = exec } };
        var (_, created, _) = await PostAsync(server.Http, "v1/tasks", create, "restart-create");
        var taskId = JsonDocument.Parse(created).RootElement.GetProperty("task_id").GetString()!;
        var (_, updated, _) = await PostAsync(server.Http, $"v1/tasks/{taskId}/state", new { state = new { n = 1 } }, "restart-update");

        await server.StopAsync();
        await server.StartAgainAsync();

        var (createStatus, createdAgain, createReplayed) = await PostAsync(server.Http, "v1/tasks", create, "restart-create");
        var (_, updatedAgain, updateReplayed) = await PostAsync(server.Http, $"v1/tasks/{taskId}/state", new { state = new { n = 1 } }, "restart-update");
        Assert.Equal(HttpStatusCode.Created, createStatus);
        Assert.Equal((created, updated), (createdAgain, updatedAgain));
        Assert.True(createReplayed && updateReplayed);
        await AssertHeadAsync(server.Http, exec, 2);
    }

    private static async Task<(HttpStatusCode Status, string Body, bool Replayed)> PostAsync(HttpClient http, string path, object body, string key)
    {
        using var request = Request(path, body, key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {text}");
        return (response.StatusCode, text, response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true");
    }

    private static HttpRequestMessage Request(string path, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body, Api.BodyJson), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task AssertHeadAsync(HttpClient http, string exec, long head)
    {
        using var response = await http.GetAsync($"v1/streams/{exec}");
        var info = await Api.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(head, info.GetProperty("head").GetInt64());
    }
}
