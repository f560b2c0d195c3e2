using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

/// <summary>Stream tokens as such: signed, bound to one execution, expiring.</summary>
public sealed class StreamTokenUnitTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-06T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_token_carries_its_namespace_execution_and_key_until_it_expires()
    {
        var tokens = Tokens(Convert.ToBase64String(new byte[32]));
        var (token, expiresAt) = tokens.Mint("tenant-a", "exec-1", TimeSpan.FromMinutes(5), "publisher");
        Assert.StartsWith(StreamTokens.Prefix, token, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow().AddMinutes(5), expiresAt);

        Assert.Equal(new StreamToken("tenant-a", "exec-1", expiresAt.ToUnixTimeSeconds(), "publisher"), tokens.Validate(token).Token);
        _time.Advance(TimeSpan.FromMinutes(5));
        var (expired, refusal) = tokens.Validate(token);
        Assert.Null(expired);
        Assert.Contains("expired", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_token_or_one_signed_with_another_secret_is_refused()
    {
        var tokens = Tokens(Convert.ToBase64String(new byte[32]));
        var (token, _) = tokens.Mint("tenant-a", "exec-1", TimeSpan.FromMinutes(5), "publisher");

        // The claims rewritten for another execution, the signature kept.
        var parts = token[StreamTokens.Prefix.Length..].Split('.');
        var claims = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0])).Replace("exec-1", "exec-2", StringComparison.Ordinal);
        var forged = StreamTokens.Prefix + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims)) + "." + parts[1];
        Assert.Contains("signature", tokens.Validate(forged).Refusal, StringComparison.Ordinal);

        var otherSecret = Tokens(Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray()));
        Assert.Null(otherSecret.Validate(token).Token);
        foreach (var malformed in new[] { "se1.", "se1.abc", "se1.a.b.c", "se1.!!.??", token + "x" })
        {
            Assert.Null(tokens.Validate(malformed).Token);
        }
    }

    [Fact]
    public void Without_a_configured_secret_each_process_signs_with_its_own()
    {
        var (token, _) = Tokens(null).Mint("default", "exec-1", TimeSpan.FromMinutes(5), "k");
        Assert.Null(Tokens(null).Validate(token).Token);
    }

    private StreamTokens Tokens(string? secret) =>
        new(new StaticOptions(new AuthOptions { TokenSigningKey = secret }), _time);

    private sealed class StaticOptions(AuthOptions value) : IOptionsMonitor<AuthOptions>
    {
        public AuthOptions CurrentValue => value;

        public AuthOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AuthOptions, string?> listener) => null;
    }
}

