using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StreamingEvents.Testing;
using Xunit.Sdk;

namespace StreamingEvents.Cli.Tests.Infrastructure;

/// <summary>Publishing over the HTTP API, as any worker would; each call asserts its success status and returns the broker_sequence.</summary>
internal sealed class Publisher(HttpClient http)
{
    public static string NewExecId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public async Task<(string TaskId, long Sequence)> StartAsync(string execId, string type, object state)
    {
        var answer = await PostAsync("v1/tasks", new { type, state, workflow_context = new { workflow_exec_id = execId } }, HttpStatusCode.Created);
        return (answer.GetProperty("task_id").GetString()!, answer.GetProperty("broker_sequence").GetInt64());
    }

    public async Task<long> UpdateAsync(string taskId, object state) => Sequence(await PostAsync($"v1/tasks/{taskId}/state", new { state }));

    public async Task<long> PatchAsync(string taskId, params object[] operations) => Sequence(await PostAsync($"v1/tasks/{taskId}/state", new { patch = operations }));

    public async Task<long> CompleteAsync(string taskId) => Sequence(await PostAsync($"v1/tasks/{taskId}/complete", new { }));

    public async Task<long> FailAsync(string taskId, string message) => Sequence(await PostAsync($"v1/tasks/{taskId}/fail", new { message }));

    /// <summary>A token task of <paramref name="updates"/> appended tokens, completed: 2 + <paramref name="updates"/> events.</summary>
    public async Task<(string TaskId, List<long> Sequences)> PublishTokensAsync(string execId, int updates, bool complete = true)
    {
        var (taskId, first) = await StartAsync(execId, "token", new { text = string.Empty });
        var sequences = new List<long> { first };
        sequences.AddRange(await AppendAsync(taskId, updates));
        if (complete)
        {
            sequences.Add(await CompleteAsync(taskId));
        }

        return (taskId, sequences);
    }

    public async Task<List<long>> AppendAsync(string taskId, int updates)
    {
        var sequences = new List<long>();
        for (var i = 1; i <= updates; i++)
        {
            sequences.Add(await PatchAsync(taskId, new { op = "append", path = "/text", value = $" t{i}" }));
        }

        return sequences;
    }

    public async Task<JsonElement> GetStreamAsync(string execId)
    {
        using var response = await http.GetAsync($"v1/streams/{execId}");
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary>
    /// The execution's oldest retained sequence once retention has trimmed it to at most <paramref name="maxEvents"/>. The
    /// server trims just after it acknowledges an append, so right after a publish its stream info may still count one
    /// event more; it exposes no signal for "trimmed", hence a bounded poll (a failure guard, not a synchronisation).
    /// </summary>
    public async Task<long> OldestRetainedAfterTrimAsync(string execId, int maxEvents)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        using var timeout = new CancellationTokenSource(Bounded.Default);
        while (true)
        {
            var info = await GetStreamAsync(execId);
            if (info.GetProperty("retained_events").GetInt64() <= maxEvents)
            {
                return info.GetProperty("oldest_retained").GetInt64();
            }

            try
            {
                await timer.WaitForNextTickAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Retention did not trim {execId} to {maxEvents} events within {Bounded.Default}: {info}");
            }
        }
    }

    private async Task<JsonElement> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        return await ExpectAsync(response, expected);
    }

    private static long Sequence(JsonElement answer) => answer.GetProperty("broker_sequence").GetInt64();

    private static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new XunitException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }
}
