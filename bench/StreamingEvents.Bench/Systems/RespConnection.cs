using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamingEvents.Bench.Systems;

/// <summary>
/// One raw RESP2 connection to Redis for a blocking reader. <c>XREAD BLOCK</c> holds its connection until data arrives,
/// so each subscriber needs a connection of its own: a StackExchange.Redis multiplexer would stall every other command
/// behind it, and one multiplexer per subscriber (two sockets, a handshake and a heartbeat timer each, for 1,000
/// subscribers) would make the load generator the bottleneck. This is one socket and a small parser.
/// </summary>
internal sealed class RespConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _send = new byte[4096];
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RespConnection(Socket socket) => _socket = socket;

    public static async Task<RespConnection> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new RespConnection(socket);
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Sends one command (an array of bulk strings).</summary>
    public async Task SendAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var builder = new StringBuilder();
        builder.Append('*').Append(arguments.Length).Append("\r\n");
        foreach (var argument in arguments)
        {
            builder.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        var length = Encoding.UTF8.GetBytes(builder.ToString(), _send);
        var sent = 0;
        while (sent < length)
        {
            sent += await _socket.SendAsync(_send.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken);
        }
    }

    /// <summary>Reads one reply.</summary>
    public async Task<RespValue> ReadAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        var type = (char)line[0];
        var rest = line.AsSpan(1);
        switch (type)
        {
            case '+':
                return RespValue.Text(Encoding.UTF8.GetString(rest));
            case '-':
                throw new InvalidOperationException("Redis: " + Encoding.UTF8.GetString(rest));
            case ':':
                return RespValue.Integer(ParseLong(rest));
            case '$':
            {
                var length = ParseLong(rest);
                return length < 0 ? RespValue.Null : RespValue.Bulk(await ReadBulkAsync((int)length, cancellationToken));
            }

            case '*':
            {
                var count = ParseLong(rest);
                if (count < 0)
                {
                    return RespValue.Null;
                }

                var items = new RespValue[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = await ReadAsync(cancellationToken);
                }

                return RespValue.Array(items);
            }

            default:
                throw new InvalidOperationException($"Redis: unexpected reply type '{type}'.");
        }
    }

    private static long ParseLong(ReadOnlySpan<byte> text) =>
        Utf8Parser.TryParse(text, out long value, out _) ? value : throw new InvalidOperationException("Redis: a malformed length.");

    private async Task<byte[]> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var index = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (index >= 0)
            {
                var line = _buffer.AsSpan(_start, index).ToArray();
                _start += index + 2;
                return line;
            }

            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadBulkAsync(int length, CancellationToken cancellationToken)
    {
        while (_end - _start < length + 2)
        {
            await FillAsync(cancellationToken, length + 2);
        }

        var bulk = _buffer.AsSpan(_start, length).ToArray();
        _start += length + 2;
        return bulk;
    }

    private async Task FillAsync(CancellationToken cancellationToken, int need = 0)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length || need > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, need));
        }

        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (read == 0)
        {
            throw new InvalidOperationException("Redis closed the connection.");
        }

        _end += read;
    }
}

/// <summary>A RESP2 reply: text, integer, bulk bytes, array or null.</summary>
internal sealed class RespValue
{
    public static readonly RespValue Null = new();

    public string? TextValue { get; private init; }

    public long IntegerValue { get; private init; }

    public byte[]? BulkValue { get; private init; }

    public RespValue[]? Items { get; private init; }

    public bool IsNull => ReferenceEquals(this, Null);

    public static RespValue Text(string text) => new() { TextValue = text };

    public static RespValue Integer(long value) => new() { IntegerValue = value };

    public static RespValue Bulk(byte[] bytes) => new() { BulkValue = bytes };

    public static RespValue Array(RespValue[] items) => new() { Items = items };
}
