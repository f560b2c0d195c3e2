using System.Net.Sockets;

namespace StreamingEvents.Testing;

/// <summary>Connections for clients that read slowly: a small receive buffer makes the server's sends block sooner.</summary>
public static class SlowReaderSockets
{
    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> whose socket has a 4 KiB receive buffer.</summary>
    public static async ValueTask<Stream> ConnectWithTinyReceiveBufferAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
