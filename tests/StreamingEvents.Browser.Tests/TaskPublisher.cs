using System.Net.Http.Json;
using System.Text.Json;

namespace StreamingEvents.Browser.Tests;

/// <summary>Publishes tasks over the frontend's HTTP API, as a worker in any language would; each call returns its broker_sequence.</summary>
public sealed class TaskPublisher(HttpClient http, string execution)
{
    public string Execution { get; } = execution;

    /// <summary>A fresh execution id for one test.</summary>
    public static string NewExecution(string prefix) => $"browser-{prefix}-{Guid.NewGuid():N}"[..40];

    public async Task<(string TaskId, long Sequence)> StartAsync(string type, object state)
    {
        var body = await SendAsync("v1/tasks", new { type, state, workflow_context = new { workflow_exec_id = Execution, workflow_name = "browser-test" } });
        return (body.GetProperty("task_id").GetString()!, body.GetProperty("broker_sequence").GetInt64());
    }

    public Task<long> UpdateAsync(string taskId, object state) => SequenceAsync($"v1/tasks/{taskId}/state", new { state });

    public Task<long> PatchAsync(string taskId, params object[] patch) => SequenceAsync($"v1/tasks/{taskId}/state", new { patch });

    /// <summary>Completes the task with <paramref name="state"/> as its final state.</summary>
    public Task<long> CompleteAsync(string taskId, object state) => SequenceAsync($"v1/tasks/{taskId}/complete", new { state });

    public Task<long> FailAsync(string taskId, string message) => SequenceAsync($"v1/tasks/{taskId}/fail", new { message });

    public Task<long> CancelAsync(string taskId, string reason) => SequenceAsync($"v1/tasks/{taskId}/cancel", new { reason });

    private async Task<long> SequenceAsync(string path, object request) => (await SendAsync(path, request)).GetProperty("broker_sequence").GetInt64();

    private async Task<JsonElement> SendAsync(string path, object request)
    {
        using var response = await http.PostAsJsonAsync(path, request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
