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
