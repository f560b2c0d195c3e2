using System.Text.Json;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>Kubernetes hosting reads, watches, labels and (for defunct silos) deletes the pods of its cluster.</summary>
public sealed class RbacTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_frontend_runs_as_its_own_service_account_with_a_token(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var frontend = rendered.FrontendDeployment;

        var serviceAccount = frontend.PodSpec.Str("serviceAccountName");
        Assert.False(serviceAccount is null or "default", $"{overlay}: the frontend runs as the '{serviceAccount ?? "default"}' service account.");
        var account = rendered.Single("ServiceAccount", serviceAccount!);
        Assert.NotEqual("false", frontend.PodSpec.Str("automountServiceAccountToken") ?? account.Str("automountServiceAccountToken"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task A_role_binding_gives_the_frontend_service_account_a_role_on_pods_with_get_watch_list_patch_and_delete(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var serviceAccount = rendered.FrontendDeployment.PodSpec.Str("serviceAccountName");
        var ns = Assert.Single(rendered.Namespaces);

        var bindings = rendered.OfKind("RoleBinding")
            .Where(b => b.Items("subjects").Any(s => s.Str("kind") == "ServiceAccount" && s.Str("name") == serviceAccount && s.Str("namespace") == ns))
            .ToList();
        Assert.True(bindings.Count > 0, $"{overlay}: no RoleBinding names ServiceAccount {ns}/{serviceAccount}.");

        var verbs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var binding in bindings.Where(b => b.Str("roleRef", "kind") == "Role"))
        {
            var role = rendered.Find("Role", binding.Str("roleRef", "name")!);
            Assert.True(role is not null, $"{overlay}: RoleBinding {binding.Str("metadata", "name")} refers to a Role that is not deployed.");
            foreach (var rule in role.Value.Items("rules").Where(GrantsPods))
            {
                verbs.UnionWith(rule.Strings("verbs"));
            }
        }

        foreach (var verb in new[] { "get", "watch", "list", "patch", "delete" })
        {
            Assert.True(verbs.Contains(verb) || verbs.Contains("*"), $"{overlay}: the frontend may not {verb} pods ({string.Join(", ", verbs)}).");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_worker_gets_no_kubernetes_api_token(string overlay)
    {
        var worker = (await Manifests.OverlayAsync(overlay)).WorkerDeployment;

        Assert.Equal("false", worker.PodSpec.Str("automountServiceAccountToken"));
    }

    private static bool GrantsPods(JsonElement rule) =>
        rule.Strings("apiGroups").Contains("") && (rule.Strings("resources").Contains("pods") || rule.Strings("resources").Contains("*"));
}
