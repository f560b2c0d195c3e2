using Npgsql;
using StreamingEvents.Bench.Load;
using StreamingEvents.Bench.Reporting;

namespace StreamingEvents.Bench.Workloads;

/// <summary>
/// JSON-patch deltas: a 2,000-token LLM response published token by token as whole states (every update carries all
/// tokens so far) and with <see cref="StateUpdates.Deltas"/> (each update an append patch). Per token: envelope bytes
/// delivered to a subscriber, payload bytes stored (se_events.body) and WAL bytes written.
/// </summary>
internal sealed class DeltaWorkload : IWorkload
{
    private const int Tokens = 2_000;

    public string Id => "Deltas";

    public string Title => "JSON-patch deltas: bytes per token of a 2,000-token response";

    public async Task RunAsync(BenchContext context)
    {
        var workload = context.Report.Workload(Id, Title,
            "TokenState(tokens[]) updated once per token (words of 3–8 characters), published without awaiting each update; a subscriber from 1 sums the envelopes.");
        workload.Columns = ["tokens", "envelope_bytes_per_token", "stored_body_bytes_per_token", "wal_bytes_per_token", "events", "tokens_per_s", ReportColumns.Correctness];
        var words = Enumerable.Range(0, Tokens).Select(i => " " + new string((char)('a' + (i % 26)), 3 + (i % 6))).ToArray();
        foreach (var updates in new[] { StateUpdates.WholeState, StateUpdates.Deltas })
        {
            context.Status.Begin(Id, context.OursD2.Label, updates.ToString());
            var figures = await RunAsync(context, words, updates);
            context.Record(workload, context.OursD2.Label, "D2", figures, updates.ToString());
        }

        var whole = workload.Rows.First(r => r.Variant == nameof(StateUpdates.WholeState)).Median("envelope_bytes_per_token");
        var deltas = workload.Rows.First(r => r.Variant == nameof(StateUpdates.Deltas)).Median("envelope_bytes_per_token");
        workload.Notes.Add($"Deltas deliver {whole / deltas:0.#}× fewer envelope bytes per token than whole states.");
    }

    private static async Task<Dictionary<string, double>> RunAsync(BenchContext context, string[] words, StateUpdates updates)
    {
        var system = context.OursD2;
        var client = system.Client.Client;
        var name = "d" + Guid.NewGuid().ToString("N")[..10];
        var before = await system.Postgres.ReadCountersAsync(system.Database);
        var started = Clock.Now;
        var task = await client.StartTaskAsync(Systems.StreamingEventsSystem.Context(name), "token", new TokenState([]), new TaskOptions { StateUpdates = updates });
        var pending = new List<Task<long>>(words.Length);
        var tokens = new List<string>(words.Length);
        foreach (var word in words)
        {
            tokens.Add(word);
            pending.Add(task.UpdateStateAsync(new TokenState([.. tokens])));
        }

        await Task.WhenAll(pending);
        await task.CompleteAsync();
        var seconds = Clock.Seconds(Clock.Now - started);
        var after = await system.Postgres.ReadCountersAsync(system.Database);

        long envelopeBytes = 0;
        var checker = new SequenceChecker(1);
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await foreach (var e in client.SubscribeAsync(Systems.StreamingEventsSystem.Execution(name), StreamPosition.FromSequence(1), cancellationToken: bound.Token))
        {
            checker.Observe(e.BrokerSequence);
            envelopeBytes += e.Json.Length;
            if (e.IsTerminal)
            {
                break;
            }
        }

        await using var connection = new NpgsqlConnection(context.Postgres.ConnectionString(system.Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*), coalesce(sum(octet_length(e.body)), 0) FROM se_events e JOIN se_streams s ON s.id = e.stream_id WHERE s.stream_key = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Systems.StreamingEventsSystem.Execution(name).Key });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var storedEvents = reader.GetInt64(0);
        var storedBytes = reader.GetInt64(1);

        return new Dictionary<string, double>
        {
            ["tokens"] = words.Length,
            ["events"] = checker.Delivered,
            ["stored_events"] = storedEvents,
            ["envelope_bytes_total"] = envelopeBytes,
            ["envelope_bytes_per_token"] = (double)envelopeBytes / words.Length,
            ["stored_body_bytes_total"] = storedBytes,
            ["stored_body_bytes_per_token"] = (double)storedBytes / words.Length,
            ["wal_bytes_per_token"] = (double)(after.WalBytes - before.WalBytes) / words.Length,
            ["tokens_per_s"] = words.Length / seconds,
            ["gaps"] = checker.Gaps + Math.Max(0, words.Length + 2 - checker.Delivered),
            ["duplicates"] = checker.Duplicates,
            ["out_of_order"] = checker.OutOfOrder,
        };
    }

    private sealed record TokenState(List<string> Tokens);
}
