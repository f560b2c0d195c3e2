namespace StreamingEvents;

/// <summary>Well-known names shared by silos and clients.</summary>
public static class StreamingEventsNames
{
    /// <summary>The Orleans stream provider for the live push.</summary>
    public const string StreamProvider = "streaming-events";

    /// <summary>The Orleans stream namespace of execution streams.</summary>
    public const string StreamNamespace = "se.exec";

    /// <summary>
    /// The Orleans stream namespace on which new executions are announced (key: the namespace), for wildcard
    /// subscriptions.
    /// </summary>
    public const string ExecutionsNamespace = "se.executions";

    /// <summary>
    /// The keyed <see cref="System.TimeProvider"/> of StreamingEvents (event timestamps, timeouts, retention). It
    /// defaults to the host's clock; tests replace only this one, leaving Orleans' own timers on real time.
    /// </summary>
    public const string Clock = "streaming-events";

    /// <summary>The keyed service name of the event log storage.</summary>
    public const string EventLogStorage = "streaming-events";
}
