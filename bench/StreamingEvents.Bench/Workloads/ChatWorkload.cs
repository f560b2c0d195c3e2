using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W1 chat: 500 streams × 40 events/s (20k events/s), 100 B payloads, one subscriber per stream (three on every tenth),
/// streams living 15 s. Repeats interleave the systems of a class so they share the machine's noise.
/// </summary>
internal sealed class ChatWorkload : IWorkload
{
    public const int Streams = 500;
    public const double RatePerStream = 40;

    public string Id => "W1";

    public string Title => "W1 chat: 500 streams × 40 events/s, 100 B, 1 subscriber (3 on 10 %)";

    public static LoadShape Shape(BenchProfile profile, double totalRate) =>
        new("W1", Streams, totalRate / Streams, 100, Subscribers: 1, Lifetime: TimeSpan.FromSeconds(15), profile.WarmUp, profile.Window, profile.Drain)
        {
            SubscribersOnEveryTenth = 3,
        };

    public async Task RunAsync(BenchContext context)
    {
        var shape = Shape(context.Profile, Streams * RatePerStream);
        var workload = context.Report.Workload(Id, Title, shape.Describe());
        workload.Columns = ReportColumns.OpenLoop;
        workload.Notes.Add("Open loop; latencies from the intended send time. Commits and WAL per event are PostgreSQL's own counters over the window (transaction ids and WAL LSN); AOF bytes are Redis's.");
        var rounds = Math.Max(context.Profile.Repeats, context.Profile.RepeatsD1);
        for (var repeat = 0; repeat < rounds; repeat++)
        {
            var systems = new List<IEventSystem>();
            if (repeat < context.Profile.Repeats)
            {
                systems.AddRange(context.Peers(Durability.D2));
            }

            if (repeat < context.Profile.RepeatsD1)
            {
                systems.AddRange(context.Peers(Durability.D1));
            }

            foreach (var system in systems)
            {
                context.Status.Begin($"{Id} repeat {repeat + 1}/{rounds}", system.Label, shape.Describe());
                var result = await new OpenLoopEngine(system, shape, context.Status).RunAsync();
                context.Record(workload, system, result);
                await system.ResetAsync();
            }
        }
    }
}

/// <summary>
/// The W1 ladder: the same shape at increasing total rates; the highest rate whose p99 publish→deliver stays within
/// 50 ms (with nothing late) is the system's sustained rate. 20k events/s is W1 itself. A system stops climbing at the
/// first rate over the SLO.
/// </summary>
internal sealed class LadderWorkload : IWorkload
{
    public const double SloMilliseconds = 50;

    public string Id => "W1-ladder";

    public string Title => "W1 ladder: highest total rate with p99 publish→deliver ≤ 50 ms";

    public async Task RunAsync(BenchContext context)
    {
        var workload = context.Report.Workload(Id, Title, "W1's shape (500 streams, 100 B, 1 subscriber, 3 on 10 %) at increasing total rates; one repeat per rate.");
        workload.Columns = ReportColumns.Ladder;
        var chat = context.Report.Workloads.FirstOrDefault(w => w.Id == "W1");
        var classes = context.Profile.DurabilityClasses;
        var rates = context.Profile.LadderRates.Append(ChatWorkload.Streams * ChatWorkload.RatePerStream).Order().ToList();
        foreach (var durability in classes)
        {
            var climbing = context.Peers(durability).ToDictionary(s => s.Label, _ => true);
            foreach (var rate in rates)
            {
                foreach (var system in context.Peers(durability).Where(s => climbing[s.Label]))
                {
                    Dictionary<string, double> figures;
                    var variant = $"{rate:#,0} ev/s";
                    if (rate == ChatWorkload.Streams * ChatWorkload.RatePerStream && chat?.Rows.FirstOrDefault(r => r.System == system.Label) is { Runs.Count: > 0 } w1)
                    {
                        // W1 is this rung: reuse its median run rather than measuring it again.
                        figures = MedianRun(w1);
                        workload.Row(system.Label, durability.ToString(), variant).Runs.Add(figures);
                    }
                    else
                    {
                        var shape = ChatWorkload.Shape(context.Profile, rate);
                        context.Status.Begin($"{Id} {variant}", system.Label, shape.Describe());
                        var result = await new OpenLoopEngine(system, shape, context.Status).RunAsync();
                        figures = context.Record(workload, system, result, variant);
                        await system.ResetAsync();
                    }

                    if (!MeetsSlo(figures))
                    {
                        climbing[system.Label] = false;
                    }
                }
            }
        }

        foreach (var group in workload.Rows.GroupBy(r => r.System))
        {
            var best = group.Where(r => MeetsSlo(r.Runs[^1])).Select(r => r.Runs[^1]["offered_rate"]).DefaultIfEmpty(0).Max();
            workload.Notes.Add($"{group.Key}: highest rate meeting the SLO ≈ {best:#,0} events/s (achieved {group.Where(r => MeetsSlo(r.Runs[^1])).Select(r => r.Runs[^1]["achieved_rate"]).DefaultIfEmpty(0).Max():#,0}).");
        }
    }

    public static bool MeetsSlo(Dictionary<string, double> figures) =>
        figures.GetValueOrDefault("deliver_p99_ms", double.PositiveInfinity) <= SloMilliseconds
        && figures.GetValueOrDefault("late_deliveries") == 0 && figures.GetValueOrDefault("late_acks") == 0
        && figures.GetValueOrDefault("achieved_rate") >= 0.97 * figures.GetValueOrDefault("offered_rate");

    /// <summary>The repeat whose p99 publish→deliver is the median.</summary>
    private static Dictionary<string, double> MedianRun(SystemResult row)
    {
        var ordered = row.Runs.OrderBy(r => r.GetValueOrDefault("deliver_p99_ms")).ToList();
        return ordered[ordered.Count / 2];
    }
}
