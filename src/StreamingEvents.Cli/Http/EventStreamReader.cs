using System.Globalization;
using System.Text;

namespace StreamingEvents.Cli.Http;

/// <summary>One dispatched Server-Sent Events record: its type (<c>message</c> unless named), data and the last event id.</summary>
internal sealed record SseEvent(string EventType, string Data, string? LastEventId);

/// <summary>
/// Parses a <c>text/event-stream</c> body by the WHATWG rules, as a browser's EventSource does: UTF-8 with an optional
/// leading BOM; lines end at CR, LF or CRLF (also when a CRLF is split across reads); lines starting with <c>:</c> are
/// comments; <c>field: value</c> loses one leading space of its value; several <c>data</c> lines join with LF; a blank
/// line dispatches the record (none if it has no data); <c>id</c> persists across records and is ignored if it holds
/// NUL; <c>retry</c> (ASCII digits only) sets <see cref="RetryMilliseconds"/>; unknown fields are ignored. An incomplete
/// record at the end of the stream is discarded. A read that waits longer than the idle timeout throws
/// <see cref="TimeoutException"/> (the server sends heartbeat comments, so silence means a dead connection).
/// </summary>
internal sealed class EventStreamReader(Stream stream, TimeSpan? idleTimeout = null)
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();
    private readonly byte[] _bytes = new byte[16 * 1024];
    private readonly char[] _chars = new char[Encoding.UTF8.GetMaxCharCount(16 * 1024) + 1];
    private readonly StringBuilder _line = new();
    private readonly StringBuilder _data = new();
    private int _position;
    private int _length;
    private bool _afterCarriageReturn;
    private bool _started;
    private bool _ended;
    private string _eventType = string.Empty;

    /// <summary>The last <c>retry</c> value received, in milliseconds.</summary>
    public int? RetryMilliseconds { get; private set; }

    /// <summary>The last event id buffer (the value a reconnecting EventSource sends as <c>Last-Event-ID</c>).</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Comments received so far (heartbeats).</summary>
    public long Comments { get; private set; }

    /// <summary>The next record, or null at the end of the stream.</summary>
    public async ValueTask<SseEvent?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (await ReadLineAsync(cancellationToken) is { } line)
        {
            if (Process(line) is { } record)
            {
                return record;
            }
        }

        return null;
    }

    private SseEvent? Process(string line)
    {
        if (line.Length == 0)
        {
            return Dispatch();
        }

        if (line[0] == ':')
        {
            Comments++;
            return null;
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? string.Empty : line[(colon + 1)..];
        if (value.Length > 0 && value[0] == ' ')
        {
            value = value[1..];
        }

        switch (field)
        {
            case "event":
                _eventType = value;
                break;
            case "data":
                _data.Append(value).Append('\n');
                break;
            case "id" when !value.Contains('\0', StringComparison.Ordinal):
                LastEventId = value;
                break;
            case "retry" when value.Length > 0 && value.All(char.IsAsciiDigit):
                RetryMilliseconds = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) ? milliseconds : int.MaxValue;
                break;
            default:
                break;
        }

        return null;
    }

    private SseEvent? Dispatch()
    {
        if (_data.Length == 0)
        {
            _eventType = string.Empty;
            return null;
        }

        var record = new SseEvent(_eventType.Length == 0 ? "message" : _eventType, _data.ToString(0, _data.Length - 1), LastEventId);
        _data.Clear();
        _eventType = string.Empty;
        return record;
    }

    private async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_afterCarriageReturn && _position < _length)
            {
                _afterCarriageReturn = false;
                if (_chars[_position] == '\n')
                {
                    _position++;
                }
            }

            var pending = _chars.AsSpan(_position, _length - _position);
            var end = pending.IndexOfAny('\r', '\n');
            if (end >= 0)
            {
                _line.Append(pending[..end]);
                _afterCarriageReturn = pending[end] == '\r';
                _position += end + 1;
                var line = _line.ToString();
                _line.Clear();
                return line;
            }

            _line.Append(pending);
            _position = _length;
            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        while (!_ended)
        {
            var read = await ReadBytesAsync(cancellationToken);
            _ended = read == 0;
            _length = _decoder.GetChars(_bytes, 0, read, _chars, 0, flush: _ended);
            _position = 0;
            if (!_started && _length > 0)
            {
                _started = true;
                if (_chars[0] == '\uFEFF')
                {
                    _position = 1;
                }
            }

            if (_position < _length)
            {
                return true;
            }
        }

        return false;
    }

    private async ValueTask<int> ReadBytesAsync(CancellationToken cancellationToken)
    {
        if (idleTimeout is not { } timeout)
        {
            return await stream.ReadAsync(_bytes, cancellationToken);
        }

        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(timeout);
        try
        {
            return await stream.ReadAsync(_bytes, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing was received for {timeout.TotalSeconds:0.#} s (not even a heartbeat).");
        }
    }
}
