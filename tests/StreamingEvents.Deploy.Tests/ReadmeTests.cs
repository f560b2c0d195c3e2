using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class ReadmeTests
{
    [Fact]
    public void The_deploy_readme_shows_how_to_apply_every_overlay_and_build_every_image()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.DeployFolder, "README.md"));

        foreach (var overlay in Repository.Overlays)
        {
            Assert.Contains($"kubectl apply -k deploy/k8s/overlays/{overlay}", readme, StringComparison.Ordinal);
        }

        foreach (var dockerfile in Directory.GetFiles(Repository.DockerFolder, "*.Dockerfile"))
        {
            Assert.Contains($"-f deploy/docker/{Path.GetFileName(dockerfile)}", readme, StringComparison.Ordinal);
        }

        Assert.Contains("streaming-events-db", readme, StringComparison.Ordinal);
    }
}
