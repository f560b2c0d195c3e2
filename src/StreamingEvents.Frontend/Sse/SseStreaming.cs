namespace StreamingEvents.Frontend.Sse;

/// <summary>One SSE record to send: its id (the resume position) and its data.</summary>
internal readonly record struct SseRecord(string Id, ReadOnlyMemory<byte> Data);

/// <summary>
/// Sends a sequence of records as an SSE response: a heartbeat comment whenever nothing was sent for the heartbeat
/// interval, an <c>event: error</c> record if the sequence fails after the 200 status, and an immediate end when the
/// client leaves (which disposes the subscription behind the records).
/// </summary>
/// <remarks>
/// Records are flushed when the next one is not ready yet, or once <see cref="MaxUnflushedBytes"/> are written: a live
/// event goes out as soon as it is written (nothing follows it yet), while a replayed page goes out in a few large writes
/// instead of a system call per event (which held an SSE replay to about half the SDK's rate).
/// </remarks>
internal static partial class SseStreaming
{
    /// <summary>The most bytes written and not yet flushed: the bound on what a response holds back.</summary>
    internal const int MaxUnflushedBytes = 64 * 1024;

    public static async Task SendAsync(HttpContext context, Func<CancellationToken, IAsyncEnumerable<SseRecord>> records,
        FrontendOptions options, SseConnections connections, ILogger logger)
    {
        using var connection = connections.Open(context);
        var token = connection.Token;
        var sse = new SseWriter(context.Response);
        await sse.StartAsync(options.ReconnectDelay);

        IAsyncEnumerator<SseRecord>? enumerator = null;
        var next = Task.FromResult(false);
        try
        {
            enumerator = records(token).GetAsyncEnumerator(token);
            Task? heartbeat = null;
            var unflushed = 0;
            while (true)
            {
                var move = enumerator.MoveNextAsync();
                bool more;
                if (move.IsCompleted)
                {
                    more = move.Result;
                }
                else
                {
                    // Held before anything else is awaited: the enumerator is only disposed once this move has ended.
                    next = move.AsTask();
                    if (unflushed > 0)
                    {
                        await sse.FlushAsync();
                        unflushed = 0;
                    }

                    while (true)
                    {
                        heartbeat ??= Task.Delay(options.HeartbeatInterval, token);
                        if (await Task.WhenAny(next, heartbeat) != heartbeat)
                        {
                            break;
                        }

                        await heartbeat;
                        heartbeat = null;
                        await sse.WriteCommentAsync("keep-alive");
                    }

                    more = await next;
                    next = Task.FromResult(false);
                }

                if (!more)
                {
                    await sse.FlushAsync();
                    return;
                }

                unflushed += sse.WriteEvent(enumerator.Current.Id, enumerator.Current.Data.Span);
                if (unflushed >= MaxUnflushedBytes)
                {
                    await sse.FlushAsync();
                    unflushed = 0;
                }
            }
        }
        catch (OperationCanceledException) when (Gone())
        {
            // The client left or the host is stopping: nothing more to say.
        }
        catch (StreamingEventsException error) when (!Gone())
        {
            await sse.WriteErrorAsync(error.Message, error.ErrorCode);
        }
        catch (Exception exception) when (!Gone())
        {
            LogStreamFailed(logger, exception, context.Request.Path);
            await sse.WriteErrorAsync("The stream failed inside the service.", "internal");
        }
        finally
        {
            if (enumerator is not null)
            {
                await EndAsync(enumerator, next);
            }
        }

        // The connection's token is linked to the request's: a flush canceled by the client's leaving can throw before
        // the linked token has heard of it (seen once by the fuzz suite, logged as a failed stream).
        bool Gone() => token.IsCancellationRequested || context.RequestAborted.IsCancellationRequested;
    }

    /// <summary>An async iterator cannot be disposed while a move is pending: wait for it first (it ends on cancellation).</summary>
    private static async Task EndAsync(IAsyncEnumerator<SseRecord> enumerator, Task<bool> pending)
    {
        try
        {
            await pending;
        }
        catch (Exception exception) when (exception is OperationCanceledException || pending.IsFaulted)
        {
            // The expected end of a canceled subscription, or the failure already reported to the client and the log above.
        }

        await enumerator.DisposeAsync();
    }

    [LoggerMessage(3002, LogLevel.Error, "The event stream {Path} failed after it started")]
    private static partial void LogStreamFailed(ILogger logger, Exception exception, string path);
}
