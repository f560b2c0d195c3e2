using System.Net;
using System.Text.Json;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>
/// One SSE record with the envelope facts the checks need, parsed without the default depth limit of 64 (so an event
/// that nests deeper is still read and reported, rather than aborting the reader).
/// </summary>
internal sealed record Envelope(SseRecord Raw, long Sequence, string? ExecId, JsonElement Root)
{
    /// <summary>System.Text.Json's default <see cref="JsonDocumentOptions.MaxDepth"/> (and the service's request limit).</summary>
    public const int DefaultMaxDepth = 64;

    public static readonly JsonDocumentOptions Deep = new() { MaxDepth = 4096 };

    public bool IsError => Raw.Event == "error";

    public static Envelope Parse(SseRecord raw)
    {
        using var document = JsonDocument.Parse(raw.Data, Deep);
        var root = document.RootElement.Clone();
        return raw.Event == "error"
            ? new Envelope(raw, -1, null, root)
            : new Envelope(raw, root.GetProperty("broker_sequence").GetInt64(), root.GetProperty("data").GetProperty("workflow_exec_id").GetString(), root);
    }

    /// <summary>How deeply the envelope nests (objects and arrays).</summary>
    public int Depth => DepthOf(Root);

    private static int DepthOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => 1 + element.EnumerateObject().Select(p => DepthOf(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + element.EnumerateArray().Select(DepthOf).DefaultIfEmpty(0).Max(),
        _ => 0,
    };
}

/// <summary>
/// An SSE response read in the background into <see cref="Envelope"/>s; <see cref="WaitForAsync"/> completes when a
/// condition holds (bounded only as a failure guard).
/// </summary>
internal sealed class RawSseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Envelope> _records = [];
    private readonly Task _run;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;
    private bool _ended;
    private int _disposed;

    private RawSseReader(HttpResponseMessage response)
    {
        _response = response;
        _run = RunAsync();
    }

    public IReadOnlyList<Envelope> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    public static async Task<RawSseReader> OpenAsync(HttpClient http, string pathAndQuery)
    {
        var response = await SseClient.OpenAsync(http, pathAndQuery);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            throw new InvalidOperationException($"GET {pathAndQuery} answered {(int)response.StatusCode}: {body}");
        }

        return new RawSseReader(response);
    }

    /// <summary>Completes when <paramref name="done"/> holds for the records read, or the response ended (then: what it got).</summary>
    public async Task<IReadOnlyList<Envelope>> WaitForAsync(Func<IReadOnlyList<Envelope>, bool> done, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_failure is not null)
                {
                    throw new InvalidOperationException($"Reading the stream failed after {_records.Count} records.", _failure);
                }

                if (done(_records) || _ended)
                {
                    return [.. _records];
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Not done within {bound}; read {Records.Count} records.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _response.Dispose();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (var record in SseClient.ReadAsync(_response, _stop.Token))
            {
                var envelope = Envelope.Parse(record);
                lock (_gate)
                {
                    _records.Add(envelope);
                    Signal();
                }
            }
        }
        catch (Exception exception) when (_stop.IsCancellationRequested || exception is IOException or HttpRequestException)
        {
            // Closed by the test, or cut by the server.
        }
        catch (Exception exception)
        {
            lock (_gate)
            {
                _failure = exception;
            }
        }
        finally
        {
            lock (_gate)
            {
                _ended = true;
                Signal();
            }
        }
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
