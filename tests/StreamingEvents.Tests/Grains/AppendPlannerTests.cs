using System.Text;
using StreamingEvents.Appends;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents.Tests.Grains;

/// <summary>
/// The planner decides, without I/O, what a commit stores and what each request is answered. Each test plans against a
/// stream whose task <c>t1</c> (task number 1) started at sequence 1 and has stored publish sequences 1..3 as
/// sequences 2..4, the last batch being 2..3 (sequences 3..4).
/// </summary>
public sealed class AppendPlannerTests
{
    private static readonly WorkflowContext Context = new WorkflowContext("exec1", "wf").Normalize();
    private readonly EventLogState _state = new();
    private long _clock = 1_000;

    public AppendPlannerTests()
    {
        var task = new StoredTask(1, "t1", "token", "exec1", null, CustomTaskStatus.Running, 1, null) { ProducerId = "p1" };
        _state.Load(new StreamRecord(7, Context, Head: 4, Oldest: 1, RetainedBytes: 0, TaskCount: 1, DateTimeOffset.UnixEpoch, [task])
        {
            Producers = [new ProducerState(1, Epoch: 1, LastPublishSequence: 3, LastSequence: 4, BatchFirstPublishSequence: 2)],
        });
    }

    [Fact]
    public void The_next_publish_sequences_are_stored_under_the_next_numbers_and_advance_the_publisher()
    {
        var request = Update(first: 4, "a", "b");

        var plan = Plan(request);

        Assert.Equal([5L, 6], plan.Events.Select(e => e.Sequence));
        Assert.Equal(new ProducerState(1, 1, 5, 6, 4), plan.Producers[1]);
        Commit(plan);
        Assert.Equal(new AppendReceipt(5, 2), Receipt(request));
    }

    [Fact]
    public void A_request_sent_again_answers_its_original_numbers_and_stores_nothing()
    {
        var again = Update(first: 2, "b", "c");

        var plan = Plan(again);

        Assert.Empty(plan.Events);
        Assert.Equal(new AppendReceipt(3, 2, Replayed: 2), Receipt(again));
    }

    [Fact]
    public void A_request_overlapping_what_is_stored_stores_only_its_new_suffix()
    {
        var overlapping = Update(first: 3, "c", "d", "e");

        var plan = Plan(overlapping);

        Assert.Equal([5L, 6], plan.Events.Select(e => e.Sequence));
        Commit(plan);
        var receipt = Receipt(overlapping);
        Assert.Equal([4L, 5, 6], Enumerable.Range(0, receipt.Count).Select(receipt.SequenceAt));
        Assert.Equal(1, receipt.Replayed);
    }

    [Fact]
    public void A_repeat_older_than_the_last_batch_is_answered_from_what_was_looked_up()
    {
        var again = Update(first: 1, "a");
        again.Prefetched = new Dictionary<long, long> { [1] = 2 };

        Plan(again);

        Assert.Equal(new AppendReceipt(2, 1, Replayed: 1), Receipt(again));
    }

    [Fact]
    public void A_gap_in_publish_sequences_is_refused_before_anything_is_numbered()
    {
        var gap = Update(first: 6, "x");
        var next = Update(first: 4, "d");

        var plan = Plan(gap, next);

        var refused = Assert.IsType<PublishSequenceGapException>(Refusal(gap));
        Assert.Equal((4L, 6L), (refused.Expected, refused.Given));
        Assert.Equal([5L], plan.Events.Select(e => e.Sequence));
    }

    [Fact]
    public void An_unsequenced_request_fences_the_sequenced_publisher()
    {
        var unsequenced = new PendingAppend("t1", null, PublishRequest.Of(TaskEventDraft.Progress(Json("http"))));
        var stale = Update(first: 4, "late");

        var plan = Plan(unsequenced, stale);

        Assert.Equal([5L], plan.Events.Select(e => e.Sequence));
        Assert.Equal(new ProducerState(1, 2, 4, 5, 4), plan.Producers[1]);
        var fenced = Assert.IsType<ProducerFencedException>(Refusal(stale));
        Assert.Equal((1, 2), (fenced.Epoch, fenced.CurrentEpoch));
    }

