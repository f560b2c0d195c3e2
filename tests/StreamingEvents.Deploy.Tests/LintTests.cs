using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class LintTests
{
    [Fact]
    public async Task The_deploy_folder_passes_yamllint_with_its_own_config_and_warnings_as_errors()
    {
        var result = await Tool.RunAsync("yamllint", ["--strict", "-f", "parsable", "-c", "deploy/.yamllint", "deploy/"]);

        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
