using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class RenderingTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Fact]
    public void There_is_a_dev_and_a_production_overlay()
    {
        Assert.Contains("dev", Repository.Overlays);
        Assert.Contains("production", Repository.Overlays);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_overlay_renders_with_kubectl_kustomize(string overlay)
    {
        var result = await Manifests.KustomizeAsync(Repository.Overlay(overlay));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("kind: Deployment", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_base_renders_and_names_no_namespace_so_that_overlays_choose_it()
    {
        var rendered = await Manifests.BaseAsync();

        Assert.Equal([null], rendered.Namespaces);
        Assert.Empty(rendered.OfKind("Namespace"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_overlay_puts_all_objects_in_one_namespace_it_creates_under_the_restricted_pod_security_standard(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        var ns = Assert.Single(rendered.Namespaces);
        Assert.False(string.IsNullOrEmpty(ns), $"{overlay}: objects without a namespace.");
        var created = rendered.Single("Namespace", ns);
        Assert.Equal("restricted", created.Map("metadata", "labels").GetValueOrDefault("pod-security.kubernetes.io/enforce"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_image_is_pinned_to_a_tag_or_digest_other_than_latest(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        var containers = rendered.Workloads.SelectMany(w => w.AllContainers).ToList();
        Assert.NotEmpty(containers);
        foreach (var container in containers)
        {
            var image = container.Image;
            var lastSegment = image[(image.LastIndexOf('/') + 1)..];
            var pinned = image.Contains("@sha256:", StringComparison.Ordinal)
                || (lastSegment.Contains(':', StringComparison.Ordinal) && !lastSegment.EndsWith(":latest", StringComparison.Ordinal));
            Assert.True(pinned, $"{overlay}: {container} runs '{image}', not pinned by the overlay's images: (tag or digest, not latest).");
        }
    }
}
