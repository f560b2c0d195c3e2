using System.Text;
using System.Text.Json;
using StreamingEvents.Contracts;
using StreamingEvents.Testing;
using StreamingEvents.Tests.Fakes;

namespace StreamingEvents.Tests.Client;

public sealed class TaskHandleTests
{
    private static readonly ExecutionId Execution = new("default", "exec_1");

    private readonly FakeTaskGrain _grain = new(startedSequence: 1);

    [Fact]
    public void A_new_handle_describes_the_started_task_and_is_running()
    {
        var handle = Handle(initial: new Progress(0, "start"));

        Assert.Equal("t1", handle.TaskId);
        Assert.Equal(Execution, handle.Execution);
        Assert.Equal("progress", handle.Type);
        Assert.Equal(1, handle.StartedSequence);
        Assert.Equal(new Progress(0, "start"), handle.State);
        Assert.Equal(CustomTaskStatus.Running, handle.Status);
        Assert.False(handle.IsFinishing);
    }

    [Fact]
    public async Task An_update_publishes_the_state_as_json_in_progress_and_returns_its_sequence()
    {
        var handle = Handle();

        var sequence = await handle.UpdateStateAsync(new Progress(1, "Hel")).Within();

        Assert.Equal(2, sequence);
        Assert.Equal(new Progress(1, "Hel"), handle.State);
        var draft = Assert.Single(Assert.Single(_grain.UpdateCalls));
        Assert.Equal(EventType.CustomTaskInProgress, draft.Type);
        Assert.Equal(PayloadEncoding.Json, draft.Encoding);
        Assert.Equal("""{"step":1,"text":"Hel"}""", Encoding.UTF8.GetString(draft.Payload.Span));
    }

    [Fact]
    public async Task Updates_issued_without_awaiting_are_sent_in_call_order_in_batches_of_at_most_the_limit()
    {
        var (firstHeld, release) = HoldFirstUpdate();
        var handle = Handle(maxUpdatesPerCall: 3);

        var first = handle.UpdateStateAsync(new Progress(1, ""));
        await firstHeld.Within();
        var rest = Enumerable.Range(2, 10).Select(step => handle.UpdateStateAsync(new Progress(step, ""))).ToList();
        release();
        var sequences = await Task.WhenAll([first, .. rest]).Within();

        Assert.Equal([[1], [2, 3, 4], [5, 6, 7], [8, 9, 10], [11]], _grain.UpdateCalls.Select(call => call.Select(Step).ToArray()));
        Assert.Equal(Enumerable.Range(2, 11).Select(s => (long)s), sequences);
        Assert.Equal(Enumerable.Range(1, 11), _grain.Published.Select(Step));
        Assert.Equal(new Progress(11, ""), handle.State);
    }

    [Fact]
    public async Task Concurrent_callers_each_get_the_sequence_of_their_own_update()
    {
        var handle = Handle(maxUpdatesPerCall: 16);

        var updates = await Task.WhenAll(Enumerable.Range(1, 300).Select(step =>
            Task.Run(async () => (Step: step, Sequence: await handle.UpdateStateAsync(new Progress(step, $"s{step}")))))).Within();

        var published = _grain.Published;
        Assert.Equal(300, updates.Select(u => u.Sequence).Distinct().Count());
        Assert.All(updates, u => Assert.Equal(u.Step, Step(published[(int)(u.Sequence - 2)])));
        Assert.All(_grain.UpdateCalls, call => Assert.InRange(call.Length, 1, 16));
    }

    [Fact]
    public async Task Disposing_twice_publishes_exactly_one_completed_with_the_last_state_after_the_updates()
    {
        var handle = Handle();
        _ = handle.UpdateStateAsync(new Progress(1, "a"));
        _ = handle.UpdateStateAsync(new Progress(2, "ab"));

        await handle.DisposeAsync().AsTask().Within();
        await handle.DisposeAsync().AsTask().Within();

        var completed = Assert.Single(_grain.FinishCalls);
        Assert.Equal(EventType.CustomTaskCompleted, completed.Type);
        Assert.Equal(PayloadEncoding.Json, completed.Encoding);
        Assert.Equal("""{"step":2,"text":"ab"}""", Encoding.UTF8.GetString(completed.Payload.Span));
        Assert.Equal([EventType.CustomTaskInProgress, EventType.CustomTaskInProgress, EventType.CustomTaskCompleted],
            _grain.Published.Select(d => d.Type));
        Assert.Equal(CustomTaskStatus.Completed, handle.Status);
        Assert.True(handle.IsFinishing);
    }

