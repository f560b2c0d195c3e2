namespace StreamingEvents.Cli.Tail;

/// <summary>For <c>--until-complete</c>: every task seen so far has its terminal event.</summary>
internal sealed class TaskCompletion
{
    private readonly Dictionary<string, bool> _finished = new(StringComparer.Ordinal);

    public int Open => _finished.Count(t => !t.Value);

    public void Observe(Envelope envelope)
    {
        if (envelope.TaskId is { } task)
        {
            _finished[task] = (_finished.TryGetValue(task, out var done) && done) || envelope.IsTerminal;
        }
    }

    public bool AllComplete => _finished.Count > 0 && _finished.Values.All(done => done);
}
