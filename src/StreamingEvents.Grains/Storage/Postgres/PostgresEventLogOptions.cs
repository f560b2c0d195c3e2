using Microsoft.Extensions.Options;

namespace StreamingEvents.Storage.Postgres;

/// <summary>
/// Settings of the PostgreSQL event log; <c>UseStreamingEventsDefaults</c> binds them from <c>StreamingEvents:Postgres</c>
/// (the connection string comes from <c>ConnectionStrings:StreamingEvents</c>).
/// </summary>
public sealed class PostgresEventLogOptions
{
    /// <summary>The configuration section <c>UseStreamingEventsDefaults</c> binds.</summary>
    public const string SectionName = "StreamingEvents:Postgres";

    /// <summary>The Npgsql connection string. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How many group commits may be in flight at once (default 2): one fills while the other commits.</summary>
    public int ConcurrentCommits { get; set; } = 2;

    /// <summary>The most events one commit carries (default 8192).</summary>
    public int MaxEventsPerCommit { get; set; } = 8192;

    /// <summary>
    /// The most bytes of event bodies one commit carries (default 16 MiB); one stream's append larger than this is
    /// committed alone. PostgreSQL refuses a statement over 1 GB, which would fail every append in it.
    /// </summary>
    public long MaxBytesPerCommit { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// The <c>synchronous_commit</c> every append transaction runs with (default <see cref="PostgresSynchronousCommit.On"/>:
    /// an append is acknowledged only after its commit record is flushed to disk). Set explicitly on each transaction, so a
    /// server, database or role configured otherwise cannot weaken what an acknowledgement means. <c>Off</c> acknowledges
    /// before the flush (a crash may lose the last acknowledged events); the benchmark's D1 class uses it on purpose.
    /// </summary>
    public PostgresSynchronousCommit SynchronousCommit { get; set; } = PostgresSynchronousCommit.On;
}

/// <summary>PostgreSQL's <c>synchronous_commit</c> levels, strongest first.</summary>
public enum PostgresSynchronousCommit
{
    /// <summary>Flushed locally (and on synchronous standbys, if configured).</summary>
    On,
    /// <summary>Flushed locally and applied on synchronous standbys.</summary>
    RemoteApply,
    /// <summary>Flushed locally and written (not flushed) on synchronous standbys.</summary>
    RemoteWrite,
    /// <summary>Flushed locally only, whatever the standbys.</summary>
    Local,
    /// <summary>Not waited for: a crash can lose recently acknowledged events.</summary>
    Off,
}

/// <summary>Checks <see cref="PostgresEventLogOptions"/> and names every setting to fix.</summary>
internal sealed class PostgresEventLogOptionsValidator : IValidateOptions<PostgresEventLogOptions>
{
    /// <summary>Whatever the bound says, a statement must stay well under PostgreSQL's 1 GB message limit.</summary>
    internal const long MaxBytesPerCommitLimit = 256L * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, PostgresEventLogOptions options)
    {
        var failures = new List<string>();
        const string S = PostgresEventLogOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("ConnectionStrings:StreamingEvents (the PostgreSQL connection string) must not be empty.");
        }

        if (options.ConcurrentCommits < 1)
        {
            failures.Add($"{S}:ConcurrentCommits must be at least 1 (is {options.ConcurrentCommits}).");
        }

        if (options.MaxEventsPerCommit < 1)
        {
            failures.Add($"{S}:MaxEventsPerCommit must be at least 1 (is {options.MaxEventsPerCommit}).");
        }

        if (!Enum.IsDefined(options.SynchronousCommit))
        {
            failures.Add($"{S}:SynchronousCommit must be one of {string.Join(", ", Enum.GetNames<PostgresSynchronousCommit>())} (is {options.SynchronousCommit}).");
        }

        if (options.MaxBytesPerCommit is < 1 or > MaxBytesPerCommitLimit)
        {
            failures.Add($"{S}:MaxBytesPerCommit must be between 1 and {MaxBytesPerCommitLimit} (is {options.MaxBytesPerCommit}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>These options are configured in code, not through <c>IOptions</c>: the storage checks them when it is added.</summary>
    public static void ThrowIfInvalid(PostgresEventLogOptions options)
    {
        if (new PostgresEventLogOptionsValidator().Validate(null, options) is { Failed: true } result)
        {
            throw new OptionsValidationException(nameof(PostgresEventLogOptions), typeof(PostgresEventLogOptions), result.Failures);
        }
    }
}
