using System.Text.Json;
using StreamingEvents.Cli.Tests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests;

/// <summary><c>se tail</c> against the real frontend: JSON lines, start positions, live following, pretty output, Ctrl+C.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class TailTests(SharedServer fixture)
{
    private Publisher Publisher => fixture.Publisher;

    [Fact]
    public async Task Json_with_count_prints_exactly_the_envelopes_1_to_N_as_the_server_sent_them()
    {
        var exec = Publisher.NewExecId("json");
        var (taskId, _) = await Publisher.PublishTokensAsync(exec, 3, complete: false);
        await using var tail = CliRun.Start("tail", exec, "--json", "--count", "10", "--url", fixture.Url);

        // History first (1..4), then live events published while the tool is already reading.
        await tail.Out.WaitForLineCountAsync(4);
        await Publisher.AppendAsync(taskId, 5);
        await Publisher.CompleteAsync(taskId);

        Assert.Equal(0, await tail.ExitCodeAsync());
        var lines = tail.Out.Lines;
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), lines.Select(BrokerSequence));
        using var response = await SseClient.OpenAsync(fixture.Server.Http, $"v1/workflows/events/stream?workflow_exec_id={exec}");
        var sent = await SseClient.ReadAsync(response).TakeAsync(10);
        Assert.Equal(sent.Select(r => r.Data), lines);
        Assert.Empty(tail.Error.Lines);
    }

    [Fact]
    public async Task From_K_starts_at_K_inclusive()
    {
        var exec = Publisher.NewExecId("from");
        await Publisher.PublishTokensAsync(exec, 8);

        var json = await CliRun.RunAsync("tail", exec, "--from", "4", "--json", "--count", "7", "--url", fixture.Url);
        var pretty = await CliRun.RunAsync("tail", exec, "--from", "10", "--count", "1", "--url", fixture.Url);

        Assert.Equal(0, await json.Exit);
        Assert.Equal([4L, 5, 6, 7, 8, 9, 10], json.Out.Lines.Select(BrokerSequence));
        Assert.Equal(0, await pretty.Exit);
        Assert.Equal("10", Assert.Single(pretty.Out.Lines).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
    }

    [Fact]
    public async Task From_live_prints_only_events_after_the_current_head()
    {
        var exec = Publisher.NewExecId("live");
        var (taskId, _) = await Publisher.PublishTokensAsync(exec, 4, complete: false);
        await using var tail = CliRun.Start("tail", exec, "--from", "live", "--json", "--count", "2", "--url", fixture.Url);

        await tail.Error.WaitForLineAsync($"following {exec} live, from 6");
        await Publisher.AppendAsync(taskId, 2);

        Assert.Equal(0, await tail.ExitCodeAsync());
        Assert.Equal([6L, 7], tail.Out.Lines.Select(BrokerSequence));
    }

    [Fact]
    public async Task Pretty_output_shows_the_token_text_each_update_adds_a_progress_tasks_i_of_n_and_a_failure_message()
    {
        var exec = Publisher.NewExecId("pretty");
        var (token, _) = await Publisher.StartAsync(exec, "token", new { tokens = Array.Empty<string>() });                 // 1
        string[] hel = ["Hel"];
        string[] hello = ["Hel", "lo"];
        await Publisher.UpdateAsync(token, new { tokens = hel });                                                         // 2
        await Publisher.UpdateAsync(token, new { tokens = hello });                                                       // 3
        await Publisher.PatchAsync(token, new { op = "add", path = "/tokens/-", value = " world" });                       // 4
        var (progress, _) = await Publisher.StartAsync(exec, "progress", new { processed_words = Array.Empty<string>(), progress_idx = 0, progress_total = 3 }); // 5
        string[] words = ["alpha", "beta", "gamma"];
        for (var i = 1; i <= 3; i++)
        {
            await Publisher.UpdateAsync(progress, new { processed_words = words[..i], progress_idx = i, progress_total = 3 }); // 6..8
        }

        await Publisher.CompleteAsync(progress);                                                                          // 9
        await Publisher.CompleteAsync(token);                                                                             // 10
        var (search, _) = await Publisher.StartAsync(exec, "search", new { query = "q" });                                 // 11
        await Publisher.FailAsync(search, "search backend unavailable");                                                  // 12

        var tail = await CliRun.RunAsync("tail", exec, "--count", "12", "--url", fixture.Url);

        Assert.Equal(0, await tail.Exit);
        var lines = tail.Out.Lines;
        Assert.Equal(12, lines.Count);
        Assert.All(lines.Select((line, i) => (line, i)), x => Assert.Equal((x.i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Fields(x.line)[0]));
        Assert.Equal(["token", "CUSTOM_TASK_STARTED", token], Fields(lines[0])[2..5]);
        Assert.EndsWith("+\"Hel\"", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("+\"lo\"", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("+\" world\"", lines[3], StringComparison.Ordinal);
        Assert.Equal(["progress", "CUSTOM_TASK_STARTED", progress, "0/3"], Fields(lines[4])[2..]);
        Assert.Equal(["1/3", "2/3", "3/3", "3/3"], lines.Skip(5).Take(4).Select(l => Fields(l)[^1]));
        Assert.Equal(["token", "CUSTOM_TASK_COMPLETED", token], Fields(lines[9])[2..5]);
        Assert.EndsWith("\"Hello world\"", lines[9], StringComparison.Ordinal);
        Assert.Contains("CUSTOM_TASK_FAILED", lines[11], StringComparison.Ordinal);
        Assert.EndsWith("failed: search backend unavailable", lines[11], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_ends_a_tail_cleanly_with_exit_0()
    {
        var exec = Publisher.NewExecId("ctrlc");
        await Publisher.PublishTokensAsync(exec, 1, complete: false);
        await using var tail = CliRun.Start("tail", exec, "--url", fixture.Url);
        await tail.Out.WaitForLineCountAsync(2);

        tail.Interrupt();

        Assert.Equal(0, await tail.ExitCodeAsync());
    }

    [Fact]
    public async Task A_refused_request_prints_the_problem_and_exits_2()
    {
        var tail = await CliRun.RunAsync("tail", "bad id!", "--url", fixture.Url);

        Assert.Equal(ExitCodes.Refused, await tail.Exit);
        Assert.Contains("400", tail.Error.Text, StringComparison.Ordinal);
        Assert.Contains("workflow_exec_id", tail.Error.Text, StringComparison.Ordinal);
        Assert.Empty(tail.Out.Lines);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_reported_at_once_with_exit_1()
    {
        var tail = await CliRun.RunAsync("tail", "x", "--url", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(ExitCodes.Failure, await tail.Exit);
        Assert.Contains("cannot reach", tail.Error.Text, StringComparison.Ordinal);
    }

    internal static long BrokerSequence(string line) => JsonDocument.Parse(line).RootElement.GetProperty("broker_sequence").GetInt64();

    private static string[] Fields(string line) => line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
