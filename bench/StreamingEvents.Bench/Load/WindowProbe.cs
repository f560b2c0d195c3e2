using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Load;

/// <summary>
/// What the servers did in a measured window: CPU seconds per process (and the load generator's), and the storage's
/// own counters — PostgreSQL transaction ids, WAL bytes and pg_stat_statements for our system and raw PostgreSQL,
/// Redis INFO (AOF size, commands) for Redis.
/// </summary>
internal sealed class WindowProbe
{
    private readonly IEventSystem _system;
    private CpuSnapshot? _cpu;
    private StorageCounters? _storage;

    private WindowProbe(IEventSystem system) => _system = system;

    public static async Task<WindowProbe> StartAsync(IEventSystem system)
    {
        var probe = new WindowProbe(system);
        if (PostgresOf(system) is { } postgres)
        {
            await postgres.ResetStatementsAsync();
        }

        probe._storage = await system.ReadStorageCountersAsync();
        probe._cpu = CpuSnapshot.Take(system.Processes);
        return probe;
    }

    public async Task<WindowMeasurement> EndAsync()
    {
        var cpu = CpuSnapshot.Between(_cpu!, CpuSnapshot.Take(_system.Processes));
        var storage = await _system.ReadStorageCountersAsync();
        PostgresCounters? postgres = storage?.Postgres is { } after && _storage?.Postgres is { } before ? after - before : null;
        Dictionary<string, long>? redis = null;
        if (storage?.Redis is { } redisAfter && _storage?.Redis is { } redisBefore)
        {
            redis = redisAfter.Where(p => redisBefore.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value - redisBefore[p.Key]);
            redis["used_memory_after"] = redisAfter.GetValueOrDefault("used_memory");
        }

        List<StatementStats>? statements = null;
        if (PostgresOf(_system) is { } postgresInstance)
        {
            statements = await postgresInstance.ReadStatementsAsync(DatabaseOf(_system)!);
        }

        return new WindowMeasurement(cpu, postgres, redis, statements);
    }

    private static PostgresInstance? PostgresOf(IEventSystem system) => system switch
    {
        StreamingEventsSystem se => se.Postgres,
        _ => null,
    };

    private static string? DatabaseOf(IEventSystem system) => system switch
    {
        StreamingEventsSystem se => se.Database,
        _ => null,
    };
}

/// <summary>One window's server-side figures.</summary>
internal sealed record WindowMeasurement(CpuUse Cpu, PostgresCounters? Postgres, Dictionary<string, long>? Redis, List<StatementStats>? Statements)
{
    /// <summary>Adds the per-event figures: CPU µs per event of each process, commits and WAL bytes per event, AOF bytes per event.</summary>
    public void AddFigures(IDictionary<string, double> figures, double events)
    {
        figures["load_generator_cpu_cores"] = Cpu.LoadGeneratorCores;
        figures["machine_busy_cores"] = Cpu.MachineCores;
        figures["other_cpu_cores"] = Cpu.OtherCores;
        figures["cpu_us_per_event.load_generator"] = CpuUse.MicrosecondsPerEvent(Cpu.LoadGenerator, events);
        foreach (var (process, seconds) in Cpu.Servers)
        {
            figures[$"cpu_us_per_event.{process}"] = CpuUse.MicrosecondsPerEvent(seconds, events);
            figures[$"cpu_cores.{process}"] = Cpu.WallSeconds > 0 ? seconds / Cpu.WallSeconds : double.NaN;
        }

        if (Postgres is { } pg && events > 0)
        {
            figures["commits_per_event"] = pg.NextXid / events;
            figures["wal_bytes_per_event"] = pg.WalBytes / events;
            figures["db_xact_commit_per_event"] = pg.DatabaseCommits / events;
            figures["wal_syncs_per_event"] = pg.WalSyncs / events;
            figures["wal_full_page_images"] = pg.WalFullPageImages;
            figures["checkpoints_in_window"] = pg.Checkpoints;
        }

        if (Statements is { Count: > 0 } statements && events > 0)
        {
            // The product's group-commit append is the statement that updates se_streams and inserts se_events.
            if (statements.FirstOrDefault(s => s.Query.Contains("UPDATE se_streams AS st", StringComparison.Ordinal)) is { } append)
            {
                figures["append_statements"] = append.Calls;
                figures["events_per_append_statement"] = events / Math.Max(1, append.Calls);
                figures["streams_per_append_statement"] = (double)append.Rows / Math.Max(1, append.Calls);
                figures["append_statement_mean_ms"] = append.MeanMilliseconds;
                figures["append_statement_plan_mean_ms"] = append.MeanPlanMilliseconds;
                figures["append_statement_plans_per_call"] = (double)append.Plans / Math.Max(1, append.Calls);
                figures["append_statement_busy_fraction"] = append.TotalMilliseconds / 1000 / Math.Max(1e-9, Cpu.WallSeconds);
            }
        }

        if (Redis is { } redis && events > 0)
        {
            figures["aof_bytes_per_event"] = redis.GetValueOrDefault("aof_current_size") / events;
            figures["redis_commands_per_event"] = redis.GetValueOrDefault("total_commands_processed") / events;
        }
    }
}
