using System.Globalization;
using System.Text;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>What a fuzz input must be answered with.</summary>
internal enum Expectation
{
    /// <summary>Possibly valid: anything but a 5xx (a 4xx still has to be a problem).</summary>
    NoServerError,

    /// <summary>Definitely invalid (see <see cref="FuzzRequest.Why"/>): a 4xx problem.</summary>
    Refusal,

    /// <summary>One of <see cref="FuzzRequest.Statuses"/>.</summary>
    Exactly,
}

/// <summary>
/// One fuzz input: an HTTP request as bytes (method, raw request target, raw headers, body) and what it must get.
/// Built by <see cref="FuzzCorpus"/> from the run seed and the input's index only, so it is reproducible.
/// </summary>
internal sealed class FuzzRequest
{
    public required int Index { get; init; }

    /// <summary>The route template, for counting (e.g. <c>POST /v1/tasks/{task_id}/state</c>).</summary>
    public required string Route { get; init; }

    /// <summary>What the generator made (e.g. <c>body: 10,000 nested arrays</c>).</summary>
    public required string Category { get; init; }

    public required string Method { get; init; }

    /// <summary>The request target exactly as sent (path and query, bytes as they go on the wire).</summary>
    public required byte[] Target { get; init; }

    public List<(string Name, byte[] Value)> Headers { get; } = [];

    public byte[]? Body { get; set; }

    /// <summary>A body sent exactly as given, its framing headers among <see cref="Headers"/> (broken chunks, conflicting lengths).</summary>
    public byte[]? RawBody { get; set; }

    /// <summary>Send the body with <c>Transfer-Encoding: chunked</c> (one chunk per 16 KiB) instead of <c>Content-Length</c>.</summary>
    public bool Chunked { get; set; }

    /// <summary>Send <c>Expect: 100-continue</c> and the body only after the interim 100.</summary>
    public bool ExpectContinue { get; set; }

    /// <summary>
    /// The request breaks HTTP itself (raw bytes or percent junk in the target, an oversized line or header): the web
    /// server may refuse it before the application with a bare 4xx (no problem body). Counted and reported apart.
    /// </summary>
    public bool HttpLevel { get; set; }

    public Expectation Expect { get; set; }

    public int[] Statuses { get; set; } = [];

    /// <summary>Why a <see cref="Expectation.Refusal"/> or <see cref="Expectation.Exactly"/> is expected.</summary>
    public string? Why { get; set; }

    /// <summary>Called with the response, for checks beyond the status (the 1 MiB probes).</summary>
    public Func<RawResponse, string?>? Check { get; set; }

    public bool IsSse { get; init; }

    /// <summary>
    /// Marks the request as definitely invalid; the first reason is kept. A request that already had to get one exact
    /// status now has two defects, and the service may refuse it for either: any refusal is right.
    /// </summary>
    public void MustRefuse(string why)
    {
        if (Expect == Expectation.NoServerError)
        {
            Expect = Expectation.Refusal;
            Why = why;
        }
        else if (Expect == Expectation.Exactly && Statuses.All(status => status >= 400))
        {
            Expect = Expectation.Refusal;
            Why = $"{Why}; and {why}";
        }
    }

    /// <summary>Requires one of <paramref name="statuses"/>, unless the input holds another defect (see <see cref="MustRefuse"/>).</summary>
    public void MustBe(string why, params int[] statuses)
    {
        if (Expect == Expectation.Refusal && statuses.All(status => status >= 400))
        {
            Why = $"{why}; and {Why}";
            return;
        }

        Expect = Expectation.Exactly;
        Statuses = statuses;
        Why = why;
    }

    public byte[] Head(int port)
    {
        var head = new MemoryStream();
        Write(head, Method);
        head.WriteByte((byte)' ');
        head.Write(Target);
        Write(head, $" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{FuzzServer.FuzzIdHeader}: {Index}\r\n");
        foreach (var (name, value) in Headers)
        {
            Write(head, name + ": ");
            head.Write(value);
            Write(head, "\r\n");
        }

        if (Body is not null)
        {
            Write(head, Chunked ? "Transfer-Encoding: chunked\r\n" : string.Create(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}\r\n"));
            if (ExpectContinue)
            {
                Write(head, "Expect: 100-continue\r\n");
            }
        }

        Write(head, "\r\n");
        return head.ToArray();
    }

    /// <summary>The body as it goes on the wire (chunk-framed when <see cref="Chunked"/>).</summary>
    public byte[]? WireBody()
    {
        if (RawBody is not null)
        {
            return RawBody;
        }

        if (Body is null || !Chunked)
        {
            return Body;
        }

        var framed = new MemoryStream();
        for (var at = 0; at < Body.Length; at += 16 * 1024)
        {
            var size = Math.Min(16 * 1024, Body.Length - at);
            Write(framed, size.ToString("x", CultureInfo.InvariantCulture) + "\r\n");
            framed.Write(Body, at, size);
            Write(framed, "\r\n");
        }

        Write(framed, "0\r\n\r\n");
        return framed.ToArray();
    }

    /// <summary>The input as a reader can replay it: request line, headers and body, non-printable bytes escaped, long runs shortened.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"#{Index} [{Route}] {Category}\n    {Method} {Printable(Target)} HTTP/1.1\n");
        foreach (var (name, value) in Headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"    {name}: {Printable(value)}\n");
        }

        if (Body is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    ({Body.Length:N0}-byte body{(Chunked ? ", chunked" : string.Empty)}{(ExpectContinue ? ", Expect: 100-continue" : string.Empty)})\n    {Printable(Body)}\n");
        }

        if (RawBody is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    (raw {RawBody.Length:N0}-byte body)\n    {Printable(RawBody)}\n");
        }

        if (Why is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    expected {(Expect == Expectation.Exactly ? string.Join('/', Statuses) : "a 4xx problem")}: {Why}\n");
        }

        return text.ToString();
    }

    /// <summary>Bytes as text: printable ASCII as is, others as <c>\xNN</c>; runs of one byte over 16 long as <c>'a'×N</c>; at most ~600 characters.</summary>
    public static string Printable(byte[] bytes)
    {
        var text = new StringBuilder();
        for (var i = 0; i < bytes.Length && text.Length < 600; i++)
        {
            var run = 1;
            while (i + run < bytes.Length && bytes[i + run] == bytes[i])
            {
                run++;
            }

            var one = bytes[i] is >= 0x20 and < 0x7F && bytes[i] != '\\' ? ((char)bytes[i]).ToString() : $"\\x{bytes[i]:x2}";
            if (run > 16)
            {
                text.Append(CultureInfo.InvariantCulture, $"«{one}×{run:N0}»");
                i += run - 1;
            }
            else
            {
                text.Append(one);
            }
        }

        return text.Length >= 600 ? $"{text}… ({bytes.Length:N0} bytes)" : text.ToString();
    }

    private static void Write(MemoryStream stream, string ascii) => stream.Write(Encoding.Latin1.GetBytes(ascii));
}
