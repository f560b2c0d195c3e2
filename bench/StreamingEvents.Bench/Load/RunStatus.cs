namespace StreamingEvents.Bench.Load;

/// <summary>What the live progress display shows about the run in progress; written by the load generator, read by the display.</summary>
internal sealed class RunStatus
{
    private long _sent;
    private long _acked;
    private long _delivered;

    public string Workload { get; set; } = string.Empty;

    public string System { get; set; } = string.Empty;

    public string Phase { get; set; } = string.Empty;

    public string Detail { get; set; } = string.Empty;

    public long Sent => Interlocked.Read(ref _sent);

    public long Acked => Interlocked.Read(ref _acked);

    public long Delivered => Interlocked.Read(ref _delivered);

    public void Begin(string workload, string system, string detail)
    {
        Workload = workload;
        System = system;
        Detail = detail;
        Phase = "starting";
        Interlocked.Exchange(ref _sent, 0);
        Interlocked.Exchange(ref _acked, 0);
        Interlocked.Exchange(ref _delivered, 0);
    }

    public void Update(long sent, long acked, long delivered)
    {
        Interlocked.Exchange(ref _sent, sent);
        Interlocked.Exchange(ref _acked, acked);
        Interlocked.Exchange(ref _delivered, delivered);
    }
}
