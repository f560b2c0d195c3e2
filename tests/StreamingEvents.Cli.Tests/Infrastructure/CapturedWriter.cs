using System.Text;
using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests.Infrastructure;

/// <summary>
/// A thread-safe stdout/stderr for the tool: keeps what is written as lines and lets a test await a condition on them
/// (an await on the output itself; the bound only turns a hang into a failure).
/// </summary>
internal sealed class CapturedWriter : TextWriter
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _partial = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<IReadOnlyList<string>, bool> Condition, TaskCompletionSource Signal)> _waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines) + (_partial.Length > 0 ? "\n" + _partial : string.Empty);
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            Append(value);
            Signal();
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            for (var i = index; i < index + count; i++)
            {
                Append(buffer[i]);
            }

            Signal();
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            foreach (var c in value ?? string.Empty)
            {
                Append(c);
            }

            Signal();
        }
    }

    /// <summary>Completes when the written lines satisfy <paramref name="condition"/>.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<string>, bool> condition, string what, TimeSpan? bound = null)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_lines))
            {
                return;
            }

            _waiters.Add((condition, signal));
        }

        try
        {
            await signal.Task.WaitAsync(bound ?? Bounded.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {bound ?? Bounded.Default} for {what}; the output was:\n{Text}");
        }
    }

    public Task WaitForLineCountAsync(int count) => WaitForAsync(lines => lines.Count >= count, $"{count} lines");

    public Task WaitForLineAsync(string contains) =>
        WaitForAsync(lines => lines.Any(l => l.Contains(contains, StringComparison.Ordinal)), $"a line with '{contains}'");

    private void Append(char c)
    {
        if (c == '\n')
        {
            _lines.Add(_partial.ToString());
            _partial.Clear();
        }
        else if (c != '\r')
        {
            _partial.Append(c);
        }
    }

    private void Signal()
    {
        foreach (var waiter in _waiters.Where(w => w.Condition(_lines)).ToList())
        {
            waiter.Signal.TrySetResult();
            _waiters.Remove(waiter);
        }
    }
}
