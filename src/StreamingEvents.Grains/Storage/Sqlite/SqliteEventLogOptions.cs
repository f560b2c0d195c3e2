using Microsoft.Extensions.Options;

namespace StreamingEvents.Storage.Sqlite;

/// <summary>
/// Settings of the embedded SQLite event log; <c>UseStreamingEventsDefaults</c> binds them from
/// <c>StreamingEvents:Sqlite</c>.
/// </summary>
public sealed class SqliteEventLogOptions
{
    /// <summary>The configuration section <c>UseStreamingEventsDefaults</c> binds.</summary>
    public const string SectionName = "StreamingEvents:Sqlite";

    /// <summary>
    /// The database file. Default: <c>streaming-events.db</c> in the user's local application data folder
    /// (<c>~/.local/share/StreamingEvents</c> on Linux).
    /// </summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>The most events one commit carries (default 8192).</summary>
    public int MaxEventsPerCommit { get; set; } = 8192;

    /// <summary>
    /// The most bytes of event bodies one commit carries (default 16 MiB); one stream's append larger than this is
    /// committed alone.
    /// </summary>
    public long MaxBytesPerCommit { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// The size past which the write-ahead log is checkpointed into the database and truncated (default 64 MiB). SQLite's
    /// own checkpoints cannot restart the log while readers keep overlapping, so under continuous reads the file would
    /// grow without bound; it can pass this size by at most one commit.
    /// </summary>
    public long MaxWalBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How long a truncating checkpoint waits for readers still on older snapshots (default 1 s). Appends wait behind it;
    /// when readers hold on longer, it gives up and is tried again once the log has grown by another
    /// <see cref="MaxWalBytes"/>. New readers are never blocked by it.
    /// </summary>
    public TimeSpan WalCheckpointTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The default database file.</summary>
    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "StreamingEvents",
        "streaming-events.db");
}

/// <summary>Checks <see cref="SqliteEventLogOptions"/> and names every setting to fix.</summary>
internal sealed class SqliteEventLogOptionsValidator : IValidateOptions<SqliteEventLogOptions>
{
    /// <summary>Smaller, and the log would be checkpointed after nearly every commit.</summary>
    internal const long MinWalBytes = 64 * 1024;

    public ValidateOptionsResult Validate(string? name, SqliteEventLogOptions options)
    {
        var failures = new List<string>();
        const string S = SqliteEventLogOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add($"{S}:Path must not be empty.");
        }

        if (options.MaxEventsPerCommit < 1)
        {
            failures.Add($"{S}:MaxEventsPerCommit must be at least 1 (is {options.MaxEventsPerCommit}).");
        }

        if (options.MaxBytesPerCommit < 1)
        {
            failures.Add($"{S}:MaxBytesPerCommit must be at least 1 (is {options.MaxBytesPerCommit}).");
        }

        if (options.MaxWalBytes < MinWalBytes)
        {
            failures.Add($"{S}:MaxWalBytes must be at least {MinWalBytes} (is {options.MaxWalBytes}).");
        }

        if (options.WalCheckpointTimeout < TimeSpan.Zero || options.WalCheckpointTimeout > TimeSpan.FromSeconds(30))
        {
            failures.Add($"{S}:WalCheckpointTimeout must be between 0 and 30 seconds (is {options.WalCheckpointTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>These options are configured in code, not through <c>IOptions</c>: the storage checks them when it is added.</summary>
    public static void ThrowIfInvalid(SqliteEventLogOptions options)
    {
        if (new SqliteEventLogOptionsValidator().Validate(null, options) is { Failed: true } result)
        {
            throw new OptionsValidationException(nameof(SqliteEventLogOptions), typeof(SqliteEventLogOptions), result.Failures);
        }
    }
}
