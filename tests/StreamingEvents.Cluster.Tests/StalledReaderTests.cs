using System.Globalization;
using System.Net;
using StreamingEvents.Testing;
using Xunit.Abstractions;

namespace StreamingEvents.Cluster.Tests;

/// <summary>
/// Readers that stop reading while an execution publishes 80 MB (400 events of 200 KB): five SSE clients of a frontend
/// process (their sockets' receive buffers are tiny and they never read) and five .NET subscriptions in this process
/// (they hold their enumerators and ask for nothing). What each buffers for them is bounded in bytes
/// (<c>SubscriptionBufferBytes</c>, 8 MiB by default); past it a subscription drops its buffer and later catches up from
/// storage. So this process's heap holds at most the bound per subscription, not the 80 MB each, and the frontend's
/// resident memory stays well under 400 MB of growth;
/// a reading client on the same execution gets every event in order meanwhile, and the stalled ones, reading again, get
/// every event too.
/// </summary>
public sealed class StalledReaderTests(ITestOutputHelper output)
{
    private const int Updates = 400;
    private const int PayloadBytes = 200 * 1000;
    private const int StalledPerKind = 5;
    private const long BufferBytes = 8L * 1024 * 1024;   // the default of StreamingEventsClientOptions.SubscriptionBufferBytes
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public Task Ten_readers_stalled_through_80_MB_cost_about_their_byte_bound_and_get_every_event_when_they_read_again() =>
        ProcessCluster.RunAsync(silos: 1, output, RunAsync);

    private async Task RunAsync(ProcessCluster cluster)
    {
        var (frontend, address) = await cluster.StartFrontendAsync("frontend", "--StreamingEvents:Http:HeartbeatInterval=00:00:01");
        var context = new WorkflowContext(WorkflowExecId: "stalled-" + Guid.NewGuid().ToString("N")[..12], WorkflowName: "stalled");
        var streams = cluster.Client.ForExecution(context);
        var task = await streams.StartTaskAsync("token", string.Empty);
        var path = $"v1/workflows/executions/{context.WorkflowExecId}/stream";
        const long head = Updates + 1;

        // Every reader takes the first event, so each is attached before anything large is published.
        using var stalledHttp = new HttpClient(new SocketsHttpHandler { ConnectCallback = SlowReaderSockets.ConnectWithTinyReceiveBufferAsync })
        {
            BaseAddress = address,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var stalledSse = new List<(HttpResponseMessage Response, IAsyncEnumerator<SseRecord> Records)>();
        var stalledSdk = new List<IAsyncEnumerator<StreamEvent>>();
        using var stop = new CancellationTokenSource(4 * Bound);
        try
        {
            for (var i = 0; i < StalledPerKind; i++)
            {
                var response = await SseClient.OpenAsync(stalledHttp, path).WaitAsync(Bound);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var records = SseClient.ReadAsync(response, stop.Token).GetAsyncEnumerator(stop.Token);
                stalledSse.Add((response, records));
                Assert.Equal(1, await NextIdAsync(records));

                var events = streams.SubscribeAsync(StreamPosition.Start, cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);
                stalledSdk.Add(events);
                Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Bound));
                Assert.Equal(1, events.Current.BrokerSequence);
            }

            using var readerHttp = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
            using var readerResponse = await SseClient.OpenAsync(readerHttp, path).WaitAsync(Bound);
            var reading = ReadIdsAsync(SseClient.ReadAsync(readerResponse, stop.Token).GetAsyncEnumerator(stop.Token), 1, head);

            var rssBefore = ResidentBytes(frontend.Id);
            var heapBefore = LiveHeapBytes();
            using var sampling = new CancellationTokenSource();
            var peakRss = SamplePeakAsync(() => ResidentBytes(frontend.Id), sampling.Token);

            // 80 MB in 400 events of 200 KB, eight in flight at a time.
            var chunk = new string('x', PayloadBytes);
            var pending = new List<Task<long>>();
            for (var i = 1; i <= Updates; i++)
            {
                pending.Add(task.UpdateStateAsync(i.ToString(CultureInfo.InvariantCulture) + chunk));
                if (pending.Count == 8)
                {
                    await Task.WhenAll(pending).WaitAsync(Bound);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending).WaitAsync(Bound);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), await reading.WaitAsync(Bound));

