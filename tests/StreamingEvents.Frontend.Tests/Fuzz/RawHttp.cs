using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>A response as it came off the wire: status line, headers in order, and the (de-chunked) body.</summary>
internal sealed class RawResponse(int status, string statusLine, IReadOnlyList<KeyValuePair<string, string>> headers)
{
    public int Status { get; } = status;

    public string StatusLine { get; } = statusLine;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers;

    public byte[] Body { get; set; } = [];

    /// <summary>The body was longer than the reader keeps; <see cref="Body"/> is its beginning.</summary>
    public bool BodyTruncated { get; set; }

    /// <summary>Only the head was read (an SSE response that started: the test does not consume streams).</summary>
    public bool HeadOnly { get; set; }

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The media type of <c>Content-Type</c>, lowercase, without parameters.</summary>
    public string? MediaType => Header("Content-Type") is { } type ? type.Split(';')[0].Trim().ToLowerInvariant() : null;

    public string BodyText(int max = 2000)
    {
        var text = Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, max));
        return Body.Length > max || BodyTruncated ? $"{text}…({Body.Length} bytes{(BodyTruncated ? ", truncated" : string.Empty)})" : text;
    }

    public override string ToString()
    {
        var text = new StringBuilder(StatusLine);
        foreach (var (name, value) in Headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  {name}: {value}");
        }

        if (!HeadOnly && Body.Length > 0)
        {
            text.Append("\n  ").Append(BodyText());
        }

        return text.ToString();
    }
}

/// <summary>The request could not be completed: no response, a cut connection, or no answer within the bound.</summary>
internal sealed class RawHttpException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A minimal HTTP/1.1 client over a socket, so that a request goes out byte for byte as the fuzzer made it (no URI
/// normalization, no header validation): one connection per request, <c>Connection: close</c>. The response is read
/// while the request is still being written, so an early answer (413, 431) is seen even when the server stops
/// reading; with <c>Expect: 100-continue</c> the body is sent only after the interim 100.
/// </summary>
internal static class RawHttp
{
    /// <summary>The most body bytes kept; longer bodies are read no further.</summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    private const int MaxHeadBytes = 1024 * 1024;

    public static async Task<RawResponse> SendAsync(
        IPEndPoint server, string method, byte[] head, byte[]? body, bool expectContinue, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
        }
        catch (SocketException exception)
        {
            throw new RawHttpException($"The server refused the connection ({exception.SocketErrorCode}).", exception);
        }

        var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new Reader(stream);
        var mayContinue = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var send = WriteAsync(stream, head, body, expectContinue ? mayContinue.Task : Task.FromResult(true), cancellationToken);
        try
        {
            while (true)
            {
                var response = await reader.ReadHeadAsync(cancellationToken);
                if (response.Status is >= 100 and < 200)
                {
                    mayContinue.TrySetResult(response.Status == 100);
                    continue;
                }

                mayContinue.TrySetResult(false);
                if (response.Status == 200 && response.MediaType == "text/event-stream")
                {
                    response.HeadOnly = true;
                    return response;
                }

                if (method != "HEAD" && response.Status is not (204 or 304))
                {
                    await reader.ReadBodyAsync(response, cancellationToken);
                }

                return response;
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or EndOfStreamException or FormatException)
        {
            var sendFailure = send.IsFaulted ? $" (writing the request failed too: {send.Exception!.InnerException!.Message})" : string.Empty;
            throw new RawHttpException($"No complete response: {exception.Message}{sendFailure}", exception);
        }
        finally
        {
            mayContinue.TrySetResult(false);
            socket.Close();
            await stream.DisposeAsync();
            try
            {
                await send;
            }
            catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The server answered (or gave up) before the whole request was written: normal for refused large requests.
            }
        }
    }

    private static async Task WriteAsync(NetworkStream stream, byte[] head, byte[]? body, Task<bool> mayContinue, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(head, cancellationToken);
        if (body is { Length: > 0 } && await mayContinue)
        {
            // In slices, so an early refusal stops the writing soon.
            for (var at = 0; at < body.Length; at += 64 * 1024)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(64 * 1024, body.Length - at)), cancellationToken);
            }
        }
    }

    /// <summary>Buffered reading of response heads (CRLF lines) and bodies (length, chunked, or to the end).</summary>
    private sealed class Reader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<RawResponse> ReadHeadAsync(CancellationToken cancellationToken)
        {
            var statusLine = await ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("The connection closed before a status line.");
            var parts = statusLine.Split(' ', 3);
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                throw new FormatException($"Not an HTTP status line: '{statusLine}'.");
            }

            var headers = new List<KeyValuePair<string, string>>();
            var size = statusLine.Length;
            while (await ReadLineAsync(cancellationToken) is { Length: > 0 } line)
            {
                size += line.Length;
                if (size > MaxHeadBytes)
                {
                    throw new FormatException("The response head is over 1 MiB.");
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add(colon < 0 ? new(line, string.Empty) : new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            return new RawResponse(status, statusLine, headers);
        }

        public async Task ReadBodyAsync(RawResponse response, CancellationToken cancellationToken)
        {
            using var body = new MemoryStream();
            if (response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
            {
                while (true)
                {
                    var sizeLine = await ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("The connection closed inside a chunked body.");
                    var size = long.Parse(sizeLine.Split(';')[0].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                    if (size == 0)
                    {
                        while (await ReadLineAsync(cancellationToken) is { Length: > 0 })
                        {
                            // Trailers.
                        }

                        break;
                    }

                    if (!await CopyAsync(body, size, cancellationToken))
                    {
                        response.BodyTruncated = true;
                        break;
                    }

                    await ReadLineAsync(cancellationToken);
                }
            }
            else if (response.Header("Content-Length") is { } length)
            {
                response.BodyTruncated = !await CopyAsync(body, long.Parse(length, NumberStyles.None, CultureInfo.InvariantCulture), cancellationToken);
            }
            else
            {
                response.BodyTruncated = !await CopyAsync(body, long.MaxValue, cancellationToken, toEnd: true);
            }

            response.Body = body.ToArray();
        }

        /// <summary>Copies <paramref name="count"/> bytes (or up to the end); false when the kept size ran out first.</summary>
        private async Task<bool> CopyAsync(MemoryStream sink, long count, CancellationToken cancellationToken, bool toEnd = false)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    return toEnd ? true : throw new EndOfStreamException($"The connection closed with {count} body bytes missing.");
                }

                var take = (int)Math.Min(count, _end - _start);
                if (sink.Length + take > MaxBodyBytes)
                {
                    return false;
                }

                sink.Write(_buffer, _start, take);
                _start += take;
                count -= take;
            }

            return true;
        }

        private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    return line.Length == 0 ? null : Encoding.Latin1.GetString(line.ToArray());
                }

                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline < 0)
                {
                    line.Write(_buffer, _start, _end - _start);
                    _start = _end;
                    if (line.Length > MaxHeadBytes)
                    {
                        throw new FormatException("A response line is over 1 MiB.");
                    }

                    continue;
                }

                line.Write(_buffer, _start, newline - _start);
                _start = newline + 1;
                var bytes = line.ToArray();
                var length = bytes.Length > 0 && bytes[^1] == '\r' ? bytes.Length - 1 : bytes.Length;
                return Encoding.Latin1.GetString(bytes, 0, length);
            }
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }
    }
}
