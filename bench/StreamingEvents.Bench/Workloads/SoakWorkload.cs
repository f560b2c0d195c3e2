using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// Soak (full profile, or <c>--only=soak</c>; never in CI): W1 at half its rate (500 streams × 20 events/s, SSE
/// subscribers through the frontend process) for ten minutes, with resuming subscribers (every 20 s a tenth of the
/// resuming ones drop and resume from their last sequence + 1) and stalled readers (SSE connections that never read, on
/// executions published all along). Every 10 s it samples the frontend's resident memory, GC heap (as of its last
/// collection), open file handles and PostgreSQL connections; after a two-minute warm-up, none may grow.
/// </summary>
internal sealed class SoakWorkload : IWorkload
{
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettleTime = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ResumeEvery = TimeSpan.FromSeconds(20);
    private const int StalledReaderCount = 20;
    private const int StalledPayloadBytes = 2_000;

    public string Id => "soak";

    public string Title => "Soak: W1 at half rate for 10 minutes, resuming subscribers and stalled readers";

    public async Task RunAsync(BenchContext context)
    {
        var frontend = await context.FrontendAsync();
        var shape = new LoadShape("soak", ChatWorkload.Streams, ChatWorkload.RatePerStream / 2, 100, Subscribers: 1, Lifetime: TimeSpan.FromSeconds(15),
            WarmUp: TimeSpan.FromSeconds(5), Measure: Duration, DrainBound: TimeSpan.FromSeconds(15))
        {
            SubscribersOnEveryTenth = 3,
            QuietSubscribers = 1,
        };
        var workload = context.Report.Workload(Id, Title, shape.Describe() + $"; {StalledReaderCount} stalled SSE readers; samples every {SampleEvery.TotalSeconds:0} s.");
        workload.Columns = ["rss_mb_settled", "rss_mb_end", "heap_mb_settled", "heap_mb_end", "handles_settled", "handles_end", "pg_connections_settled", "pg_connections_end",
            "resumed_subscribers", ReportColumns.Correctness];
        workload.Notes.Add($"'settled' is the mean of the samples in the two minutes after a {SettleTime.TotalMinutes:0}-minute warm-up, 'end' the mean of the last two minutes; growth = end − settled.");

        context.Status.Begin(Id, frontend.Label, shape.Describe());
        var pid = frontend.Servers[0].Pid;
        using var http = new HttpClient();
        await using var stalled = await StalledReadersAsync(frontend, context.Status);
        var samples = new List<Sample>();
        using var stop = new CancellationTokenSource();
        var sampling = SampleAsync(samples, http, frontend, pid, context, stop.Token);
        var resumed = 0;
        var engine = new OpenLoopEngine(frontend, shape, context.Status);
        var result = await engine.RunAsync(async e => resumed = await ResumeAsync(e, context.Status));
        await stop.CancelAsync();
        await sampling;

        var figures = context.Record(workload, frontend, result);
        var started = samples[0].At;
        var settled = samples.Where(s => s.At - started >= SettleTime.TotalSeconds && s.At - started < 2 * SettleTime.TotalSeconds).ToList();
        var end = samples.Where(s => s.At >= samples[^1].At - SettleTime.TotalSeconds).ToList();
        figures["rss_mb_settled"] = settled.Average(s => s.RssMegabytes);
        figures["rss_mb_end"] = end.Average(s => s.RssMegabytes);
        figures["heap_mb_settled"] = settled.Average(s => s.HeapMegabytes);
        figures["heap_mb_end"] = end.Average(s => s.HeapMegabytes);
        figures["handles_settled"] = settled.Average(s => s.Handles);
        figures["handles_end"] = end.Average(s => s.Handles);
        figures["pg_connections_settled"] = settled.Average(s => s.PostgresConnections);
        figures["pg_connections_end"] = end.Average(s => s.PostgresConnections);
        figures["resumed_subscribers"] = resumed;
        figures["stalled_events_published"] = stalled.Published;
        workload.Notes.Add("Samples (minute: RSS MB / heap MB / handles / PostgreSQL connections): " + string.Join("; ", samples
            .Where((_, i) => i % 6 == 0 || i == samples.Count - 1)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{(s.At - started) / 60:0.0}: {s.RssMegabytes:0} / {s.HeapMegabytes:0} / {s.Handles} / {s.PostgresConnections}"))) + ".");
        workload.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Growth after warm-up: RSS {figures["rss_mb_end"] - figures["rss_mb_settled"]:+0.0;-0.0} MB, heap {figures["heap_mb_end"] - figures["heap_mb_settled"]:+0.0;-0.0} MB, " +
            $"handles {figures["handles_end"] - figures["handles_settled"]:+0;-0}, PostgreSQL connections {figures["pg_connections_end"] - figures["pg_connections_settled"]:+0;-0}; " +
            $"{stalled.Published:#,0} events published past the stalled readers."));
    }

