using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using StreamingEvents.Frontend.Sse;

namespace StreamingEvents.Frontend.Tests;

/// <summary>When an SSE response flushes: records that are ready go out together, the last one before any wait.</summary>
public sealed class SseFlushTests : IDisposable
{
    private const int ReadyRecords = 300;
    private const int RecordBytes = 1000;

    private readonly ServiceProvider _services = new ServiceCollection()
        .AddMetrics()
        .AddOptions()
        .AddSingleton<IHostApplicationLifetime, RunningHost>()
        .AddSingleton<StreamingEventsMetrics>()
        .AddSingleton<SseConnections>()
        .BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Ready_records_are_flushed_in_bounded_batches_and_everything_written_is_flushed_before_a_wait()
    {
        var body = new RecordingStream();
        var context = new DefaultHttpContext { Response = { Body = body } };
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var sending = SseStreaming.SendAsync(context, Records, new FrontendOptions(), _services.GetRequiredService<SseConnections>(), NullLogger.Instance);

        // The client sees the last ready record while the next one is still awaited: it was flushed before the wait.
        await body.WhenFlushedAsync($"id: {ReadyRecords}\n").WaitAsync(TimeSpan.FromSeconds(30));
        var bound = (ReadyRecords * RecordBytes / SseStreaming.MaxUnflushedBytes) + 2;
        Assert.InRange(body.Flushes, 2, bound);

        next.SetResult();
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains($"id: {ReadyRecords + 1}\n", body.FlushedText, StringComparison.Ordinal);

        async IAsyncEnumerable<SseRecord> Records([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var data = Encoding.UTF8.GetBytes(new string('x', RecordBytes));
            for (var id = 1; id <= ReadyRecords; id++)
            {
                yield return new SseRecord(id.ToString(System.Globalization.CultureInfo.InvariantCulture), data);
            }

            await next.Task.WaitAsync(cancellationToken);
            yield return new SseRecord((ReadyRecords + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), data);
        }
    }

    /// <summary>A response body that counts flushes and shows what was flushed.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        private readonly Lock _gate = new();
        private readonly List<(string Marker, TaskCompletionSource Seen)> _waiters = [];
        private string _flushed = string.Empty;

        public int Flushes { get; private set; }

        public string FlushedText
        {
            get
            {
                lock (_gate)
                {
                    return _flushed;
                }
            }
        }

        public Task WhenFlushedAsync(string marker)
        {
            lock (_gate)
            {
                var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((marker, seen));
                Check();
                return seen.Task;
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                Flushes++;
                _flushed = Encoding.UTF8.GetString(ToArray());
                Check();
            }

            return Task.CompletedTask;
        }

        private void Check()
        {
            foreach (var waiter in _waiters.Where(w => _flushed.Contains(w.Marker, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class RunningHost : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => throw new NotSupportedException("The test host does not stop.");
    }
}
