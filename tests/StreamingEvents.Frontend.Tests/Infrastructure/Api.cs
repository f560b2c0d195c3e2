using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using StreamingEvents.Testing;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>A task as <c>POST /v1/tasks</c> answered it: its id and the sequence of its <c>CUSTOM_TASK_STARTED</c>.</summary>
public sealed record CreatedTask(string TaskId, long Sequence);

/// <summary>
/// The HTTP API as the tests use it. Every response passes through <see cref="NoServerErrors"/>, so a 5xx from any call
/// of any test fails that test; publishing helpers assert their success status.
/// </summary>
public sealed class Api : IDisposable
{
    /// <summary>Request bodies: snake_case names as written, nulls left out (absent, as a client would send).</summary>
    public static readonly JsonSerializerOptions BodyJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public Api(Uri baseAddress) =>
        Http = new HttpClient(new NoServerErrors(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    public HttpClient Http { get; }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Opens a task and publishes <c>CUSTOM_TASK_STARTED</c>; asserts 201.</summary>
    public async Task<CreatedTask> StartTaskAsync(
        string execId,
        string type = "token",
        object? state = null,
        string? workflowName = null,
        string? rootId = null,
        string? parentId = null,
        string? runId = null,
        object? metadata = null,
        string? activityName = null,
        string? activityId = null,
        string? taskId = null)
    {
        var body = new
        {
            type,
            state = state ?? new { tokens = Array.Empty<string>() },
            workflow_context = new
            {
                workflow_exec_id = execId,
                workflow_name = workflowName,
                root_workflow_exec_id = rootId,
                parent_workflow_exec_id = parentId,
                workflow_run_id = runId,
            },
            metadata,
            activity_name = activityName,
            activity_id = activityId,
            task_id = taskId,
        };
        using var response = await PostAsync("v1/tasks", body);
        var json = await ExpectAsync(response, HttpStatusCode.Created);
        return new CreatedTask(json.GetProperty("task_id").GetString()!, json.GetProperty("broker_sequence").GetInt64());
    }

    public Task<long> UpdateAsync(string taskId, object state) => SequenceOfAsync($"v1/tasks/{taskId}/state", new { state });

    public Task<long> PatchAsync(string taskId, object operations) => SequenceOfAsync($"v1/tasks/{taskId}/state", new { patch = operations });

    public Task<long> CompleteAsync(string taskId, object? state = null) => SequenceOfAsync($"v1/tasks/{taskId}/complete", new { state });

    public Task<long> FailAsync(string taskId, string message) => SequenceOfAsync($"v1/tasks/{taskId}/fail", new { message });

    public Task<long> CancelAsync(string taskId, string? reason = null) => SequenceOfAsync($"v1/tasks/{taskId}/cancel", new { reason });

    /// <summary>A task with <paramref name="updates"/> state updates; returns the sequences of every event it published.</summary>
    public async Task<List<long>> PublishTaskAsync(string execId, int updates, string type = "token", bool complete = true,
        string? workflowName = null, string? rootId = null, string? parentId = null, string? runId = null, object? metadata = null,
        string? activityName = null, string? activityId = null)
    {
        var task = await StartTaskAsync(execId, type, new { n = 0 }, workflowName, rootId, parentId, runId, metadata, activityName, activityId);
        var sequences = new List<long> { task.Sequence };
        for (var i = 1; i <= updates; i++)
        {
            sequences.Add(await UpdateAsync(task.TaskId, new { n = i }));
        }

        if (complete)
        {
            // The final state is given explicitly: completing without one is covered (and currently refused) in TaskPublishingTests.
            sequences.Add(await CompleteAsync(task.TaskId, new { n = updates }));
        }

        return sequences;
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body) =>
        Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body, BodyJson), Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostRawAsync(string path, string body, string contentType = "application/json") =>
        Http.PostAsync(path, new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(contentType)));

    /// <summary>An SSE request as a browser or Mistral's SDK makes it (<c>Accept: text/event-stream</c>).</summary>
    public Task<HttpResponseMessage> OpenSseAsync(string pathAndQuery, string? lastEventId = null) =>
        SseClient.OpenAsync(Http, pathAndQuery, lastEventId);

    /// <summary>Opens an SSE stream, asserts it started (200, text/event-stream) and collects its records in the background.</summary>
    public async Task<SseStream> StreamAsync(string pathAndQuery, string? lastEventId = null)
    {
        var response = await OpenSseAsync(pathAndQuery, lastEventId);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            throw new XunitException($"GET {pathAndQuery} answered {(int)response.StatusCode}, not 200: {body}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response);
    }

    /// <summary>Reads exactly <paramref name="count"/> records of a stream, then closes it.</summary>
    public async Task<List<EventRecord>> TakeAsync(string pathAndQuery, int count, string? lastEventId = null)
    {
        await using var stream = await StreamAsync(pathAndQuery, lastEventId);
        return [.. (await stream.WaitForCountAsync(count)).Take(count)];
    }

    /// <summary>Asserts the status and returns the JSON body.</summary>
    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != status)
        {
            throw new XunitException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, not {(int)status}: {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => Http.Dispose();

    private async Task<long> SequenceOfAsync(string path, object body)
    {
        using var response = await PostAsync(path, body);
        return (await ExpectAsync(response, HttpStatusCode.OK)).GetProperty("broker_sequence").GetInt64();
    }

    /// <summary>Fails the calling test on any 5xx: no request of the suite may make the service fail.</summary>
    private sealed class NoServerErrors(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode >= 500)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new XunitException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}: {body}");
            }

            return response;
        }
    }
}
