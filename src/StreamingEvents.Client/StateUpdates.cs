namespace StreamingEvents;

/// <summary>How a task publishes its state updates.</summary>
public enum StateUpdates
{
    /// <summary>Every update carries the whole state (<c>{"type":"json"}</c>), as in the product spec's examples.</summary>
    WholeState,

    /// <summary>
    /// Updates carry JSON-patch operations against the previous state (<c>{"type":"json_patch"}</c>) when those are
    /// smaller: <c>append</c> for grown strings, <c>add …/-</c> for grown arrays. After an update whose outcome is unknown
    /// the next one carries the whole state again, so a reader never applies a patch to a state it does not have.
    /// Consumers rebuild whole states with <c>WithWholeStates</c> (.NET) or <c>state_mode=full</c> (HTTP).
    /// </summary>
    Deltas,
}
