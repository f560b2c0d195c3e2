using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace StreamingEvents.Deploy.Tests.Infrastructure;

/// <summary>An object that runs pods (Deployment, StatefulSet, Job, CronJob, Pod), seen through its pod template.</summary>
internal sealed class Workload(JsonElement element)
{
    public JsonElement Object { get; } = element;

    public string Kind => Object.Str("kind") ?? "";

    public string Name => Object.Str("metadata", "name") ?? "";

    public override string ToString() => $"{Kind}/{Name}";

    public JsonElement Template => Kind switch
    {
        "Pod" => Object,
        "CronJob" => Object.Get("spec", "jobTemplate", "spec", "template") ?? throw new InvalidOperationException($"{this} has no pod template."),
        _ => Object.Get("spec", "template") ?? throw new InvalidOperationException($"{this} has no pod template."),
    };

    public JsonElement PodSpec => Template.Get("spec") ?? throw new InvalidOperationException($"{this} has no pod spec.");

    public IReadOnlyDictionary<string, string> PodLabels => Template.Map("metadata", "labels");

    public IEnumerable<Container> InitContainers => PodSpec.Items("initContainers").Select(c => new Container(this, c, isInit: true));

    public IEnumerable<Container> Containers => PodSpec.Items("containers").Select(c => new Container(this, c, isInit: false));

    public IEnumerable<Container> AllContainers => InitContainers.Concat(Containers);

    public Container Container(string name)
    {
        var matches = Containers.Where(c => c.Name == name).ToList();
        Assert.True(matches.Count == 1, $"{this}: expected one container named {name}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>Whether this workload's pods match a label selector (matchLabels and matchExpressions In/NotIn/Exists).</summary>
    public bool IsSelectedBy(JsonElement? selector)
    {
        if (selector is not { } s)
        {
            return false;
        }

        var labels = PodLabels;
        var matchLabels = s.Map("matchLabels");
        var expressions = s.Items("matchExpressions").ToList();
        if (matchLabels.Count == 0 && expressions.Count == 0)
        {
            return true;
        }

        return matchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
            && expressions.All(e => Matches(labels, e));
    }

    /// <summary>Whether these pods match a Service-style selector (a plain label map).</summary>
    public bool IsSelectedByLabels(IReadOnlyDictionary<string, string> selector) =>
        selector.Count > 0 && selector.All(l => PodLabels.TryGetValue(l.Key, out var v) && v == l.Value);

    private static bool Matches(IReadOnlyDictionary<string, string> labels, JsonElement expression)
    {
        var key = expression.Str("key") ?? "";
        var values = expression.Strings("values");
        var has = labels.TryGetValue(key, out var value);
        return expression.Str("operator") switch
        {
            "In" => has && values.Contains(value),
            "NotIn" => !has || !values.Contains(value),
            "Exists" => has,
            "DoesNotExist" => !has,
            _ => false,
        };
    }
}

internal sealed record EnvVar(string Name, string? Value, string? FieldPath, string? SecretName, string? SecretKey);

internal sealed partial class Container(Workload owner, JsonElement element, bool isInit)
{
    public Workload Owner { get; } = owner;

    public JsonElement Element { get; } = element;

    public bool IsInit { get; } = isInit;

    public string Name => Element.Str("name") ?? "";

    public string Image => Element.Str("image") ?? "";

    public override string ToString() => $"{Owner} container {Name}";

    /// <summary>command then args: what the container runs, as far as the manifest says.</summary>
    public IReadOnlyList<string> CommandLine => [.. Element.Strings("command"), .. Element.Strings("args")];

    public IReadOnlyList<EnvVar> Env =>
        [.. Element.Items("env").Select(e => new EnvVar(
            e.Str("name") ?? "",
            e.Str("value"),
            e.Str("valueFrom", "fieldRef", "fieldPath"),
            e.Str("valueFrom", "secretKeyRef", "name"),
            e.Str("valueFrom", "secretKeyRef", "key")))];

    public EnvVar? EnvVar(string name) => Env.LastOrDefault(e => e.Name == name);

    /// <summary>
    /// The value the container will see, where the manifest fixes it: a literal (with <c>$(VAR)</c> references to
    /// earlier variables expanded, as the kubelet does) or a label of the pod read with the downward API.
    /// Null for secrets, and for fields known only at run time (namespace, pod name, pod IP).
    /// </summary>
    public string? Resolve(string name)
    {
        var resolved = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var variable in Env)
        {
            resolved[variable.Name] = variable switch
            {
                { Value: { } literal } => Expand(literal, resolved),
                { FieldPath: { } path } when LabelPath().Match(path) is { Success: true } m =>
                    Owner.PodLabels.GetValueOrDefault(m.Groups["key"].Value),
                _ => null,
            };
        }

        return resolved.GetValueOrDefault(name);
    }

    public IReadOnlyDictionary<string, int> Ports =>
        Element.Items("ports").Where(p => p.Str("name") is not null)
            .ToDictionary(p => p.Str("name")!, p => (int)(p.Long("containerPort") ?? 0), StringComparer.Ordinal);

    public JsonElement? Probe(string kind) => Element.Get(kind);

    /// <summary>The port number a probe or other reference names (a number, or a named container port).</summary>
    public int? PortNumber(string? portReference) =>
        portReference is null ? null
        : int.TryParse(portReference, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
        : Ports.TryGetValue(portReference, out var named) ? named
        : null;

    /// <summary>How long the preStop hook holds the container before SIGTERM (sleep action, or an exec of sleep).</summary>
    public TimeSpan PreStopDelay
    {
        get
        {
            if (Element.Long("lifecycle", "preStop", "sleep", "seconds") is { } seconds)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            var command = string.Join(' ', Element.Strings("lifecycle", "preStop", "exec", "command"));
            return SleepCommand().Match(command) is { Success: true } m
                ? TimeSpan.FromSeconds(double.Parse(m.Groups["seconds"].Value, CultureInfo.InvariantCulture))
                : TimeSpan.Zero;
        }
    }

    private static string Expand(string literal, Dictionary<string, string?> earlier)
    {
        var result = new StringBuilder();
        for (var i = 0; i < literal.Length; i++)
        {
            if (literal[i] == '$' && i + 1 < literal.Length && literal[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (literal[i] == '$' && i + 1 < literal.Length && literal[i + 1] == '(' && literal.IndexOf(')', i) is var end and > 0
                && earlier.TryGetValue(literal[(i + 2)..end], out var value) && value is not null)
            {
                result.Append(value);
                i = end;
            }
            else
            {
                result.Append(literal[i]);
            }
        }

        return result.ToString();
    }

    [GeneratedRegex(@"^metadata\.labels\['(?<key>[^']+)'\]$")]
    private static partial Regex LabelPath();

    [GeneratedRegex(@"(^|\s)sleep\s+(?<seconds>\d+(\.\d+)?)")]
    private static partial Regex SleepCommand();
}
