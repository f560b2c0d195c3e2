using System.Net;
using System.Text;

namespace StreamingEvents.Cli.Tests.Infrastructure;

/// <summary>
/// An HTTP server in a handler: answers each request with the next scripted response (and, once the script is used
/// up, with an event stream on which nothing more arrives), and keeps every request to inspect. It produces what the
/// real server must never do — duplicates, gaps, error records — to check the tool's side of the guarantee.
/// </summary>
internal sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly Queue<Func<HttpRequestMessage, HttpResponseMessage>> _script = new(script);
    private readonly List<(Uri Uri, string? LastEventId)> _requests = [];

    public IReadOnlyList<(Uri Uri, string? LastEventId)> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>An event-stream response with this body, then the end of the stream.</summary>
    public static Func<HttpRequestMessage, HttpResponseMessage> Stream(string body) =>
        _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") };

    public static Func<HttpRequestMessage, HttpResponseMessage> Status(HttpStatusCode status, string json = "{}") =>
        _ => new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/problem+json") };

    /// <summary>An SSE record of a minimal event envelope with this broker_sequence.</summary>
    public static string Event(long sequence, string type = "CUSTOM_TASK_IN_PROGRESS", string task = "t1") =>
        $"id: {sequence}\ndata: {{\"stream\":\"token\",\"broker_sequence\":{sequence},\"timestamp\":\"2026-01-01T00:00:00Z\"," +
        $"\"data\":{{\"event_type\":\"{type}\",\"attributes\":{{\"custom_task_id\":\"{task}\",\"custom_task_type\":\"token\"}}}}}}\n\n";

    public static string Events(params long[] sequences) => "retry: 100\n\n" + string.Concat(sequences.Select(s => Event(s)));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Func<HttpRequestMessage, HttpResponseMessage>? next;
        lock (_gate)
        {
            _requests.Add((request.RequestUri!, request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null));
            _script.TryDequeue(out next);
        }

        var response = next?.Invoke(request)
            ?? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new SilentStream()) { Headers = { { "Content-Type", "text/event-stream" } } } };
        response.RequestMessage = request;
        return Task.FromResult(response);
    }

    /// <summary>An open connection on which nothing arrives.</summary>
    private sealed class SilentStream : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }
}
