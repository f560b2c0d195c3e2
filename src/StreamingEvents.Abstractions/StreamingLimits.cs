namespace StreamingEvents;

/// <summary>Hard limits of the service.</summary>
public static class StreamingLimits
{
    /// <summary>
    /// The largest event accepted: 1 MiB of UTF-8 JSON, measured on the whole envelope as delivered. A larger event is
    /// refused with <see cref="EventTooLargeException"/> before a sequence number is assigned.
    /// </summary>
    public const int MaxEventBytes = 1_048_576;

    /// <summary>The deepest JSON nesting accepted in a payload.</summary>
    public const int MaxJsonDepth = 64;
}
