namespace StreamingEvents.Storage.Postgres;

/// <summary>Settings of the PostgreSQL event log.</summary>
public sealed class PostgresEventLogOptions
{
    /// <summary>The Npgsql connection string. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How many group commits may be in flight at once (default 2): one fills while the other commits.</summary>
    public int ConcurrentCommits { get; set; } = 2;

    /// <summary>The most events one commit carries (default 8192).</summary>
    public int MaxEventsPerCommit { get; set; } = 8192;
}