    [Fact]
    public async Task Disposing_after_the_lifetime_token_was_canceled_publishes_canceled()
    {
        using var lifetime = new CancellationTokenSource();
        var handle = Handle(lifetime: lifetime.Token);
        await lifetime.CancelAsync();

        await handle.DisposeAsync().AsTask().Within();

        var canceled = Assert.Single(_grain.FinishCalls);
        Assert.Equal(EventType.CustomTaskCanceled, canceled.Type);
        Assert.Equal("canceled", canceled.Text);
        Assert.Equal(CustomTaskStatus.Canceled, handle.Status);
    }

    [Fact]
    public async Task Complete_with_a_final_state_publishes_it_and_makes_it_the_state()
    {
        var handle = Handle();

        var sequence = await handle.CompleteAsync(new Progress(9, "done")).Within();

        Assert.Equal(2, sequence);
        Assert.Equal(new Progress(9, "done"), handle.State);
        var completed = Assert.Single(_grain.FinishCalls);
        Assert.Equal("""{"step":9,"text":"done"}""", Encoding.UTF8.GetString(completed.Payload.Span));
        Assert.Equal(CustomTaskStatus.Completed, handle.Status);
    }

    [Fact]
    public async Task Fail_publishes_the_message_of_the_exception()
    {
        var handle = Handle();

        await handle.FailAsync(new InvalidOperationException("model \"overloaded\"")).Within();

        var failed = Assert.Single(_grain.FinishCalls);
        Assert.Equal(EventType.CustomTaskFailed, failed.Type);
        Assert.Equal("model \"overloaded\"", failed.Text);
        Assert.Equal(CustomTaskStatus.Failed, handle.Status);
    }

    [Theory]
    [InlineData("user pressed stop")]
    [InlineData(null)]
    public async Task Cancel_publishes_the_reason(string? reason)
    {
        var handle = Handle();

        await handle.CancelAsync(reason).Within();

        var canceled = Assert.Single(_grain.FinishCalls);
        Assert.Equal(EventType.CustomTaskCanceled, canceled.Type);
        Assert.Equal(reason, canceled.Text);
    }

    [Theory]
    [InlineData("complete", "complete")]
    [InlineData("complete", "fail")]
    [InlineData("fail", "cancel")]
    [InlineData("cancel", "complete")]
    [InlineData("fail", "fail")]
    public async Task A_second_terminal_event_is_refused_without_calling_the_grain(string first, string second)
    {
        var handle = Handle();
        await Terminal(handle, first).Within();
        var status = handle.Status;

        var error = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => Terminal(handle, second));

