namespace StreamingEvents.Deploy.Tests.Infrastructure;

/// <summary>Paths in the repository, found from the test's output folder upwards.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string DeployFolder => Path.Combine(Root, "deploy");

    public static string OverlaysFolder => Path.Combine(DeployFolder, "k8s", "overlays");

    public static string BaseFolder => Path.Combine(DeployFolder, "k8s", "base");

    public static string DockerFolder => Path.Combine(DeployFolder, "docker");

    /// <summary>Every folder under deploy/k8s/overlays with a kustomization.yaml, by name.</summary>
    public static IReadOnlyList<string> Overlays { get; } =
        Directory.Exists(OverlaysFolder)
            ? [.. Directory.GetDirectories(OverlaysFolder)
                .Where(d => File.Exists(Path.Combine(d, "kustomization.yaml")))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)]
            : [];

    public static string Overlay(string name) => Path.Combine(OverlaysFolder, name);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "StreamingEvents.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No StreamingEvents.sln above {AppContext.BaseDirectory}.");
    }
}
