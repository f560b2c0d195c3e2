using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

/// <summary>A frontend with API keys: who may publish and subscribe, and what each tenant can see.</summary>
public sealed class AuthServerFixture : IAsyncLifetime
{
    public const string Publisher = "pub-key-0123456789";
    public const string Subscriber = "sub-key-0123456789";
    public const string Admin = "admin-key-0123456789";
    public const string OtherTenant = "tenant-b-key-0123456789";
    public const string Throttled = "throttled-key-0123456789";

    public FrontendServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:PublishPermitsPerSecond"] = "1000",
            ["StreamingEvents:Auth:PublishBurst"] = "1000",
        };
        AddKey(settings, 0, "publisher", Publisher, ["publish"], ["tenant-a"]);
        AddKey(settings, 1, "subscriber", Subscriber, ["subscribe"], ["tenant-a"]);
        AddKey(settings, 2, "admin", Admin, ["admin"], ["*"]);
        AddKey(settings, 3, "tenant-b", OtherTenant, ["publish", "subscribe"], ["tenant-b"]);
        Server = await FrontendServer.StartAsync(settings);
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();

    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    private static void AddKey(Dictionary<string, string?> settings, int index, string id, string key, string[] scopes, string[] namespaces)
    {
        var at = $"StreamingEvents:Auth:Keys:{index}";
        settings[$"{at}:Id"] = id;
        settings[$"{at}:Sha256"] = AuthOptions.Hash(key);
        for (var i = 0; i < scopes.Length; i++)
        {
            settings[$"{at}:Scopes:{i}"] = scopes[i];
        }

        for (var i = 0; i < namespaces.Length; i++)
        {
            settings[$"{at}:Namespaces:{i}"] = namespaces[i];
        }
    }
}

