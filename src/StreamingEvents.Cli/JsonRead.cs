using System.Text.Encodings.Web;
using System.Text.Json;

namespace StreamingEvents.Cli;

/// <summary>Small readers over <see cref="JsonElement"/> that never throw on an unexpected shape, and a readable string quote.</summary>
internal static class JsonRead
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static long? Int64(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : null;

    /// <summary>A string as a JSON literal (quotes, escaped control characters; other characters as they are), cut at <paramref name="max"/>.</summary>
    public static string Quote(string text, int max = int.MaxValue) =>
        text.Length > max ? JsonSerializer.Serialize(text[..max], Relaxed)[..^1] + "…\"" : JsonSerializer.Serialize(text, Relaxed);

    /// <summary>Compact JSON for a summary, cut at <paramref name="max"/> characters.</summary>
    public static string Compact(string json, int max) => json.Length > max ? json[..max] + "…" : json;
}
