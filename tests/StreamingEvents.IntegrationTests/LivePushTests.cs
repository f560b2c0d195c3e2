using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.LivePush;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>
/// The live push wakes its pulling agent when a batch is queued. Here the agent's timer runs every 5 s and subscribers
/// never probe the stream's head: polled, an event would wait 2.5 s on average for the timer, and only about one in five
/// would arrive within a second. Orleans' agent pauses its reads once, on the timer, after a new stream registers; the
/// test allows for that one wait.
/// </summary>
public sealed class LivePushTests(LivePushTests.SignalledFixture fixture) : IClassFixture<LivePushTests.SignalledFixture>
{
    private static readonly TimeSpan WellUnderTheTimer = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Live_events_reach_a_subscriber_without_waiting_for_the_agents_timer()
    {
        var streams = fixture.Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("token", new Tokens([]));
        await using var subscriber = new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.Start, cancellationToken: ct));

        await subscriber.WaitForCountAsync(1);

        var prompt = 0;
        for (var i = 0; i < 20; i++)
        {
            var sequence = await task.UpdateStateAsync(new Tokens([$"t{i}"]));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            var received = await subscriber.WaitForCountAsync(2 + i);
            Assert.Equal(sequence, received[^1].BrokerSequence);
            prompt += waited.Elapsed < WellUnderTheTimer ? 1 : 0;
        }

        Assert.True(prompt >= 18, $"{prompt} of 20 live events arrived within {WellUnderTheTimer}.");
    }

    public sealed class SignalledFixture : ClusterFixture
    {
        protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new SqliteBackend());

        protected override void ConfigureSilo(ISiloBuilder silo) =>
            silo.Services.Configure<LivePushOptions>(StreamingEventsNames.StreamProvider, push =>
            {
                push.RestartPeriod = TimeSpan.FromSeconds(5);
                push.IdleWait = TimeSpan.FromMinutes(10);
            });

        protected override void ConfigureClient(StreamingEventsClientOptions options) => options.IdleProbeInterval = TimeSpan.FromMinutes(10);
    }

    private sealed record Tokens(string[] Items);
}
