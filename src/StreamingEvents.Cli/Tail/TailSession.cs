using System.Globalization;
using System.Text.Json;
using StreamingEvents.Cli.Commands;
using StreamingEvents.Cli.Http;
using StreamingEvents.Cli.Output;

namespace StreamingEvents.Cli.Tail;

/// <summary>
/// What <c>se tail</c> was asked to do. <c>From</c> is the first broker_sequence (inclusive; 0 = the oldest retained), or
/// null for "after the current head".
/// </summary>
internal sealed record TailOptions(string ExecId, long? From, string? Stream, bool Json, long? Count, bool UntilComplete, TimeSpan IdleTimeout);

/// <summary>
/// One <c>se tail</c>: opens the execution's event stream and prints each event once, in order. When the connection
/// ends for any reason but a refusal (the server restarted, the network dropped, an <c>event: error</c> other than
/// <c>position_expired</c>, silence longer than the idle timeout) it reconnects with <c>Last-Event-ID</c> = the last
/// printed number, after a delay that starts at the server's <c>retry</c> hint (0.5 s before one arrived) and doubles to
/// 5 s, and says so on stderr. Anything at or below the last printed number is dropped and counted; a gap ends the
/// command with <see cref="ExitCodes.OrderingViolated"/>.
/// </summary>
internal sealed class TailSession(ApiClient api, CliContext context, TailOptions options)
{
    public static readonly TimeSpan DefaultInitialDelay = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private readonly EventFormatter _formatter = new(context.Color);
    private readonly TaskCompletion _tasks = new();
    private SequenceTracker _sequences = new(0, contiguous: false);
    private TimeSpan _initialDelay = DefaultInitialDelay;

    private enum End
    {
        /// <summary>The connection ended; reconnect.</summary>
        Reconnect,

        /// <summary>Done, with the exit code in <see cref="_exitCode"/>.</summary>
        Exit,
    }

