using Microsoft.Extensions.Options;
using StreamingEvents.Storage.Postgres;
using StreamingEvents.Storage.Sqlite;

namespace StreamingEvents.Tests.Grains.Storage;

public sealed class StorageOptionsValidatorTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new PostgresEventLogOptionsValidator().Validate(null, new PostgresEventLogOptions { ConnectionString = "Host=db" }).Succeeded);
        Assert.True(new SqliteEventLogOptionsValidator().Validate(null, new SqliteEventLogOptions()).Succeeded);
    }

    [Fact]
    public void Every_bad_postgres_setting_is_named_at_once()
    {
        var options = new PostgresEventLogOptions { ConcurrentCommits = 0, MaxEventsPerCommit = 0, MaxBytesPerCommit = 0 };

        var error = Assert.Throws<OptionsValidationException>(() => PostgresEventLogOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal(
        [
            "ConnectionStrings:StreamingEvents (the PostgreSQL connection string) must not be empty.",
            "StreamingEvents:Postgres:ConcurrentCommits must be at least 1 (is 0).",
            "StreamingEvents:Postgres:MaxEventsPerCommit must be at least 1 (is 0).",
            $"StreamingEvents:Postgres:MaxBytesPerCommit must be between 1 and {PostgresEventLogOptionsValidator.MaxBytesPerCommitLimit} (is 0).",
        ], error.Failures);
    }

    [Fact]
    public void A_postgres_commit_bound_near_the_server_message_limit_is_refused()
    {
        var options = new PostgresEventLogOptions { ConnectionString = "Host=db", MaxBytesPerCommit = 1L << 30 };

        var failure = Assert.Single(new PostgresEventLogOptionsValidator().Validate(null, options).Failures!);

        Assert.StartsWith("StreamingEvents:Postgres:MaxBytesPerCommit must be between 1 and ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_sqlite_setting_is_named_at_once()
    {
        var options = new SqliteEventLogOptions
        {
            Path = " ", MaxEventsPerCommit = 0, MaxBytesPerCommit = -1, MaxWalBytes = 1024, WalCheckpointTimeout = TimeSpan.FromMinutes(1),
        };

        var error = Assert.Throws<OptionsValidationException>(() => SqliteEventLogOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal(
        [
            "StreamingEvents:Sqlite:Path must not be empty.",
            "StreamingEvents:Sqlite:MaxEventsPerCommit must be at least 1 (is 0).",
            "StreamingEvents:Sqlite:MaxBytesPerCommit must be at least 1 (is -1).",
            $"StreamingEvents:Sqlite:MaxWalBytes must be at least {SqliteEventLogOptionsValidator.MinWalBytes} (is 1024).",
            "StreamingEvents:Sqlite:WalCheckpointTimeout must be between 0 and 30 seconds (is 00:01:00).",
        ], error.Failures);
    }
}
