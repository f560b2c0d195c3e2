using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench;

/// <summary>
/// Durations, repeats and sizes of one profile. Quick (the default) fits in about five minutes on the 2-core machine:
/// short windows, three repeats of W1 in the D2 class, a shortened ladder, W6 with fewer streams. Full (<c>--full</c>)
/// runs every workload as specified, with longer windows and more repeats (about 30 minutes).
/// </summary>
internal sealed record BenchProfile(
    string Name,
    int Repeats,
    int RepeatsD1,
    TimeSpan WarmUp,
    TimeSpan Window,
    TimeSpan Drain,
    double[] LadderRates,
    bool LadderD1,
    TimeSpan ClosedLoopWindow,
    int W6Streams,
    int W7Streams,
    int W7SubscribersPerStream,
    int W7History,
    int W8Events,
    TimeSpan RawWindow,
    List<string> Reductions)
{
    /// <summary>
    /// Whether W6 also writes a heap dump of the frontend and its types by size (<c>dotnet-gcdump</c>) at each of its
    /// three measurements into the results directory (<c>--gcdump</c>): the attribution of memory per stream.
    /// </summary>
    public bool GcDumps { get; init; }

    /// <summary>The durability classes the rate workloads run in: D2 always, D1 too when the profile asks for it.</summary>
    public Durability[] DurabilityClasses => LadderD1 ? [Durability.D2, Durability.D1] : [Durability.D2];

    public static BenchProfile Quick { get; } = new(
        "quick",
        Repeats: 3,
        RepeatsD1: 1,
        WarmUp: TimeSpan.FromSeconds(2),
        Window: TimeSpan.FromSeconds(3),
        Drain: TimeSpan.FromSeconds(5),
        LadderRates: [2_000, 10_000, 40_000],
        LadderD1: false,
        ClosedLoopWindow: TimeSpan.FromSeconds(2),
        W6Streams: 3_000,
        W7Streams: 50,
        W7SubscribersPerStream: 20,
        W7History: 500,
        W8Events: 100_000,
        RawWindow: TimeSpan.FromSeconds(1),
        Reductions:
        [
            "Windows are 3 s after a 2 s warm-up (full: 15 s after 5 s); W1 has 3 repeats in D2 and 1 in D1 (full: 5 and 3).",
            "W1 streams live 15 s, longer than a quick run: no stream is replaced inside a quick window (full: several replacements per window).",
            "The W1 ladder runs 2k, 10k, 20k (= W1) and 40k events/s in D2 only, one repeat each, and stops climbing at the first rate over the SLO (full: 2k/5k/10k/20k/40k, D2 and D1).",
            "W2/W4 closed-loop runs measure 2 s after 1 s of warm-up (full: 10 s); W2–W5 run once per system (full: 3 times, and in D1 too).",
            "W7 uses 50 streams × 20 resuming subscribers with 500 events of history each and a 6 s window (full: 100 × 10, 2,000 events, 15 s).",
            "W6 uses 3,000 streams × 20 events (full: 100,000); memory per stream is the same measurement divided by fewer streams.",
            "Raw PostgreSQL modes run 1 s each after 0.5 s of warm-up (full: 10 s).",
        ]);

    public static BenchProfile Full { get; } = new(
        "full",
        Repeats: 5,
        RepeatsD1: 3,
        WarmUp: TimeSpan.FromSeconds(5),
        Window: TimeSpan.FromSeconds(15),
        Drain: TimeSpan.FromSeconds(15),
        LadderRates: [2_000, 5_000, 10_000, 40_000],
        LadderD1: true,
        ClosedLoopWindow: TimeSpan.FromSeconds(10),
        W6Streams: 100_000,
        W7Streams: 100,
        W7SubscribersPerStream: 10,
        W7History: 2_000,
        W8Events: 100_000,
        RawWindow: TimeSpan.FromSeconds(10),
        Reductions: []);
}
