using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;

namespace StreamingEvents.Testing;

/// <summary>One SSE record as a client parses it (the WHATWG event-stream rules): id, event, data and retry.</summary>
public sealed record SseRecord(string? Id, string Event, string Data, int? Retry);

/// <summary>
/// Reads an SSE response the way a browser's EventSource does: lines split on CR, LF or CRLF, comments ignored,
/// multiple <c>data</c> lines joined with LF, a record dispatched at each blank line.
/// </summary>
public static class SseClient
{
    public static async Task<HttpResponseMessage> OpenAsync(HttpClient http, string pathAndQuery, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public static async IAsyncEnumerable<SseRecord> ReadAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        string? id = null;
        string eventType = "message";
        var data = new StringBuilder();
        var hasData = false;
        int? retry = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData)
                {
                    yield return new SseRecord(id, eventType, data.ToString(), retry);
                }

                eventType = "message";
                data.Clear();
                hasData = false;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    eventType = value;
                    break;
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    hasData = true;
                    break;
                case "retry" when int.TryParse(value, out var milliseconds):
                    retry = milliseconds;
                    break;
            }
        }
    }
}
