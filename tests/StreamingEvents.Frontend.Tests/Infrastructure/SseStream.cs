using System.Text.Json;
using StreamingEvents.Testing;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>
/// One SSE record as a client parsed it, with the envelope's routing facts read from its data. Error records
/// (<c>event: error</c>) carry <c>{error, reason}</c> instead of an envelope.
/// </summary>
public sealed class EventRecord
{
    public EventRecord(SseRecord record)
    {
        Id = record.Id;
        Event = record.Event;
        Data = record.Data;
        Retry = record.Retry;
        Json = JsonDocument.Parse(record.Data).RootElement.Clone();
    }

    public string? Id { get; }

    public string Event { get; }

    public string Data { get; }

    public int? Retry { get; }

    public JsonElement Json { get; }

    public bool IsError => Event == "error";

    public long Sequence => Json.GetProperty("broker_sequence").GetInt64();

    public string Stream => Json.GetProperty("stream").GetString()!;

    public string EventType => Json.GetProperty("data").GetProperty("event_type").GetString()!;

    public string ExecId => Json.GetProperty("data").GetProperty("workflow_exec_id").GetString()!;

    public string TaskId => Json.GetProperty("data").GetProperty("attributes").GetProperty("custom_task_id").GetString()!;

    /// <summary>(execution, sequence): the identity of an event across executions.</summary>
    public (string ExecId, long Sequence) Key => (ExecId, Sequence);

    public override string ToString() => IsError ? $"error {Data}" : $"id={Id} {ExecId}#{Sequence} {EventType}";
}

/// <summary>
/// An open SSE response read in the background, so a test can publish meanwhile and await what it expects ("these
/// records arrived", "the stream ended"); every wait is bounded only as a failure guard. A record
/// <c>event: error</c> with reason <c>internal</c> (a 5xx after the 200) fails every wait at once.
/// </summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<EventRecord> _records = [];
    private readonly List<(Func<IReadOnlyList<EventRecord>, bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private Exception? _failure;
    private bool _ended;
    private bool _disposed;

    public SseStream(HttpResponseMessage response)
    {
        Response = response;
        _run = RunAsync();
    }

    public HttpResponseMessage Response { get; }

    public IReadOnlyList<EventRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    /// <summary>The records that carry events (not errors).</summary>
    public IReadOnlyList<EventRecord> Events => [.. Records.Where(r => !r.IsError)];

    /// <summary>Completes when <paramref name="done"/> holds for the records received; fails if the stream ends first.</summary>
    public async Task<IReadOnlyList<EventRecord>> WaitAsync(Func<IReadOnlyList<EventRecord>, bool> done, string what, TimeSpan? bound = null)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (done(_records))
            {
                return [.. _records];
            }

            if (_failure is not null || _ended)
            {
                throw Ended(what);
            }

            _waiters.Add((done, signal));
        }

        try
        {
            await signal.Task.WaitAsync(bound ?? Bounded.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {bound ?? Bounded.Default} for {what}; received {Records.Count}: {string.Join(", ", Records.TakeLast(5))}.");
        }

        return Records;
    }

    public Task<IReadOnlyList<EventRecord>> WaitForCountAsync(int count, TimeSpan? bound = null) =>
        WaitAsync(records => records.Count >= count, $"{count} records", bound);

    /// <summary>Waits for the record of <paramref name="execId"/> numbered <paramref name="sequence"/>.</summary>
    public Task<IReadOnlyList<EventRecord>> WaitForEventAsync(string execId, long sequence, TimeSpan? bound = null) =>
        WaitAsync(records => records.Any(r => !r.IsError && r.ExecId == execId && r.Sequence == sequence), $"{execId}#{sequence}", bound);

    /// <summary>Waits for an <c>event: error</c> record.</summary>
    public Task<IReadOnlyList<EventRecord>> WaitForErrorAsync(TimeSpan? bound = null) =>
        WaitAsync(records => records.Any(r => r.IsError), "an error record", bound);

    /// <summary>Completes when the server ends the response; returns every record.</summary>
    public async Task<IReadOnlyList<EventRecord>> WaitForEndAsync(TimeSpan? bound = null)
    {
        try
        {
            await _run.WaitAsync(bound ?? Bounded.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The stream did not end within {bound ?? Bounded.Default}; received {Records.Count}.");
        }

        return _failure is null ? Records : throw _failure;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        Response.Dispose();
        await _run.WaitAsync(Bounded.Default);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (var sse in SseClient.ReadAsync(Response, _stop.Token))
            {
                var record = new EventRecord(sse);
                lock (_gate)
                {
                    _records.Add(record);
                    if (record.IsError && record.Json.TryGetProperty("reason", out var reason) && reason.GetString() == "internal")
                    {
                        _failure = new XunitException($"The stream failed inside the service after the 200 status: {record.Data}");
                    }

                    Signal();
                }
            }
        }
        catch (Exception exception) when (_stop.IsCancellationRequested || exception is IOException or HttpRequestException)
        {
            // Closed by the test, or the connection was cut (the server stopped): the stream has ended.
        }
        finally
        {
            lock (_gate)
            {
                _ended = true;
                Signal();
            }
        }
    }

    private void Signal()
    {
        foreach (var waiter in _waiters.ToList())
        {
            if (_failure is not null)
            {
                waiter.Signal.TrySetException(_failure);
            }
            else if (waiter.Done(_records))
            {
                waiter.Signal.TrySetResult();
            }
            else if (_ended)
            {
                waiter.Signal.TrySetException(Ended("the awaited records"));
            }
            else
            {
                continue;
            }

            _waiters.Remove(waiter);
        }
    }

    private XunitException Ended(string what) =>
        _failure as XunitException ?? new XunitException($"The stream ended after {_records.Count} records without {what}: {string.Join(", ", _records.TakeLast(5))}.");
}
