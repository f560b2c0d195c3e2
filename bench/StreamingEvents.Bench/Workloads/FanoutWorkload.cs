using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W5 fan-out over HTTP: 20 streams × 50 real SSE subscribers (HTTP/1.1, one connection each) against the frontend
/// process; events are published through the SDK from the load generator's Orleans client. Each record's id is checked
/// against the ordering guarantee like any other subscriber's.
/// </summary>
internal sealed class FanoutWorkload : IWorkload
{
    public string Id => "W5";

    public string Title => "W5 fan-out: 20 streams × 50 SSE subscribers over HTTP (frontend process)";

    public async Task RunAsync(BenchContext context)
    {
        var frontend = await context.FrontendAsync();
        var profile = context.Profile;
        var shape = new LoadShape("W5", 20, 20, 100, Subscribers: 50, Lifetime: TimeSpan.FromHours(1), profile.WarmUp, profile.Window, profile.Drain);
        var workload = context.Report.Workload(Id, Title, shape.Describe() + "; 1,000 SSE connections, 20,000 SSE records/s");
        workload.Columns = ReportColumns.OpenLoop;
        workload.Notes.Add("Publish→deliver is measured to the moment the SSE record's last line is parsed by the HTTP client. CPU of the frontend process includes its co-hosted silo and Kestrel.");
        using var http = new HttpClient();
        var metricsAddress = frontend.Servers[0].HttpAddress!;
        for (var repeat = 0; repeat < profile.RepeatsD1; repeat++)
        {
            context.Status.Begin(Id, frontend.Label, shape.Describe());
            List<(string Name, string Labels, double Value)>? before = null, after = null;
            var engine = new OpenLoopEngine(frontend, shape, context.Status);
            var result = await engine.RunAsync(async e =>
            {
                before = await PrometheusText.ScrapeAsync(http, metricsAddress);
                await Clock.DelayUntilAsync(e.WindowEnd);
                after = await PrometheusText.ScrapeAsync(http, metricsAddress);
            });
            var figures = context.Record(workload, frontend, result);
            if (before is not null && after is not null)
            {
                AddServiceMetrics(before, after, result.Ack.Count - result.LateAcks, figures, workload);
            }
        }
    }

    /// <summary>
    /// The frontend's own counters over the window, per published event: Orleans messages, storage commits and the
    /// events they carried, SSE records written. The standalone silo exposes none of these (no HTTP endpoint).
    /// </summary>
    public static void AddServiceMetrics(List<(string Name, string Labels, double Value)> before, List<(string Name, string Labels, double Value)> after,
        double events, Dictionary<string, double> figures, Reporting.WorkloadReport workload)
    {
        if (events <= 0)
        {
            return;
        }

        double Delta(string name) => PrometheusText.Sum(after, name) - PrometheusText.Sum(before, name);
        var commits = Delta("streaming_events_storage_commit_size_count");
        if (commits > 0)
        {
            figures["service_commits_per_event"] = commits / events;
            figures["service_events_per_commit"] = Delta("streaming_events_storage_commit_size_sum") / commits;
            figures["service_commit_mean_ms"] = Delta("streaming_events_storage_commit_duration_seconds_sum") * 1000 / commits;
        }

        foreach (var name in after.Select(s => s.Name).Distinct()
                     .Where(n => n.StartsWith("orleans_messaging_", StringComparison.Ordinal) && n.EndsWith("_total", StringComparison.Ordinal)))
        {
            var delta = Delta(name);
            if (delta > 0)
            {
                figures[$"service.{name}_per_event"] = delta / events;
            }
        }

        if (workload.Notes.All(n => !n.StartsWith("Frontend counters", StringComparison.Ordinal)))
        {
            workload.Notes.Add("Frontend counters per published event over the window (results.json, 'service.*'): "
                + string.Join(", ", figures.Where(f => f.Key.StartsWith("service", StringComparison.Ordinal)).Select(f => $"{f.Key} = {Reporting.Format.Number(f.Value)}")));
        }
    }
}
