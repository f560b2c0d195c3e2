using System.Text.Json;

namespace StreamingEvents.Deploy.Tests.Infrastructure;

/// <summary>Null-tolerant navigation through Kubernetes objects as JSON.</summary>
internal static class Json
{
    public static JsonElement? Get(this JsonElement element, params string[] path)
    {
        var current = element;
        foreach (var name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    public static JsonElement? Get(this JsonElement? element, params string[] path) => element?.Get(path);

    /// <summary>A string, number or boolean as text (Kubernetes accepts several for int-or-string fields).</summary>
    public static string? Str(this JsonElement element, params string[] path) => element.Get(path) switch
    {
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } value => value.GetRawText(),
        _ => null,
    };

    public static string? Str(this JsonElement? element, params string[] path) => element?.Str(path);

    public static IEnumerable<JsonElement> Items(this JsonElement element, params string[] path) =>
        element.Get(path) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static IEnumerable<JsonElement> Items(this JsonElement? element, params string[] path) =>
        element?.Items(path) ?? [];

    public static IReadOnlyDictionary<string, string> Map(this JsonElement element, params string[] path) =>
        element.Get(path) is { ValueKind: JsonValueKind.Object } map
            ? map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    public static IReadOnlyList<string> Strings(this JsonElement element, params string[] path) =>
        [.. element.Items(path).Select(i => i.ToString())];

    public static long? Long(this JsonElement element, params string[] path) =>
        element.Get(path) is { ValueKind: JsonValueKind.Number } number ? number.GetInt64() : null;
}
