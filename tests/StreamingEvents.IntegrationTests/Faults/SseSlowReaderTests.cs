using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Testing;
using Xunit.Abstractions;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// Over HTTP: an SSE client that stops reading (its socket receive buffer is tiny and it never reads) next to one that
/// reads. The server's writes to the stalled client block; nothing of that may reach the reading client, and the stalled
/// one, once it reads, gets its exact sequence. (A stalled reader that falls behind retention gets an
/// <c>event: error</c> record instead: tests/StreamingEvents.Frontend.Tests/SseHygieneTests.cs covers that.)
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class SseSlowReaderTests(ITestOutputHelper output)
{
    private const int Updates = 400;
    private const int PayloadBytes = 64 * 1024;

    [Fact]
    public async Task An_sse_client_that_stops_reading_does_not_delay_another_and_gets_the_exact_sequence_when_it_reads_again()
    {
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Client:SubscriptionBufferEvents"] = "16",
            ["StreamingEvents:Http:HeartbeatInterval"] = "00:00:01",
        });
        using var metrics = new MetricsProbe(server.Services);
        var client = server.Services.GetRequiredService<IStreamingEventsClient>();
        var context = new WorkflowContext(WorkflowExecId: "sse-stall-" + Guid.NewGuid().ToString("N")[..12], WorkflowName: "sse-stall");
        var path = $"v1/workflows/executions/{context.WorkflowExecId}/stream";
        var task = await client.StartTaskAsync(context, "token", string.Empty);

        using var stalledHttp = new HttpClient(new SocketsHttpHandler { ConnectCallback = SlowReaderSockets.ConnectWithTinyReceiveBufferAsync }) { BaseAddress = server.BaseAddress };
        using var stalled = await SseClient.OpenAsync(stalledHttp, path);
        Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);

        using var readerHttp = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var readerResponse = await SseClient.OpenAsync(readerHttp, path);
        var arrivals = new ConcurrentDictionary<long, long>();
        var head = (long)Updates + 1;
        using var readerStop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var reading = ReadIdsAsync(readerResponse, head, (id, _) => arrivals[id] = Stopwatch.GetTimestamp(), readerStop.Token);

        // 400 events of 64 KiB (25 MiB): far more than the stalled client's socket and the server's send buffers hold.
        var acks = new ConcurrentDictionary<long, long>();
        var started = Stopwatch.GetTimestamp();
        var chunk = new string('x', PayloadBytes);
        var pending = new List<Task>();
        for (var i = 1; i <= Updates; i++)
        {
            pending.Add(Track(task.UpdateStateAsync(i.ToString(CultureInfo.InvariantCulture) + chunk)));
            if (pending.Count == 8)
            {
                await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(60));
                pending.Clear();
            }
        }

        await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(60));
        var published = Stopwatch.GetElapsedTime(started);
        var received = await reading.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), received);
        var lags = acks.Select(a => Stopwatch.GetElapsedTime(a.Value, arrivals[a.Key]).TotalMilliseconds).Order().ToList();
        output.WriteLine($"{Updates} events of {PayloadBytes / 1024} KiB published in {published.TotalMilliseconds:F0} ms; the reading client got each " +
            $"{lags[lags.Count / 2]:F0} ms (p50), {lags[(int)(lags.Count * 0.99)]:F0} ms (p99), {lags[^1]:F0} ms (max) after its acknowledgement.");
        Assert.True(lags[^1] < 20_000, $"The reading client got an event {lags[^1]:F0} ms after its acknowledgement.");

        // Now the stalled client reads: the exact sequence from 1, caught up from storage by the server.
        var catchUpsBefore = metrics.Sum("streaming_events.subscription.catch_ups");
        using var stalledStop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var resumed = await ReadIdsAsync(stalled, head, (_, _) => { }, stalledStop.Token).WaitAsync(TimeSpan.FromSeconds(120));
        var catchUps = metrics.Sum("streaming_events.subscription.catch_ups") - catchUpsBefore;
        output.WriteLine($"The stalled client, reading again, got 1..{resumed[^1]} exactly; the server read storage {catchUps} times for it meanwhile.");
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), resumed);
        Assert.True(catchUps >= 1, "The stalled client's subscription never had to catch up from storage: it was not stalled.");

        async Task Track(Task<long> update)
        {
            var sequence = await update;
            acks[sequence] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Reads record ids until <paramref name="last"/>; an <c>event: error</c> record fails with its data.</summary>
    private static async Task<List<long>> ReadIdsAsync(HttpResponseMessage response, long last, Action<long, SseRecord> onRecord, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        await foreach (var record in SseClient.ReadAsync(response, cancellationToken))
        {
            if (record.Event == "error")
            {
                throw new InvalidOperationException($"The stream sent an error record after {ids.LastOrDefault()}: {record.Data}");
            }

            var id = long.Parse(record.Id!, CultureInfo.InvariantCulture);
            ids.Add(id);
            onRecord(id, record);
            if (id >= last)
            {
                return ids;
            }
        }

        throw new InvalidOperationException($"The stream ended after {ids.LastOrDefault()}.");
    }
}
