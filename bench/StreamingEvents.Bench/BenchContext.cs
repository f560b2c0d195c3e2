using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench;

/// <summary>
/// The servers of one harness run and where results go. PostgreSQL (one server, a database per system), two Redis
/// servers (appendfsync always and everysec) and our system in both durability classes are started once and kept for
/// every workload, so that the systems of a workload can be interleaved repeat by repeat on the same noisy machine.
/// </summary>
internal sealed class BenchContext : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private BenchContext(BenchProfile profile, string resultsDirectory, BenchReport report, RunStatus status, Action<string> say)
    {
        Profile = profile;
        ResultsDirectory = resultsDirectory;
        LogsDirectory = Directory.CreateDirectory(Path.Combine(resultsDirectory, "logs")).FullName;
        Report = report;
        Status = status;
        Say = say;
    }

    public BenchProfile Profile { get; }

    public string ResultsDirectory { get; }

    public string LogsDirectory { get; }

    public BenchReport Report { get; }

    public RunStatus Status { get; }

    public Action<string> Say { get; }

    public PostgresInstance Postgres { get; private set; } = null!;

    public string RedisExecutable { get; private set; } = string.Empty;

    public StreamingEventsSystem OursD2 { get; private set; } = null!;

    public StreamingEventsSystem OursD1 { get; private set; } = null!;

    public RedisSystem RedisAlways { get; private set; } = null!;

    public RedisSystem RedisEverysec { get; private set; } = null!;

    public PostgresRawSystem RawD2 { get; private set; } = null!;

    public PostgresRawSystem RawD1 { get; private set; } = null!;

    private StreamingEventsSystem? _frontend;

    private int _frontendStarts;

    /// <summary>Our frontend process (ASP.NET Core + co-hosted silo, D2) on its own database, started on first use.</summary>
    public async Task<StreamingEventsSystem> FrontendAsync()
    {
        if (_frontend is null)
        {
            Say("starting the frontend process (D2)");
            _frontend = await StreamingEventsSystem.StartAsync(Postgres, Durability.D2, LogsDirectory, frontend: true, instance: ++_frontendStarts);
        }

        return _frontend;
    }

    /// <summary>Stops the frontend so that it no longer shares the machine with later workloads.</summary>
    public async Task StopFrontendAsync()
    {
        if (_frontend is not null)
        {
            await _frontend.DisposeAsync();
            _frontend = null;
        }
    }

    /// <summary>The systems of one class that subscribers can use: ours and Redis.</summary>
    public IEventSystem[] Peers(Durability durability) => durability == Durability.D2 ? [OursD2, RedisAlways] : [OursD1, RedisEverysec];

    public static async Task<BenchContext> StartAsync(BenchProfile profile, string resultsDirectory, BenchReport report, RunStatus status, Action<string> say)
    {
        var context = new BenchContext(profile, resultsDirectory, report, status, say);
        try
        {
            context.RedisExecutable = await RedisInstance.EnsureInstalledAsync(say);
            say("starting PostgreSQL");
            context.Postgres = await PostgresInstance.StartAsync(context.LogsDirectory);
            context._owned.Add(context.Postgres);
            say("starting Redis (always, everysec) and raw PostgreSQL databases");
            var redisAlways = RedisSystem.StartAsync(context.RedisExecutable, Durability.D2, context.LogsDirectory);
            var redisEverysec = RedisSystem.StartAsync(context.RedisExecutable, Durability.D1, context.LogsDirectory);
            context.RawD2 = await PostgresRawSystem.StartAsync(context.Postgres, Durability.D2);
            context._owned.Add(context.RawD2);
            context.RawD1 = await PostgresRawSystem.StartAsync(context.Postgres, Durability.D1);
            context._owned.Add(context.RawD1);
            context.RedisAlways = await redisAlways;
            context._owned.Add(context.RedisAlways);
            context.RedisEverysec = await redisEverysec;
            context._owned.Add(context.RedisEverysec);
            say("starting the silos (D2, D1) and connecting clients");
            // Sequentially: both apply their schema to their own database, but two Orleans silos starting at once on a
            // 2-core machine take longer than one after the other.
            context.OursD2 = await StreamingEventsSystem.StartAsync(context.Postgres, Durability.D2, context.LogsDirectory);
            context._owned.Add(context.OursD2);
            context.OursD1 = await StreamingEventsSystem.StartAsync(context.Postgres, Durability.D1, context.LogsDirectory);
            context._owned.Add(context.OursD1);
            await context.PrimeAsync();
            report.Environment["postgres"] = context.Postgres.Version;
            report.Environment["postgres_settings"] = string.Join(", ", PostgresInstance.Settings.Select(s => $"{s.Name}={s.Value}"));
            report.Environment["redis"] = (await Shell.RunAsync(context.RedisExecutable, ["--version"], TimeSpan.FromSeconds(10))).Trim();
            report.Environment["redis_settings"] = "--appendonly yes --appendfsync always|everysec --save \"\" --auto-aof-rewrite-percentage 0";
        }
        catch
        {
            await context.DisposeAsync();
            throw;
        }

        return context;
    }

    /// <summary>
    /// A short unmeasured run per system before any measured one: JIT tiering, thread pools, connection pools and the
    /// first grain activations would otherwise land in the first measured window of each system.
    /// </summary>
    private async Task PrimeAsync()
    {
        var shape = new LoadShape("prime", 100, 20, 100, Subscribers: 1, Lifetime: TimeSpan.FromHours(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(5));
        foreach (var system in Peers(Durability.D2).Concat(Peers(Durability.D1)))
        {
            Say($"priming {system.Label} (unmeasured: {shape.Describe()})");
            Status.Begin("priming", system.Label, shape.Describe());
            await new OpenLoopEngine(system, shape, Status).RunAsync();
            await system.ResetAsync();
        }
    }

    /// <summary>Records one open-loop run as a repeat of the system's row of <paramref name="workload"/>, and its correctness.</summary>
    public Dictionary<string, double> Record(WorkloadReport workload, IEventSystem system, LoadResult result, string variant = "")
    {
        var row = workload.Row(system.Label, system.Durability.ToString(), variant);
        var figures = result.Figures();
        row.Runs.Add(figures);
        row.Errors.AddRange(result.Errors.Take(10));
        row.Statements = result.Window.Statements;
        row.DeliverP99BySecond = [.. result.DeliverBySecond.Select(s => s.P99)];
        CheckCorrectness(workload, row, figures);
        return figures;
    }

    /// <summary>Records figures measured outside the open-loop engine.</summary>
    public Dictionary<string, double> Record(WorkloadReport workload, string system, string durability, Dictionary<string, double> figures, string variant = "",
        IEnumerable<string>? errors = null)
    {
        var row = workload.Row(system, durability, variant);
        row.Runs.Add(figures);
        row.Errors.AddRange((errors ?? []).Take(10));
        CheckCorrectness(workload, row, figures);
        return figures;
    }

    private static readonly string[] CorrectnessFigures = ["gaps", "duplicates", "out_of_order", "ack_mismatches"];

    /// <summary>A run with any of these is reported as failed (exit code 2): it did not measure what it should.</summary>
    private static readonly string[] RunErrorFigures = ["publish_errors", "subscriber_failures", "setup_timeouts"];

    private void CheckCorrectness(WorkloadReport workload, SystemResult row, Dictionary<string, double> figures)
    {
        var bad = CorrectnessFigures
            .Where(key => figures.TryGetValue(key, out var value) && value != 0)
            .Select(key => $"{key}={figures[key]}")
            .ToList();
        var line = $"{workload.Id} {row.System}{(row.Variant.Length > 0 ? " " + row.Variant : string.Empty)} run {row.Runs.Count}: " +
            $"gaps {figures.GetValueOrDefault("gaps")}, duplicates {figures.GetValueOrDefault("duplicates")}, out-of-order {figures.GetValueOrDefault("out_of_order")}, " +
            $"ack mismatches {figures.GetValueOrDefault("ack_mismatches")}";
        Say(line);
        if (bad.Count > 0)
        {
            Report.CorrectnessFailures.Add(line);
        }

        var errors = RunErrorFigures.Where(key => figures.GetValueOrDefault(key) > 0).Select(key => $"{key}={figures[key]}").ToList();
        if (errors.Count > 0)
        {
            Report.Failures.Add($"{workload.Id} {row.System}{(row.Variant.Length > 0 ? " " + row.Variant : string.Empty)} run {row.Runs.Count}: "
                + string.Join(", ", errors) + (row.Errors.Count > 0 ? $" ({row.Errors[^1]})" : string.Empty));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopFrontendAsync();

        // Everything but PostgreSQL stops at once (silos shut down gracefully, which takes seconds each); PostgreSQL last.
        await Task.WhenAll(_owned.Where(o => o is not PostgresInstance).Select(async owned =>
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception exception)
            {
                Say($"stopping {owned.GetType().Name} failed: {exception.Message}");
            }
        }));
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
