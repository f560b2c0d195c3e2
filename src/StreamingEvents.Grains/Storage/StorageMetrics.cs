namespace StreamingEvents.Storage;

internal static class StorageMetrics
{
    /// <summary>The commit observer of the group committers: size and duration of each transaction.</summary>
    public static Action<long, TimeSpan>? RecordCommit(this StreamingEventsMetrics? metrics) => metrics is null
        ? null
        : (events, duration) =>
        {
            metrics.CommitSize.Record(events);
            metrics.CommitDuration.Record(duration.TotalSeconds);
        };
}
