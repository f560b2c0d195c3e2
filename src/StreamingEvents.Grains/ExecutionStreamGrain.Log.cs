using Microsoft.Extensions.Logging;

namespace StreamingEvents;

internal sealed partial class ExecutionStreamGrain
{
    [LoggerMessage(EventIds.AppendFailed, LogLevel.Warning, "Append of {Count} events to {Execution} failed; reloading the head before numbering again")]
    private partial void LogAppendFailed(Exception exception, string execution, int count);

    [LoggerMessage(EventIds.WriteConflict, LogLevel.Warning, "Another writer advanced {Execution} past {ExpectedHead}; this activation stops and deactivates")]
    private partial void LogWriteConflict(string execution, long expectedHead);

    [LoggerMessage(EventIds.FlushFailed, LogLevel.Error, "Publishing to {Execution} failed unexpectedly; pending calls were failed")]
    private partial void LogFlushFailed(Exception exception, string execution);

    [LoggerMessage(EventIds.PushFailed, LogLevel.Warning, "Live push of {Execution} from {Sequence} failed; subscribers will read it from storage")]
    private partial void LogPushFailed(Exception exception, string execution, long sequence);

    [LoggerMessage(EventIds.PushesAbandoned, LogLevel.Warning, "Deactivating {Execution} before its live pushes finished; subscribers will read them from storage")]
    private partial void LogPushesAbandoned(string execution);

    [LoggerMessage(EventIds.TaskTimedOut, LogLevel.Information, "Task {TaskId} of {Execution} timed out for inactivity")]
    private partial void LogTaskTimedOut(string execution, string taskId);

    [LoggerMessage(EventIds.Trimmed, LogLevel.Debug, "Retention trimmed {Execution}; oldest retained is now {Oldest}")]
    private partial void LogTrimmed(string execution, long oldest);

    [LoggerMessage(EventIds.TrimFailed, LogLevel.Warning, "Retention trim of {Execution} failed; it is retried later")]
    private partial void LogTrimFailed(Exception exception, string execution);
}
