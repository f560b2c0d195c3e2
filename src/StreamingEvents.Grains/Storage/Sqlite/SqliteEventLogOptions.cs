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

    /// <summary>The default database file.</summary>
    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "StreamingEvents",
        "streaming-events.db");
}

/// <summary>Checks <see cref="SqliteEventLogOptions"/> and names every setting to fix.</summary>
internal sealed class SqliteEventLogOptionsValidator : IValidateOptions<SqliteEventLogOptions>
{
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