            var heapStalled = LiveHeapBytes();
            await sampling.CancelAsync();
            var rssGrowth = await peakRss - rssBefore;

            // Reading again, each gets every event in order (caught up from storage).
            foreach (var (_, records) in stalledSse)
            {
                Assert.Equal(Enumerable.Range(2, Updates).Select(i => (long)i), await ReadIdsAsync(records, 2, head).WaitAsync(Bound));
            }

            foreach (var events in stalledSdk)
            {
                for (var next = 2L; next <= head; next++)
                {
                    Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Bound), "The stalled subscription ended.");
                    Assert.Equal(next, events.Current.BrokerSequence);
                }
            }

            // What the stalled subscriptions held: this process's live heap while they were stalled, less the same once
            // they have caught up (open, at the head, nothing buffered). Each holds its own copies of what was pushed to
            // it, at most its bound (33–50 MB for the five, measured, with what else the heap holds varying by a few MB):
            // without the byte bound, all 80 MB each (396 MB for the five).
            var held = heapStalled - LiveHeapBytes();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Updates} events of {PayloadBytes / 1000} KB published past {StalledPerKind} stalled SSE clients and {StalledPerKind} stalled SDK subscriptions: " +
                $"the frontend's resident memory grew by {rssGrowth / 1e6:F0} MB at its peak ({rssBefore / 1e6:F0} MB before, this process's heap grew by {(heapStalled - heapBefore) / 1e6:F0} MB); " +
                $"the stalled SDK subscriptions held {held / 1e6:F1} MB (bound {BufferBytes / 1e6:F1} MB each)."));
            Assert.True(held < StalledPerKind * BufferBytes + 32_000_000, $"The stalled subscriptions held {held / 1e6:F1} MB.");

            // The frontend's SSE subscriptions take their events from its co-hosted silo, unserialized and shared: what the
            // stalled ones hold is one bound's worth, the rest is what publishing 80 MB through it churns (about 220–250 MB
            // at the peak, measured, with or without the byte bound).
            Assert.True(rssGrowth < 400_000_000, $"The frontend grew by {rssGrowth / 1e6:F0} MB.");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (response, records) in stalledSse)
            {
                await records.DisposeAsync();
                response.Dispose();
            }

            foreach (var events in stalledSdk)
            {
                await events.DisposeAsync();
            }
        }

        await task.DisposeAsync();
    }

    private static async Task<long> NextIdAsync(IAsyncEnumerator<SseRecord> records)
    {
        while (await records.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            var record = records.Current;
            Assert.NotEqual("error", record.Event);
            if (record.Id is not null)
            {
                return long.Parse(record.Id, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("The stream ended.");
    }

    private static async Task<List<long>> ReadIdsAsync(IAsyncEnumerator<SseRecord> records, long first, long last)
    {
        var ids = new List<long>();
        for (var expected = first; expected <= last; expected++)
        {
            ids.Add(await NextIdAsync(records));
        }

        return ids;
    }

    /// <summary>The largest value <paramref name="sample"/> gives every 50 ms until canceled.</summary>
    private static async Task<long> SamplePeakAsync(Func<long> sample, CancellationToken cancellationToken)
    {
        var peak = sample();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                peak = Math.Max(peak, sample());
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Sampling ends when the measured part does.
        }

        return Math.Max(peak, sample());
    }

    /// <summary>A process's resident set (VmRSS in /proc/&lt;pid&gt;/status).</summary>
    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>This process's live managed heap after a full, compacting collection.</summary>
    private static long LiveHeapBytes()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
