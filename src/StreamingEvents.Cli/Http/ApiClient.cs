using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamingEvents.Cli.Http;

/// <summary>
/// The service's HTTP API as the tool uses it: JSON calls with a bounded wait, and event-stream requests that are left
/// open (no overall timeout; <see cref="EventStreamReader"/> watches for silence instead).
/// </summary>
internal sealed class ApiClient : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;

    public ApiClient(Uri baseAddress, string? apiKey = null, HttpMessageHandler? handler = null)
    {
        BaseAddress = baseAddress;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (apiKey is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("se", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "1.0"));
    }

    public Uri BaseAddress { get; }

    /// <summary>Opens an event stream (headers read, body left to stream); the caller owns the response.</summary>
    public async Task<HttpResponseMessage> OpenEventStreamAsync(string pathAndQuery, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connect.CancelAfter(RequestTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connect.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"No answer within {RequestTimeout.TotalSeconds:0} s.", exception);
        }
    }

    /// <summary>GET a JSON document; null for 404 when <paramref name="notFoundIsNull"/>; a problem otherwise throws.</summary>
    public Task<JsonElement?> GetJsonAsync(string pathAndQuery, CancellationToken cancellationToken, bool notFoundIsNull = false) =>
        SendJsonAsync(HttpMethod.Get, pathAndQuery, body: null, notFoundIsNull, cancellationToken);

    /// <summary>POST a JSON body and read the JSON answer; a problem throws <see cref="ApiProblemException"/>.</summary>
    public async Task<JsonElement> PostJsonAsync(string path, JsonNode body, CancellationToken cancellationToken) =>
        await SendJsonAsync(HttpMethod.Post, path, body, notFoundIsNull: false, cancellationToken) ?? default;

    public void Dispose() => _http.Dispose();

    private async Task<JsonElement?> SendJsonAsync(HttpMethod method, string pathAndQuery, JsonNode? body, bool notFoundIsNull, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            if (notFoundIsNull && response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new ApiProblemException($"{method} /{pathAndQuery}", await ApiProblem.ReadAsync(response, timeout.Token));
            }

            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (text.Length == 0)
            {
                return default(JsonElement);
            }

            using var json = JsonDocument.Parse(text);
            return json.RootElement.Clone();
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"{method} /{pathAndQuery}: no answer within {RequestTimeout.TotalSeconds:0} s.", exception);
        }
    }
}
