using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// The storage ceiling: raw PostgreSQL writing the same 100 B events into a table shaped like ours, closed loop on a
/// few connections — one INSERT + commit per event, multi-row INSERTs of 10 and 100 rows per commit, and COPY of 1,000
/// rows per commit — in both durability classes. Rows/s, commits and WAL bytes per row, and latency per commit.
/// </summary>
internal sealed class StorageCeilingWorkload : IWorkload
{
    private static readonly (string Name, RawWriteMode Mode, int Rows, int Connections)[] Modes =
    [
        ("INSERT 1 row/commit", RawWriteMode.SingleRowInsert, 1, 8),
        ("INSERT 10 rows/commit", RawWriteMode.MultiRowInsert, 10, 4),
        ("INSERT 100 rows/commit", RawWriteMode.MultiRowInsert, 100, 2),
        ("COPY 1000 rows/commit", RawWriteMode.Copy, 1_000, 1),
    ];

    public string Id => "PG-raw";

    public string Title => "Storage ceiling: raw PostgreSQL, 100 B events into a table shaped like ours";

    public async Task RunAsync(BenchContext context)
    {
        var workload = context.Report.Workload(Id, Title,
            "Closed loop per connection; one stream per connection, sequences ascending; (stream_id, seq, ts, task_no, kind, body) with primary key (stream_id, seq).");
        workload.Columns = ["connections", "rows_per_commit", "achieved_rate", "achieved_mb_per_s", "commit_p50_ms", "commit_p99_ms", ReportColumns.Storage, ReportColumns.Cpu,
            "load_generator_cpu_cores"];
        foreach (var system in new[] { context.RawD2, context.RawD1 })
        {
            foreach (var (name, mode, rows, connections) in Modes)
            {
                context.Status.Begin(Id, system.Label, name);
                var figures = await RunAsync(system, mode, rows, connections, context.Profile.RawWindow, context.Status);
                context.Record(workload, system.Label, system.Durability.ToString(), figures, name);
                await system.ResetAsync();
            }
        }
    }

    private static async Task<Dictionary<string, double>> RunAsync(PostgresRawSystem system, RawWriteMode mode, int rows, int connections, TimeSpan window,
        RunStatus status)
    {
        var payloads = new PayloadFactory(100);
        var histogram = new LatencyHistogram();
        var warmUp = TimeSpan.FromSeconds(0.5);
        var windowStart = Clock.Now + Clock.Ticks(warmUp);
        var windowEnd = windowStart + Clock.Ticks(window);
        long written = 0;
        var probe = Task.Run(async () =>
        {
            await Clock.DelayUntilAsync(windowStart);
            status.Phase = "measuring";
            return await WindowProbe.StartAsync(system);
        });
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            await Task.Yield();
            var stream = system.NewStreamId();
            long next = 1;
            while (true)
            {
                var before = Clock.Now;
                if (before >= windowEnd)
                {
                    return;
                }

                var bodies = Enumerable.Range(0, rows).Select(i => PayloadFactory.Serialize(payloads.State(next + i))).ToList();
                await system.WriteAsync(stream, next, bodies, mode, CancellationToken.None);
                next += rows;
                var after = Clock.Now;
                if (before >= windowStart && after <= windowEnd)
                {
                    histogram.RecordTicks(after - before);
                    status.Update(Interlocked.Add(ref written, rows), written, 0);
                }
            }
        }));
        var measurement = await (await probe).EndAsync();
        var figures = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["connections"] = connections,
            ["rows_per_commit"] = rows,
            ["achieved_rate"] = written / window.TotalSeconds,
            ["achieved_mb_per_s"] = written * 100.0 / window.TotalSeconds / 1e6,
            ["commit_p50_ms"] = histogram.QuantileMilliseconds(0.5),
            ["commit_p99_ms"] = histogram.QuantileMilliseconds(0.99),
            ["commit_max_ms"] = histogram.QuantileMilliseconds(1),
        };
        measurement.AddFigures(figures, written);
        return figures;
    }
}