    /// <summary>Every <see cref="ResumeEvery"/>, a tenth of the resuming subscribers of live streams drop and resume after their last sequence.</summary>
    private static async Task<int> ResumeAsync(OpenLoopEngine engine, RunStatus status)
    {
        var resumed = 0;
        var round = 0;
        while (Clock.Now + Clock.Ticks(ResumeEvery) < engine.WindowEnd)
        {
            await Task.Delay(ResumeEvery);
            status.Phase = $"resuming (round {++round})";
            var quiet = engine.Streams
                .Where(s => s.TerminalSequence == 0)
                .SelectMany(s => s.Subscribers.Where(sub => sub.Role == SubscriberRole.Quiet && !sub.SawTerminal).Select(sub => (Stream: s, Subscriber: sub)))
                .Where((_, i) => i % 10 == round % 10)
                .ToList();
            await Task.WhenAll(quiet.Select(q => q.Subscriber.StopAsync(TimeSpan.FromSeconds(10))));
            foreach (var (stream, subscriber) in quiet)
            {
                engine.Subscribe(stream, SubscriberRole.Quiet, subscriber.LastSequence + 1);
            }

            resumed += quiet.Count;
        }

        return resumed;
    }

    private static async Task SampleAsync(List<Sample> samples, HttpClient http, StreamingEventsSystem frontend, int pid, BenchContext context, CancellationToken cancellationToken)
    {
        await using var postgres = NpgsqlDataSource.Create(context.Postgres.ConnectionString("postgres", maxPoolSize: 1));
        using var timer = new PeriodicTimer(SampleEvery);
        do
        {
            var scraped = await PrometheusText.ScrapeAsync(http, frontend.Servers[0].HttpAddress!);
            await using var count = postgres.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = $1");
            count.Parameters.Add(new NpgsqlParameter { Value = frontend.Database });
            samples.Add(new Sample(
                Clock.Seconds(Clock.Now),
                ProcStats.RssBytes(pid) / 1e6,
                PrometheusText.Sum(scraped, "dotnet_gc_last_collection_heap_size_bytes") / 1e6,
                Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length,
                (long)(await count.ExecuteScalarAsync(CancellationToken.None))!));
        }
        while (await WaitAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Executions published all along, each with an SSE connection whose reader never reads (a 4 KiB receive buffer).</summary>
    private static async Task<StalledReaders> StalledReadersAsync(StreamingEventsSystem frontend, RunStatus status)
    {
        status.Phase = "stalled readers";
        var readers = new StalledReaders();
        var payloads = new PayloadFactory(StalledPayloadBytes);
        var address = frontend.Servers[0].HttpAddress!;
        for (var i = 0; i < StalledReaderCount; i++)
        {
            var stream = $"stalled-{Guid.NewGuid():N}";
            var publisher = await frontend.OpenAsync(stream, payloads.State(0), CancellationToken.None);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
            await socket.ConnectAsync("127.0.0.1", address.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"GET /v1/workflows/events/stream?workflow_exec_id={stream}&start_seq=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
            readers.Add(socket, publisher, payloads);
        }

        return readers;
    }

    private sealed record Sample(double At, double RssMegabytes, double HeapMegabytes, int Handles, long PostgresConnections);

    /// <summary>The stalled connections and a publisher that keeps their executions busy (10 events/s each) until disposed.</summary>
    private sealed class StalledReaders : IAsyncDisposable
    {
        private readonly List<Socket> _sockets = [];
        private readonly List<Task> _publishing = [];
        private readonly CancellationTokenSource _stop = new();
        private long _published;

        public long Published => Interlocked.Read(ref _published);

        public void Add(Socket socket, IStreamPublisher publisher, PayloadFactory payloads)
        {
            _sockets.Add(socket);
            _publishing.Add(PublishAsync(publisher, payloads, _stop.Token));
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_publishing);
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            _stop.Dispose();
        }

        private async Task PublishAsync(IStreamPublisher publisher, PayloadFactory payloads, CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            var n = 1;
            while (await WaitAsync(timer, cancellationToken))
            {
                await publisher.PublishAsync(payloads.State(n++));
                Interlocked.Increment(ref _published);
            }
        }
    }
}
