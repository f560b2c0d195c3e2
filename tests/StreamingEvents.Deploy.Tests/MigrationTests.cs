using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class MigrationTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_schema_is_migrated_by_the_silo_image_in_an_init_container_before_each_silo_starts(string overlay)
    {
        var frontend = (await Manifests.OverlayAsync(overlay)).FrontendDeployment;

        var migrate = Assert.Single(frontend.InitContainers, c => c.CommandLine.Contains("migrate"));
        Assert.Contains("silo", migrate.Image, StringComparison.Ordinal);
        Assert.True(migrate.EnvVar("ConnectionStrings__StreamingEvents")?.SecretName is not null, $"{overlay}: {migrate} has no connection string.");
    }
}
