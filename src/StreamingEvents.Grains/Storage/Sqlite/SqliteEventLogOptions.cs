namespace StreamingEvents.Storage.Sqlite;

/// <summary>Settings of the embedded SQLite event log.</summary>
public sealed class SqliteEventLogOptions
{
    /// <summary>
    /// The database file. Default: <c>streaming-events.db</c> in the user's local application data folder
    /// (<c>~/.local/share/StreamingEvents</c> on Linux).
    /// </summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>The most events one commit carries (default 8192).</summary>
    public int MaxEventsPerCommit { get; set; } = 8192;

    /// <summary>The default database file.</summary>
    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "StreamingEvents",
        "streaming-events.db");
}