        Assert.Equal("t1", error.TaskId);
        Assert.Equal(status, error.Status);
        Assert.Single(_grain.FinishCalls);
        Assert.Equal(status, handle.Status);
    }

    [Theory]
    [InlineData("complete", CustomTaskStatus.Completed)]
    [InlineData("fail", CustomTaskStatus.Failed)]
    [InlineData("cancel", CustomTaskStatus.Canceled)]
    public async Task Disposing_after_an_explicit_terminal_event_publishes_nothing_more(string terminal, CustomTaskStatus status)
    {
        var handle = Handle();
        await Terminal(handle, terminal).Within();

        await handle.DisposeAsync().AsTask().Within();

        Assert.Single(_grain.FinishCalls);
        Assert.Equal(status, handle.Status);
    }

    [Fact]
    public async Task A_terminal_event_still_in_flight_already_refuses_a_second_one_and_updates()
    {
        var handle = Handle();
        var (firstHeld, release) = HoldFirstUpdate();
        var update = handle.UpdateStateAsync(new Progress(1, ""));
        await firstHeld.Within();

        var completing = handle.CompleteAsync();

        Assert.True(handle.IsFinishing);
        var refused = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => handle.UpdateStateAsync(new Progress(2, "")));
        Assert.Contains("is finishing", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Running)", refused.Message, StringComparison.Ordinal);
        Assert.Throws<TaskAlreadyFinishedException>(() => { _ = handle.FailAsync("late"); });
        release();
        await update.Within();
        await completing.Within();
        Assert.Single(_grain.UpdateCalls);
        Assert.Single(_grain.FinishCalls);
        Assert.Equal(new Progress(1, ""), handle.State);
    }

    [Fact]
    public async Task Updates_after_the_terminal_event_are_refused()
    {
        var handle = Handle();
        await handle.CompleteAsync().Within();

        var error = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => handle.UpdateStateAsync(new Progress(5, "late")));

        Assert.Equal(CustomTaskStatus.Completed, error.Status);
        Assert.Empty(_grain.UpdateCalls);
        Assert.Equal(new Progress(0, ""), handle.State);
    }

    [Fact]
    public async Task A_state_over_one_mebibyte_is_refused_without_calling_the_grain()
    {
        var handle = Handle();
        var huge = new Progress(1, new string('x', StreamingLimits.MaxEventBytes));

        var error = await Assert.ThrowsAsync<EventTooLargeException>(() => handle.UpdateStateAsync(huge));
        await Assert.ThrowsAsync<EventTooLargeException>(() => handle.CompleteAsync(huge));

        Assert.True(error.SizeBytes > StreamingLimits.MaxEventBytes);
        Assert.Equal(StreamingLimits.MaxEventBytes, error.LimitBytes);
        Assert.Empty(_grain.UpdateCalls);
        Assert.Empty(_grain.FinishCalls);
        Assert.Equal(new Progress(0, ""), handle.State);
        Assert.False(handle.IsFinishing);
        Assert.Equal(2, await handle.UpdateStateAsync(new Progress(2, "fits")).Within());
    }

    [Fact]
    public async Task When_the_grain_refuses_a_batch_as_too_large_only_the_offending_caller_fails()
    {
        const string Marker = "too large for the envelope";
        _grain.FailUpdate = (_, drafts) =>
            drafts.Any(d => Encoding.UTF8.GetString(d.Payload.Span).Contains(Marker, StringComparison.Ordinal)) ? new EventTooLargeException(1_048_600, StreamingLimits.MaxEventBytes) : null;
        var (firstHeld, release) = HoldFirstUpdate();
        var handle = Handle();

        var first = handle.UpdateStateAsync(new Progress(1, ""));
        await firstHeld.Within();
        var before = handle.UpdateStateAsync(new Progress(2, ""));
        var offending = handle.UpdateStateAsync(new Progress(3, Marker));
        var after = handle.UpdateStateAsync(new Progress(4, ""));
        release();

        Assert.Equal(2, await first.Within());
        Assert.Equal(3, await before.Within());
        await Assert.ThrowsAsync<EventTooLargeException>(() => offending.Within());
        Assert.Equal(4, await after.Within());
        Assert.Equal([[1], [2, 3, 4], [2], [3], [4]], _grain.UpdateCalls.Select(call => call.Select(Step).ToArray()));
        Assert.Equal([1, 2, 4], _grain.Published.Select(Step));
    }

    [Fact]
    public async Task A_write_conflict_is_retried_and_the_caller_sees_only_the_success()
    {
        _grain.FailUpdate = (call, _) => call < 2 ? new StreamWriteConflictException(Execution.Key) : null;
        var handle = Handle();

        var sequence = await handle.UpdateStateAsync(new Progress(1, "")).Within();

        Assert.Equal(2, sequence);
        Assert.Equal(3, _grain.UpdateCalls.Count);
        Assert.All(_grain.UpdateCalls, call => Assert.Equal([1], call.Select(Step)));
        Assert.All(_grain.Requests, request => Assert.Equal((1L, 1), (request.FirstPublishSequence, request.Epoch)));
        Assert.Single(_grain.Published);
    }

    [Fact]
    public async Task An_update_whose_answer_was_lost_is_sent_again_with_its_numbers_and_stored_once()
    {
        _grain.LoseUpdateAnswer = call => call == 0 ? new TimeoutException("the answer was lost") : null;
        var handle = Handle();

        var sequence = await handle.UpdateStateAsync(new Progress(1, "once")).Within();

        Assert.Equal(2, sequence);
        Assert.Equal([1L, 1L], _grain.Requests.Select(r => r.FirstPublishSequence));
        Assert.Equal([1], _grain.Published.Select(Step));
        Assert.Equal(3, await handle.UpdateStateAsync(new Progress(2, "next")).Within());
        Assert.Equal(2L, _grain.Requests[^1].FirstPublishSequence);
    }

    [Fact]
    public async Task An_outcome_unknown_past_the_budget_surfaces_and_the_update_is_sent_again_first_with_its_numbers()
    {
        var down = true;
        _grain.LoseUpdateAnswer = _ => Volatile.Read(ref down) ? new TimeoutException("no answer") : null;
        var handle = Handle(retryBudget: TimeSpan.FromSeconds(2)); // backoff 20, 40, 80… ms: several attempts even on a cold, loaded machine

        var unknown = await Assert.ThrowsAsync<PublishOutcomeUnknownException>(() => handle.UpdateStateAsync(new Progress(1, "first")).Within());
        Assert.True(unknown.Attempts > 1);
        Assert.IsType<TimeoutException>(unknown.InnerException);
        Volatile.Write(ref down, false);

        // The first update was stored by its first attempt: the next publish sends it again first, and it is not stored twice.
        Assert.Equal(3, await handle.UpdateStateAsync(new Progress(2, "second")).Within());
        Assert.Equal([1, 2], _grain.Published.Select(Step));
        Assert.Equal([1L, 2L], _grain.Requests.Select(r => r.FirstPublishSequence).Distinct());
    }

    [Fact]
    public async Task A_refused_update_takes_no_publish_sequence_so_the_next_one_leaves_no_gap()
    {
        _grain.FailUpdate = (call, _) => call == 0 ? new EventTooLargeException(1_048_600, StreamingLimits.MaxEventBytes) : null;
        var handle = Handle();

        await Assert.ThrowsAsync<EventTooLargeException>(() => handle.UpdateStateAsync(new Progress(1, "refused")).Within());

        Assert.Equal(2, await handle.UpdateStateAsync(new Progress(2, "stored")).Within());
        Assert.Equal([1L, 1L], _grain.Requests.Select(r => r.FirstPublishSequence));
        Assert.Equal([2], _grain.Published.Select(Step));
    }

    [Fact]
    public async Task A_fenced_publisher_is_refused_and_sends_nothing_more()
    {
        _grain.Epoch = 2;
        var handle = Handle();

        var fenced = await Assert.ThrowsAsync<ProducerFencedException>(() => handle.UpdateStateAsync(new Progress(1, "")).Within());
        var later = await Assert.ThrowsAsync<ProducerFencedException>(() => handle.UpdateStateAsync(new Progress(2, "")).Within());

        Assert.Equal((1, 2), (fenced.Epoch, fenced.CurrentEpoch));
        Assert.Same(fenced, later);
        Assert.Single(_grain.Requests);
        Assert.Empty(_grain.Published);
    }

    [Fact]
    public async Task A_terminal_event_refused_by_a_write_conflict_is_retried()
    {
        _grain.FailFinish = (call, _) => call < 2 ? new StreamWriteConflictException(Execution.Key) : null;
        var handle = Handle();

        Assert.Equal(2, await handle.CompleteAsync().Within());

        Assert.Equal(3, _grain.FinishCalls.Count);
        Assert.Equal(CustomTaskStatus.Completed, handle.Status);
    }

    [Fact]
    public async Task A_failure_whose_outcome_stayed_unknown_is_the_terminal_event_dispose_sends_again_not_completed()
    {
        var down = true;
        _grain.LoseFinishAnswer = _ => Volatile.Read(ref down) ? new SiloUnavailableException("the silo died") : null;
        var handle = Handle(retryBudget: TimeSpan.FromSeconds(2)); // backoff 20, 40, 80… ms: several attempts even on a cold, loaded machine

        await Assert.ThrowsAsync<PublishOutcomeUnknownException>(() => handle.FailAsync("it broke").Within());
        Assert.True(handle.IsFinishing);
        Volatile.Write(ref down, false);
        await handle.DisposeAsync().AsTask().Within();

        Assert.All(_grain.FinishCalls, call => Assert.Equal(EventType.CustomTaskFailed, call.Type));
        Assert.Equal([EventType.CustomTaskFailed], _grain.Published.Select(e => e.Type));
        Assert.Equal(CustomTaskStatus.Failed, handle.Status);
    }

    [Fact]
    public async Task A_terminal_event_that_was_never_stored_is_sent_again_by_dispose()
    {
        var down = true;
        _grain.FailFinish = (_, _) => Volatile.Read(ref down) ? new StorageUnavailableException("no storage") : null;
        var handle = Handle(retryBudget: TimeSpan.FromSeconds(2)); // backoff 20, 40, 80… ms: several attempts even on a cold, loaded machine

        await Assert.ThrowsAsync<PublishOutcomeUnknownException>(() => handle.CompleteAsync().Within());
        Assert.Equal(CustomTaskStatus.Running, handle.Status);
        Volatile.Write(ref down, false);
        await handle.DisposeAsync().AsTask().Within();

        Assert.Equal([EventType.CustomTaskCompleted], _grain.Published.Select(e => e.Type));
        Assert.Equal(CustomTaskStatus.Completed, handle.Status);
    }

    [Fact]
    public async Task Canceling_an_update_after_it_was_queued_does_not_unpublish_it()
    {
        var (held, release) = HoldFirstUpdate();
        var handle = Handle();
        using var cancel = new CancellationTokenSource();

        var update = handle.UpdateStateAsync(new Progress(1, ""), cancel.Token);
        await held.Within();
        await cancel.CancelAsync();
        release();

        Assert.Equal(2, await update.Within());
        Assert.Equal([1], _grain.Published.Select(Step));
    }

    [Fact]
    public async Task When_the_service_timed_out_the_task_an_update_learns_it_and_dispose_publishes_nothing()
    {
        _grain.FailUpdate = (_, _) => new TaskAlreadyFinishedException("t1", CustomTaskStatus.TimedOut);
        var handle = Handle();

        var error = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => handle.UpdateStateAsync(new Progress(1, "")).Within());
        await handle.DisposeAsync().AsTask().Within();

        Assert.Equal(CustomTaskStatus.TimedOut, error.Status);
        Assert.Equal(CustomTaskStatus.TimedOut, handle.Status);
        Assert.Empty(_grain.FinishCalls);
    }

    [Fact]
    public async Task When_the_service_reports_a_timeout_to_a_terminal_call_dispose_publishes_nothing()
    {
        _grain.FailFinish = (_, _) => new TaskAlreadyFinishedException("t1", CustomTaskStatus.TimedOut);
        var handle = Handle();
        await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => handle.CompleteAsync().Within());
        Assert.Equal(CustomTaskStatus.TimedOut, handle.Status);

        var disposeError = await Record.ExceptionAsync(() => handle.DisposeAsync().AsTask().Within());

        Assert.Single(_grain.FinishCalls);
        Assert.Null(disposeError);
    }

    [Fact]
    public async Task An_update_whose_token_is_already_canceled_is_not_sent()
    {
        var handle = Handle();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.UpdateStateAsync(new Progress(1, ""), new CancellationToken(canceled: true)));

        Assert.Empty(_grain.UpdateCalls);
        Assert.Equal(new Progress(0, ""), handle.State);
    }

    [Fact]
    public async Task A_publisher_that_outruns_the_grain_waits_for_room_and_its_updates_keep_call_order()
    {
        var (held, release) = HoldFirstUpdate();
        var handle = Handle(maxUpdatesPerCall: 2, maxPendingUpdates: 3);

        var updates = Enumerable.Range(1, 7).Select(i => handle.UpdateStateAsync(new Progress(i, $"s{i}"))).ToList();
        await held.Within();

        // Three are admitted (one call in flight, held); the other four wait for room instead of queueing.
        Assert.All(updates.Skip(3), update => Assert.False(update.IsCompleted));
        Assert.Equal(new Progress(3, "s3"), handle.State);

        release();
        var sequences = await Task.WhenAll(updates).Within();
        Assert.Equal([2L, 3, 4, 5, 6, 7, 8], sequences);
        var published = _grain.UpdateCalls.SelectMany(call => call).Select(d => JsonSerializer.Deserialize<Progress>(d.Payload.Span, JsonDefaults.State)!.Step);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], published);
        Assert.All(_grain.UpdateCalls, call => Assert.InRange(call.Length, 1, 2));
    }

    [Fact]
    public async Task A_publisher_that_must_not_wait_is_refused_beyond_its_backlog_and_nothing_refused_is_published()
    {
        var (held, release) = HoldFirstUpdate();
        var handle = Handle(maxUpdatesPerCall: 2, maxPendingUpdates: 3, whenFull: PendingUpdatesFullMode.Throw);

        var updates = Enumerable.Range(1, 7).Select(i => handle.UpdateStateAsync(new Progress(i, $"s{i}"))).ToList();
        await held.Within();

        // Three are admitted; the other four are refused at once, typed and transient, and hold nothing.
        foreach (var refused in updates.Skip(3))
        {
            var error = await Assert.ThrowsAsync<PendingUpdatesFullException>(() => refused);
            Assert.Equal(3, error.Limit);
            Assert.True(error.IsTransient);
        }

        Assert.Equal(new Progress(3, "s3"), handle.State);
        release();
        var sequences = await Task.WhenAll(updates.Take(3)).Within();
        Assert.Equal([2L, 3, 4], sequences);

        // Room again once they are acknowledged.
        Assert.Equal(5L, await handle.UpdateStateAsync(new Progress(8, "s8")).Within());
        var published = _grain.UpdateCalls.SelectMany(call => call).Select(d => JsonSerializer.Deserialize<Progress>(d.Payload.Span, JsonDefaults.State)!.Step);
        Assert.Equal([1, 2, 3, 8], published);
    }

    private TaskHandle<Progress> Handle(int maxUpdatesPerCall = 256, Progress? initial = null,
        int maxPendingUpdates = 10_000, PendingUpdatesFullMode whenFull = PendingUpdatesFullMode.Wait, TimeSpan? retryBudget = null, CancellationToken lifetime = default) =>
        new(_grain, new TaskStarted("t1", Execution, "progress", 1), initial ?? new Progress(0, ""),
            JsonSerializer.SerializeToUtf8Bytes(initial ?? new Progress(0, ""), JsonDefaults.State), JsonDefaults.State, Settings(maxUpdatesPerCall, maxPendingUpdates, whenFull, retryBudget: retryBudget), lifetime);

    internal static TaskHandleSettings Settings(int maxUpdatesPerCall = 256, int maxPendingUpdates = 10_000, PendingUpdatesFullMode whenFull = PendingUpdatesFullMode.Wait,
        StateUpdates updates = StateUpdates.WholeState, TimeSpan? retryBudget = null) =>
        new(maxUpdatesPerCall, 4L * 1024 * 1024, maxPendingUpdates, 16L * 1024 * 1024, whenFull, updates, retryBudget ?? TimeSpan.FromSeconds(30), TimeProvider.System);

    /// <summary>Holds the grain's first update call until released, so that later updates queue up behind it.</summary>
    private (Task Held, Action Release) HoldFirstUpdate()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _grain.HoldUpdate = call =>
        {
            if (call != 0)
            {
                return Task.CompletedTask;
            }

            held.TrySetResult();
            return release.Task;
        };
        return (held.Task, () => release.TrySetResult());
    }

    private static Task<long> Terminal(TaskHandle<Progress> handle, string kind) => kind switch
    {
        "complete" => handle.CompleteAsync(),
        "fail" => handle.FailAsync("failed"),
        "cancel" => handle.CancelAsync("stop"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static int Step(TaskEventDraft draft) => JsonSerializer.Deserialize<Progress>(draft.Payload.Span, JsonDefaults.State)!.Step;

    public sealed record Progress(int Step, string Text);
}
