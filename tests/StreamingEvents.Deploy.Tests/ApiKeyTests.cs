using System.Text;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>The frontend listens beyond loopback, so it must be given an API key (only its hash, from a Secret).</summary>
public sealed class ApiKeyTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_frontend_gets_an_api_key_hash_from_a_secret_with_a_scope_and_a_namespace(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var frontend = rendered.FrontendDeployment.Containers.Single(c => c.ToString().Contains("frontend", StringComparison.Ordinal));

        var hash = frontend.EnvVar("StreamingEvents__Auth__Keys__0__Sha256");
        Assert.True(hash is { SecretName: not null, SecretKey: not null, Value: null }, $"{overlay}: the API key hash must come from a secretKeyRef.");
        Assert.False(string.IsNullOrEmpty(frontend.EnvVar("StreamingEvents__Auth__Keys__0__Scopes__0")?.Value), $"{overlay}: the key needs a scope.");
        Assert.False(string.IsNullOrEmpty(frontend.EnvVar("StreamingEvents__Auth__Keys__0__Namespaces__0")?.Value), $"{overlay}: the key needs a namespace.");
        if (rendered.Find("Secret", hash!.SecretName!) is { } secret)
        {
            var stored = Encoding.UTF8.GetString(Convert.FromBase64String(secret.Map("data")[hash.SecretKey!]));
            Assert.Matches("^[0-9a-f]{64}$", stored);
        }
    }
}
