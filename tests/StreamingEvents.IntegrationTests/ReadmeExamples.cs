using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>
/// The code shown in README.md, compiled and run. <see cref="The_readme_shows_exactly_these_examples"/> fails when the
/// README and this file drift apart.
/// </summary>
[Collection(SqliteCluster.Name)]
public sealed class ReadmeExamples(SqliteClusterFixture fixture)
{
    [Fact]
    public async Task The_readme_example_publishes_and_consumes()
    {
        var client = fixture.Client;
        var cancellationToken = Bounded.Token();
        var llmTokens = ToAsync(["Hel", "lo", "!"]);
        var lines = new List<string>();
        var execId = ClusterFixture.NewExecution().WorkflowExecId;

        #region readme-publish
        var streams = client.ForExecution(new WorkflowContext(WorkflowExecId: execId, WorkflowName: "my-workflow"));

        await using (var task = await streams.StartTaskAsync("token", new TokenState([]), cancellationToken))   // CUSTOM_TASK_STARTED
        {
            await foreach (var token in llmTokens)
            {
                await task.UpdateStateAsync(new TokenState([.. task.State.Tokens, token]), cancellationToken); // CUSTOM_TASK_IN_PROGRESS
            }
        }   // CUSTOM_TASK_COMPLETED with the last state (CUSTOM_TASK_CANCELED if cancellationToken was canceled)

        // `await using` cannot see exceptions: RunTaskAsync publishes CUSTOM_TASK_FAILED when the body throws.
        var words = await streams.RunTaskAsync<ProgressState, int>("progress", new ProgressState(0, 3), async (task, ct) =>
        {
            for (var i = 1; i <= 3; i++)
            {
                await task.UpdateStateAsync(task.State with { ProgressIdx = i }, ct);
            }

            return task.State.ProgressIdx;
        }, cancellationToken);
        #endregion

        #region readme-consume
        // History from start_seq (inclusive), then live events, in broker_sequence order with no gap and no duplicate.
        // To resume after a disconnect, pass StreamPosition.After(lastEvent.BrokerSequence).
        await foreach (var e in client.SubscribeAsync(streams.Execution, StreamPosition.FromSequence(1), topic: "token", cancellationToken))
        {
            lines.Add($"{e.BrokerSequence} {e.EventType}: {e.GetState<TokenState>()?.Tokens.Count} tokens");
            if (e.IsTerminal)
            {
                break;
            }
        }
        #endregion

        Assert.Equal(3, words);
        Assert.Equal(["1 CustomTaskStarted: 0 tokens", "2 CustomTaskInProgress: 1 tokens", "3 CustomTaskInProgress: 2 tokens",
            "4 CustomTaskInProgress: 3 tokens", "5 CustomTaskCompleted: 3 tokens"], lines);
    }

    [Fact]
    public async Task The_readme_lifecycle_example_merges_updates_and_ends_with_the_workflow()
    {
        var client = fixture.Client;
        var cancellationToken = Bounded.Token();
        var execId = ClusterFixture.NewExecution().WorkflowExecId;
        var text = "ported line by line";
        var seen = new List<EventType>();

        #region readme-lifecycle
        // The product spec's progress example: update_state merges, so progress_total, which the updates omit, is kept.
        var processed = await client.RunExecutionAsync(new WorkflowContext(execId, "chat"), (execution, ct) =>  // WORKFLOW_EXECUTION_STARTED
            execution.RunActivityAsync("process_words", async (activity, ct2) =>                                // ACTIVITY_TASK_STARTED
            {
                var words = text.Split();
                await using var task = await activity.StartTaskAsync("progress-stream", new WordsState([], 0, words.Length), cancellationToken: ct2);
                for (var i = 0; i < words.Length; i++)
                {
                    await task.UpdateStateAsync(new { ProcessedWords = (string[])[.. task.State.ProcessedWords, words[i]], ProgressIdx = i + 1 }, ct2);
                }

                return string.Join(' ', task.State.ProcessedWords);
            }, cancellationToken: ct),                                                                           // ACTIVITY_TASK_COMPLETED
            cancellationToken: cancellationToken);                                                               // WORKFLOW_EXECUTION_COMPLETED

        // Consumers loop until the workflow ends, as Mistral's documentation does. "Stop generating" is
        // client.CancelExecutionAsync(execution) or POST /v1/workflows/executions/{id}/cancel: every producer's token fires.
        await foreach (var e in client.SubscribeAsync(new ExecutionId(WorkflowContext.DefaultNamespace, execId), StreamPosition.FromSequence(1), cancellationToken: cancellationToken))
        {
            seen.Add(e.EventType);
            if (e.EventType.EndsExecution())
            {
                break;
            }
        }
        #endregion

        Assert.Equal(text, processed);
        Assert.Equal(EventType.WorkflowExecutionStarted, seen[0]);
        Assert.Equal([EventType.CustomTaskCompleted, EventType.ActivityTaskCompleted, EventType.WorkflowExecutionCompleted], seen[^3..]);
        var state = await client.GetTaskStateAsync(new ExecutionId(WorkflowContext.DefaultNamespace, execId), (await client.ReadAsync(
            new ExecutionId(WorkflowContext.DefaultNamespace, execId), StreamPosition.FromSequence(3), 1)).Events[0].TaskId);
        Assert.Equal(4, state!["progress_total"]!.GetValue<int>());
    }

    [Fact]
    public void The_readme_shows_exactly_these_examples()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var source = File.ReadAllText(Path.Combine(root, "tests", "StreamingEvents.IntegrationTests", "ReadmeExamples.cs"));
        foreach (var region in new[] { "readme-publish", "readme-consume", "readme-lifecycle" })
        {
            var start = source.IndexOf($"#region {region}", StringComparison.Ordinal);
            var end = source.IndexOf("#endregion", start, StringComparison.Ordinal);
            var code = Normalize(source[(source.IndexOf('\n', start) + 1)..end]);
            Assert.Contains(code, Normalize(readme), StringComparison.Ordinal);
        }
    }

    private static string Normalize(string code) =>
        string.Join('\n', code.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "StreamingEvents.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root was not found.");
    }

    private static async IAsyncEnumerable<string> ToAsync(string[] items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    private sealed record TokenState(IReadOnlyList<string> Tokens);

    private sealed record ProgressState(int ProgressIdx, int ProgressTotal);

    private sealed record WordsState(IReadOnlyList<string> ProcessedWords, int ProgressIdx, int ProgressTotal);
}
