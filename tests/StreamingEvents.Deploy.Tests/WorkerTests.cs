using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>The worker is an Orleans client: it finds the frontends' gateways in the same PostgreSQL membership table.</summary>
public sealed class WorkerTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_worker_has_the_connection_string_service_id_and_cluster_id_of_the_frontend_silos(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var frontend = rendered.FrontendDeployment;
        var worker = rendered.WorkerDeployment.Container("worker");

        Assert.Equal(frontend.PodLabels["orleans/serviceId"], worker.Resolve("Orleans__ServiceId"));
        Assert.Equal(frontend.PodLabels["orleans/clusterId"], worker.Resolve("Orleans__ClusterId"));
        var frontendSecret = frontend.Container("frontend").EnvVar("ConnectionStrings__StreamingEvents");
        var workerSecret = worker.EnvVar("ConnectionStrings__StreamingEvents");
        Assert.True(workerSecret is { SecretName: not null }, $"{overlay}: the worker has no connection string from a Secret.");
        Assert.Equal((frontendSecret?.SecretName, frontendSecret?.SecretKey), (workerSecret.SecretName, workerSecret.SecretKey));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Worker_pods_are_not_labelled_as_silos_and_do_not_enable_kubernetes_hosting(string overlay)
    {
        var worker = (await Manifests.OverlayAsync(overlay)).WorkerDeployment;

        Assert.DoesNotContain(worker.PodLabels.Keys, k => k.StartsWith("orleans/", StringComparison.Ordinal));
        Assert.NotEqual("true", worker.Container("worker").Resolve("Orleans__Kubernetes"));
    }
}
