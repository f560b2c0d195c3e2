namespace StreamingEvents.Testing;

/// <summary>Failure bounds for awaits in tests: a bound turns a hang into a failure; it never synchronises anything.</summary>
public static class Bounded
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task, TimeSpan? bound = null) => task.WaitAsync(bound ?? Default);

    public static Task Within(this Task task, TimeSpan? bound = null) => task.WaitAsync(bound ?? Default);

    /// <summary>A token that cancels after the bound, for enumerations.</summary>
    public static CancellationToken Token(TimeSpan? bound = null) => new CancellationTokenSource(bound ?? Default).Token;

    /// <summary>Takes exactly <paramref name="count"/> items from an async sequence, failing if they do not come in time.</summary>
    public static async Task<List<T>> TakeAsync<T>(this IAsyncEnumerable<T> source, int count, TimeSpan? bound = null)
    {
        using var timeout = new CancellationTokenSource(bound ?? Default);
        var items = new List<T>(count);
        if (count == 0)
        {
            return items;
        }

        try
        {
            await foreach (var item in source.WithCancellation(timeout.Token))
            {
                items.Add(item);
                if (items.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Received {items.Count} of {count} items within {bound ?? Default}.");
        }

        return items;
    }
}
