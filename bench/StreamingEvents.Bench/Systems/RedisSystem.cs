using System.Buffers.Text;
using System.Globalization;
using StackExchange.Redis;
using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;

namespace StreamingEvents.Bench.Systems;

/// <summary>
/// Redis Streams as the peer: one key per stream, <c>XADD</c> with explicit ids <c>&lt;sequence&gt;-0</c> (so Redis enforces
/// the same contiguous numbering and subscribers can check it), subscribers <c>XREAD BLOCK</c> from the last id.
/// Publishing uses StackExchange.Redis as a production client would: a few multiplexers, each stream pinned to one so
/// its XADDs stay in order on one pipelined connection. Subscribers use one raw connection each (see
/// <see cref="RespConnection"/>).
/// </summary>
internal sealed class RedisSystem : IEventSystem, IAsyncDisposable
{
    private const int Multiplexers = 4;

    private readonly RedisInstance _server;
    private readonly ConnectionMultiplexer[] _connections;

    private RedisSystem(RedisInstance server, ConnectionMultiplexer[] connections, Durability durability)
    {
        _server = server;
        _connections = connections;
        Durability = durability;
    }

    public string Name => "Redis";

    public Durability Durability { get; }

    public string Label => $"Redis {_server.AppendFsync}";

    public IReadOnlyList<MonitoredProcess> Processes => [_server.Monitored];

    public bool SupportsSubscribe => true;

    public RedisInstance Server => _server;

    public static async Task<RedisSystem> StartAsync(string executable, Durability durability, string logsDirectory)
    {
        var server = await RedisInstance.StartAsync(executable, durability == Durability.D2 ? "always" : "everysec", logsDirectory);
        var connections = new ConnectionMultiplexer[Multiplexers];
        for (var i = 0; i < connections.Length; i++)
        {
            var options = ConfigurationOptions.Parse(server.Configuration);
            options.AllowAdmin = true;
            connections[i] = await ConnectionMultiplexer.ConnectAsync(options);
        }

        return new RedisSystem(server, connections, durability);
    }

    private static RedisKey Key(string stream) => "s:" + stream;

    private IDatabase Database(string stream) => _connections[(int)((uint)StringComparer.Ordinal.GetHashCode(stream) % Multiplexers)].GetDatabase();

    public async Task<IStreamPublisher> OpenAsync(string stream, BenchState first, CancellationToken cancellationToken)
    {
        var database = Database(stream);
        var id = await database.StreamAddAsync(Key(stream), "s", PayloadFactory.Serialize(first), "1-0");
        if (ParseSequence(id) != 1)
        {
            throw new InvalidOperationException($"XADD of the first event of {stream} returned {id}.");
        }

        return new Publisher(database, Key(stream));
    }

    public async Task SubscribeAsync(string stream, long fromSequence, ISubscriberSink sink, CancellationToken cancellationToken)
    {
        try
        {
            using var connection = await RespConnection.ConnectAsync(_server.Port, cancellationToken);
            var last = Math.Max(0, fromSequence - 1).ToString(CultureInfo.InvariantCulture) + "-0";
            var key = (string)Key(stream)!;
            while (true)
            {
                await connection.SendAsync(["XREAD", "COUNT", "1000", "BLOCK", "0", "STREAMS", key, last], cancellationToken);
                var reply = await connection.ReadAsync(cancellationToken);
                if (reply.IsNull)
                {
                    continue;
                }

                // [[key, [[id, [field, value, ...]], ...]]]
                foreach (var entry in reply.Items![0].Items![1].Items!)
                {
                    var id = entry.Items![0].BulkValue!;
                    var fields = entry.Items[1].Items!;
                    var sequence = ParseSequence(id);
                    var terminal = fields[0].BulkValue is [(byte)'c'];
                    last = System.Text.Encoding.ASCII.GetString(id);
                    if (!sink.OnEvent(sequence, fields[1].BulkValue!.Length, terminal) || terminal)
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async Task<StorageCounters?> ReadStorageCountersAsync() => new(null, await RedisInstance.InfoAsync(_connections[0]));

    public async Task ResetAsync()
    {
        var server = _connections[0].GetServers()[0];
        await server.FlushAllDatabasesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.CloseAsync();
            await connection.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    private static long ParseSequence(RedisValue id) => ParseSequence((byte[])id!);

    private static long ParseSequence(ReadOnlySpan<byte> id) =>
        Utf8Parser.TryParse(id, out long sequence, out _) ? sequence : throw new InvalidOperationException("A stream id that is not '<sequence>-0'.");

    private sealed class Publisher(IDatabase database, RedisKey key) : IStreamPublisher
    {
        private long _next = 2;

        public long NextSequence => Interlocked.Read(ref _next);

        public Task<long> PublishAsync(BenchState state) => AddAsync("u", state);

        public Task<long> CompleteAsync(BenchState state) => AddAsync("c", state);

        private async Task<long> AddAsync(string field, BenchState state)
        {
            var sequence = Interlocked.Increment(ref _next) - 1;
            var id = await database.StreamAddAsync(key, field, PayloadFactory.Serialize(state), sequence.ToString(CultureInfo.InvariantCulture) + "-0");
            return ParseSequence(id);
        }
    }
}
