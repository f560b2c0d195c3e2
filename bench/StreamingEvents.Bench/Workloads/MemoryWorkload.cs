using StackExchange.Redis;
using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// W6 memory per stream: N streams × 20 events (start, 18 updates, completion), then idle. Measured on the frontend
/// process (a silo with the same grains and storage, plus the /metrics endpoint the standalone silo lacks): after a
/// full blocking GC forced through Orleans' management grain, the live GC heap is read from the runtime's own
/// <c>dotnet.gc.last_collection.heap.size</c> metric (all generations), and RSS from /proc. Per stream =
/// (after − baseline) / N, while active and after every idle activation was collected
/// (<c>IManagementGrain.ForceActivationCollection</c>). Redis' <c>used_memory</c> per stream of 20 entries is the peer figure.
/// </summary>
internal sealed class MemoryWorkload : IWorkload
{
    private const int EventsPerStream = 20;

    public string Id => "W6";

    public string Title => "W6 memory per stream (20 events each), active and after deactivation";

    public async Task RunAsync(BenchContext context)
    {
        var streams = context.Profile.W6Streams;
        var workload = context.Report.Workload(Id, Title,
            $"{streams:#,0} streams × {EventsPerStream} events (start, 18 updates, completion), 100 B, then idle.");
        workload.Columns = ["streams", "events_per_s", "heap_bytes_per_stream_active", "heap_bytes_per_stream_idle", "rss_bytes_per_stream_active", "rss_bytes_per_stream_idle",
            "stream_grains_active", "task_grains_active", "grains_after_collection", "redis_used_memory_per_stream"];
        workload.Notes.Add("Heap = live GC heap after a forced full GC (dotnet.gc.last_collection.heap.size summed over generations, frontend /metrics); RSS = VmRSS of the process (includes GC segments not yet returned to the OS).");
        workload.Notes.Add("Grains per stream while active: one ExecutionStreamGrain and one TaskGrain per stream (the SDK publishes through the task grain).");

        var frontend = await context.FrontendAsync();
        context.Status.Begin(Id, frontend.Label, $"{streams:#,0} streams × {EventsPerStream} events");
        var management = frontend.Client.Cluster.GetGrain<IManagementGrain>(0);
        var pid = frontend.Servers[0].Pid;
        using var http = new HttpClient();

        context.Status.Phase = "baseline";
        var baseline = await MeasureAsync(management, http, frontend, pid);
        await HeapDumpAsync(context, pid, "baseline");

        context.Status.Phase = "publishing";
        var payloads = new PayloadFactory(100);
        var runId = "m" + Guid.NewGuid().ToString("N")[..8];
        var started = Clock.Now;
        long published = 0;
        using (var gate = new SemaphoreSlim(200))
        {
            await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var publisher = await frontend.OpenAsync($"{runId}-{i}", payloads.State(0), CancellationToken.None);
                    await OpenLoopEngine.PrefillAsync(publisher, EventsPerStream - 2, payloads);
                    await publisher.CompleteAsync(payloads.State(EventsPerStream));
                    context.Status.Update(Interlocked.Add(ref published, EventsPerStream), published, 0);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var publishSeconds = Clock.Seconds(Clock.Now - started);
        context.Status.Phase = "measuring active";
        var active = await MeasureAsync(management, http, frontend, pid);
        await HeapDumpAsync(context, pid, "active");

        context.Status.Phase = "deactivating";
        await Task.Delay(TimeSpan.FromSeconds(2));
        await management.ForceActivationCollection(TimeSpan.FromSeconds(1));
        var deadline = Clock.Now + Clock.Ticks(60);
        Measurement idle;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            idle = await MeasureAsync(management, http, frontend, pid);
        }
        while (idle.StreamGrains + idle.TaskGrains > streams / 100 && Clock.Now < deadline);
        await HeapDumpAsync(context, pid, "idle");

        var figures = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["streams"] = streams,
            ["events_per_s"] = streams * EventsPerStream / publishSeconds,
            ["heap_bytes_baseline"] = baseline.HeapBytes,
            ["heap_bytes_active"] = active.HeapBytes,
            ["heap_bytes_idle"] = idle.HeapBytes,
            ["heap_bytes_per_stream_active"] = (active.HeapBytes - baseline.HeapBytes) / streams,
            ["heap_bytes_per_stream_idle"] = (idle.HeapBytes - baseline.HeapBytes) / streams,
            ["rss_bytes_per_stream_active"] = (double)(active.RssBytes - baseline.RssBytes) / streams,
            ["rss_bytes_per_stream_idle"] = (double)(idle.RssBytes - baseline.RssBytes) / streams,
            ["stream_grains_active"] = active.StreamGrains,
            ["task_grains_active"] = active.TaskGrains,
            ["grains_after_collection"] = idle.StreamGrains + idle.TaskGrains,
            ["activations_total_active"] = active.Activations,
            ["activations_total_idle"] = idle.Activations,
        };
        figures["redis_used_memory_per_stream"] = await RedisPerStreamAsync(context.RedisAlways, streams, payloads);
        context.Record(workload, frontend.Label, "D2", figures);
        workload.Notes.Add("Activations while active: " + string.Join(", ", active.ByType.OrderByDescending(p => p.Value).Take(5).Select(p => $"{ShortType(p.Key)} {p.Value:#,0}")) + ".");
        workload.Notes.Add("Activations after collection: " + string.Join(", ", idle.ByType.OrderByDescending(p => p.Value).Take(5).Select(p => $"{ShortType(p.Key)} {p.Value:#,0}")) + ".");
    }

    /// <summary>With <c>--gcdump</c>: the frontend's heap (<c>w6-{phase}.gcdump</c>) and its types by size (<c>.txt</c>).</summary>
    private static async Task HeapDumpAsync(BenchContext context, int pid, string phase)
    {
        if (!context.Profile.GcDumps)
        {
            return;
        }

        var tool = Shell.Which("dotnet-gcdump")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        var dump = Path.Combine(context.ResultsDirectory, $"w6-{phase}.gcdump");
        await Shell.RunAsync(tool, ["collect", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", dump], TimeSpan.FromMinutes(5));
        var report = await Shell.RunAsync(tool, ["report", dump], TimeSpan.FromMinutes(5));
        await File.WriteAllTextAsync(Path.ChangeExtension(dump, ".txt"), report);
    }

    private static async Task<Measurement> MeasureAsync(IManagementGrain management, HttpClient http, StreamingEventsSystem frontend, int pid)
    {
        var hosts = await management.GetHosts(onlyActive: true);
        await management.ForceGarbageCollection([.. hosts.Keys]);
        // The exporter caches a scrape briefly; read after the collection is surely the last one.
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        var samples = await PrometheusText.ScrapeAsync(http, frontend.Servers[0].HttpAddress!);
        var heap = PrometheusText.Sum(samples, "dotnet_gc_last_collection_heap_size_bytes");
        var statistics = await management.GetSimpleGrainStatistics();
        var byType = statistics.GroupBy(s => s.GrainType).ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
        return new Measurement(heap, ProcStats.RssBytes(pid),
            byType.Where(p => p.Key.Contains("ExecutionStreamGrain", StringComparison.Ordinal)).Sum(p => p.Value),
            byType.Where(p => p.Key.Contains("TaskGrain", StringComparison.Ordinal)).Sum(p => p.Value),
            byType.Values.Sum(),
            byType);
    }

    private static async Task<double> RedisPerStreamAsync(RedisSystem redis, int streams, PayloadFactory payloads)
    {
        await redis.ResetAsync();
        var options = ConfigurationOptions.Parse(redis.Server.Configuration);
        options.AllowAdmin = true;
        using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var before = (await RedisInstance.InfoAsync(connection)).GetValueOrDefault("used_memory");
        var database = connection.GetDatabase();
        for (var chunk = 0; chunk < streams; chunk += 1000)
        {
            var adds = new List<Task>();
            for (var i = chunk; i < Math.Min(streams, chunk + 1000); i++)
            {
                for (var e = 1; e <= EventsPerStream; e++)
                {
                    adds.Add(database.StreamAddAsync($"m:{i}", "u", PayloadFactory.Serialize(payloads.State(e)), $"{e}-0"));
                }
            }

            await Task.WhenAll(adds);
        }

        var after = (await RedisInstance.InfoAsync(connection)).GetValueOrDefault("used_memory");
        await redis.ResetAsync();
        return (double)(after - before) / streams;
    }

    private static string ShortType(string type) => type.Split(',')[0].Split('.')[^1];

    private sealed record Measurement(double HeapBytes, long RssBytes, int StreamGrains, int TaskGrains, int Activations, Dictionary<string, int> ByType);
}
