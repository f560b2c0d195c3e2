using System.Buffers.Text;
using System.Globalization;
using System.Net.Http.Headers;

namespace StreamingEvents.Bench.Systems;

/// <summary>
/// A real HTTP/1.1 Server-Sent Events client of the frontend: <c>GET /v1/workflows/events/stream?workflow_exec_id=X&amp;start_seq=N</c>,
/// parsing records as EventSource does (lines, <c>id:</c>, <c>data:</c>, comments, a record per blank line) straight from
/// the response bytes. The record id is the <c>broker_sequence</c>; a record of type <c>error</c> fails the subscription.
/// </summary>
internal static class SseSubscriber
{
    private static readonly byte[] TerminalMarker = "\"event_type\":\"CUSTOM_TASK_COMPLETED\""u8.ToArray();

    public static HttpClient CreateClient(Uri baseAddress) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    {
        BaseAddress = baseAddress,
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestVersion = System.Net.HttpVersion.Version11,
    };

    public static Task RunAsync(HttpClient http, string stream, long fromSequence, ISubscriberSink sink, CancellationToken cancellationToken) =>
        RunAsync(http, $"v1/workflows/events/stream?workflow_exec_id={Uri.EscapeDataString(stream)}&start_seq={fromSequence.ToString(CultureInfo.InvariantCulture)}",
            stream, sink, cancellationToken);

    /// <summary>Reads <paramref name="stream"/>'s history from the execution route (<c>event_source=DATABASE</c>): a replay over HTTP.</summary>
    public static Task ReplayAsync(HttpClient http, string stream, ISubscriberSink sink, CancellationToken cancellationToken) =>
        RunAsync(http, $"v1/workflows/executions/{Uri.EscapeDataString(stream)}/stream?event_source=DATABASE", stream, sink, cancellationToken);

    private static async Task RunAsync(HttpClient http, string path, string stream, ISubscriberSink sink, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"SSE {stream}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await ReadRecordsAsync(body, stream, sink, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task ReadRecordsAsync(Stream body, string stream, ISubscriberSink sink, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        long id = -1;
        var dataBytes = 0;
        var hasData = false;
        var terminal = false;
        var isError = false;
        while (true)
        {
            var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (newline < 0)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await body.ReadAsync(buffer.AsMemory(end), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidOperationException($"SSE {stream}: the server ended the stream.");
                }

                end += read;
                continue;
            }

            var line = buffer.AsSpan(start, newline - start);
            start = newline + 1;
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                if (hasData)
                {
                    if (isError)
                    {
                        throw new InvalidOperationException($"SSE {stream}: the server sent an error record after id {id}.");
                    }

                    if (!sink.OnEvent(id, dataBytes, terminal) || terminal)
                    {
                        return;
                    }
                }

                dataBytes = 0;
                hasData = false;
                terminal = false;
                isError = false;
                continue;
            }

            if (line[0] == (byte)':')
            {
                continue;
            }

            if (line.StartsWith("data:"u8))
            {
                var value = line[5..];
                dataBytes += value.Length;
                hasData = true;
                terminal |= value.IndexOf(TerminalMarker) >= 0;
            }
            else if (line.StartsWith("id:"u8))
            {
                var value = line[3..].TrimStart((byte)' ');
                if (!Utf8Parser.TryParse(value, out long parsed, out _))
                {
                    throw new InvalidOperationException($"SSE {stream}: record id '{System.Text.Encoding.UTF8.GetString(value)}' is not a sequence.");
                }

                id = parsed;
            }
            else if (line.StartsWith("event:"u8))
            {
                isError = line[6..].TrimStart((byte)' ').SequenceEqual("error"u8);
            }
        }
    }
}
