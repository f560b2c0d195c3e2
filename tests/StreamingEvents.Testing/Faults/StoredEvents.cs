using System.Globalization;
using System.Text;
using Npgsql;

namespace StreamingEvents.Testing.Faults;

/// <summary>One stored event as the checks need it: its number, whether it is a state update, and its payload.</summary>
public readonly record struct StoredValue(long Sequence, bool IsUpdate, string Payload, EventType Type = EventType.CustomTaskInProgress)
{
    public bool IsTerminal => Type.IsTerminal();

    public int? Value => int.TryParse(Payload, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>Reads what is stored, through the service or straight from PostgreSQL, and checks the numbering promise.</summary>
public static class StoredEvents
{
    /// <summary>Every retained event of an execution, through its stream grain, up to the head it reports.</summary>
    public static async Task<List<StoredValue>> ReadAllAsync(IStreamingEventsClient client, ExecutionId execution)
    {
        var events = new List<StoredValue>();
        var from = StreamPosition.Start;
        for (var pages = 0; pages < 100_000; pages++)
        {
            var page = await client.ReadAsync(execution, from, 1000).WaitAsync(TimeSpan.FromSeconds(60));
            events.AddRange(page.Events.Select(e => new StoredValue(
                e.BrokerSequence, e.EventType == EventType.CustomTaskInProgress, e.EventType is EventType.CustomTaskInProgress or EventType.CustomTaskStarted
                    ? e.GetTaskAttributes().Payload?.Value.GetRawText() ?? string.Empty
                    : string.Empty,
                e.EventType)));
            if (page.ReachedHead)
            {
                return events;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }

        throw new InvalidOperationException("Too many pages.");
    }

    /// <summary>The stored head and events of an execution, straight from the PostgreSQL tables (no grain, no cache).</summary>
    public static async Task<(long Head, List<StoredValue> Events)> ReadFromPostgresAsync(string connectionString, ExecutionId execution)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        // One snapshot for both reads: publishers may be appending meanwhile.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using var head = new NpgsqlCommand("SELECT head FROM se_streams WHERE stream_key = $1", connection, transaction) { Parameters = { new() { Value = execution.Key } } };
        var headValue = (long)(await head.ExecuteScalarAsync())!;
        await using var command = new NpgsqlCommand(
            "SELECT e.seq, e.kind, e.body FROM se_events e JOIN se_streams s ON s.id = e.stream_id WHERE s.stream_key = $1 ORDER BY e.seq", connection, transaction)
        {
            Parameters = { new() { Value = execution.Key } },
        };
        var events = new List<StoredValue>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var type = (EventType)(reader.GetInt16(1) & 0xFF);
            events.Add(new StoredValue(reader.GetInt64(0), type == EventType.CustomTaskInProgress, Encoding.UTF8.GetString((byte[])reader[2]), type));
        }

        return (headValue, events);
    }

    /// <summary>The stored numbers are exactly 1..<paramref name="head"/>: contiguous, from one, each once.</summary>
    public static void AssertContiguousFromOne(IReadOnlyList<StoredValue> stored, long head)
    {
        Assert.Equal(head, stored.Count);
        for (var i = 0; i < stored.Count; i++)
        {
            if (stored[i].Sequence != i + 1)
            {
                Assert.Fail($"Stored event #{i + 1} has sequence {stored[i].Sequence}; the stored numbers are not 1..{head}.");
            }
        }
    }

    /// <summary>Every acknowledged (sequence, value) is stored under its number with its value; no number was acknowledged twice.</summary>
    public static void AssertAcknowledgedAreStored(IReadOnlyList<StoredValue> stored, IEnumerable<Ack> acks, string who)
    {
        var seen = new Dictionary<long, int>();
        foreach (var ack in acks)
        {
            if (!seen.TryAdd(ack.Sequence, ack.Value))
            {
                Assert.Fail($"{who}: sequence {ack.Sequence} was acknowledged twice (values {seen[ack.Sequence]} and {ack.Value}).");
            }

            Assert.True(ack.Sequence >= 1 && ack.Sequence <= stored.Count, $"{who}: acknowledged sequence {ack.Sequence} is not stored (stored 1..{stored.Count}).");
            var at = stored[(int)ack.Sequence - 1];
            Assert.True(at.IsUpdate && at.Value == ack.Value,
                $"{who}: sequence {ack.Sequence} was acknowledged for value {ack.Value} but stores '{at.Payload}' (update: {at.IsUpdate}).");
        }
    }

    /// <summary>No value was stored twice (each publish is one attempt, so a duplicate would be a repeated write).</summary>
    public static void AssertNoValueStoredTwice(IReadOnlyList<StoredValue> stored)
    {
        var duplicate = stored.Where(e => e.IsUpdate).GroupBy(e => e.Payload, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        Assert.True(duplicate is null, $"Value {duplicate?.Key} is stored under {string.Join(", ", duplicate?.Select(e => e.Sequence) ?? [])}.");
    }

    /// <summary>
    /// Exactly once, checked after the publisher's handle was disposed (which sends again what stayed unresolved): every
    /// value acknowledged or left with an unknown outcome is stored once, in publish order; no refused value is stored;
    /// the task has exactly one terminal event.
    /// </summary>
    public static void AssertEveryPublishStoredOnce(IReadOnlyList<StoredValue> stored, Publisher publisher, EventType terminal = EventType.CustomTaskCompleted)
    {
        var who = publisher.Execution.WorkflowExecId;
        var values = stored.Where(e => e.IsUpdate).Select(e => e.Value ?? throw new InvalidOperationException($"{who}: update '{e.Payload}' is not a value.")).ToList();
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] > values[i - 1], $"{who}: value {values[i]} is stored after {values[i - 1]} (a repeat, or out of publish order).");
        }

        var unknown = publisher.Failures.Where(f => f.Exception is PublishOutcomeUnknownException).Select(f => f.Value);
        var expected = publisher.Acks.Select(a => a.Value).Concat(unknown).Order().ToList();
        var refusedButStored = publisher.Failures.Where(f => f.Exception is not PublishOutcomeUnknownException).Select(f => f.Value).Intersect(values).ToList();
        Assert.True(refusedButStored.Count == 0, $"{who}: refused values are stored: {string.Join(", ", refusedButStored)}.");
        Assert.Equal(expected, values);
        Assert.Equal([terminal], stored.Where(e => e.IsTerminal).Select(e => e.Type));
    }

    /// <summary>Updates that failed (not acknowledged) but are stored anyway: their outcome was unknown to the publisher.</summary>
    public static int CountStoredFailures(IReadOnlyList<StoredValue> stored, IEnumerable<Failure> failures)
    {
        var values = stored.Where(e => e.IsUpdate).Select(e => e.Value).ToHashSet();
        return failures.Count(f => values.Contains(f.Value));
    }
}
