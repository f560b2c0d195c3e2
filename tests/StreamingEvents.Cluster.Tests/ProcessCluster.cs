using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamingEvents.Testing;

namespace StreamingEvents.Cluster.Tests;

/// <summary>
/// A cluster of silo processes on one throw-away PostgreSQL (ADO.NET clustering and storage), plus worker and frontend
/// processes and an Orleans client in the test process, all with the product's own failure detection and timeouts (what the fault
/// tests measure is what a deployment gets).
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<ProcessHost> _processes = [];
    private IHost? _client;

    private ProcessCluster(PostgresServer postgres, string connectionString)
    {
        Postgres = postgres;
        ConnectionString = connectionString;
    }

    public PostgresServer Postgres { get; }

    public string ConnectionString { get; }

    public string ClusterId { get; } = "test-" + Guid.NewGuid().ToString("N")[..8];

    public Dictionary<int, ProcessHost> SilosByPort { get; } = [];

    public IStreamingEventsClient Client => _client!.Services.GetRequiredService<IStreamingEventsClient>();

    /// <summary>
    /// Starts a cluster of <paramref name="silos"/>, runs <paramref name="test"/> on it, and when that fails writes the
    /// tail of every process's output to <paramref name="output"/> before the failure goes on.
    /// </summary>
    public static async Task RunAsync(int silos, Xunit.Abstractions.ITestOutputHelper output, Func<ProcessCluster, Task> test)
    {
        await using var cluster = await StartAsync(silos);
        try
        {
            await test(cluster);
        }
        catch
        {
            output.WriteLine(cluster.Diagnostics);
            throw;
        }
    }

    public static async Task<ProcessCluster> StartAsync(int silos)
    {
        var postgres = await PostgresServer.StartAsync();
        var cluster = new ProcessCluster(postgres, await postgres.CreateDatabaseAsync("cluster"));
        for (var i = 0; i < silos; i++)
        {
            // One at a time: the first applies the schema; each waits to be active before the next starts.
            await cluster.StartSiloAsync($"silo-{i}");
        }

        await cluster.ConnectClientAsync();
        return cluster;
    }

    public async Task<ProcessHost> StartSiloAsync(string name)
    {
        var siloPort = FreePort.Next();
        var silo = ProcessHost.Start(name, "StreamingEvents.Silo", [
            "run", .. CommonArguments(),
            $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={FreePort.Next()}",
            "--Orleans:AdvertisedIPAddress=127.0.0.1",
        ]);
        _processes.Add(silo);
        SilosByPort[siloPort] = silo;
        await silo.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        return silo;
    }

    public async Task<ProcessHost> StartWorkerAsync(string name, params string[] settings)
    {
        var worker = ProcessHost.Start(name, "StreamingEvents.Worker",
            [.. CommonArguments(), .. settings]);
        _processes.Add(worker);
        await worker.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        return worker;
    }

    /// <summary>
    /// The ASP.NET frontend as its own process: it co-hosts a silo of this cluster and serves HTTP on a free loopback
    /// port, returned as its address.
    /// </summary>
    public async Task<(ProcessHost Frontend, Uri Address)> StartFrontendAsync(string name, params string[] settings)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var siloPort = FreePort.Next();
        var frontend = ProcessHost.Start(name, "StreamingEvents.Frontend", [
            .. CommonArguments(),
            $"--urls={address}", "--StreamingEvents:Http:EnableDemo=false",
            $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={FreePort.Next()}",
            "--Orleans:AdvertisedIPAddress=127.0.0.1",
            .. settings,
        ]);
        _processes.Add(frontend);
        SilosByPort[siloPort] = frontend;
        await frontend.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        return (frontend, address);
    }

    /// <summary>The silo process an execution's stream is active on (activating it if needed).</summary>
    public async Task<ProcessHost> HostOfAsync(ExecutionId execution)
    {
        var host = (await Client.GetStreamInfoAsync(execution)).Host!;
        var port = int.Parse(host.Split(':')[1].Split('@')[0], System.Globalization.CultureInfo.InvariantCulture);
        return SilosByPort[port];
    }

    public string Diagnostics => string.Join("\n", _processes.Select(p => $"===== {p.Name} (exited: {p.HasExited})\n{Tail(p.Output)}"));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.StopAsync(TimeSpan.FromSeconds(10));
            _client.Dispose();
        }

        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await Postgres.DisposeAsync();
    }

    private async Task ConnectClientAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:StreamingEvents"] = ConnectionString,
            ["Orleans:ClusterId"] = ClusterId,
            ["Orleans:ServiceId"] = ClusterId,
            ["StreamingEvents:Client:IdleProbeInterval"] = "00:00:01",
        });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseStreamingEventsDefaults(builder.Configuration));
        _client = builder.Build();
        await _client.StartAsync().Within(TimeSpan.FromSeconds(60));
    }

    private string[] CommonArguments() =>
    [
        $"--ConnectionStrings:StreamingEvents={ConnectionString}",
        $"--Orleans:ClusterId={ClusterId}",
        $"--Orleans:ServiceId={ClusterId}",
        "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
    ];

    private static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;
}
