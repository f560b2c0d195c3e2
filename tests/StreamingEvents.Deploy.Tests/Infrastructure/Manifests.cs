using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace StreamingEvents.Deploy.Tests.Infrastructure;

/// <summary>
/// Renders a Kustomize folder with <c>kubectl kustomize</c> and reads the objects as JSON: <c>kubectl annotate --local</c>
/// (removing an annotation nobody sets) converts YAML to JSON on the client, without a cluster or a kubeconfig.
/// Each folder is rendered once per test run.
/// </summary>
internal static class Manifests
{
    private const string NoSuchAnnotation = "streaming-events.deploy-tests/unused-";

    private static readonly ConcurrentDictionary<string, Lazy<Task<Rendered>>> Cache = new(StringComparer.Ordinal);

    /// <summary>Runs <c>kubectl kustomize</c> on <paramref name="folder"/>; the caller checks the exit code.</summary>
    public static Task<ToolResult> KustomizeAsync(string folder) => Tool.RunAsync("kubectl", ["kustomize", folder]);

    public static Task<Rendered> OverlayAsync(string overlay) => RenderAsync(Repository.Overlay(overlay));

    public static Task<Rendered> BaseAsync() => RenderAsync(Repository.BaseFolder);

    private static Task<Rendered> RenderAsync(string folder) =>
        Cache.GetOrAdd(folder, f => new Lazy<Task<Rendered>>(() => RenderUncachedAsync(f))).Value;

    private static async Task<Rendered> RenderUncachedAsync(string folder)
    {
        var kustomize = await KustomizeAsync(folder);
        if (kustomize.ExitCode != 0)
        {
            throw new InvalidOperationException($"{folder} does not render: {kustomize}");
        }

        var json = await Tool.RunAsync("kubectl", ["annotate", "--local", "-f", "-", "-o", "json", NoSuchAnnotation], kustomize.StandardOutput);
        if (json.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl could not read the rendering of {folder}: {json}");
        }

        return new Rendered(Path.GetFileName(folder), kustomize.StandardOutput, ParseAll(json.StandardOutput));
    }

    /// <summary>kubectl prints one JSON document per object, one after the other.</summary>
    private static List<JsonElement> ParseAll(string text)
    {
        var objects = new List<JsonElement>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            objects.Add(document.RootElement.Clone());
        }

        return objects;
    }
}

/// <summary>The objects of one rendered Kustomize folder.</summary>
internal sealed class Rendered(string name, string yaml, IReadOnlyList<JsonElement> objects)
{
    public const string Frontend = "streaming-events-frontend";
    public const string Worker = "streaming-events-worker";

    public string Name { get; } = name;

    public string Yaml { get; } = yaml;

    public IReadOnlyList<JsonElement> Objects { get; } = objects;

    public IEnumerable<JsonElement> OfKind(string kind) => Objects.Where(o => o.Str("kind") == kind);

    public JsonElement Single(string kind, string name)
    {
        var matches = OfKind(kind).Where(o => o.Str("metadata", "name") == name).ToList();
        Assert.True(matches.Count == 1, $"{Name}: expected one {kind} named {name}, found {matches.Count}.");
        return matches[0];
    }

    public JsonElement? Find(string kind, string name) =>
        OfKind(kind).Where(o => o.Str("metadata", "name") == name).Select(o => (JsonElement?)o).FirstOrDefault();

    public Workload FrontendDeployment => new(Single("Deployment", Frontend));

    public Workload WorkerDeployment => new(Single("Deployment", Worker));

    /// <summary>Every object with a pod template (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet) or pod spec.</summary>
    public IEnumerable<Workload> Workloads =>
        Objects.Where(o => o.Get("spec", "template", "spec") is not null || o.Str("kind") == "Pod" || o.Str("kind") == "CronJob")
            .Select(o => new Workload(o));

    /// <summary>The namespace every namespaced object of this rendering is in (null when none is set).</summary>
    public IReadOnlyList<string?> Namespaces =>
        [.. Objects.Where(o => o.Str("kind") is not ("Namespace" or "ClusterRole" or "ClusterRoleBinding"))
            .Select(o => o.Str("metadata", "namespace")).Distinct()];
}
