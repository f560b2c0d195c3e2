namespace StreamingEvents.Bench.Workloads;

/// <summary>One workload of the brief (W1…W8, deltas, the storage ceiling); it records its rows in the report.</summary>
internal interface IWorkload
{
    string Id { get; }

    string Title { get; }

    Task RunAsync(BenchContext context);
}