    [Fact]
    public void A_repeat_within_one_commit_is_answered_with_the_numbers_of_the_first_once_it_is_durable()
    {
        var first = Update(first: 4, "d");
        var repeat = Update(first: 4, "d");

        var plan = Plan(first, repeat);

        Assert.Single(plan.Events);
        Assert.False(repeat.Completion.Task.IsCompleted);
        Commit(plan);
        Assert.Equal(new AppendReceipt(5, 1, Replayed: 1), Receipt(repeat));
    }

    [Fact]
    public void A_failed_commit_fails_the_repeats_that_depended_on_it()
    {
        var first = Update(first: 4, "d");
        var repeat = Update(first: 4, "d");
        var plan = Plan(first, repeat);

        plan.Fail(new StorageUnavailableException("no"));

        Assert.IsType<StorageUnavailableException>(Refusal(repeat));
    }

    [Fact]
    public void The_same_start_again_answers_its_receipt_and_another_start_with_the_id_is_refused()
    {
        var same = Start("t1", producer: "p1");
        var other = Start("t1", producer: "p2");

        var plan = Plan(same, other);

        Assert.Empty(plan.Events);
        Assert.Equal(new AppendReceipt(1, 1, Replayed: 1), Receipt(same));
        Assert.IsType<TaskAlreadyExistsException>(Refusal(other));
    }

    [Fact]
    public void A_new_task_starts_with_its_publisher_at_epoch_one()
    {
        var start = Start("t2", producer: "q");

        var plan = Plan(start);

        Assert.Equal(new ProducerState(2, 1, 0, 5, 0), plan.Producers[2]);
        Assert.Equal("q", Assert.Single(plan.NewTasks).ProducerId);
    }

    [Fact]
    public void A_key_used_before_answers_what_it_published_or_is_refused_with_another_request()
    {
        var stored = new StoredRequestKey("default", "k1", [1, 2, 3], 3, 1, null);
        var same = Keyed("k1", [1, 2, 3]);
        same.StoredKey = (7, stored);
        var different = Keyed("k1", [9]);
        different.StoredKey = (7, stored);
        var elsewhere = Keyed("k1", [1, 2, 3]);
        elsewhere.StoredKey = (8, stored);

        var plan = Plan(same, different, elsewhere);

        Assert.Empty(plan.Events);
        Assert.Equal(new AppendReceipt(3, 1, Replayed: 1), Receipt(same));
        Assert.IsType<IdempotencyKeyReusedException>(Refusal(different));
        Assert.IsType<IdempotencyKeyReusedException>(Refusal(elsewhere));
    }

    [Fact]
    public void A_new_key_is_stored_with_the_numbers_it_got_and_a_repeat_in_the_same_commit_answers_them()
    {
        var first = Keyed("k2", [4]);
        var repeat = Keyed("k2", [4]);

        var plan = Plan(first, repeat);
        Commit(plan);

        var key = Assert.Single(plan.StoredKeys("default"));
        Assert.Equal(("k2", 5L, 1), (key.Key, key.FirstSequence, key.Count));
        Assert.Equal(new AppendReceipt(5, 1, Replayed: 1), Receipt(repeat));
    }

    [Fact]
    public void A_terminal_event_closes_the_task_and_a_later_request_in_the_commit_learns_it_ended()
    {
        var timeout = new PendingAppend("t1", null, PublishRequest.Of(TaskEventDraft.TimedOut("HEARTBEAT")));
        var complete = new PendingAppend("t1", null, new PublishRequest([TaskEventDraft.Completed(Json("done"))], 1, 4));

        var plan = Plan(timeout, complete);
        Commit(plan);

        Assert.Equal(CustomTaskStatus.TimedOut, Assert.Single(plan.Finished).Status);
        Assert.Null(plan.Finished[0].PublishSequence);
        Assert.False(plan.Producers.ContainsKey(1));
        var refused = Assert.IsType<TaskAlreadyFinishedException>(Refusal(complete));
        Assert.Equal(CustomTaskStatus.TimedOut, refused.Status);
    }

