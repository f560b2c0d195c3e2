namespace StreamingEvents.Frontend;

/// <summary>HTTP settings, bound from <c>StreamingEvents:Http</c>.</summary>
public sealed class FrontendOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "StreamingEvents:Http";

    /// <summary>An SSE comment is sent when nothing else was for this long (default 15 s), so proxies keep the connection.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>retry:</c> hint: how long a browser waits before reconnecting (default 2 s).</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest request body accepted (default 4 MiB: one 1 MiB event with room for escaping).</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The most events one <c>/v1/workflows/events/list</c> page returns (default 1000).</summary>
    public int MaxListLimit { get; set; } = 1000;

    /// <summary>Whether <c>POST /v1/demo</c> (start simulated activities) is available (default true).</summary>
    public bool EnableDemo { get; set; } = true;
}
