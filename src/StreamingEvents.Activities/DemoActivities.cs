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
    /// The spec's token-streaming pattern: every token republishes the token list so far — as a whole state, or, with
    /// <see cref="StateUpdates.Deltas"/>, as one <c>add /tokens/-</c> operation.
    /// </summary>
    public Task<string> StreamTokensAsync(WorkflowContext context, TokenStreamSettings settings, CancellationToken cancellationToken = default) =>
        client.RunTaskAsync<TokenState, string>(context, "token", TokenState.Empty, async (task, ct) =>
        {
            await foreach (var token in SimulatedLlm.StreamAsync(settings.Tokens, settings.Seed, settings.TokensPerSecond, time, ct))
            {
                await task.UpdateStateAsync(new TokenState([.. task.State.Tokens, token]), ct);
            }

            return task.State.Text;
        }, new TaskOptions { StateUpdates = settings.Updates }, cancellationToken);

    /// <summary>The spec's progress pattern: one update per processed word.</summary>
    public Task<string> ProcessWordsAsync(WorkflowContext context, string text, TimeSpan perWord, CancellationToken cancellationToken = default)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return client.RunTaskAsync<ProgressState, string>(context, "progress", new ProgressState([], 0, words.Length), async (task, ct) =>
        {
            for (var i = 0; i < words.Length; i++)
            {
                await task.UpdateStateAsync(new ProgressState([.. task.State.ProcessedWords, words[i]], i + 1, words.Length), ct);
                await Task.Delay(perWord, time, ct);
            }

            return string.Join(' ', task.State.ProcessedWords);
        }, cancellationToken: cancellationToken);
    }

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
