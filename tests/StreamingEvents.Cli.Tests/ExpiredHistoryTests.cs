using System.Text.Json;
using StreamingEvents.Cli.Tests.Infrastructure;

namespace StreamingEvents.Cli.Tests;

/// <summary><c>se tail</c> on an execution whose history retention removed.</summary>
public sealed class ExpiredHistoryTests(SmallRetentionServer fixture) : IClassFixture<SmallRetentionServer>
{
    [Fact]
    public async Task From_1_on_expired_history_exits_2_with_the_410_detail_and_the_oldest_available()
    {
        var exec = Publisher.NewExecId("expired");
        await fixture.Publisher.PublishTokensAsync(exec, 18);
        var oldest = await fixture.Publisher.OldestRetainedAfterTrimAsync(exec, SmallRetentionServer.MaxEvents);
        Assert.InRange(oldest, 20 - SmallRetentionServer.MaxEvents + 1, 20);
        var detail = await ProblemDetailAsync($"v1/workflows/events/stream?workflow_exec_id={exec}&start_seq=1");

        var tail = await CliRun.RunAsync("tail", exec, "--from", "1", "--url", fixture.Url);

        Assert.Equal(ExitCodes.Refused, await tail.Exit);
        Assert.Empty(tail.Out.Lines);
        Assert.Contains("410", tail.Error.Text, StringComparison.Ordinal);
        Assert.Contains("position_expired", tail.Error.Text, StringComparison.Ordinal);
        Assert.Contains(detail, tail.Error.Text, StringComparison.Ordinal);
        Assert.Contains($"the oldest available event is {oldest}", tail.Error.Text, StringComparison.Ordinal);
        Assert.Contains($"--from {oldest}", tail.Error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task From_0_prints_everything_retained()
    {
        var exec = Publisher.NewExecId("retained");
        await fixture.Publisher.PublishTokensAsync(exec, 18);
        var oldest = await fixture.Publisher.OldestRetainedAfterTrimAsync(exec, SmallRetentionServer.MaxEvents);

        var tail = await CliRun.RunAsync("tail", exec, "--json", "--until-complete", "--url", fixture.Url);

        Assert.Equal(0, await tail.Exit);
        Assert.Equal(Enumerable.Range((int)oldest, (int)(20 - oldest + 1)).Select(i => (long)i), tail.Out.Lines.Select(TailTests.BrokerSequence));
    }

    private async Task<string> ProblemDetailAsync(string pathAndQuery)
    {
        using var response = await fixture.Server.Http.GetAsync(pathAndQuery);
        Assert.Equal(System.Net.HttpStatusCode.Gone, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }
}
