using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W8 replay from start_seq = 0: one stream of 100,000 × 100 B events and one of 1,000 × 10 KB, read by a subscriber
/// from the start to the terminal event. Ours cold (right after every silo process and the client were restarted) and
/// warm (read again), through the .NET SDK and over HTTP (the frontend's SSE, <c>event_source=DATABASE</c>); Redis warm (XREAD COUNT 1000 from 0-0); raw PostgreSQL as the ceiling (one ordered SELECT).
/// Populating the streams also measures one stream's pipelined publish rate.
/// </summary>
internal sealed class ReplayWorkload : IWorkload
{
    /// <summary>Warm replays take a fraction of a second each: three of them, median reported.</summary>
    private const int WarmRepeats = 3;

    public string Id => "W8";

    public string Title => "W8 replay from start_seq = 0: 100k × 100 B and 1k × 10 KB";

    public async Task RunAsync(BenchContext context)
    {
        var workload = context.Report.Workload(Id, Title,
            "A subscriber from 0 reads history to the terminal event. Cold = after restarting the silo process and the client (PostgreSQL's caches stay warm).");
        workload.Columns = ["events", "events_per_s", "mb_per_s", "seconds", "populate_events_per_s", ReportColumns.Cpu, ReportColumns.Correctness];
        workload.Notes.Add("MB/s counts what the subscriber receives: the rendered envelope JSON for ours (≈ 8× a 100 B payload), the stored field value for Redis and PostgreSQL.");
        workload.Notes.Add("populate = one publisher pipelining the whole stream (at most 2,000 publishes in flight): a single stream's maximum publish rate.");
        var streams = new (string Name, int Events, int Bytes)[] { ("100k x 100 B", context.Profile.W8Events, 100), ("1k x 10 KB", 1_000, 10_000) };

        // Ours, D2, through the SDK.
        var ours = context.OursD2;
        await OursColdAndWarmAsync(context, workload, ours, streams, "the silo", (stream, sink, cancellationToken) => ours.SubscribeAsync(stream, 0, sink, cancellationToken));

        // Ours over HTTP: the frontend (with its co-hosted silo) serving the execution route's history as SSE.
        var frontend = await context.FrontendAsync();
        await OursColdAndWarmAsync(context, workload, frontend, streams, "the frontend", frontend.ReplayOverHttpAsync);
        await context.StopFrontendAsync();

        // Redis, warm.
        var redis = context.RedisAlways;
        foreach (var (label, events, bytes) in streams)
        {
            context.Status.Begin(Id, redis.Label, $"replay {label}");
            var (stream, rate) = await PopulateAsync(redis, events, bytes);
            for (var repeat = 0; repeat < WarmRepeats; repeat++)
            {
                var figures = await ReplayAsync(redis, events, (sink, cancellationToken) => redis.SubscribeAsync(stream, 0, sink, cancellationToken));
                figures["populate_events_per_s"] = rate;
                context.Record(workload, redis.Label, "D2", figures, $"{label} warm");
            }
        }

        await redis.ResetAsync();

        // Raw PostgreSQL: COPY in, one ordered SELECT out.
        var raw = context.RawD2;
        foreach (var (label, events, bytes) in streams)
        {
            context.Status.Begin(Id, raw.Label, $"replay {label}");
            var payloads = new PayloadFactory(bytes);
            var id = raw.NewStreamId();
            var started = Clock.Now;
            for (var first = 1; first <= events; first += 10_000)
            {
                var count = Math.Min(10_000, events - first + 1);
                await raw.WriteAsync(id, first, [.. Enumerable.Range(first, count).Select(n => PayloadFactory.Serialize(payloads.State(n)))], RawWriteMode.Copy, CancellationToken.None);
            }

            var populate = events / Clock.Seconds(Clock.Now - started);
            for (var repeat = 0; repeat < WarmRepeats; repeat++)
            {
                var probe = await WindowProbe.StartAsync(raw);
                started = Clock.Now;
                var (read, readBytes) = await raw.ReplayAsync(id, 0, CancellationToken.None);
                var seconds = Clock.Seconds(Clock.Now - started);
                var figures = new Dictionary<string, double>
                {
                    ["events"] = read,
                    ["events_per_s"] = read / seconds,
                    ["mb_per_s"] = readBytes / seconds / 1e6,
                    ["seconds"] = seconds,
                    ["populate_events_per_s"] = populate,
                    ["gaps"] = events - read,
                };
                (await probe.EndAsync()).AddFigures(figures, read);
                context.Record(workload, raw.Label, "D2", figures, $"{label} warm");
            }
        }

        await raw.ResetAsync();
    }

