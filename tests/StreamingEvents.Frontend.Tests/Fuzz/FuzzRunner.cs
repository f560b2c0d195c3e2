using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>A fuzz input the server answered wrongly: the input, the answer (if any) and what is wrong with it.</summary>
internal sealed record FuzzFailure(FuzzRequest Request, RawResponse? Response, string Problem, TimeSpan Elapsed);

/// <summary>
/// Sends fuzz inputs and judges each answer: never a 5xx, never no answer within <see cref="HangBound"/>; a 4xx is an
/// RFC 9457 problem (<c>application/problem+json</c> with <c>type</c>, <c>status</c>, <c>detail</c>, <c>error_code</c>)
/// unless the web server refused a request that breaks HTTP itself before the application (then counted apart);
/// definitely invalid input is refused; a 2xx has the route's content type and valid JSON.
/// </summary>
internal sealed class FuzzRunner(FuzzServer server)
{
    public static readonly TimeSpan HangBound = TimeSpan.FromSeconds(20);

    private readonly ConcurrentQueue<FuzzFailure> _failures = new();
    private readonly ConcurrentDictionary<string, RouteStats> _stats = new(StringComparer.Ordinal);

    public IReadOnlyCollection<FuzzFailure> Failures => _failures;

    public IReadOnlyDictionary<string, RouteStats> Stats => _stats;

    public int Total => _stats.Values.Sum(s => s.Inputs);

    public async Task RunAsync(FuzzRequest request)
    {
        var stats = _stats.GetOrAdd(request.Route, _ => new RouteStats());
        stats.Count(request);
        var clock = Stopwatch.StartNew();
        RawResponse response;
        try
        {
            using var bound = new CancellationTokenSource(HangBound);
            response = await RawHttp.SendAsync(server.EndPoint, request.Method, request.Head(server.Port), request.WireBody(), request.ExpectContinue, bound.Token);
        }
        catch (OperationCanceledException)
        {
            stats.Status("hang");
            _failures.Enqueue(new FuzzFailure(request, null, $"no answer within {HangBound.TotalSeconds:0} s (a hang)", clock.Elapsed));
            return;
        }
        catch (RawHttpException exception)
        {
            stats.Status("no response");
            _failures.Enqueue(new FuzzFailure(request, null, exception.Message, clock.Elapsed));
            return;
        }

        var problem = Judge(request, response, out var refusedByWebServer);
        stats.Status(refusedByWebServer ? $"{response.Status} (web server, no problem body)" : response.Status.ToString(CultureInfo.InvariantCulture));
        problem ??= request.Check?.Invoke(response);
        if (problem is not null)
        {
            _failures.Enqueue(new FuzzFailure(request, response, problem, clock.Elapsed));
        }
    }

    /// <summary>What is wrong with the answer, or null.</summary>
    internal static string? Judge(FuzzRequest request, RawResponse response, out bool refusedByWebServer)
    {
        var status = response.Status;
        refusedByWebServer = false;
        if (status >= 500)
        {
            return $"a {status} server error";
        }

        var bare = status is >= 400 and < 500 && response.MediaType is null && response.Body.Length == 0;
        if (bare && request.HttpLevel && (status is 400 or 414 or 431 || request.Statuses.Contains(status)))
        {
            // Kestrel refuses requests that break HTTP (request line, header sizes and bytes) before the application.
            refusedByWebServer = true;
            return null;
        }

        if (request.Expect == Expectation.Exactly && !request.Statuses.Contains(status))
        {
            return $"{status}, not {string.Join(" or ", request.Statuses)} ({request.Why})";
        }

        if (request.Expect == Expectation.Refusal && status is < 400 or >= 500)
        {
            return $"{status}: definitely invalid input was accepted ({request.Why})";
        }

        if (status is >= 400 and < 500)
        {
            return bare ? $"a {status} without a problem body" : ProblemDefect(request, response);
        }

        if (status is >= 300 and < 400)
        {
            return $"an unexpected redirect ({status} to {response.Header("Location")})";
        }

        if (status >= 200 && !response.HeadOnly && request.Method != "HEAD" && request.Route != Routes.Unknown && status != 204)
        {
            if (request.IsSse)
            {
                return $"a {status} on an SSE route that is not an event stream ({response.MediaType})";
            }

            if (response.MediaType != "application/json")
            {
                return $"a {status} answered as '{response.MediaType}', not application/json";
            }

            if (!response.BodyTruncated && !IsJson(response.Body, out var error))
            {
                return $"a {status} whose body is not JSON: {error}";
            }
        }

        return null;
    }

    /// <summary>What makes a 4xx answer not an RFC 9457 problem of this API, or null.</summary>
    internal static string? ProblemDefect(FuzzRequest request, RawResponse response)
    {
        if (response.MediaType != "application/problem+json")
        {
            return $"a {response.Status} answered as '{response.Header("Content-Type")}', not application/problem+json";
        }

        if (request.Method == "HEAD" || response.BodyTruncated)
        {
            return null;
        }

        JsonElement body;
        try
        {
            using var document = JsonDocument.Parse(response.Body, new JsonDocumentOptions { AllowDuplicateProperties = false });
            body = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            return $"a {response.Status} problem that is not JSON with unique members: {exception.Message}";
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return "the problem is not a JSON object";
        }

        if (!body.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var number) || number != response.Status)
        {
            return $"the problem's 'status' is not {response.Status}";
        }

        if (!body.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !Uri.TryCreate(type.GetString(), UriKind.Absolute, out _))
        {
            return "the problem's 'type' is not an absolute URI";
        }

        if (!body.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(detail.GetString()))
        {
            return "the problem has no 'detail'";
        }

        if (!body.TryGetProperty("error_code", out var code) || code.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(code.GetString()))
        {
            return "the problem has no 'error_code'";
        }

        return null;
    }

    private static bool IsJson(byte[] body, out string? error)
    {
        try
        {
            using var _ = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 256 });
            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = exception.Message;
            return false;
        }
    }
}

/// <summary>Inputs of one route and the statuses they got.</summary>
internal sealed class RouteStats
{
    private readonly ConcurrentDictionary<string, int> _statuses = new(StringComparer.Ordinal);
    private int _inputs;
    private int _invalid;

    public int Inputs => _inputs;

    /// <summary>Inputs that were definitely invalid (or had to get one exact status).</summary>
    public int MustRefuse => _invalid;

    public IReadOnlyDictionary<string, int> Statuses => _statuses;

    public void Count(FuzzRequest request)
    {
        Interlocked.Increment(ref _inputs);
        if (request.Expect != Expectation.NoServerError)
        {
            Interlocked.Increment(ref _invalid);
        }
    }

    public void Status(string status) => _statuses.AddOrUpdate(status, 1, (_, n) => n + 1);

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (status, count) in _statuses.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{status}×{count} ");
        }

        return text.ToString().TrimEnd();
    }
}
