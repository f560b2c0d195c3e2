namespace StreamingEvents.Worker;

/// <summary>What the worker runs, bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Workflows run at once (default 2).</summary>
    public int ConcurrentWorkflows { get; set; } = 2;

    /// <summary>The simulated model's speed (default 20 tokens/s).</summary>
    public double TokensPerSecond { get; set; } = 20;

    /// <summary>Tokens per response (default 200); the text is deterministic per workflow number.</summary>
    public int Tokens { get; set; } = 200;

    /// <summary>Steps of the progress task (default 20).</summary>
    public int ProgressSteps { get; set; } = 20;

    /// <summary>Pause before the next workflow of a slot (default 2 s).</summary>
    public TimeSpan PauseBetweenWorkflows { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Every n-th workflow also runs a task that fails halfway (default 5; 0 never).</summary>
    public int FailEvery { get; set; } = 5;

    /// <summary>Stop after this many workflows per slot (default 0: run until stopped).</summary>
    public int MaxWorkflows { get; set; }
}
