using StreamingEvents.Contracts;

namespace StreamingEvents;

/// <summary>The tasks and events of one workflow execution, for code that runs inside it.</summary>
public sealed class ExecutionStreams
{
    private readonly IStreamingEventsClient _client;

    internal ExecutionStreams(IStreamingEventsClient client, WorkflowContext context)
    {
        _client = client;
        Context = context.Normalize();
    }

    /// <summary>The workflow context every task carries.</summary>
    public WorkflowContext Context { get; }

    /// <summary>The execution.</summary>
    public ExecutionId Execution => Context.Execution;

    /// <inheritdoc cref="IStreamingEventsClient.StartTaskAsync{TState}"/>
    public Task<TaskHandle<TState>> StartTaskAsync<TState>(string type, TState initialState, CancellationToken cancellationToken = default) =>
        _client.StartTaskAsync(Context, type, initialState, null, cancellationToken);

    /// <inheritdoc cref="IStreamingEventsClient.StartTaskAsync{TState}"/>
    public Task<TaskHandle<TState>> StartTaskAsync<TState>(string type, TState initialState, TaskOptions options, CancellationToken cancellationToken = default) =>
        _client.StartTaskAsync(Context, type, initialState, options, cancellationToken);

    /// <inheritdoc cref="IStreamingEventsClient.RunTaskAsync{TState,TResult}"/>
    public Task<TResult> RunTaskAsync<TState, TResult>(string type, TState initialState,
        Func<TaskHandle<TState>, CancellationToken, Task<TResult>> body, CancellationToken cancellationToken = default) =>
        _client.RunTaskAsync(Context, type, initialState, body, null, cancellationToken);

    /// <inheritdoc cref="IStreamingEventsClient.SubscribeAsync"/>
    public IAsyncEnumerable<StreamEvent> SubscribeAsync(StreamPosition from = default, string? topic = null, CancellationToken cancellationToken = default) =>
        _client.SubscribeAsync(Execution, from, topic, cancellationToken);

    /// <inheritdoc cref="IStreamingEventsClient.GetStreamInfoAsync"/>
    public Task<StreamInfo> GetStreamInfoAsync(CancellationToken cancellationToken = default) =>
        _client.GetStreamInfoAsync(Execution, cancellationToken);
}
