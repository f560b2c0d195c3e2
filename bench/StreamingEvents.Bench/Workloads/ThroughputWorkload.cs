using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W2: few hot streams — 10 streams × 1,000 events/s open loop with a subscriber each; the maximum rate of 500
/// concurrent awaited publishers (one stream each); and a single awaited publisher on one stream (rate and latency per
/// acknowledgement) against Redis' one-client XADD and a single-row INSERT per event.
/// </summary>
internal sealed class ThroughputWorkload : IWorkload
{
    public string Id => "W2";

    public string Title => "W2 hot streams: 10 × 1,000 events/s; 500 awaited publishers; 1 awaited publisher";

    public async Task RunAsync(BenchContext context)
    {
        var profile = context.Profile;
        var classes = profile.DurabilityClasses;

        var shape = new LoadShape("W2", 10, 1_000, 100, Subscribers: 1, Lifetime: TimeSpan.FromHours(1), profile.WarmUp, profile.Window, profile.Drain);
        var hot = context.Report.Workload("W2-hot", "W2 10 streams × 1,000 events/s (open loop)", shape.Describe());
        hot.Columns = ReportColumns.OpenLoop;
        for (var repeat = 0; repeat < profile.RepeatsD1; repeat++)
        {
            foreach (var system in classes.SelectMany(context.Peers))
            {
                context.Status.Begin($"W2 hot {repeat + 1}/{profile.RepeatsD1}", system.Label, shape.Describe());
                context.Record(hot, system, await new OpenLoopEngine(system, shape, context.Status).RunAsync());
                await system.ResetAsync();
            }
        }

        var max = context.Report.Workload("W2-max", "W2 maximum rate: 500 concurrent awaited publishers (one stream each), 100 B",
            "Closed loop: each publisher awaits its acknowledgement before the next event; latency is per acknowledgement.");
        max.Columns = ReportColumns.ClosedLoop;
        for (var repeat = 0; repeat < profile.RepeatsD1; repeat++)
        {
            foreach (var system in classes.SelectMany(context.Peers))
            {
                await ClosedAsync(context, max, system, publishers: 500, payloadBytes: 100);
            }
        }

        var single = context.Report.Workload("W2-single", "W2 single awaited publisher on one stream, 100 B",
            "Closed loop, one publisher: the latency of one acknowledgement and the rate it allows. PostgreSQL raw = one INSERT + commit per event.");
        single.Columns = ReportColumns.ClosedLoop;
        for (var repeat = 0; repeat < profile.RepeatsD1; repeat++)
        {
            foreach (var durability in classes)
            {
                IEventSystem[] systems = durability == Durability.D2
                    ? [context.OursD2, context.RedisAlways, context.RawD2]
                    : [context.OursD1, context.RedisEverysec, context.RawD1];
                foreach (var system in systems)
                {
                    await ClosedAsync(context, single, system, publishers: 1, payloadBytes: 100);
                }
            }
        }
    }

    public static async Task ClosedAsync(BenchContext context, WorkloadReport workload, IEventSystem system, int publishers, int payloadBytes)
    {
        context.Status.Begin($"{workload.Id}", system.Label, $"{publishers} awaited publisher(s), {payloadBytes:#,0} B");
        var errors = new List<string>();
        var figures = await ClosedLoopRunner.RunAsync(system, publishers, payloadBytes, TimeSpan.FromSeconds(1), context.Profile.ClosedLoopWindow, context.Status, errors);
        context.Record(workload, system.Label, system.Durability.ToString(), figures, errors: errors);
        await system.ResetAsync();
    }
}

/// <summary>W3: 200 streams × 2 events/s of 10 KB with 3 subscribers each. W4: 1 MB events, open loop and one awaited publisher.</summary>
internal sealed class LargePayloadWorkload : IWorkload
{
    /// <summary>Just under the 1 MiB envelope cap once the envelope's own fields are added.</summary>
    public const int MegabytePayload = 1_000_000;

    public string Id => "W3-W4";

    public string Title => "W3 10 KB events with 3 subscribers; W4 1 MB events";

    public async Task RunAsync(BenchContext context)
    {
        var profile = context.Profile;
        var classes = profile.DurabilityClasses;
        var w3Shape = new LoadShape("W3", 200, 2, 10_000, Subscribers: 3, Lifetime: TimeSpan.FromSeconds(15), profile.WarmUp, profile.Window, profile.Drain);
        var w3 = context.Report.Workload("W3", "W3 200 streams × 2 events/s, 10 KB, 3 subscribers each", w3Shape.Describe());
        w3.Columns = ReportColumns.OpenLoop;
        var w4Shape = new LoadShape("W4", 4, 2, MegabytePayload, Subscribers: 1, Lifetime: TimeSpan.FromHours(1), profile.WarmUp, profile.Window, profile.Drain);
        var w4 = context.Report.Workload("W4", "W4 1 MB events: 4 streams × 2 events/s (8 MB/s), 1 subscriber each", w4Shape.Describe());
        w4.Columns = ReportColumns.OpenLoop;
        var w4Max = context.Report.Workload("W4-max", "W4 1 MB events: one awaited publisher (maximum rate)",
            "Closed loop, one publisher of 1,000,000 B payloads.");
        w4Max.Columns = ReportColumns.ClosedLoop;
        for (var repeat = 0; repeat < profile.RepeatsD1; repeat++)
        {
            foreach (var system in classes.SelectMany(context.Peers))
            {
                context.Status.Begin("W3", system.Label, w3Shape.Describe());
                context.Record(w3, system, await new OpenLoopEngine(system, w3Shape, context.Status).RunAsync());
                await system.ResetAsync();
                context.Status.Begin("W4", system.Label, w4Shape.Describe());
                context.Record(w4, system, await new OpenLoopEngine(system, w4Shape, context.Status).RunAsync());
                await system.ResetAsync();
                await ThroughputWorkload.ClosedAsync(context, w4Max, system, publishers: 1, payloadBytes: MegabytePayload);
            }
        }
    }
}
