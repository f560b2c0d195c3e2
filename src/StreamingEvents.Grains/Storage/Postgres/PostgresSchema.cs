using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace StreamingEvents.Storage.Postgres;

/// <summary>
/// Applies the project's PostgreSQL schema: the tables and queries Orleans' ADO.NET clustering and grain storage need,
/// and the event log. Every script is idempotent; all run in one transaction under an advisory lock, so silos that start
/// together apply it once and a failure leaves nothing half-made.
/// </summary>
/// <remarks>
/// The version applied (a hash of the scripts) is recorded, and a database that already has it is left untouched: a silo
/// joining a running cluster must not take the table locks that <c>CREATE INDEX IF NOT EXISTS</c> takes even for an
/// index that exists, because those wait behind running commits and can deadlock with them. When a new version is
/// applied to a database in use, a deadlock aborts one side; the schema side is retried a bounded number of times.
/// </remarks>
public static class PostgresSchema
{
    private const long AdvisoryLockKey = 0x5345_5343_4845_4D41; // "SESCHEMA"
    private const int MaxAttempts = 5;

    /// <summary>The scripts, in the order they are applied.</summary>
    public static IReadOnlyList<(string Name, string Sql)> Scripts { get; } = LoadScripts();

    /// <summary>The version recorded in the database once <see cref="Scripts"/> are applied: a hash of their text.</summary>
    public static string Version { get; } = ComputeVersion(Scripts);

    /// <summary>Applies the schema to the database of <paramref name="connectionString"/>.</summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await ApplyAsync(dataSource, cancellationToken);
    }

    /// <summary>
    /// Applies the schema unless the database already records <see cref="Version"/>. Returns whether scripts ran.
    /// </summary>
    internal static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryApplyAsync(dataSource, cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < MaxAttempts)
            {
                // The transaction was rolled back whole; the other side of the deadlock goes on. Try again.
            }
        }
    }

    private static async Task<bool> TryApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})");
        await ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS se_schema_versions
            (
                version    text        PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """);

        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM se_schema_versions WHERE version = $1)", connection, transaction))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = Version });
            if ((bool)(await check.ExecuteScalarAsync(cancellationToken))!)
            {
                await transaction.CommitAsync(cancellationToken);
                return false;
            }
        }

        foreach (var (_, sql) in Scripts)
        {
            await ExecuteAsync(sql);
        }

        await using (var record = new NpgsqlCommand("INSERT INTO se_schema_versions (version) VALUES ($1)", connection, transaction))
        {
            record.Parameters.Add(new NpgsqlParameter { Value = Version });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;

        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static string ComputeVersion(IReadOnlyList<(string Name, string Sql)> scripts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, sql) in scripts)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(sql));
            hash.AppendData([0]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static List<(string, string)> LoadScripts()
    {
        const string Prefix = "StreamingEvents.Postgres.";
        var assembly = typeof(PostgresSchema).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => (name[Prefix.Length..], Read(assembly, name)))];
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
