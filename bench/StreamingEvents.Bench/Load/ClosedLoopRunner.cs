using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Load;

/// <summary>
/// Closed-loop maximum rate: <c>publishers</c> publishers, each on its own stream, each awaiting every acknowledgement
/// before sending the next (as redis-benchmark's clients do). The latency is per acknowledgement (a service time, not
/// an open-loop latency); the rate is what the system sustains with that many requests in flight.
/// </summary>
internal static class ClosedLoopRunner
{
    public static async Task<Dictionary<string, double>> RunAsync(IEventSystem system, int publishers, int payloadBytes, TimeSpan warmUp, TimeSpan measure,
        RunStatus status, List<string> errors)
    {
        var payloads = new PayloadFactory(payloadBytes);
        var runId = "c" + Guid.NewGuid().ToString("N")[..10];
        status.Phase = "setup";
        var streams = new IStreamPublisher[publishers];
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(Enumerable.Range(0, publishers).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    streams[i] = await system.OpenAsync($"{runId}-{i}", payloads.State(0), CancellationToken.None);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var histogram = new LatencyHistogram();
        var start = Clock.Now;
        var windowStart = start + Clock.Ticks(warmUp);
        var windowEnd = windowStart + Clock.Ticks(measure);
        long acked = 0, failures = 0, mismatches = 0, sent = 0;
        status.Phase = "warm-up";
        var probeTask = Task.Run(async () =>
        {
            await Clock.DelayUntilAsync(windowStart);
            status.Phase = "measuring";
            return await WindowProbe.StartAsync(system);
        });
        await Task.WhenAll(streams.Select(async (publisher, i) =>
        {
            await Task.Yield();
            long n = 1;
            while (true)
            {
                var before = Clock.Now;
                if (before >= windowEnd)
                {
                    return;
                }

                var expected = publisher.NextSequence;
                try
                {
                    var sequence = await publisher.PublishAsync(payloads.State(n++));
                    var after = Clock.Now;
                    if (sequence != expected)
                    {
                        Interlocked.Increment(ref mismatches);
                    }

                    if (before >= windowStart)
                    {
                        histogram.RecordTicks(after - before);
                        if (after <= windowEnd)
                        {
                            Interlocked.Increment(ref acked);
                        }
                    }

                    status.Update(Interlocked.Increment(ref sent), Interlocked.Read(ref acked), 0);
                }
                catch (Exception exception)
                {
                    if (Interlocked.Increment(ref failures) <= 5)
                    {
                        lock (errors)
                        {
                            errors.Add($"publish to stream {i}: {exception.GetBaseException().Message}");
                        }
                    }

                    if (failures > 1000)
                    {
                        return;
                    }
                }
            }
        }));
        var probe = await probeTask;
        var window = await probe.EndAsync();
        var figures = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["publishers"] = publishers,
            ["achieved_rate"] = acked / measure.TotalSeconds,
            ["achieved_mb_per_s"] = acked * (double)payloadBytes / measure.TotalSeconds / 1e6,
            ["publish_errors"] = failures,
            ["ack_mismatches"] = mismatches,
            ["gaps"] = 0,
            ["duplicates"] = 0,
            ["out_of_order"] = 0,
        };
        LoadResult.AddLatency(figures, "ack", histogram.Summarize());
        window.AddFigures(figures, acked);
        foreach (var publisher in streams)
        {
            try
            {
                await publisher.CompleteAsync(payloads.State(0)).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception exception)
            {
                errors.Add("terminal event: " + exception.GetBaseException().Message);
                break;
            }
        }

        return figures;
    }
}
