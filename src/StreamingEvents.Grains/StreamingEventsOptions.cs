using Microsoft.Extensions.Options;

namespace StreamingEvents;

/// <summary>Server settings, bound from the <c>StreamingEvents</c> configuration section.</summary>
public sealed class StreamingEventsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "StreamingEvents";

    /// <summary>How long and how much each execution's stream keeps. Trimming never changes numbering.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Newest events each active stream keeps in memory for fast replay (default 256).</summary>
    public int MemoryWindowEvents { get; set; } = 256;

    /// <summary>Bytes of newest events each active stream keeps in memory (default 1 MiB).</summary>
    public long MemoryWindowBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes of closed tasks' rows each active stream keeps for rendering replays (default 256 KiB, some hundreds of
    /// tasks); past it the least recently used are dropped and read again from storage when needed. Open tasks are always
    /// kept.
    /// </summary>
    public long TaskCacheBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// An open task with no event for this long is ended with <c>CUSTOM_TASK_TIMED_OUT</c> (default 30 minutes): a
    /// crashed worker's task does not stay open forever.
    /// </summary>
    public TimeSpan TaskInactivityTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long an HTTP <c>Idempotency-Key</c> is remembered (default 24 hours): a request repeated with its key within
    /// this time answers the first one's result and publishes nothing. Keys are forgotten at the next maintenance after.
    /// </summary>
    public TimeSpan IdempotencyKeyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often task timeouts, age-based retention and idempotency keys are checked (default 1 minute).</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The unit of <c>data.event_timestamp</c> (default nanoseconds, as Mistral's API). Milliseconds stay below 2^53 for
    /// strict JavaScript clients.
    /// </summary>
    public EventTimestampUnit EventTimestampUnit { get; set; } = EventTimestampUnit.Nanoseconds;

    /// <summary>The most events one read (replay page) returns (default 1000).</summary>
    public int MaxEventsPerRead { get; set; } = 1000;

    /// <summary>The most JSON bytes one read returns, beyond its first event (default 4 MiB).</summary>
    public int MaxBytesPerRead { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most replay reads from storage a silo runs at once (default 8). A reconnect storm queues its reads instead of
    /// taking every connection and core from the appends of live publishers.
    /// </summary>
    public int MaxConcurrentReplayReads { get; set; } = 8;

    /// <summary>The most events one stream puts in one commit (default 1000).</summary>
    public int MaxEventsPerCommit { get; set; } = 1000;

    /// <summary>
    /// The most payload bytes one stream puts in one commit (default 8 MiB); a single request larger than this is
    /// committed alone. The storage bounds each group commit of many streams in bytes as well.
    /// </summary>
    public long MaxBytesPerCommit { get; set; } = 8L * 1024 * 1024;

    /// <summary>The Orleans stream provider used for the live push.</summary>
    public string StreamProviderName { get; set; } = StreamingEventsNames.StreamProvider;
}

/// <summary>Retention of each execution's events.</summary>
public sealed class RetentionOptions
{
    /// <summary>The most events kept per execution (default 100,000).</summary>
    public long MaxEvents { get; set; } = 100_000;

    /// <summary>The most bytes of payload kept per execution (default 256 MiB).</summary>
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Events older than this are removed (default 7 days).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>The unit of <c>data.event_timestamp</c>.</summary>
public enum EventTimestampUnit
{
    /// <summary>Nanoseconds since the Unix epoch (Mistral's schema).</summary>
    Nanoseconds,
    /// <summary>Milliseconds since the Unix epoch (safe for JavaScript numbers).</summary>
    Milliseconds,
}

/// <summary>Checks <see cref="StreamingEventsOptions"/> and names every setting to fix.</summary>
internal sealed class StreamingEventsOptionsValidator : IValidateOptions<StreamingEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamingEventsOptions options)
    {
        var failures = new List<string>();
        const string S = StreamingEventsOptions.SectionName;
        if (options.Retention.MaxEvents < 1)
        {
            failures.Add($"{S}:Retention:MaxEvents must be at least 1 (is {options.Retention.MaxEvents}).");
        }

        if (options.Retention.MaxBytes < StreamingLimits.MaxEventBytes)
        {
            failures.Add($"{S}:Retention:MaxBytes must be at least {StreamingLimits.MaxEventBytes} (one largest event), is {options.Retention.MaxBytes}.");
        }

        if (options.Retention.MaxAge <= TimeSpan.Zero)
        {
            failures.Add($"{S}:Retention:MaxAge must be positive (is {options.Retention.MaxAge}).");
        }

        if (options.MemoryWindowEvents < 0)
        {
            failures.Add($"{S}:MemoryWindowEvents must not be negative (is {options.MemoryWindowEvents}).");
        }

        if (options.MemoryWindowBytes < 0)
        {
            failures.Add($"{S}:MemoryWindowBytes must not be negative (is {options.MemoryWindowBytes}).");
        }

        if (options.TaskCacheBytes < 0)
        {
            failures.Add($"{S}:TaskCacheBytes must not be negative (is {options.TaskCacheBytes}).");
        }

        if (options.TaskInactivityTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:TaskInactivityTimeout must be positive (is {options.TaskInactivityTimeout}).");
        }

        if (options.IdempotencyKeyRetention <= TimeSpan.Zero)
        {
            failures.Add($"{S}:IdempotencyKeyRetention must be positive (is {options.IdempotencyKeyRetention}).");
        }

        if (options.MaintenanceInterval <= TimeSpan.Zero)
        {
            failures.Add($"{S}:MaintenanceInterval must be positive (is {options.MaintenanceInterval}).");
        }

        if (options.MaxEventsPerRead is < 1 or > 100_000)
        {
            failures.Add($"{S}:MaxEventsPerRead must be between 1 and 100000 (is {options.MaxEventsPerRead}).");
        }

        if (options.MaxBytesPerRead < 1)
        {
            failures.Add($"{S}:MaxBytesPerRead must be positive (is {options.MaxBytesPerRead}).");
        }

        if (options.MaxConcurrentReplayReads < 1)
        {
            failures.Add($"{S}:MaxConcurrentReplayReads must be positive (is {options.MaxConcurrentReplayReads}).");
        }

        if (options.MaxEventsPerCommit < 1)
        {
            failures.Add($"{S}:MaxEventsPerCommit must be positive (is {options.MaxEventsPerCommit}).");
        }

        if (options.MaxBytesPerCommit < 1)
        {
            failures.Add($"{S}:MaxBytesPerCommit must be positive (is {options.MaxBytesPerCommit}).");
        }

        if (string.IsNullOrWhiteSpace(options.StreamProviderName))
        {
            failures.Add($"{S}:StreamProviderName must not be empty.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