    /// <summary>Populates each stream, restarts every process of <paramref name="system"/>, then replays cold once and warm.</summary>
    private async Task OursColdAndWarmAsync(BenchContext context, WorkloadReport workload, StreamingEventsSystem system,
        (string Name, int Events, int Bytes)[] streams, string processes, Func<string, ISubscriberSink, CancellationToken, Task> replay)
    {
        var names = new Dictionary<string, (string Stream, double PopulateRate)>();
        foreach (var (label, events, bytes) in streams)
        {
            context.Status.Begin(Id, system.Label, $"populating {label}");
            names[label] = await PopulateAsync(system, events, bytes);
        }

        context.Status.Begin(Id, system.Label, $"restarting {processes} (cold)");
        await system.RestartAsync();
        foreach (var (temperature, repeats) in new[] { ("cold", 1), ("warm", WarmRepeats) })
        {
            for (var repeat = 0; repeat < repeats; repeat++)
            {
                foreach (var (label, events, _) in streams)
                {
                    context.Status.Begin(Id, system.Label, $"replay {label} {temperature}");
                    var stream = names[label].Stream;
                    var figures = await ReplayAsync(system, events, (sink, cancellationToken) => replay(stream, sink, cancellationToken));
                    figures["populate_events_per_s"] = names[label].PopulateRate;
                    context.Record(workload, system.Label, "D2", figures, $"{label} {temperature}");
                }
            }
        }
    }

    /// <summary>Opens a stream and publishes events 2..n-1 pipelined, then the terminal event n.</summary>
    private static async Task<(string Stream, double Rate)> PopulateAsync(IEventSystem system, int events, int bytes)
    {
        var payloads = new PayloadFactory(bytes);
        var name = "r" + Guid.NewGuid().ToString("N")[..10];
        var started = Clock.Now;
        var publisher = await system.OpenAsync(name, payloads.State(0), CancellationToken.None);
        await OpenLoopEngine.PrefillAsync(publisher, events - 2, payloads);
        await publisher.CompleteAsync(payloads.State(events));
        return (name, events / Clock.Seconds(Clock.Now - started));
    }

    private static async Task<Dictionary<string, double>> ReplayAsync(IEventSystem system, int expected, Func<ISubscriberSink, CancellationToken, Task> replay)
    {
        var sink = new CountingSink();
        var probe = await WindowProbe.StartAsync(system);
        var started = Clock.Now;
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await replay(sink, bound.Token);
        var seconds = Clock.Seconds(Clock.Now - started);
        var window = await probe.EndAsync();
        var figures = new Dictionary<string, double>
        {
            ["events"] = sink.Checker.Delivered,
            ["events_per_s"] = sink.Checker.Delivered / seconds,
            ["mb_per_s"] = sink.Bytes / seconds / 1e6,
            ["seconds"] = seconds,
            ["gaps"] = sink.Checker.Gaps + Math.Max(0, expected - (sink.Checker.Next - 1)),
            ["duplicates"] = sink.Checker.Duplicates,
            ["out_of_order"] = sink.Checker.OutOfOrder,
        };
        window.AddFigures(figures, sink.Checker.Delivered);
        return figures;
    }

    private sealed class CountingSink : ISubscriberSink
    {
        public SequenceChecker Checker { get; } = new(1);

        public long Bytes { get; private set; }

        public bool OnEvent(long sequence, int bytes, bool terminal)
        {
            Checker.Observe(sequence);
            Bytes += bytes;
            return true;
        }
    }
}
