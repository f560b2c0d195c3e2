using System.Net;
using System.Net.Sockets;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>Free TCP ports on 127.0.0.1 for the servers the harness starts.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
