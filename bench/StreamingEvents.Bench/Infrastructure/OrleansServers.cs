using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>One Orleans cluster of the system under test: its database, cluster id and the server processes in it.</summary>
internal sealed record ClusterSettings(string Name, string ConnectionString, string ClusterId, string LogsDirectory, bool SynchronousCommit = true)
{
    public string[] CommonArguments() =>
    [
        $"--ConnectionStrings:StreamingEvents={ConnectionString}",
        // The silo sets synchronous_commit on every append transaction (default on); D1 asks for off explicitly, since the
        // database default alone no longer decides it.
        $"--StreamingEvents:Postgres:SynchronousCommit={(SynchronousCommit ? "On" : "Off")}",
        $"--Orleans:ClusterId={ClusterId}",
        $"--Orleans:ServiceId={ClusterId}",
        "--Orleans:AdvertisedIPAddress=127.0.0.1",
        "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
        "--Logging:Console:FormatterName=simple",
    ];
}

/// <summary>
/// A server process of our system: the standalone silo (<c>StreamingEvents.Silo run</c>) or the frontend (ASP.NET Core
/// with a co-hosted silo). Started with <c>dotnet &lt;dll&gt;</c> so it runs with its own runtime settings (server GC).
/// </summary>
internal sealed class OrleansServerProcess : IAsyncDisposable
{
    private readonly ManagedProcess _process;

    private OrleansServerProcess(ManagedProcess process, string name, int siloPort, int gatewayPort, int? httpPort)
    {
        _process = process;
        Name = name;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int? HttpPort { get; }

    public int Pid => _process.Id;

    public Uri? HttpAddress => HttpPort is { } port ? new Uri($"http://127.0.0.1:{port}/") : null;

    public static Task<OrleansServerProcess> StartSiloAsync(ClusterSettings cluster, string name) =>
        StartAsync(cluster, name, "StreamingEvents.Silo", ["run"], httpPort: null);

    public static Task<OrleansServerProcess> StartFrontendAsync(ClusterSettings cluster, string name) =>
        StartAsync(cluster, name, "StreamingEvents.Frontend",
        [
            "--StreamingEvents:Http:EnableDemo=false",
            // W5 holds 1,000 SSE connections from one client (development mode: no keys); the default cap is 200 per key.
            "--StreamingEvents:Auth:MaxConnectionsPerKey=100000",
        ], FreePort.Next());

    private static async Task<OrleansServerProcess> StartAsync(ClusterSettings cluster, string name, string project, string[] extra, int? httpPort)
    {
        var dll = BuildOutputs.Dll(project);
        var siloPort = FreePort.Next();
        var gatewayPort = FreePort.Next();
        string[] arguments =
        [
            dll, .. extra, .. cluster.CommonArguments(),
            $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}",
            .. httpPort is { } port ? new[] { $"--urls=http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}" } : [],
        ];
        var process = ManagedProcess.Start(name, "dotnet", arguments, Path.Combine(cluster.LogsDirectory, name + ".log"),
            workingDirectory: Path.GetDirectoryName(dll));
        var server = new OrleansServerProcess(process, name, siloPort, gatewayPort, httpPort);
        try
        {
            await process.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(120));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return server;
    }

    public MonitoredProcess Monitored => new(Name, () => _process.Id);

    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>The load generator's Orleans client of one cluster, with the SDK (<see cref="IStreamingEventsClient"/>).</summary>
internal sealed class OrleansClient : IAsyncDisposable
{
    private readonly IHost _host;

    private OrleansClient(IHost host) => _host = host;

    public IStreamingEventsClient Client => _host.Services.GetRequiredService<IStreamingEventsClient>();

    public IClusterClient Cluster => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<OrleansClient> ConnectAsync(ClusterSettings cluster)
    {
        var builder = Host.CreateApplicationBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:StreamingEvents"] = cluster.ConnectionString,
            ["Orleans:ClusterId"] = cluster.ClusterId,
            ["Orleans:ServiceId"] = cluster.ClusterId,
            ["Orleans:Gateway:GatewayListRefreshPeriod"] = "00:00:02",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new FileLoggerProvider(Path.Combine(cluster.LogsDirectory, $"bench-client-{cluster.Name}.log")));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UseStreamingEventsDefaults(builder.Configuration));
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return new OrleansClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
