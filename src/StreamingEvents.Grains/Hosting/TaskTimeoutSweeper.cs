using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents.Hosting;

/// <summary>
/// Wakes the streams of executions whose open tasks went silent while no grain was active (a crashed worker, a
/// restarted cluster), so that their tasks still end with <c>CUSTOM_TASK_TIMED_OUT</c>; active streams check themselves.
/// Also forgets idempotency keys older than <see cref="StreamingEventsOptions.IdempotencyKeyRetention"/>.
/// </summary>
internal sealed partial class TaskTimeoutSweeper(
    IGrainFactory grains,
    [FromKeyedServices(StreamingEventsNames.EventLogStorage)] IEventLogStorage storage,
    IOptions<StreamingEventsOptions> options,
    [FromKeyedServices(StreamingEventsNames.Clock)] TimeProvider time,
    ILogger<TaskTimeoutSweeper> logger) : BackgroundService
{
    private const int MaxStreamsPerSweep = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogSweepFailed(logger, exception);
            }
        }
    }

    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        var idleSince = time.GetUtcNow() - options.Value.TaskInactivityTimeout;
        var streams = await storage.FindIdleStreamsWithOpenTasksAsync(idleSince, MaxStreamsPerSweep, cancellationToken);
        foreach (var key in streams)
        {
            await grains.GetGrain<IExecutionStreamGrain>(key).CheckTimeoutsAsync();
        }

        await storage.DeleteRequestKeysAsync(time.GetUtcNow() - options.Value.IdempotencyKeyRetention, cancellationToken);
    }

    [LoggerMessage(EventIds.SweepFailed, LogLevel.Warning, "The task timeout and idempotency key sweep failed; it runs again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
