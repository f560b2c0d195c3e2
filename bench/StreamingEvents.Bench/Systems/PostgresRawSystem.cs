using Npgsql;
using NpgsqlTypes;
using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;

namespace StreamingEvents.Bench.Systems;

/// <summary>How raw PostgreSQL writes a batch of events.</summary>
internal enum RawWriteMode
{
    /// <summary>One INSERT of one row, one commit per event.</summary>
    SingleRowInsert,

    /// <summary>One INSERT … SELECT FROM unnest(arrays) of n rows, one commit per n events.</summary>
    MultiRowInsert,

    /// <summary>COPY … FROM STDIN (FORMAT BINARY) of n rows, one commit per n events.</summary>
    Copy,
}

/// <summary>
/// Raw PostgreSQL: the ceiling of our storage. Events go into a table shaped like ours
/// (<c>stream_id, seq, ts, task_no, kind, body, primary key (stream_id, seq)</c>) with no stream-head update, no
/// conditional write and no rendering. There is no push, so no subscribers: it is measured for writes (single-row
/// INSERT per event, multi-row INSERT, COPY) and for reads (replay of one stream in one ordered query).
/// </summary>
internal sealed class PostgresRawSystem : IEventSystem, IAsyncDisposable
{
    private const string InsertOne = "INSERT INTO bench_events (stream_id, seq, ts, task_no, kind, body) VALUES ($1, $2, $3, 1, 1, $4)";
    private const string InsertMany = """
        INSERT INTO bench_events (stream_id, seq, ts, task_no, kind, body)
        SELECT s, q, t, 1, 1, b FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[]) AS x(s, q, t, b)
        """;

    private readonly PostgresInstance _postgres;
    private long _nextStreamId;

    private PostgresRawSystem(PostgresInstance postgres, string database, string connectionString, Durability durability)
    {
        _postgres = postgres;
        Database = database;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Durability = durability;
    }

    public string Name => "PostgreSQL (raw)";

    public Durability Durability { get; }

    public string Label => $"PostgreSQL raw {(Durability == Durability.D2 ? "sync" : "async")} commit";

    public string Database { get; }

    public NpgsqlDataSource DataSource { get; }

    public IReadOnlyList<MonitoredProcess> Processes => [_postgres.Monitored];

    public bool SupportsSubscribe => false;

    public static async Task<PostgresRawSystem> StartAsync(PostgresInstance postgres, Durability durability)
    {
        var database = "raw_" + durability.ToString().ToLowerInvariant();
        var connectionString = await postgres.CreateDatabaseAsync(database, synchronousCommit: durability == Durability.D2);
        var system = new PostgresRawSystem(postgres, database, connectionString.Replace("Maximum Pool Size=100", "Maximum Pool Size=200", StringComparison.Ordinal), durability);
        await using var command = system.DataSource.CreateCommand("""
            CREATE TABLE bench_events (
                stream_id bigint NOT NULL, seq bigint NOT NULL, ts bigint NOT NULL, task_no int NOT NULL, kind smallint NOT NULL, body bytea NOT NULL,
                PRIMARY KEY (stream_id, seq))
            """);
        await command.ExecuteNonQueryAsync();
        return system;
    }

    public long NewStreamId() => Interlocked.Increment(ref _nextStreamId);

    public async Task<IStreamPublisher> OpenAsync(string stream, BenchState first, CancellationToken cancellationToken)
    {
        var id = NewStreamId();
        await WriteAsync(id, 1, [PayloadFactory.Serialize(first)], RawWriteMode.SingleRowInsert, cancellationToken);
        return new Publisher(this, id);
    }

    public Task SubscribeAsync(string stream, long fromSequence, ISubscriberSink sink, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Raw PostgreSQL has no push; it is measured as the storage ceiling only.");

    /// <summary>Writes <paramref name="bodies"/> as sequences <paramref name="firstSequence"/>… of one stream in one commit.</summary>
    public async Task WriteAsync(long streamId, long firstSequence, IReadOnlyList<byte[]> bodies, RawWriteMode mode, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow.Ticks;
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        switch (mode)
        {
            case RawWriteMode.SingleRowInsert:
                foreach (var (body, i) in bodies.Select((b, i) => (b, i)))
                {
                    await using var one = new NpgsqlCommand(InsertOne, connection);
                    one.Parameters.Add(new NpgsqlParameter<long> { TypedValue = streamId });
                    one.Parameters.Add(new NpgsqlParameter<long> { TypedValue = firstSequence + i });
                    one.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now });
                    one.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = body });
                    await one.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            case RawWriteMode.MultiRowInsert:
                await using (var many = new NpgsqlCommand(InsertMany, connection))
                {
                    many.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. Enumerable.Repeat(streamId, bodies.Count)] });
                    many.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. Enumerable.Range(0, bodies.Count).Select(i => firstSequence + i)] });
                    many.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. Enumerable.Repeat(now, bodies.Count)] });
                    many.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. bodies] });
                    await many.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            case RawWriteMode.Copy:
                await using (var copy = await connection.BeginBinaryImportAsync(
                    "COPY bench_events (stream_id, seq, ts, task_no, kind, body) FROM STDIN (FORMAT BINARY)", cancellationToken))
                {
                    for (var i = 0; i < bodies.Count; i++)
                    {
                        await copy.StartRowAsync(cancellationToken);
                        await copy.WriteAsync(streamId, NpgsqlDbType.Bigint, cancellationToken);
                        await copy.WriteAsync(firstSequence + i, NpgsqlDbType.Bigint, cancellationToken);
                        await copy.WriteAsync(now, NpgsqlDbType.Bigint, cancellationToken);
                        await copy.WriteAsync(1, NpgsqlDbType.Integer, cancellationToken);
                        await copy.WriteAsync((short)1, NpgsqlDbType.Smallint, cancellationToken);
                        await copy.WriteAsync(bodies[i], NpgsqlDbType.Bytea, cancellationToken);
                    }

                    await copy.CompleteAsync(cancellationToken);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }

    /// <summary>Reads one stream from <paramref name="fromSequence"/> in one ordered query: events and body bytes.</summary>
    public async Task<(long Events, long Bytes)> ReplayAsync(long streamId, long fromSequence, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand("SELECT seq, ts, task_no, kind, body FROM bench_events WHERE stream_id = $1 AND seq >= $2 ORDER BY seq");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = streamId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromSequence });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long events = 0, bytes = 0, expected = Math.Max(1, fromSequence);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetInt64(0) != expected++)
            {
                throw new InvalidOperationException("Raw replay returned a sequence out of order.");
            }

            bytes += reader.GetFieldValue<byte[]>(4).Length;
            events++;
        }

        return (events, bytes);
    }

    public async Task<StorageCounters?> ReadStorageCountersAsync() => new(await _postgres.ReadCountersAsync(Database), null);

    public async Task ResetAsync()
    {
        await using var command = DataSource.CreateCommand("TRUNCATE bench_events");
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    private sealed class Publisher(PostgresRawSystem system, long streamId) : IStreamPublisher
    {
        private long _next = 2;

        public long NextSequence => Interlocked.Read(ref _next);

        public Task<long> PublishAsync(BenchState state) => WriteOneAsync(state);

        public Task<long> CompleteAsync(BenchState state) => WriteOneAsync(state);

        private async Task<long> WriteOneAsync(BenchState state)
        {
            var sequence = Interlocked.Increment(ref _next) - 1;
            await system.WriteAsync(streamId, sequence, [PayloadFactory.Serialize(state)], RawWriteMode.SingleRowInsert, CancellationToken.None);
            return sequence;
        }
    }
}
