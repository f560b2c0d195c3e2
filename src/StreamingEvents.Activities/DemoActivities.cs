namespace StreamingEvents.Activities;

/// <summary>The state of a token stream, as in the product spec: the tokens so far.</summary>
public sealed record TokenState(IReadOnlyList<string> Tokens)
{
    public static TokenState Empty { get; } = new([]);

    public string Text => string.Concat(Tokens);
}

/// <summary>The state of a progress task, as in the product spec.</summary>
public sealed record ProgressState(IReadOnlyList<string> ProcessedWords, int ProgressIdx, int ProgressTotal);

/// <summary>Settings of a simulated LLM response; <paramref name="Updates"/> picks whole states or JSON-patch deltas.</summary>
public sealed record TokenStreamSettings(int Tokens = 60, double TokensPerSecond = 20, int Seed = 1, StateUpdates Updates = StateUpdates.WholeState);

/// <summary>
/// Activities that publish with the SDK, written the way the product spec's Python examples are: open a task, update
/// its state, leave the scope. Used by the demo, the frontend's demo button and the worker.
/// </summary>
public sealed class DemoActivities(IStreamingEventsClient client, TimeProvider time)
{
    /// <summary>
    /// A whole workflow as its stream shows it: <c>WORKFLOW_EXECUTION_STARTED</c>, then two activities side by side —
    /// <c>generate</c> streaming tokens and <c>process_words</c> reporting progress — each framed by
    /// <c>ACTIVITY_TASK_STARTED</c> / <c>_COMPLETED</c>, then <c>WORKFLOW_EXECUTION_COMPLETED</c> with the answer. A cancel
    /// from outside (<c>POST /v1/workflows/executions/{id}/cancel</c>) stops both activities at once.
    /// </summary>
    public Task<string> RunWorkflowAsync(WorkflowContext context, TokenStreamSettings settings, string words, TimeSpan perWord, CancellationToken cancellationToken = default) =>
        client.RunExecutionAsync(context, async (execution, ct) =>
        {
            var answer = execution.RunActivityAsync("generate", (activity, act) => StreamTokensAsync(activity, settings, act), new { tokens = settings.Tokens }, cancellationToken: ct);
            var processed = execution.RunActivityAsync("process_words", (activity, act) => ProcessWordsAsync(activity, words, perWord, act), new { words }, cancellationToken: ct);
            await Task.WhenAll(answer, processed);
            return await answer;
        }, input: new { tokens = settings.Tokens, words }, cancellationToken: cancellationToken);

    /// <summary>
    /// The spec's token-streaming pattern: every token republishes the token list so far — as a whole state, or, with
    /// <see cref="StateUpdates.Deltas"/>, as one <c>add /tokens/-</c> operation.
    /// </summary>
    public Task<string> StreamTokensAsync(WorkflowContext context, TokenStreamSettings settings, CancellationToken cancellationToken = default) =>
        client.RunTaskAsync(context, "token", TokenState.Empty, Tokens(settings), new TaskOptions { StateUpdates = settings.Updates }, cancellationToken);

    /// <summary>The token-streaming pattern inside an activity: its task carries the activity's name and id.</summary>
    public Task<string> StreamTokensAsync(ActivityScope activity, TokenStreamSettings settings, CancellationToken cancellationToken = default) =>
        activity.RunTaskAsync("token", TokenState.Empty, Tokens(settings), new TaskOptions { StateUpdates = settings.Updates }, cancellationToken);

    /// <summary>The spec's progress pattern: one update per processed word.</summary>
    public Task<string> ProcessWordsAsync(WorkflowContext context, string text, TimeSpan perWord, CancellationToken cancellationToken = default)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return client.RunTaskAsync(context, "progress", new ProgressState([], 0, words.Length), Words(words, perWord), cancellationToken: cancellationToken);
    }

    /// <summary>The progress pattern inside an activity.</summary>
    public Task<string> ProcessWordsAsync(ActivityScope activity, string text, TimeSpan perWord, CancellationToken cancellationToken = default)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return activity.RunTaskAsync("progress", new ProgressState([], 0, words.Length), Words(words, perWord), cancellationToken: cancellationToken);
    }

    private Func<TaskHandle<TokenState>, CancellationToken, Task<string>> Tokens(TokenStreamSettings settings) => async (task, ct) =>
    {
        await foreach (var token in SimulatedLlm.StreamAsync(settings.Tokens, settings.Seed, settings.TokensPerSecond, time, ct))
        {
            await task.UpdateStateAsync(new TokenState([.. task.State.Tokens, token]), ct);
        }

        return task.State.Text;
    };

    private Func<TaskHandle<ProgressState>, CancellationToken, Task<string>> Words(string[] words, TimeSpan perWord) => async (task, ct) =>
    {
        for (var i = 0; i < words.Length; i++)
        {
            // Merged into the state, like the spec's update_state: progress_total is kept.
            await task.UpdateStateAsync(new { ProcessedWords = (string[])[.. task.State.ProcessedWords, words[i]], ProgressIdx = i + 1 }, ct);
            await Task.Delay(perWord, time, ct);
        }

        return string.Join(' ', task.State.ProcessedWords);
    };

    /// <summary>A task whose body fails halfway: it ends with <c>CUSTOM_TASK_FAILED</c> and the exception propagates.</summary>
    public Task<int> FailHalfwayAsync(WorkflowContext context, int steps, TimeSpan perStep, CancellationToken cancellationToken = default) =>
        client.RunTaskAsync<ProgressState, int>(context, "progress", new ProgressState([], 0, steps), async (task, ct) =>
        {
            for (var i = 1; i <= steps; i++)
            {
                if (i > steps / 2)
                {
                    throw new SimulatedFailureException($"Simulated failure at step {i} of {steps}.");
                }

                await task.UpdateStateAsync(task.State with { ProgressIdx = i }, ct);
                await Task.Delay(perStep, time, ct);
            }

            return steps;
        }, cancellationToken: cancellationToken);
}

/// <summary>The failure <see cref="DemoActivities.FailHalfwayAsync"/> throws on purpose.</summary>
public sealed class SimulatedFailureException(string message) : Exception(message);