/// <summary>Stream tokens over HTTP, against the frontend with API keys.</summary>
public sealed class StreamTokenTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task A_token_minted_by_a_key_subscribes_to_its_one_execution_on_the_sse_routes_and_nothing_else()
    {
        using var publisher = fixture.Client(AuthServerFixture.Publisher);
        var execution = "tok-" + Guid.NewGuid().ToString("N")[..8];
        var other = "tok-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await publisher.PostAsJsonAsync("v1/tasks",
            new { type = "token", state = new { text = "hello" }, workflow_context = new { workflow_exec_id = execution } })).StatusCode);

        var minted = await MintAsync(publisher, new { workflow_exec_id = execution });
        Assert.Equal("tenant-a", minted.GetProperty("namespace").GetString());
        Assert.Equal(execution, minted.GetProperty("workflow_exec_id").GetString());
        Assert.True(minted.GetProperty("expires_at").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        var token = Uri.EscapeDataString(minted.GetProperty("token").GetString()!);

        // Both SSE routes, for its execution: no header, the token in the URL.
        using var anonymous = fixture.Client(null);
        foreach (var path in new[] { $"v1/workflows/events/stream?workflow_exec_id={execution}&start_seq=0", $"v1/workflows/executions/{execution}/stream?event_source=DATABASE" })
        {
            using var stream = await SseClient.OpenAsync(anonymous, WithToken(path, token));
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.Contains("hello", (await SseClient.ReadAsync(stream).TakeAsync(1))[0].Data, StringComparison.Ordinal);
        }

        // Another execution, or many: forbidden. Other routes do not take tokens at all.
        foreach (var path in new[] { $"v1/workflows/events/stream?workflow_exec_id={other}", "v1/workflows/events/stream?workflow_name=x", $"v1/workflows/executions/{other}/stream" })
        {
            using var refused = await SseClient.OpenAsync(anonymous, WithToken(path, token));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        foreach (var path in new[] { "v1/streams", $"v1/workflows/executions/{execution}", $"v1/streams/{execution}" })
        {
            var response = await anonymous.GetAsync(WithToken(path, token));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("SSE routes only", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_token_reaches_the_execution_of_its_minting_keys_tenant_only()
    {
        var shared = "tok-" + Guid.NewGuid().ToString("N")[..8];
        using var tenantA = fixture.Client(AuthServerFixture.Publisher);
        using var tenantB = fixture.Client(AuthServerFixture.OtherTenant);
        await tenantA.PostAsJsonAsync("v1/tasks", new { type = "token", state = new { text = "from A" }, workflow_context = new { workflow_exec_id = shared } });
        await tenantB.PostAsJsonAsync("v1/tasks", new { type = "token", state = new { text = "from B" }, workflow_context = new { workflow_exec_id = shared } });

        // Any key may mint (a subscribe-only one too); the token reads that key's tenant.
        using var reader = fixture.Client(AuthServerFixture.Subscriber);
        var token = Uri.EscapeDataString((await MintAsync(reader, new { workflow_exec_id = shared })).GetProperty("token").GetString()!);
        using var anonymous = fixture.Client(null);
        using var stream = await SseClient.OpenAsync(anonymous, $"v1/workflows/executions/{shared}/stream?event_source=DATABASE&access_token={token}");
        var data = (await SseClient.ReadAsync(stream).TakeAsync(1))[0].Data;
        Assert.Contains("from A", data, StringComparison.Ordinal);

        // Naming the other tenant's namespace: the token does not reach it.
        using var refused = await SseClient.OpenAsync(anonymous, $"v1/workflows/executions/{shared}/stream?namespace=tenant-b&access_token={token}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task A_key_in_a_url_is_refused_with_a_problem_that_says_what_to_do_and_bad_mint_requests_are_400s()
    {
        using var anonymous = fixture.Client(null);
        foreach (var path in new[] { "v1/streams", "v1/workflows/events/stream?workflow_exec_id=x" })
        {
            var response = await anonymous.GetAsync(WithToken(path, AuthServerFixture.Subscriber));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("stream-tokens", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var publisher = fixture.Client(AuthServerFixture.Publisher);
        foreach (var body in new object[] { new { }, new { workflow_exec_id = "" }, new { workflow_exec_id = "a b" }, new { workflow_exec_id = "x", ttl_seconds = 0 }, new { workflow_exec_id = "x", ttl_seconds = 100_000 } })
        {
            var response = await publisher.PostAsJsonAsync("v1/stream-tokens", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("v1/stream-tokens", new { workflow_exec_id = "x" })).StatusCode);
    }

    private static string WithToken(string path, string token) =>
        $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}access_token={token}";

    private static async Task<JsonElement> MintAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("v1/stream-tokens", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

/// <summary>Credentials never reach the logs, whatever a request carried and however it was refused.</summary>
public sealed class CredentialLoggingTests
{
    [Fact]
    public async Task No_log_line_holds_a_key_or_a_stream_token()
    {
        const string Key = "log-probe-key-0123456789";
        using var logs = new CapturedLogs();
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:Keys:0:Id"] = "logged",
            ["StreamingEvents:Auth:Keys:0:Sha256"] = Frontend.Security.AuthOptions.Hash(Key),
            ["StreamingEvents:Auth:Keys:0:Scopes:0"] = "admin",
            ["StreamingEvents:Auth:Keys:0:Namespaces:0"] = "*",
        }, logs);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);
        var execution = "logged-" + Guid.NewGuid().ToString("N")[..8];
        await client.PostAsJsonAsync("v1/tasks", new { type = "token", state = 1, workflow_context = new { workflow_exec_id = execution } });
        var minted = await (await client.PostAsJsonAsync("v1/stream-tokens", new { workflow_exec_id = execution })).Content.ReadFromJsonAsync<JsonElement>();
        var token = minted.GetProperty("token").GetString()!;

        // Accepted, refused as a key in a URL, refused on another route, a forged token, an expired-looking one.
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };
        using (var stream = await SseClient.OpenAsync(anonymous, $"v1/workflows/executions/{execution}/stream?event_source=DATABASE&access_token={Uri.EscapeDataString(token)}"))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            await SseClient.ReadAsync(stream).TakeAsync(1);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/streams?access_token={Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/streams?access_token={Uri.EscapeDataString(token)}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/workflows/executions/{execution}/stream?access_token={Uri.EscapeDataString(token + "x")}")).StatusCode);
        using var wrongKey = new HttpClient { BaseAddress = server.BaseAddress };
        wrongKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key + "-wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync("v1/streams")).StatusCode);
        await server.StopAsync();

        Assert.NotEmpty(logs.Lines);
        var secret = token.Split('.')[^1];
        Assert.DoesNotContain(logs.Lines, line => line.Contains(Key, StringComparison.Ordinal) || line.Contains(secret, StringComparison.Ordinal));
    }

    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {exception}");
        }
    }
}
