using System.Text;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>PostgreSQL is reached with a connection string kept in a Secret, never in a manifest.</summary>
public sealed class ConnectionStringTests
{
    /// <summary>The Secret name deploy/README.md tells operators to create when the overlay does not generate it.</summary>
    private const string ExternalSecret = "streaming-events-db";
    private const string Variable = "ConnectionStrings__StreamingEvents";

    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_app_container_reads_the_connection_string_from_one_secret(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        var containers = rendered.FrontendDeployment.AllContainers.Concat(rendered.WorkerDeployment.Containers).ToList();
        var references = new HashSet<(string?, string?)>();
        foreach (var container in containers)
        {
            var variable = container.EnvVar(Variable);
            Assert.True(variable is { SecretName: not null, SecretKey: not null, Value: null },
                $"{overlay}: {container} does not take {Variable} from a secretKeyRef.");
            references.Add((variable.SecretName, variable.SecretKey));
        }

        var (secretName, key) = Assert.Single(references);
        if (rendered.Find("Secret", secretName!) is { } secret)
        {
            var data = secret.Map("data");
            Assert.True(data.ContainsKey(key!), $"{overlay}: Secret {secretName} has no key {key}.");
            var value = Encoding.UTF8.GetString(Convert.FromBase64String(data[key!]));
            Assert.Contains("Host=", value, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            Assert.Equal(ExternalSecret, secretName);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task No_container_carries_a_connection_string_or_password_as_a_literal(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var container in rendered.Workloads.SelectMany(w => w.AllContainers))
        {
            foreach (var variable in container.Env.Where(v => v.Value is not null))
            {
                Assert.False(variable.Name.StartsWith("ConnectionStrings__", StringComparison.Ordinal)
                    || variable.Name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase)
                    || variable.Value!.Contains("Password=", StringComparison.OrdinalIgnoreCase),
                    $"{overlay}: {container} sets {variable.Name} literally.");
            }
        }
    }

    [Fact]
    public async Task The_dev_overlay_runs_postgresql_in_a_statefulset_with_storage_behind_the_headless_service_the_connection_string_names()
    {
        var rendered = await Manifests.OverlayAsync("dev");

        var postgres = new Workload(rendered.Single("StatefulSet", "postgres"));
        Assert.NotEmpty(postgres.Object.Items("spec", "volumeClaimTemplates"));
        var serviceName = postgres.Object.Str("spec", "serviceName")!;
        var service = rendered.Single("Service", serviceName);
        Assert.Equal("None", service.Str("spec", "clusterIP"));
        Assert.True(postgres.IsSelectedByLabels(service.Map("spec", "selector")), "The headless service does not select the PostgreSQL pods.");

        var reference = rendered.FrontendDeployment.Container("frontend").EnvVar(Variable)!;
        var secret = rendered.Single("Secret", reference.SecretName!);
        var connectionString = Encoding.UTF8.GetString(Convert.FromBase64String(secret.Map("data")[reference.SecretKey!]));
        Assert.Contains($"Host={serviceName};", connectionString, StringComparison.Ordinal);
    }
}
