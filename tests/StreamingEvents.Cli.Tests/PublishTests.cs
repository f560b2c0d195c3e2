using System.Globalization;
using StreamingEvents.Cli.Commands;
using StreamingEvents.Cli.Tests.Infrastructure;

namespace StreamingEvents.Cli.Tests;

/// <summary><c>se publish</c> and <c>se streams</c> against the real frontend.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class PublishTests(SharedServer fixture)
{
    [Fact]
    public async Task Publish_creates_a_task_whose_events_tail_until_complete_shows_ending_with_completed_and_the_final_text()
    {
        var exec = Publisher.NewExecId("publish");
        await using var tail = CliRun.Start("tail", exec, "--until-complete", "--url", fixture.Url);

        var publish = await CliRun.RunAsync("publish", "--exec", exec, "--tokens", "5", "--rate", "100", "--url", fixture.Url);

        Assert.Equal(0, await publish.Exit);
        Assert.Equal(0, await tail.ExitCodeAsync());
        Assert.Equal($"workflow_exec_id {exec}", publish.Out.Lines[0]);
        Assert.StartsWith("task_id ", publish.Out.Lines[1], StringComparison.Ordinal);
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7"], publish.Out.Lines.Skip(2).Select(l => l.Split(' ')[0]));
        var lines = tail.Out.Lines;
        Assert.Equal(7, lines.Count);
        Assert.Contains("CUSTOM_TASK_COMPLETED", lines[^1], StringComparison.Ordinal);
        Assert.EndsWith(JsonRead.Quote(PublishCommand.Text(5)), lines[^1], StringComparison.Ordinal);
        Assert.EndsWith("+" + JsonRead.Quote(PublishCommand.Token(5)), lines[^2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_without_an_exec_id_generates_one_and_a_progress_task_counts_to_its_total()
    {
        var publish = await CliRun.RunAsync("publish", "--type", "progress", "--tokens", "3", "--rate", "0", "--url", fixture.Url);
        Assert.Equal(0, await publish.Exit);
        var exec = publish.Out.Lines[0]["workflow_exec_id ".Length..];

        var tail = await CliRun.RunAsync("tail", exec, "--until-complete", "--url", fixture.Url);

        Assert.Equal(0, await tail.Exit);
        Assert.Equal(["0/3", "1/3", "2/3", "3/3", "3/3"], tail.Out.Lines.Select(l => l.Split(' ')[^1]));
    }

    [Fact]
    public async Task A_refused_publish_prints_the_problem_and_exits_2()
    {
        var publish = await CliRun.RunAsync("publish", "--exec", "bad id!", "--url", fixture.Url);

        Assert.Equal(ExitCodes.Refused, await publish.Exit);
        Assert.Contains("400", publish.Error.Text, StringComparison.Ordinal);
        Assert.Contains("workflow_exec_id", publish.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streams_lists_recent_executions_with_head_oldest_and_tasks_from_the_url_in_the_environment()
    {
        var exec = Publisher.NewExecId("streams");
        var (_, sequences) = await fixture.Publisher.PublishTokensAsync(exec, 2);

        await using var streams = CliRun.Start(new Dictionary<string, string> { [CliContext.UrlVariable] = fixture.Url }, "streams");

        Assert.Equal(0, await streams.ExitCodeAsync());
        var row = Assert.Single(streams.Out.Lines, l => l.Contains(exec, StringComparison.Ordinal));
        var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([exec, "workflow", sequences[^1].ToString(CultureInfo.InvariantCulture), "1", "0/1"], cells[..5]);
        Assert.StartsWith("EXEC ID", streams.Out.Lines[0], StringComparison.Ordinal);
    }
}
