namespace StreamingEvents;

/// <summary>Hard limits of the service.</summary>
public static class StreamingLimits
{
    /// <summary>
    /// The largest event accepted: 1 MiB of UTF-8 JSON, measured on the whole envelope as delivered. A larger event is
    /// refused with <see cref="EventTooLargeException"/> before a sequence number is assigned.
    /// </summary>
    public const int MaxEventBytes = 1_048_576;

    /// <summary>
    /// The deepest JSON nesting accepted in a payload (a state, patch operations, metadata). The payload sits four levels
    /// down in its envelope (<c>data.attributes.payload.value</c>), so every event stays within 64 levels: the default
    /// limit of System.Text.Json and of most readers, which must be able to read any event the service delivers.
    /// </summary>
    public const int MaxJsonDepth = 60;

    /// <summary>
    /// The nesting this service allows when it reads whole envelopes or request bodies: more than any accepted payload
    /// needs in its envelope or request, so that an over-deep payload is refused by the payload's own rule, with its name.
    /// </summary>
    public const int MaxEnvelopeDepth = MaxJsonDepth + 16;
}
