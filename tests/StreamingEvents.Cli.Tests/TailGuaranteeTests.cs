using System.Net;
using System.Text.Json;
using StreamingEvents.Cli.Tests.Infrastructure;
using static StreamingEvents.Cli.Tests.Infrastructure.ScriptedHandler;

namespace StreamingEvents.Cli.Tests;

/// <summary>
/// The tool's side of the ordering guarantee, against a scripted server that misbehaves as the real one must not:
/// duplicates are dropped and counted, a gap ends the run, error records and 5xx answers lead to a resume.
/// </summary>
public sealed class TailGuaranteeTests
{
    private const string Url = "http://scripted.invalid/";

    [Fact]
    public async Task A_resume_sends_the_last_printed_id_and_drops_what_the_server_repeats()
    {
        var handler = new ScriptedHandler(Stream(Events(1, 2, 3)), Stream(Events(2, 3, 4, 5)));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--json", "--count", "5", "--url", Url);

        Assert.Equal(0, await run.ExitCodeAsync());
        Assert.Equal([1L, 2, 3, 4, 5], Sequences(run));
        Assert.Equal([null, "3"], handler.Requests.Select(r => r.LastEventId));
        Assert.Contains("reconnected, resuming from 4", run.Error.Text, StringComparison.Ordinal);
        Assert.Contains("dropped 2 duplicate events", run.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gap_in_broker_sequence_is_reported_and_ends_the_run_with_a_failure()
    {
        var handler = new ScriptedHandler(Stream(Events(1, 2, 4, 5)));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--json", "--url", Url);

        Assert.Equal(ExitCodes.OrderingViolated, await run.ExitCodeAsync());
        Assert.Equal([1L, 2], Sequences(run));
        Assert.Contains("gap in broker_sequence: expected 3, received 4", run.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_event_must_be_the_requested_start()
    {
        var handler = new ScriptedHandler(Stream(Events(6, 7)));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--from", "5", "--json", "--url", Url);

        Assert.Equal(ExitCodes.OrderingViolated, await run.ExitCodeAsync());
        Assert.Empty(run.Out.Lines);
        Assert.Contains("start_seq=5", handler.Requests[0].Uri.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_topic_filter_numbers_may_skip_but_never_go_back()
    {
        var handler = new ScriptedHandler(Stream(Events(2, 5, 9)), Stream(Events(9, 12)));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--stream", "token", "--json", "--count", "4", "--url", Url);

        Assert.Equal(0, await run.ExitCodeAsync());
        Assert.Equal([2L, 5, 9, 12], Sequences(run));
        Assert.Contains("stream=token", handler.Requests[0].Uri.Query, StringComparison.Ordinal);
        Assert.Equal("9", handler.Requests[1].LastEventId);
    }

    [Fact]
    public async Task A_position_expired_error_record_ends_the_run_with_exit_3_and_the_message()
    {
        var handler = new ScriptedHandler(
            Stream(Events(1, 2) + "event: error\ndata: {\"error\":\"Position 3 has expired; the oldest available is 9.\",\"reason\":\"position_expired\"}\n\n"),
            Status(HttpStatusCode.OK, "{\"head\":20,\"oldest_retained\":9}"));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--json", "--url", Url);

        Assert.Equal(ExitCodes.PositionExpired, await run.ExitCodeAsync());
        Assert.Equal([1L, 2], Sequences(run));
        Assert.Contains("Position 3 has expired; the oldest available is 9. (position_expired)", run.Error.Text, StringComparison.Ordinal);
        Assert.Contains("--from 9", run.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_error_record_or_a_503_is_printed_and_followed_by_a_resume()
    {
        var handler = new ScriptedHandler(
            Stream(Events(1) + "event: error\ndata: {\"error\":\"The stream failed inside the service.\",\"reason\":\"internal\"}\n\n"),
            Status(HttpStatusCode.ServiceUnavailable, "{\"detail\":\"The cluster did not answer in time; retry shortly.\",\"error_code\":\"unavailable\"}"),
            Stream(Events(2, 3)));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--json", "--count", "3", "--url", Url);

        Assert.Equal(0, await run.ExitCodeAsync());
        Assert.Equal([1L, 2, 3], Sequences(run));
        Assert.Equal([null, "1", "1"], handler.Requests.Select(r => r.LastEventId));
        Assert.Contains("server error: The stream failed inside the service. (internal)", run.Error.Text, StringComparison.Ordinal);
        Assert.Contains("503", run.Error.Text, StringComparison.Ordinal);
        Assert.Contains("reconnected, resuming from 2", run.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Until_complete_stops_once_every_task_seen_has_its_terminal_event()
    {
        var body = "retry: 100\n\n" + Event(1, "CUSTOM_TASK_STARTED", "a") + Event(2, "CUSTOM_TASK_STARTED", "b") + Event(3, "CUSTOM_TASK_COMPLETED", "a")
            + Event(4, "CUSTOM_TASK_FAILED", "b") + Event(5, "CUSTOM_TASK_STARTED", "c");
        var handler = new ScriptedHandler(Stream(body));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--until-complete", "--url", Url);

        Assert.Equal(0, await run.ExitCodeAsync());
        Assert.Equal(4, run.Out.Lines.Count);
        Assert.Contains("CUSTOM_TASK_FAILED", run.Out.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_ends_on_the_executions_terminal_event()
    {
        // Without --until-complete or --count: the execution's WORKFLOW_EXECUTION_CANCELED is its last event.
        var body = "retry: 100\n\n" + Event(1, "WORKFLOW_EXECUTION_STARTED", "workflow:x") + Event(2, "CUSTOM_TASK_STARTED", "a")
            + Event(3, "CUSTOM_TASK_CANCELED", "a") + Event(4, "WORKFLOW_EXECUTION_CANCELED", "workflow:x");
        var handler = new ScriptedHandler(Stream(body));
        await using var run = CliRun.Start(() => handler, "tail", "x", "--url", Url);

        Assert.Equal(0, await run.ExitCodeAsync());
        Assert.Equal(4, run.Out.Lines.Count);
        Assert.Contains("WORKFLOW_EXECUTION_CANCELED", run.Out.Lines[^1], StringComparison.Ordinal);
    }

    private static List<long> Sequences(CliRun run) =>
        [.. run.Out.Lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("broker_sequence").GetInt64())];
}
