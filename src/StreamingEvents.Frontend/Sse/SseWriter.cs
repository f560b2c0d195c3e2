using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace StreamingEvents.Frontend.Sse;

/// <summary>
/// Writes a Server-Sent Events response: <c>id</c>/<c>event</c>/<c>data</c> records, comments and the <c>retry</c>
/// hint. Events are sent when the caller flushes (<see cref="FlushAsync"/>), everything else as it is written. Event
/// JSON is written as the exact bytes the service rendered; a payload that holds raw line breaks is split into several
/// <c>data:</c> lines, as the format requires.
/// </summary>
internal sealed class SseWriter(HttpResponse response)
{
    private static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);

    private readonly PipeWriterAdapter _out = new(response);

    /// <summary>Sends the headers (proxies told not to buffer), the <c>retry</c> hint and a first comment.</summary>
    public Task StartAsync(TimeSpan reconnectDelay)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        _out.Write("retry: ");
        _out.Write(((long)reconnectDelay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        _out.Write("\n: connected\n\n");
        return _out.FlushAsync();
    }

    /// <summary>Writes a record without flushing it (see <see cref="FlushAsync"/>); returns about how many bytes it wrote.</summary>
    public int WriteEvent(string id, ReadOnlySpan<byte> data)
    {
        _out.Write("id: ");
        _out.Write(id);
        _out.Write("\n");
        WriteData(data);
        _out.Write("\n");
        return id.Length + data.Length + 12;
    }

    /// <summary>Sends what was written.</summary>
    public Task FlushAsync() => _out.FlushAsync();

    public Task WriteErrorAsync(string error, string reason)
    {
        _out.Write("event: error\n");
        WriteData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new SseError(error, reason), FrontendJson.Options));
        _out.Write("\n");
        return _out.FlushAsync();
    }

    public Task WriteCommentAsync(string comment)
    {
        _out.Write(": ");
        _out.Write(comment);
        _out.Write("\n\n");
        return _out.FlushAsync();
    }

    private void WriteData(ReadOnlySpan<byte> data)
    {
        while (true)
        {
            _out.Write("data: ");
            var end = data.IndexOfAny(LineBreaks);
            if (end < 0)
            {
                _out.Write(data);
                _out.Write("\n");
                return;
            }

            _out.Write(data[..end]);
            _out.Write("\n");
            var skip = data[end] == '\r' && end + 1 < data.Length && data[end + 1] == '\n' ? 2 : 1;
            data = data[(end + skip)..];
        }
    }

    private sealed record SseError(string Error, string Reason);

    /// <summary>Writes straight into the response pipe.</summary>
    private sealed class PipeWriterAdapter(HttpResponse response)
    {
        public void Write(ReadOnlySpan<byte> bytes) => response.BodyWriter.Write(bytes);

        public void Write(string text)
        {
            var span = response.BodyWriter.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
            response.BodyWriter.Advance(Encoding.UTF8.GetBytes(text, span));
        }

        public async Task FlushAsync() => await response.BodyWriter.FlushAsync(response.HttpContext.RequestAborted);
    }
}