    [Fact]
    public void A_terminal_event_sent_again_after_the_task_closed_answers_its_receipt()
    {
        var terminal = new PendingAppend("t1", null, new PublishRequest([TaskEventDraft.Completed(Json("done"))], 1, 4));
        var plan = Plan(terminal);
        Commit(plan);
        Assert.Equal((4L, 1), (plan.Finished[0].PublishSequence, plan.Finished[0].Epoch));

        var closed = new StoredTask(1, "t1", "token", "exec1", null, CustomTaskStatus.Completed, 1, 5) { TerminalPublishSequence = 4, TerminalEpoch = 1 };
        var again = new PendingAppend("t1", null, new PublishRequest([TaskEventDraft.Completed(Json("done"))], 1, 4))
        {
            StoredTask = new TaskLocation(Context.Execution.Key, closed),
            Prefetched = new Dictionary<long, long> { [4] = 5 },
        };
        var unsequenced = new PendingAppend("t1", null, PublishRequest.Of(TaskEventDraft.Canceled("late")))
        {
            StoredTask = new TaskLocation(Context.Execution.Key, closed),
        };
        _state.OpenTasks.Clear();
        _state.Producers.Clear();

        Plan(again, unsequenced);

        Assert.Equal(new AppendReceipt(5, 1, Replayed: 1), Receipt(again));
        Assert.IsType<TaskAlreadyFinishedException>(Refusal(unsequenced));
    }

    [Fact]
    public void An_event_over_one_mebibyte_is_refused_before_it_gets_a_number()
    {
        var huge = Update(first: 4, new string('x', StreamingLimits.MaxEventBytes));
        var next = Update(first: 4, "fits");

        var plan = Plan(huge, next);

        Assert.IsType<EventTooLargeException>(Refusal(huge));
        Assert.Equal([5L], plan.Events.Select(e => e.Sequence));
    }

    [Fact]
    public void A_request_for_a_task_open_in_storage_but_not_here_marks_the_state_stale()
    {
        var open = new StoredTask(2, "t2", "token", "exec1", null, CustomTaskStatus.Running, 9, null);
        var request = new PendingAppend("t2", null, new PublishRequest([TaskEventDraft.Progress(Json("x"))], 1, 1))
        {
            StoredTask = new TaskLocation(Context.Execution.Key, open),
        };

        var plan = Plan(request);

        Assert.True(plan.StateIsStale);
        Assert.IsType<StreamWriteConflictException>(Refusal(request));
    }

    private static AppendReceipt Receipt(PendingAppend request)
    {
        Assert.True(request.Completion.Task.IsCompletedSuccessfully, $"Not answered with a receipt: {request.Completion.Task.Status} {request.Completion.Task.Exception?.InnerException?.Message}");
        return request.Completion.Task.Result;
    }

    private static Exception? Refusal(PendingAppend request)
    {
        Assert.True(request.Completion.Task.IsFaulted, $"Not refused: {request.Completion.Task.Status}");
        return request.Completion.Task.Exception!.InnerException;
    }

    private AppendPlan Plan(params PendingAppend[] batch)
    {
        var renderer = new EventRenderer(Context, EventTimestampUnit.Nanoseconds);
        return new AppendPlanner(_state, Context.Execution.Key, (task, stored) => renderer.Render(task, stored), () => ++_clock).Plan(batch);
    }

    private static void Commit(AppendPlan plan) => plan.Acknowledge(new StreamingEventsMetrics(new TestMeterFactory()), TimeProvider.System);

    private static PendingAppend Update(long first, params string[] values) =>
        new("t1", null, new PublishRequest([.. values.Select(v => TaskEventDraft.Progress(Json(v)))], 1, first));

    private static PendingAppend Start(string taskId, string producer) =>
        new(taskId, new TaskStart(taskId, Context, "token", Json("start"), ProducerId: producer), null);

    private static PendingAppend Keyed(string key, byte[] hash) =>
        new("t1", null, PublishRequest.Of(TaskEventDraft.Progress(Json("keyed")), new RequestKey(key, hash)));

    private static byte[] Json(string value) => Encoding.UTF8.GetBytes($"\"{value}\"");

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
