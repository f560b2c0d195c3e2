using System.Diagnostics;
using System.Globalization;
using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Workloads;

namespace StreamingEvents.Bench;

/// <summary>Starts the servers, runs the workloads in order (a failing workload is reported and the rest still run), writes the results.</summary>
internal static class BenchRunner
{
    /// <summary>Exit codes: 0 all measured and correct; 1 a correctness counter was not 0; 2 a workload failed.</summary>
    public static async Task<int> RunAsync(BenchProfile profile, IReadOnlySet<string>? only)
    {
        var started = Stopwatch.StartNew();
        var directory = Path.Combine(BuildOutputs.RepositoryRoot, "bench", "results", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var report = new BenchReport { Profile = profile.Name, ProfileReductions = profile.Reductions };
        Describe(report);
        var status = new RunStatus();
        var display = new ProgressDisplay(status);
        display.Say($"{profile.Name} profile; results in {directory}");

        IWorkload[] workloads =
        [
            new ChatWorkload(), new LadderWorkload(), new ThroughputWorkload(), new LargePayloadWorkload(), new FanoutWorkload(), new MemoryWorkload(),
            new ReconnectWorkload(), new ReplayWorkload(), new DeltaWorkload(), new StorageCeilingWorkload(), new SoakWorkload(),
        ];
        await display.RunAsync(async () =>
        {
            BenchContext context;
            try
            {
                context = await BenchContext.StartAsync(profile, directory, report, status, display.Say);
            }
            catch (Exception exception)
            {
                report.Failures.Add($"The servers could not be started: {exception.Message}");
                display.Say(report.Failures[^1]);
                return;
            }

            await using (context)
            {
                // The ten-minute soak runs in the full profile or when asked for by name.
                foreach (var workload in workloads.Where(w => only is null ? w is not SoakWorkload || profile.Name == "full" : only.Contains(w.Id)))
                {
                    var workloadStarted = Stopwatch.StartNew();
                    display.Say($"{workload.Title}");
                    try
                    {
                        await workload.RunAsync(context);
                        if (workload is MemoryWorkload or SoakWorkload)
                        {
                            await context.StopFrontendAsync();
                        }
                    }
                    catch (Exception exception)
                    {
                        report.Failures.Add($"{workload.Id} failed: {exception.GetBaseException().Message}");
                        display.Say(report.Failures[^1]);
                        File.AppendAllText(Path.Combine(context.LogsDirectory, "bench-failures.log"), $"{workload.Id}: {exception}\n\n");
                    }

                    display.Say($"{workload.Id} took {workloadStarted.Elapsed.TotalSeconds:0} s");
                }

                display.Say("stopping the servers");
            }
        });

        report.DurationSeconds = started.Elapsed.TotalSeconds;
        TargetEvaluator.Evaluate(report);
        await ResultsWriter.WriteAsync(report, directory);
        display.Say($"done in {report.DurationSeconds:0} s: {Path.Combine(directory, "results.md")}");
        foreach (var target in report.Targets)
        {
            Console.WriteLine($"  {(target.Met ? "met " : "MISS")}  {target.Target}: {target.Measured} (ratio {Format.Number(target.Ratio)})");
        }

        foreach (var failure in report.Failures)
        {
            Console.WriteLine($"  FAILED  {failure}");
        }

        if (report.CorrectnessFailures.Count > 0)
        {
            Console.WriteLine($"  CORRECTNESS FAILURES: {report.CorrectnessFailures.Count} run(s); see results.md");
            return 1;
        }

        return report.Failures.Count > 0 ? 2 : 0;
    }

    private static void Describe(BenchReport report)
    {
        report.Environment["machine"] = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
        report.Environment["dotnet"] = Environment.Version.ToString();
        report.Environment["build"] = $"{BuildOutputs.Configuration} {BuildOutputs.Framework}";
        report.Environment["git"] = GitDescription();
        report.Methodology.AddRange(
        [
            "Everything runs on this machine on 127.0.0.1: PostgreSQL (one server, one database per system, fsync=on), two redis-servers (AOF always / everysec), our silo processes (one per durability class), the frontend process for W5/W6, and this load generator (an Orleans client and the Redis/PostgreSQL clients) — all sharing the same cores.",
            "Open loop: every event has an intended send time (stream i sends event k at t0 + phase_i + k/rate); latency is measured from that time, so stalls are counted (no coordinated omission). Events not acknowledged/delivered when the drain bound ends are 'late' and recorded with the latency reached by then.",
            "publish→ack: intended time to the publisher's acknowledgement (durable). publish→deliver: intended time to a subscriber receiving the event (every subscriber of every stream; W7 uses one undisturbed observer per stream).",
            "Before any measurement every system gets a short unmeasured priming run (100 streams × 20 events/s), so JIT tiering, thread and connection pools and first activations stay out of the windows.",
            "Warm-up, then a measured window; several repeats, systems of one durability class interleaved repeat by repeat; tables show the median and (min–max).",
            "D2 = acknowledged after fsync (PostgreSQL synchronous_commit=on; Redis appendfsync always); D1 = after the OS write (synchronous_commit=off; everysec). Compare within a class only.",
            "CPU µs per event = (utime+stime) delta of the process over the window / acknowledged events (PostgreSQL: the postmaster and all its backends). Generator CPU = this process's CPU time / wall time, in cores.",
            "Commits per event = PostgreSQL transaction ids consumed in the window (every write transaction takes one; exact at any moment) / acknowledged events. WAL per event = pg_current_wal_lsn difference / acknowledged events. Both are server-wide; one system runs at a time.",
            "Correctness (every run must show 0): gaps, duplicates and out-of-order deliveries seen by subscribers checking each sequence against the previous one, and acknowledgements whose sequence differs from the publisher's order. Redis is written with explicit ids <sequence>-0, so it enforces the same numbering.",
            "Redis subscribers: one raw RESP connection per subscriber running XREAD BLOCK 0 COUNT 1000 from the last id — XREAD BLOCK holds a connection, and one StackExchange.Redis multiplexer per subscriber (two sockets, handshake and heartbeat each) would load the generator far more than the server. Redis publishers: StackExchange.Redis, 4 multiplexers, each stream pinned to one.",
        ]);
    }

    private static string GitDescription()
    {
        try
        {
            var head = Shell.RunAsync("git", ["-C", BuildOutputs.RepositoryRoot, "rev-parse", "--short", "HEAD"], TimeSpan.FromSeconds(10)).GetAwaiter().GetResult().Trim();
            var dirty = Shell.RunAsync("git", ["-C", BuildOutputs.RepositoryRoot, "status", "--porcelain", "--untracked-files=no"], TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            return head + (dirty.Trim().Length > 0 ? " (with uncommitted changes)" : string.Empty);
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return "unknown";
        }
    }
}
