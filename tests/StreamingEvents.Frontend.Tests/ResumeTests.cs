using StreamingEvents.Frontend.Tests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// Exact resume of one execution over SSE: <c>start_seq</c> is inclusive, <c>Last-Event-ID</c> exclusive, the record id
/// is the <c>broker_sequence</c>, and a reconnect never loses or repeats an event — not at the history/live handover
/// while a publisher runs, not across a server restart.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class ResumeTests(SharedServer fixture)
{
    private static readonly string[] OneToken = ["a"];

    private Api Api => fixture.Api;

    [Fact]
    public async Task Start_seq_is_inclusive_and_each_record_id_is_its_broker_sequence()
    {
        var exec = Api.NewId("resume");
        var published = await Api.PublishTaskAsync(exec, updates: 6);
        Assert.Equal(Sequences(1, 8), published);

        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 3), 6);

        Assert.Equal(Sequences(3, 8), records.Select(r => r.Sequence));
        Assert.All(records, r => Assert.Equal(r.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Id));
    }

    [Fact]
    public async Task Last_Event_ID_resumes_after_that_sequence_and_wins_over_the_start_seq_of_the_same_url()
    {
        var exec = Api.NewId("resume");
        await Api.PublishTaskAsync(exec, updates: 6);

        // A browser's EventSource reconnects with the URL it started with plus the header: the header decides.
        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 1), 3, lastEventId: "5");

        Assert.Equal(Sequences(6, 8), records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task The_executions_route_resumes_after_its_last_event_id_query_parameter_and_after_the_header()
    {
        var exec = Api.NewId("resume");
        await Api.PublishTaskAsync(exec, updates: 6);

        var byQuery = await Api.TakeAsync(Query.Execution(exec).Set("last_event_id", 5), 3);
        var byHeader = await Api.TakeAsync(Query.Execution(exec), 4, lastEventId: "4");

        Assert.Equal(Sequences(6, 8), byQuery.Select(r => r.Sequence));
        Assert.Equal(Sequences(5, 8), byHeader.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Resuming_while_a_publisher_runs_gives_no_gap_and_no_duplicate_at_the_handover()
    {
        const int Updates = 150;
        var exec = Api.NewId("handover");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        var acknowledged = new List<long> { task.Sequence };
        var resumePoints = new List<(long From, SseStream Stream)>();

        // Each time the publisher has 30 more events acknowledged, a subscriber connects right at the head (the
        // handover from history to live happens while the next events are being published), alternating between
        // start_seq (inclusive) and Last-Event-ID (exclusive).
        var publisher = Task.Run(async () =>
        {
            for (var i = 1; i <= Updates; i++)
            {
                var sequence = await Api.UpdateAsync(task.TaskId, new { n = i });
                lock (acknowledged)
                {
                    acknowledged.Add(sequence);
                }

                if (i % 30 == 0)
                {
                    await ConnectAsync(sequence, resumePoints.Count % 2 == 0);
                }
            }

            return await Api.CompleteAsync(task.TaskId, new { n = Updates });
        });

        var last = await publisher.Within(TimeSpan.FromSeconds(60));
        try
        {
            Assert.Equal(Sequences(1, last), acknowledged.Append(last));
            Assert.Equal(Updates / 30, resumePoints.Count);
            foreach (var (from, stream) in resumePoints)
            {
                var records = await stream.WaitForEventAsync(exec, last);
                Assert.Equal(Sequences(from, last), records.Select(r => r.Sequence));
            }
        }
        finally
        {
            foreach (var (_, stream) in resumePoints)
            {
                await stream.DisposeAsync();
            }
        }

        async Task ConnectAsync(long head, bool byStartSeq)
        {
            var stream = byStartSeq
                ? await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", head - 1))
                : await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), lastEventId: (head - 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
            resumePoints.Add((head - 1, stream));
        }
    }

    [Fact]
    public async Task A_start_seq_above_the_head_waits_for_that_number_and_delivers_from_it()
    {
        var exec = Api.NewId("ahead");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        await Api.UpdateAsync(task.TaskId, new { n = 1 });
        await Api.UpdateAsync(task.TaskId, new { n = 2 });

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 6));
        for (var i = 3; i <= 7; i++)
        {
            await Api.UpdateAsync(task.TaskId, new { n = i });
        }

        var last = await Api.CompleteAsync(task.TaskId, new { n = 7 });
        var records = await stream.WaitForEventAsync(exec, last);

        Assert.Equal(9, last);
        Assert.Equal(Sequences(6, 9), records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Start_seq_zero_and_an_absent_start_seq_start_from_the_first_retained_event()
    {
        var exec = Api.NewId("zero");
        await Api.PublishTaskAsync(exec, updates: 2);

        var fromZero = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 0), 4);
        var absent = await Api.TakeAsync(Query.Events().Set("workflow_exec_id", exec), 4);

        Assert.Equal(Sequences(1, 4), fromZero.Select(r => r.Sequence));
        Assert.Equal(Sequences(1, 4), absent.Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_stream_of_one_execution_numbers_every_topic_in_one_sequence()
    {
        var exec = Api.NewId("topics");
        var tokens = await Api.StartTaskAsync(exec, "token");
        var progress = await Api.StartTaskAsync(exec, "progress", new { step = 0 });
        await Api.UpdateAsync(tokens.TaskId, new { tokens = OneToken });
        await Api.UpdateAsync(progress.TaskId, new { step = 1 });
        await Api.CompleteAsync(progress.TaskId, new { step = 1 });
        var last = await Api.CompleteAsync(tokens.TaskId, new { tokens = OneToken });

        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), (int)last);

        Assert.Equal(Sequences(1, 6), records.Select(r => r.Sequence));
        Assert.Equal(["token", "progress", "token", "progress", "progress", "token"], records.Select(r => r.Stream));
    }

    internal static IEnumerable<long> Sequences(long first, long last) => Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);
}

/// <summary>A server of its own, since its tests stop and start it.</summary>
public sealed class RestartServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();
}

/// <summary>A restart of the service between two connections: the second resumes exactly where the first stopped.</summary>
public sealed class ResumeAcrossRestartTests(RestartServer fixture) : IClassFixture<RestartServer>
{
    [Fact]
    public async Task A_stream_cut_by_a_restart_resumes_with_Last_Event_ID_exactly_and_numbering_continues()
    {
        var api = fixture.Api;
        var exec = Api.NewId("restart");
        var task = await api.StartTaskAsync(exec, state: new { n = 0 });
        for (var i = 1; i <= 5; i++)
        {
            await api.UpdateAsync(task.TaskId, new { n = i });
        }

        var query = Query.MistralDefaults().Set("workflow_exec_id", exec);
        await using var before = await api.StreamAsync(query);
        await before.WaitForEventAsync(exec, 6);

        // Stopping the service ends the open stream; the client keeps the last id it saw.
        await fixture.Server.StopAsync();
        var seen = await before.WaitForEndAsync();
        Assert.Equal(ResumeTests.Sequences(1, 6), seen.Select(r => r.Sequence));

        await fixture.Server.StartAgainAsync();
        var next = await api.UpdateAsync(task.TaskId, new { n = 6 });
        var last = await api.CompleteAsync(task.TaskId, new { n = 6 });
        Assert.Equal(7, next);

        var resumed = await api.TakeAsync(query, 2, lastEventId: seen[^1].Id);
        Assert.Equal([7L, 8L], resumed.Select(r => r.Sequence));
        Assert.Equal(8, last);
        Assert.Equal("CUSTOM_TASK_COMPLETED", resumed[^1].EventType);
    }
}
