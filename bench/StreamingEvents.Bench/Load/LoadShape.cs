namespace StreamingEvents.Bench.Load;

/// <summary>
/// An open-loop workload: <see cref="Streams"/> streams each published at <see cref="RatePerStream"/> events/s with
/// payloads of <see cref="PayloadBytes"/>; each stream has <see cref="Subscribers"/> subscribers (every tenth stream
/// <see cref="SubscribersOnEveryTenth"/>) that record publish→deliver latency, plus <see cref="QuietSubscribers"/> that
/// only check order (W7 drops and resumes those). A stream lives <see cref="Lifetime"/>, then ends (terminal event) and
/// its slot opens a new one; first lifetimes are staggered so that replacements spread evenly.
/// </summary>
internal sealed record LoadShape(
    string Name,
    int Streams,
    double RatePerStream,
    int PayloadBytes,
    int Subscribers,
    TimeSpan Lifetime,
    TimeSpan WarmUp,
    TimeSpan Measure,
    TimeSpan DrainBound)
{
    public int SubscribersOnEveryTenth { get; init; } = -1;

    public int QuietSubscribers { get; init; }

    /// <summary>Events published into each stream when it opens, before its subscribers attach (history to replay).</summary>
    public int Prefill { get; init; }

    public double OfferedRate => Streams * RatePerStream;

    public int SubscribersOf(int slot) => slot % 10 == 0 && SubscribersOnEveryTenth >= 0 ? SubscribersOnEveryTenth : Subscribers;

    public string Describe() =>
        $"{Streams} streams × {RatePerStream:0.##} ev/s = {OfferedRate:#,0} ev/s, {PayloadBytes:#,0} B, {Subscribers} subscriber(s){(SubscribersOnEveryTenth >= 0 ? $" ({SubscribersOnEveryTenth} on every 10th stream)" : string.Empty)}"
        + $"{(QuietSubscribers > 0 ? $" + {QuietSubscribers} resuming" : string.Empty)}{(Prefill > 0 ? $", {Prefill:#,0} events of history each" : string.Empty)}, lifetime {Lifetime.TotalSeconds:0.#} s, warm-up {WarmUp.TotalSeconds:0.#} s, window {Measure.TotalSeconds:0.#} s";
}
