using System.Text.Json;
using StreamingEvents.Cli.Tests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests;

/// <summary><c>se tail</c> across a restart of the service.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Tail_resumes_by_itself_after_the_server_restarts_and_prints_every_sequence_exactly_once_in_order()
    {
        // The server's retry hint (200 ms) is what the tool waits before its first reconnect.
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?> { ["StreamingEvents:Http:ReconnectDelay"] = "00:00:00.200" });
        var publisher = new Publisher(server.Http);
        var exec = Publisher.NewExecId("restart");
        var (taskId, _) = await publisher.PublishTokensAsync(exec, 5, complete: false);   // 1..6
        await using var tail = CliRun.Start("tail", exec, "--json", "--count", "12", "--url", server.BaseAddress.ToString());
        await tail.Out.WaitForLineCountAsync(6);

        await server.StopAsync();
        await tail.Error.WaitForLineAsync("connection lost");
        await server.StartAgainAsync();
        await publisher.AppendAsync(taskId, 5);                                            // 7..11
        await publisher.CompleteAsync(taskId);                                             // 12

        Assert.Equal(0, await tail.ExitCodeAsync());
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), tail.Out.Lines.Select(TailTests.BrokerSequence));
        Assert.Contains("reconnected, resuming from 7", tail.Error.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("duplicate", tail.Error.Text, StringComparison.Ordinal);
        Assert.All(tail.Out.Lines, line => JsonDocument.Parse(line).Dispose());
    }
}
