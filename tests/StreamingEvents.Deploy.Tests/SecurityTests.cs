using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class SecurityTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_pod_meets_the_restricted_pod_security_standard(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var workload in rendered.Workloads)
        {
            var pod = workload.PodSpec;
            foreach (var field in new[] { "hostNetwork", "hostPID", "hostIPC" })
            {
                Assert.NotEqual("true", pod.Str(field));
            }

            Assert.DoesNotContain(pod.Items("volumes"), v => v.Get("hostPath") is not null);
            foreach (var container in workload.AllContainers)
            {
                string? Setting(params string[] path) => container.Element.Str(["securityContext", .. path]) ?? pod.Str(["securityContext", .. path]);

                Assert.True(Setting("runAsNonRoot") == "true", $"{overlay}: {container} may run as root.");
                Assert.NotEqual("0", Setting("runAsUser"));
                Assert.True(container.Element.Str("securityContext", "allowPrivilegeEscalation") == "false", $"{overlay}: {container} allows privilege escalation.");
                Assert.NotEqual("true", container.Element.Str("securityContext", "privileged"));
                Assert.True(container.Element.Strings("securityContext", "capabilities", "drop").Contains("ALL"), $"{overlay}: {container} keeps capabilities.");
                Assert.All(container.Element.Strings("securityContext", "capabilities", "add"), c => Assert.Equal("NET_BIND_SERVICE", c));
                Assert.True(Setting("seccompProfile", "type") is "RuntimeDefault" or "Localhost", $"{overlay}: {container} has no seccomp profile.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task App_containers_have_a_read_only_root_filesystem_and_a_writable_tmp(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var workload in new[] { rendered.FrontendDeployment, rendered.WorkerDeployment })
        {
            var emptyDirs = workload.PodSpec.Items("volumes").Where(v => v.Get("emptyDir") is not null).Select(v => v.Str("name")).ToHashSet();
            foreach (var container in workload.AllContainers)
            {
                Assert.True(container.Element.Str("securityContext", "readOnlyRootFilesystem") == "true", $"{overlay}: {container} can write its root filesystem.");
                Assert.True(container.Element.Items("volumeMounts").Any(m => m.Str("mountPath") == "/tmp" && emptyDirs.Contains(m.Str("name"))),
                    $"{overlay}: {container} has no emptyDir at /tmp.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_container_requests_cpu_and_memory_and_has_a_memory_limit(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);

        foreach (var container in rendered.Workloads.SelectMany(w => w.AllContainers))
        {
            Assert.True(container.Element.Str("resources", "requests", "cpu") is not null, $"{overlay}: {container} requests no CPU.");
            Assert.True(container.Element.Str("resources", "requests", "memory") is not null, $"{overlay}: {container} requests no memory.");
            Assert.True(container.Element.Str("resources", "limits", "memory") is not null, $"{overlay}: {container} has no memory limit.");
        }
    }
}
