using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>The frontend pods: the co-hosted silo's identity, Kubernetes hosting, ports and probes.</summary>
public sealed class FrontendTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_pods_are_labelled_with_the_orleans_service_and_cluster_ids_they_run_with(string overlay)
    {
        var frontend = (await Manifests.OverlayAsync(overlay)).FrontendDeployment;
        var container = frontend.Container("frontend");

        foreach (var (label, hostingVariable, configurationKey) in new[]
        {
            ("orleans/serviceId", "ORLEANS_SERVICE_ID", "Orleans__ServiceId"),
            ("orleans/clusterId", "ORLEANS_CLUSTER_ID", "Orleans__ClusterId"),
        })
        {
            var labelValue = frontend.PodLabels.GetValueOrDefault(label);
            Assert.False(string.IsNullOrEmpty(labelValue), $"{overlay}: frontend pods lack the label {label}.");
            Assert.True(labelValue == container.Resolve(hostingVariable),
                $"{overlay}: {hostingVariable} is '{container.Resolve(hostingVariable)}', the pod label {label} is '{labelValue}'.");
            if (container.EnvVar(configurationKey) is not null)
            {
                Assert.True(labelValue == container.Resolve(configurationKey),
                    $"{overlay}: {configurationKey} is '{container.Resolve(configurationKey)}', the pod label {label} is '{labelValue}'.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_enables_kubernetes_hosting_and_reads_namespace_pod_name_and_ip_from_the_downward_api(string overlay)
    {
        var container = (await Manifests.OverlayAsync(overlay)).FrontendDeployment.Container("frontend");

        Assert.Equal("true", container.Resolve("Orleans__Kubernetes"));
        Assert.Equal("metadata.namespace", container.EnvVar("POD_NAMESPACE")?.FieldPath);
        Assert.Equal("metadata.name", container.EnvVar("POD_NAME")?.FieldPath);
        Assert.Equal("status.podIP", container.EnvVar("POD_IP")?.FieldPath);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_declares_http_silo_and_gateway_ports_that_match_what_the_app_listens_on(string overlay)
    {
        var container = (await Manifests.OverlayAsync(overlay)).FrontendDeployment.Container("frontend");

        Assert.Equal(8080, container.Ports.GetValueOrDefault("http"));
        Assert.Equal(11111, container.Ports.GetValueOrDefault("silo"));
        Assert.Equal(30000, container.Ports.GetValueOrDefault("gateway"));
        Assert.Equal("11111", container.Resolve("Orleans__SiloPort") ?? "11111");
        Assert.Equal("30000", container.Resolve("Orleans__GatewayPort") ?? "30000");
        Assert.Equal("true", container.Resolve("Orleans__ListenOnAnyHostAddress"));
        var httpPorts = container.Resolve("ASPNETCORE_HTTP_PORTS") ?? container.Resolve("ASPNETCORE_URLS");
        Assert.True(httpPorts is not null && httpPorts.Contains("8080", StringComparison.Ordinal),
            $"{overlay}: neither ASPNETCORE_HTTP_PORTS nor ASPNETCORE_URLS makes Kestrel listen on 8080 ('{httpPorts}').");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_is_ready_on_health_alive_on_alive_and_started_before_either_is_checked(string overlay)
    {
        var container = (await Manifests.OverlayAsync(overlay)).FrontendDeployment.Container("frontend");

        foreach (var (probe, path) in new[] { ("readinessProbe", "/health"), ("livenessProbe", "/alive"), ("startupProbe", "/alive") })
        {
            var httpGet = container.Probe(probe).Get("httpGet");
            Assert.True(httpGet is not null, $"{overlay}: the frontend has no {probe} with httpGet.");
            Assert.Equal(path, httpGet.Str("path"));
            Assert.True(container.PortNumber(httpGet.Str("port")) == 8080, $"{overlay}: the {probe} is not on the HTTP port 8080.");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Frontend_pods_spread_over_nodes_and_roll_one_at_a_time_without_losing_capacity(string overlay)
    {
        var frontend = (await Manifests.OverlayAsync(overlay)).FrontendDeployment;

        var spreads = frontend.PodSpec.Items("topologySpreadConstraints").Any(c => frontend.IsSelectedBy(c.Get("labelSelector")))
            || frontend.PodSpec.Items("affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
                .Any(t => frontend.IsSelectedBy(t.Get("podAffinityTerm", "labelSelector")));
        Assert.True(spreads, $"{overlay}: frontend pods have no topology spread or anti-affinity over themselves.");
        Assert.Equal("0", frontend.Object.Str("spec", "strategy", "rollingUpdate", "maxUnavailable"));
    }

    [Fact]
    public async Task Base_and_production_run_at_least_three_frontends()
    {
        Assert.Equal(3, (await Manifests.BaseAsync()).FrontendDeployment.Object.Long("spec", "replicas"));
        Assert.True((await Manifests.OverlayAsync("production")).FrontendDeployment.Object.Long("spec", "replicas") >= 3);
    }
}
