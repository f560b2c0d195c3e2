using System.Text.Json;

namespace StreamingEvents.Publishing;

/// <summary>Inputs and results of lifecycle events as UTF-8 JSON, within the event size limit.</summary>
internal static class Payloads
{
    /// <summary>JSON <c>null</c>: no input or no result.</summary>
    public static readonly byte[] Null = "null"u8.ToArray();

    /// <exception cref="EventTooLargeException">Over 1 MiB.</exception>
    public static byte[] Serialize<T>(T value, JsonSerializerOptions json)
    {
        var bytes = value is null ? Null : JsonSerializer.SerializeToUtf8Bytes(value, json);
        return bytes.Length > StreamingLimits.MaxEventBytes ? throw new EventTooLargeException(bytes.Length, StreamingLimits.MaxEventBytes) : bytes;
    }
}
