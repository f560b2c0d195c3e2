using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W7 reconnect storm: streams with history are published at 20 events/s each while 1,000 subscribers follow them;
/// all 1,000 drop at once and resume — 90 % from their last sequence + 1, 10 % from 0 (the whole history). Measured:
/// the time until every one has caught up with the head as it was when they resumed, and the live publish→ack and
/// publish→deliver (one undisturbed observer per stream) before and during the storm.
/// </summary>
internal sealed class ReconnectWorkload : IWorkload
{
    private static readonly TimeSpan Baseline = TimeSpan.FromSeconds(2);

    public string Id => "W7";

    public string Title => "W7 reconnect storm: 1,000 subscribers drop and resume";

    public async Task RunAsync(BenchContext context)
    {
        var profile = context.Profile;
        var streams = profile.W7Streams;
        var shape = new LoadShape("W7", streams, 20, 100, Subscribers: 1, Lifetime: TimeSpan.FromHours(1), profile.WarmUp,
            Measure: TimeSpan.FromSeconds(Math.Max(6, profile.Window.TotalSeconds)), profile.Drain)
        {
            QuietSubscribers = profile.W7SubscribersPerStream,
            Prefill = profile.W7History,
        };
        var workload = context.Report.Workload(Id, Title, shape.Describe());
        workload.Columns = ["resumed_subscribers", "caught_up_p50_s", "caught_up_max_s", "not_caught_up", "resumed_deliveries", "baseline_ack_p99_ms", "storm_ack_p99_ms",
            "baseline_deliver_p99_ms", "storm_deliver_p99_ms", ReportColumns.Cpu, ReportColumns.Correctness];
        workload.Notes.Add($"The storm starts {Baseline.TotalSeconds:0} s into the window; 'storm' latencies are of events intended from then until the last subscriber caught up (whole seconds).");
        foreach (var system in context.Peers(Durability.D2))
        {
            context.Status.Begin(Id, system.Label, shape.Describe());
            var engine = new OpenLoopEngine(system, shape, context.Status);
            var storm = new Storm();
            var result = await engine.RunAsync(e => storm.RunAsync(e, context.Status));
            var figures = context.Record(workload, system, result);
            storm.AddFigures(engine, figures);
            await system.ResetAsync();
        }
    }

    private sealed class Storm
    {
        private readonly List<double> _caughtUpSeconds = [];
        private long _stormStart;
        private long _stormEnd;
        private int _resumed;
        private int _notCaughtUp;
        private long _replayed;

        public async Task RunAsync(OpenLoopEngine engine, RunStatus status)
        {
            await Clock.DelayUntilAsync(engine.WindowStart + Clock.Ticks(Baseline));
            status.Phase = "storm: dropping";
            _stormStart = Clock.Now;
            var quiet = engine.Streams.SelectMany(s => s.Subscribers.Where(sub => sub.Role == SubscriberRole.Quiet).Select(sub => (Stream: s, Subscriber: sub))).ToList();
            await Task.WhenAll(quiet.Select(q => q.Subscriber.StopAsync(TimeSpan.FromSeconds(10))));
            status.Phase = "storm: resuming";
            var resumed = quiet.Select((q, i) =>
            {
                var from = i % 10 == 0 ? 0 : q.Subscriber.LastSequence + 1;
                var subscriber = engine.Subscribe(q.Stream, SubscriberRole.Quiet, from);
                subscriber.WatchCatchUp(q.Stream.BaseSequence + q.Stream.Sent - 1);
                return subscriber;
            }).ToList();
            _resumed = resumed.Count;
            try
            {
                await Task.WhenAll(resumed.Select(r => r.CaughtUp)).WaitAsync(engine.WindowEnd - Clock.Now is var left && left > 0
                    ? TimeSpan.FromSeconds(Clock.Seconds(left)) : TimeSpan.FromSeconds(1));
            }
            catch (TimeoutException)
            {
            }

            _stormEnd = Clock.Now;
            status.Phase = "storm over";
            foreach (var subscriber in resumed)
            {
                if (subscriber.CaughtUp.IsCompletedSuccessfully)
                {
                    _caughtUpSeconds.Add(Clock.Seconds(subscriber.CaughtUpAt - _stormStart));
                }
                else
                {
                    _notCaughtUp++;
                }

                _replayed += subscriber.Checker.Delivered;
            }
        }

        public void AddFigures(OpenLoopEngine engine, Dictionary<string, double> figures)
        {
            var windowFirst = engine.SecondAt(engine.WindowStart);
            var stormFirst = engine.SecondAt(_stormStart);
            var stormLast = engine.SecondAt(Math.Max(_stormEnd, _stormStart)) + 1;
            var sorted = _caughtUpSeconds.Order().ToList();
            figures["resumed_subscribers"] = _resumed;
            figures["caught_up_p50_s"] = sorted.Count > 0 ? sorted[sorted.Count / 2] : double.NaN;
            figures["caught_up_max_s"] = sorted.Count > 0 ? sorted[^1] : double.NaN;
            figures["not_caught_up"] = _notCaughtUp;
            figures["resumed_deliveries"] = _replayed;
            figures["baseline_ack_p99_ms"] = engine.AckBetween(windowFirst, stormFirst).QuantileMilliseconds(0.99);
            figures["storm_ack_p99_ms"] = engine.AckBetween(stormFirst, stormLast).QuantileMilliseconds(0.99);
            figures["baseline_deliver_p99_ms"] = engine.DeliverBetween(windowFirst, stormFirst).QuantileMilliseconds(0.99);
            figures["storm_deliver_p99_ms"] = engine.DeliverBetween(stormFirst, stormLast).QuantileMilliseconds(0.99);
        }
    }
}