public sealed class AuthTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task A_request_without_a_key_is_a_401_problem_with_a_bearer_challenge()
    {
        using var anonymous = fixture.Client(null);
        foreach (var response in new[]
        {
            await anonymous.PostAsJsonAsync("v1/tasks", new { type = "token", state = 0 }),
            await anonymous.GetAsync("v1/workflows/events/stream?workflow_exec_id=x"),
            await anonymous.GetAsync("v1/streams"),
        })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("unauthorized", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        }

        using var wrong = fixture.Client("not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("v1/streams")).StatusCode);
    }

    [Fact]
    public async Task A_key_without_the_scope_is_a_403()
    {
        using var subscriber = fixture.Client(AuthServerFixture.Subscriber);
        using var publisher = fixture.Client(AuthServerFixture.Publisher);

        var publishAttempt = await subscriber.PostAsJsonAsync("v1/tasks", new { type = "token", state = 0 });
        Assert.Equal(HttpStatusCode.Forbidden, publishAttempt.StatusCode);
        Assert.Equal("forbidden", (await publishAttempt.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await publisher.GetAsync("v1/streams")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await publisher.PostAsJsonAsync("v1/tasks", new { type = "token", state = 0 })).StatusCode);
    }

    [Fact]
    public async Task The_key_is_accepted_as_bearer_and_as_x_api_key_never_in_a_url()
    {
        using var plain = fixture.Client(null);
        using var withHeader = new HttpRequestMessage(HttpMethod.Get, "v1/streams");
        withHeader.Headers.Add("X-API-Key", AuthServerFixture.Subscriber);
        Assert.Equal(HttpStatusCode.OK, (await plain.SendAsync(withHeader)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await plain.GetAsync($"v1/streams?access_token={AuthServerFixture.Subscriber}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await plain.PostAsJsonAsync($"v1/tasks?access_token={AuthServerFixture.Publisher}", new { type = "token", state = 0 })).StatusCode);
    }

    [Fact]
    public async Task A_key_in_a_url_is_accepted_on_gets_where_the_option_allows_it()
    {
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:Keys:0:Id"] = "legacy",
            ["StreamingEvents:Auth:Keys:0:Sha256"] = AuthOptions.Hash(AuthServerFixture.Subscriber),
            ["StreamingEvents:Auth:Keys:0:Scopes:0"] = "subscribe",
            ["StreamingEvents:Auth:Keys:0:Namespaces:0"] = "default",
            ["StreamingEvents:Auth:AllowKeysInQueryString"] = "true",
        });
        using var plain = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync($"v1/streams?access_token={AuthServerFixture.Subscriber}")).StatusCode);
    }

    [Fact]
    public async Task Tenants_see_only_their_own_executions_even_with_the_same_execution_id()
    {
        var shared = "shared-" + Guid.NewGuid().ToString("N")[..8];
        var workflow = "wf-" + Guid.NewGuid().ToString("N")[..8];
        using var tenantA = fixture.Client(AuthServerFixture.Publisher);
        using var tenantAReader = fixture.Client(AuthServerFixture.Subscriber);
        using var tenantB = fixture.Client(AuthServerFixture.OtherTenant);

        var taskA = await CreateAsync(tenantA, shared, workflow, "from A");
        var taskB = await CreateAsync(tenantB, shared, workflow, "from B");

        // Same execution id, two executions: each tenant reads its own.
        using var streamA = await SseClient.OpenAsync(tenantAReader, $"v1/workflows/events/stream?workflow_exec_id={shared}&start_seq=0");
        var recordA = (await SseClient.ReadAsync(streamA).TakeAsync(1))[0];
        Assert.Contains("from A", recordA.Data, StringComparison.Ordinal);
        using var streamB = await SseClient.OpenAsync(tenantB, $"v1/workflows/events/stream?workflow_exec_id={shared}&start_seq=0");
        var recordB = (await SseClient.ReadAsync(streamB).TakeAsync(1))[0];
        Assert.Contains("from B", recordB.Data, StringComparison.Ordinal);

        // Another tenant's task is not found; lists and wildcard subscriptions never show it.
        Assert.Equal(HttpStatusCode.NotFound, (await tenantAReader.GetAsync($"v1/tasks/{taskB}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tenantA.PostAsJsonAsync($"v1/tasks/{taskB}/state", new { state = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenantAReader.GetAsync($"v1/tasks/{taskA}")).StatusCode);
        var streams = await tenantAReader.GetFromJsonAsync<JsonElement>($"v1/streams?workflow_name={workflow}");
        Assert.Equal("tenant-a", Assert.Single(streams.GetProperty("streams").EnumerateArray()).GetProperty("namespace").GetString());
        var list = await tenantAReader.GetFromJsonAsync<JsonElement>($"v1/workflows/events/list?workflow_exec_id={shared}");
        Assert.All(list.GetProperty("events").EnumerateArray(), e => Assert.Contains("from A", e.GetRawText(), StringComparison.Ordinal));

        using var wildcard = await SseClient.OpenAsync(tenantAReader, $"v1/workflows/events/stream?workflow_name={workflow}&start_seq=0");
        var merged = await SseClient.ReadAsync(wildcard).TakeAsync(1);
        Assert.DoesNotContain("from B", merged[0].Data, StringComparison.Ordinal);

        // Naming a namespace the key does not reach is refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await tenantAReader.GetAsync("v1/streams?namespace=tenant-b")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenantA.PostAsJsonAsync("v1/tasks",
            new { type = "token", state = 0, workflow_context = new { @namespace = "tenant-b", workflow_exec_id = "x" } })).StatusCode);

        // An admin key reaches both, naming the namespace.
        using var admin = fixture.Client(AuthServerFixture.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"v1/streams/{shared}?namespace=tenant-b")).StatusCode);
    }

    [Fact]
    public async Task Publishing_faster_than_the_key_limit_is_a_429_with_retry_after()
    {
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:Keys:0:Id"] = "throttled",
            ["StreamingEvents:Auth:Keys:0:Sha256"] = AuthOptions.Hash(AuthServerFixture.Throttled),
            ["StreamingEvents:Auth:Keys:0:Scopes:0"] = "publish",
            ["StreamingEvents:Auth:Keys:0:Namespaces:0"] = "default",
            ["StreamingEvents:Auth:PublishPermitsPerSecond"] = "1",
            ["StreamingEvents:Auth:PublishBurst"] = "3",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuthServerFixture.Throttled);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await client.PostAsJsonAsync("v1/tasks", new { type = "token", state = i });
            statuses.Add(response.StatusCode);
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.NotNull(limited);
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created], statuses.Take(3));
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("rate_limited", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task Without_keys_the_frontend_refuses_to_listen_beyond_loopback()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["urls"] = $"http://0.0.0.0:{FreePort.Next()}",
        }));
        Assert.Contains("StreamingEvents:Auth:Keys", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_are_configured_by_their_sha256()
    {
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", AuthOptions.Hash("test"));
    }

    private static async Task<string> CreateAsync(HttpClient client, string execution, string workflow, string marker)
    {
        var response = await client.PostAsJsonAsync("v1/tasks", new { type = "token", state = new { text = marker }, workflow_context = new { workflow_exec_id = execution, workflow_name = workflow } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task_id").GetString()!;
    }
}

public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task A_key_holding_its_most_streams_gets_429_until_one_closes()
    {
        const string Key = "limited-key-0123456789";
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:Keys:0:Id"] = "limited",
            ["StreamingEvents:Auth:Keys:0:Sha256"] = AuthOptions.Hash(Key),
            ["StreamingEvents:Auth:Keys:0:Scopes:0"] = "subscribe",
            ["StreamingEvents:Auth:Keys:0:Namespaces:0"] = "default",
            ["StreamingEvents:Auth:MaxConnectionsPerKey"] = "2",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var connections = server.Services.GetRequiredService<StreamingEvents.Frontend.Sse.SseConnections>();

        var first = await SseClient.OpenAsync(client, "v1/workflows/events/stream?workflow_exec_id=a");
        using var second = await SseClient.OpenAsync(client, "v1/workflows/events/stream?workflow_exec_id=b");
        using var third = await SseClient.OpenAsync(client, "v1/workflows/events/stream?workflow_exec_id=c");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("too_many_connections", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());

        first.Dispose();
        await connections.WhenCountAtMostAsync(1).Within();
        using var fourth = await SseClient.OpenAsync(client, "v1/workflows/events/stream?workflow_exec_id=d");
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
    }
}
