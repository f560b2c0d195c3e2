using System.Globalization;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>SIGTERM: endpoints go first (preStop), then the app ends SSE streams and leaves the cluster within its timeout.</summary>
public sealed class ShutdownTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_grace_period_outlasts_the_prestop_delay_plus_the_app_shutdown_timeout(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var (workload, name) in new[] { (rendered.FrontendDeployment, "frontend"), (rendered.WorkerDeployment, "worker") })
        {
            var container = workload.Container(name);
            var configured = container.Resolve("HostOptions__ShutdownTimeout");
            Assert.True(configured is not null, $"{overlay}: {container} does not set HostOptions__ShutdownTimeout.");

            // As the configuration binder reads it: TimeSpan.Parse, so "25" would be 25 days, not seconds.
            var shutdownTimeout = TimeSpan.Parse(configured, CultureInfo.InvariantCulture);
            var grace = TimeSpan.FromSeconds(workload.PodSpec.Long("terminationGracePeriodSeconds") ?? 30);
            var needed = container.PreStopDelay + shutdownTimeout;
            Assert.True(shutdownTimeout > TimeSpan.Zero, $"{overlay}: {container} has a shutdown timeout of {shutdownTimeout}.");
            Assert.True(grace > needed,
                $"{overlay}: {workload} is killed after {grace}, but needs preStop {container.PreStopDelay} + shutdown {shutdownTimeout}.");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_waits_in_prestop_so_endpoints_are_removed_before_sigterm(string overlay)
    {
        var container = (await Manifests.OverlayAsync(overlay)).FrontendDeployment.Container("frontend");

        Assert.InRange(container.PreStopDelay, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
    }
}
