using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace StreamingEvents.Frontend.Security;

/// <summary>
/// Development mode (no API key configured) lets every request do everything, so it may only listen on loopback. A
/// frontend bound to any other address without keys fails to start, with a message naming the setting to fix.
/// </summary>
internal sealed partial class LoopbackGuard(IServer server, IOptions<AuthOptions> auth, ILogger<LoopbackGuard> logger)
    : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (auth.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(address => !IsLoopback(address)).ToList();
        if (exposed.Count > 0)
        {
            LogExposedWithoutKeys(logger, string.Join(", ", exposed));
            throw new InvalidOperationException(
                $"No API key is configured (StreamingEvents:Auth:Keys) but the frontend listens on {string.Join(", ", exposed)}. Configure keys, or listen on localhost only.");
        }

        return Task.CompletedTask;
    }

    internal static bool IsLoopback(string address)
    {
        var host = new Uri(address.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal)).Host;
        return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(3010, LogLevel.Critical,
        "No API key is configured (StreamingEvents:Auth:Keys), so every request would be allowed, but the frontend listens on {Addresses}. Configure keys, or listen on localhost only.")]
    private static partial void LogExposedWithoutKeys(ILogger logger, string addresses);
}
