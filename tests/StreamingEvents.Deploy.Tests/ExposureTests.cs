using System.Text.Json;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>Only HTTP leaves the pods: the silo (11111) and gateway (30000) ports stay between pods of the cluster.</summary>
public sealed class ExposureTests
{
    private static readonly int[] InternalPorts = [11111, 30000];
    private static readonly string[] InternalPortNames = ["silo", "gateway"];

    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task No_service_of_any_type_exposes_the_silo_or_gateway_port(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var service in rendered.OfKind("Service"))
        {
            var selected = rendered.Workloads.Where(w => w.IsSelectedByLabels(service.Map("spec", "selector"))).ToList();
            foreach (var port in service.Items("spec", "ports"))
            {
                var target = port.Str("targetPort") ?? port.Str("port");
                var targetNumbers = selected.SelectMany(w => w.Containers).Select(c => c.PortNumber(target)).OfType<int>();
                var numbers = new[] { port.Long("port"), port.Long("nodePort") }.OfType<long>().Select(n => (int)n).Concat(targetNumbers);
                var exposes = numbers.Any(InternalPorts.Contains) || InternalPortNames.Contains(target);
                Assert.False(exposes,
                    $"{overlay}: Service {service.Str("metadata", "name")} ({service.Str("spec", "type") ?? "ClusterIP"}) exposes port {port.GetRawText()}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_frontend_service_is_cluster_internal_and_sends_to_the_http_port_of_frontend_pods_only(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var service = rendered.Single("Service", Rendered.Frontend);
        var selector = service.Map("spec", "selector");

        Assert.Equal("ClusterIP", service.Str("spec", "type") ?? "ClusterIP");
        Assert.True(rendered.FrontendDeployment.IsSelectedByLabels(selector), $"{overlay}: the frontend Service does not select frontend pods.");
        Assert.False(rendered.WorkerDeployment.IsSelectedByLabels(selector), $"{overlay}: the frontend Service selects worker pods.");
        var port = Assert.Single(service.Items("spec", "ports"));
        Assert.Equal(8080, rendered.FrontendDeployment.Container("frontend").PortNumber(port.Str("targetPort") ?? port.Str("port")));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_ingress_sends_to_the_frontend_http_port_with_proxy_buffering_off_for_sse(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var ingress in rendered.OfKind("Ingress"))
        {
            Assert.Equal("off", ingress.Map("metadata", "annotations").GetValueOrDefault("nginx.ingress.kubernetes.io/proxy-buffering"));
            var backends = ingress.Items("spec", "rules").SelectMany(r => r.Items("http", "paths")).Select(p => p.Get("backend", "service")).ToList();
            Assert.NotEmpty(backends);
            foreach (var backend in backends)
            {
                Assert.Equal(Rendered.Frontend, backend.Str("name"));
                Assert.True(backend.Str("port", "name") == "http" || backend.Str("port", "number") == "80",
                    $"{overlay}: ingress backend port {backend.Get("port")?.GetRawText()} is not the frontend's http port.");
            }
        }
    }

    [Fact]
    public async Task Production_has_an_ingress_example()
    {
        Assert.NotEmpty((await Manifests.OverlayAsync("production")).OfKind("Ingress"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task A_network_policy_admits_the_silo_and_gateway_ports_only_from_pods_of_the_cluster(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var frontend = rendered.FrontendDeployment;
        var container = frontend.Container("frontend");

        var policies = rendered.OfKind("NetworkPolicy").Where(p => frontend.IsSelectedBy(p.Get("spec", "podSelector"))).ToList();
        Assert.True(policies.Count > 0, $"{overlay}: no NetworkPolicy selects the frontend pods.");
        var gatewayFromWorker = false;
        foreach (var rule in policies.SelectMany(p => p.Items("spec", "ingress")))
        {
            var ports = rule.Items("ports").Select(p => container.PortNumber(p.Str("port"))).ToList();
            var opensInternalPort = ports.Count == 0 || ports.Any(p => p is null || InternalPorts.Contains(p.Value));
            if (!opensInternalPort)
            {
                continue;
            }

            var sources = rule.Items("from").ToList();
            Assert.True(sources.Count > 0 && sources.All(IsPodsOfThisNamespace),
                $"{overlay}: a NetworkPolicy rule opens the silo or gateway port to more than pods: {rule.GetRawText()}");
            gatewayFromWorker |= ports.Contains(30000) && sources.Any(s => rendered.WorkerDeployment.IsSelectedBy(s.Get("podSelector")));
        }

        Assert.True(gatewayFromWorker, $"{overlay}: no NetworkPolicy rule lets worker pods reach the gateway port.");
    }

    private static bool IsPodsOfThisNamespace(JsonElement source) =>
        source.Get("podSelector") is not null && source.Get("ipBlock") is null && source.Get("namespaceSelector") is null;
}