    private int _exitCode;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await FollowAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (OutputClosedException)
        {
            // stdout was closed (`se tail … | head`): nobody is reading any more.
            return ExitCodes.Success;
        }
        finally
        {
            if (_sequences.Duplicates > 0)
            {
                context.Error.WriteLine($"dropped {_sequences.Duplicates} duplicate event{(_sequences.Duplicates == 1 ? string.Empty : "s")}");
            }
        }
    }

    private async Task<int> FollowAsync(CancellationToken cancellationToken)
    {
        var start = options.From ?? await LiveStartAsync(cancellationToken);
        if (start is null)
        {
            return _exitCode;
        }

        _sequences = new SequenceTracker(start.Value, contiguous: options.Stream is null);
        var delay = (TimeSpan?)null;
        var reconnecting = false;
        while (true)
        {
            if (delay is { } wait)
            {
                await Task.Delay(wait, cancellationToken);
            }

            string reason;
            try
            {
                using var response = await api.OpenEventStreamAsync(PathAndQuery(start.Value), LastEventId, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    var problem = await ApiProblem.ReadAsync(response, cancellationToken);
                    if (problem.IsPermanent)
                    {
                        return Refused(problem);
                    }

                    reason = "the server answered " + problem.Describe();
                    delay = Next(delay, problem.RetryAfter);
                    Status($"{reason}; retrying in {Seconds(delay.Value)}");
                    continue;
                }

                if (response.Content.Headers.ContentType?.MediaType is not "text/event-stream")
                {
                    context.Error.WriteLine($"error: {api.BaseAddress} answered {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not an event stream: is it the StreamingEvents service?");
                    return ExitCodes.Failure;
                }

                if (reconnecting)
                {
                    Status($"reconnected, resuming from {_sequences.Next}");
                }

                delay = null;
                reconnecting = true;
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var reader = new EventStreamReader(body, options.IdleTimeout);
                (var end, reason) = await ReadAsync(reader, cancellationToken);
                if (end == End.Exit)
                {
                    return _exitCode;
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is HttpRequestException or IOException or TimeoutException)
            {
                if (!reconnecting)
                {
                    // Never connected: a wrong URL or a server that is not running is reported at once, not retried.
                    return CommandErrors.Report(context, api.BaseAddress, exception);
                }

                reason = exception.Message;
            }

            delay = Next(delay, null);
            Status($"connection lost ({reason}); reconnecting in {Seconds(delay.Value)}");
        }
    }

    private async Task<(End End, string Reason)> ReadAsync(EventStreamReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadAsync(cancellationToken) is { } record)
        {
            if (reader.RetryMilliseconds is { } retry)
            {
                _initialDelay = TimeSpan.FromMilliseconds(Math.Clamp(retry, 100, 60_000));
            }

            switch (record.EventType)
            {
                case "message":
                    if (Deliver(record) is { } exit)
                    {
                        _exitCode = exit;
                        return (End.Exit, string.Empty);
                    }

                    break;
                case "error":
                    var (error, reason) = ReadError(record.Data);
                    context.Error.WriteLine($"server error: {error} ({reason})");
                    if (reason == "position_expired")
                    {
                        _exitCode = ExitCodes.PositionExpired;
                        await HintOldestAsync(cancellationToken);
                        return (End.Exit, string.Empty);
                    }

                    return (End.Reconnect, $"the server reported {reason}");
                default:
                    // Record types this tool does not know are not events; ignore them as an EventSource would.
                    break;
            }
        }

        if (reader.RetryMilliseconds is { } last)
        {
            _initialDelay = TimeSpan.FromMilliseconds(Math.Clamp(last, 100, 60_000));
        }

        return (End.Reconnect, "the server ended the stream");
    }

    /// <summary>Prints an event unless it is a duplicate; returns an exit code when the command is done.</summary>
    private int? Deliver(SseEvent record)
    {
        Envelope envelope;
        try
        {
            envelope = Envelope.Parse(record.Data);
        }
        catch (FormatException error)
        {
            context.Error.WriteLine($"error: record {record.LastEventId ?? "(no id)"} is not an event envelope: {error.Message}");
            return ExitCodes.Failure;
        }

        var expected = _sequences.Expected;
        switch (_sequences.Offer(envelope.BrokerSequence))
        {
            case Arrival.Duplicate:
                return null;
            case Arrival.Gap:
                context.Error.WriteLine(
                    $"error: gap in broker_sequence: expected {expected}, received {envelope.BrokerSequence} " +
                    $"({envelope.BrokerSequence - expected} missing); the stream's ordering guarantee is broken.");
                return ExitCodes.OrderingViolated;
            default:
                break;
        }

        Write(options.Json ? OneLine(record.Data) : _formatter.Format(envelope));
        _tasks.Observe(envelope);
        if (options.Count is { } count && _sequences.Accepted >= count)
        {
            return ExitCodes.Success;
        }

        if (envelope.EndsExecution)
        {
            // WORKFLOW_EXECUTION_COMPLETED / _FAILED / _CANCELED: the execution published its last event.
            return ExitCodes.Success;
        }

        return options.UntilComplete && _tasks.AllComplete ? ExitCodes.Success : null;
    }

    /// <summary><c>--from live</c>: the first number after the current head (1 if the execution has published nothing).</summary>
    private async Task<long?> LiveStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var info = await api.GetJsonAsync($"v1/streams/{Uri.EscapeDataString(options.ExecId)}", cancellationToken, notFoundIsNull: true);
            var head = info is { } json ? JsonRead.Int64(json, "head") ?? 0 : 0;
            Status($"following {options.ExecId} live, from {head + 1}");
            return head + 1;
        }
        catch (ApiProblemException error)
        {
            _exitCode = CommandErrors.Report(context, error);
            return null;
        }
        catch (HttpRequestException error)
        {
            _exitCode = CommandErrors.Report(context, api.BaseAddress, error);
            return null;
        }
    }

    private async Task HintOldestAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await api.GetJsonAsync($"v1/streams/{Uri.EscapeDataString(options.ExecId)}", cancellationToken, notFoundIsNull: true) is { } info
                && JsonRead.Int64(info, "oldest_retained") is { } oldest)
            {
                context.Error.WriteLine($"hint: events up to {oldest - 1} expired before they were read; the oldest retained is {oldest}: run again with --from {oldest} (or --from 0).");
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or ApiProblemException)
        {
            // Only a hint.
        }
    }

    private int Refused(ApiProblem problem)
    {
        context.Error.WriteLine($"error: the server refused the stream: {problem.Describe()}");
        if (problem.OldestAvailable is { } oldest)
        {
            var after = _sequences.Last is { } last ? $" (the last one printed was {last})" : string.Empty;
            context.Error.WriteLine($"hint: the oldest available event is {oldest}{after}: run again with --from {oldest} (or --from 0 for everything retained).");
        }

        return ExitCodes.Refused;
    }

    private string PathAndQuery(long start)
    {
        var path = $"v1/workflows/events/stream?workflow_exec_id={Uri.EscapeDataString(options.ExecId)}&start_seq={start.ToString(CultureInfo.InvariantCulture)}";
        return options.Stream is null ? path : path + "&stream=" + Uri.EscapeDataString(options.Stream);
    }

    /// <summary>Resume after the last printed event; before the first one, the request's start_seq says where to begin.</summary>
    private string? LastEventId => _sequences.Last?.ToString(CultureInfo.InvariantCulture);

    private TimeSpan Next(TimeSpan? previous, TimeSpan? retryAfter)
    {
        var next = previous is { } p ? TimeSpan.FromTicks(Math.Min(p.Ticks * 2, Math.Max(MaxDelay.Ticks, _initialDelay.Ticks))) : _initialDelay;
        return retryAfter is { } hint && hint > next ? hint : next;
    }

    private void Write(string line)
    {
        try
        {
            context.Out.WriteLine(line);
        }
        catch (IOException exception)
        {
            throw new OutputClosedException(exception);
        }
    }

    private void Status(string line) => context.Error.WriteLine(line);

    /// <summary>JSON lines: a JSON split over several <c>data:</c> lines holds its line breaks only as whitespace.</summary>
    private static string OneLine(string json) => json.Contains('\n', StringComparison.Ordinal) ? json.Replace('\n', ' ') : json;

    private static (string Error, string Reason) ReadError(string data)
    {
        try
        {
            using var json = JsonDocument.Parse(data);
            return (JsonRead.String(json.RootElement, "error") ?? data, JsonRead.String(json.RootElement, "reason") ?? "unknown");
        }
        catch (JsonException)
        {
            return (data, "unknown");
        }
    }

    private static string Seconds(TimeSpan delay) => delay.TotalSeconds.ToString("0.0#", CultureInfo.InvariantCulture) + " s";

    private sealed class OutputClosedException(Exception inner) : Exception("stdout was closed.", inner);
}
