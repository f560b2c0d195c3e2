using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Frontend.Sse;
using StreamingEvents.Frontend.Tests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// A server with a 200 ms heartbeat, a 3 s reconnect hint, at most 10 retained events per execution and subscriptions
/// that buffer at most 4 live events: everything a test needs to see heartbeats, retention and a reader falling behind.
/// </summary>
public sealed class SmallRetentionServer : ServerFixture
{
    public const int MaxEvents = 10;

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:Http:HeartbeatInterval"] = "00:00:00.200",
        ["StreamingEvents:Http:ReconnectDelay"] = "00:00:03",
        ["StreamingEvents:Retention:MaxEvents"] = "10",
        ["StreamingEvents:Client:SubscriptionBufferEvents"] = "4",
    };
}

/// <summary>
/// SSE hygiene: the headers proxies and browsers need, the retry hint, heartbeats while idle, releasing a subscription
/// when its client leaves, and failures after the 200 status as an <c>event: error</c> record.
/// </summary>
public sealed class SseHygieneTests(SmallRetentionServer fixture) : IClassFixture<SmallRetentionServer>
{
    private Api Api => fixture.Api;

    private SseConnections Connections => fixture.Server.Services.GetRequiredService<SseConnections>();

    [Theory]
    [InlineData("v1/workflows/events/stream?workflow_exec_id={0}")]
    [InlineData("v1/workflows/events/stream?workflow_name={0}")]
    [InlineData("v1/workflows/executions/{0}/stream")]
    public async Task An_sse_response_says_event_stream_no_cache_no_proxy_buffering_and_starts_with_the_retry_hint(string route)
    {
        var exec = Api.NewId("headers");
        await Api.PublishTaskAsync(exec, updates: 0);

        using var response = await Api.OpenSseAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, route, exec));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));

        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body, Encoding.UTF8);
        Assert.Equal("retry: 3000", await reader.ReadLineAsync().Within());
    }

    [Fact]
    public async Task Records_carry_the_configured_retry_hint_as_an_eventsource_parses_it()
    {
        var exec = Api.NewId("retry");
        await Api.PublishTaskAsync(exec, updates: 0);

        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), 2);

        Assert.All(records, r => Assert.Equal(3000, r.Retry));
    }

    [Fact]
    public async Task An_idle_stream_sends_keep_alive_comments_at_the_heartbeat_interval()
    {
        using var response = await Api.OpenSseAsync(Query.MistralDefaults().Set("workflow_exec_id", Api.NewId("idle")));
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body, Encoding.UTF8);

        // Nothing is published: after the preamble, the only thing the server may send is the heartbeat comment.
        var lines = new List<string>();
        using var bound = new CancellationTokenSource(Bounded.Default);
        while (lines.Count(l => l == ": keep-alive") < 3)
        {
            lines.Add(await reader.ReadLineAsync(bound.Token) ?? throw new InvalidOperationException("The stream ended."));
        }

        Assert.All(lines, l => Assert.True(l.Length == 0 || l[0] == ':' || l.StartsWith("retry: ", StringComparison.Ordinal), $"Unexpected line '{l}'."));
    }

    [Fact]
    public async Task A_client_that_disconnects_releases_its_server_side_connection()
    {
        await Eventually.TrueAsync(() => Connections.Count == 0, "no connection left from other tests");
        var exec = Api.NewId("leave");
        await Api.PublishTaskAsync(exec, updates: 0);

        var first = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec));
        var second = await Api.StreamAsync(Query.Execution(exec));
        await using var wildcard = await Api.StreamAsync(Query.MistralDefaults().Set("root_workflow_exec_id", exec));
        await first.WaitForCountAsync(2);
        Assert.Equal(3, Connections.Count);

        await first.DisposeAsync();
        await Eventually.TrueAsync(() => Connections.Count == 2, "the first connection released");
        await second.DisposeAsync();
        await wildcard.DisposeAsync();
        await Eventually.TrueAsync(() => Connections.Count == 0, "every connection released");
    }

    [Fact]
    public async Task A_connection_dropped_by_the_network_resumes_exactly_with_the_last_id_seen()
    {
        var exec = Api.NewId("drop");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        await Api.UpdateAsync(task.TaskId, new { n = 1 });
        var query = Query.MistralDefaults().Set("workflow_exec_id", exec);
        await using var before = await Api.StreamAsync(query);
        await before.WaitForEventAsync(exec, 2);

        Connections.AbortAll();
        var seen = await before.WaitForEndAsync();
        await Api.UpdateAsync(task.TaskId, new { n = 2 });
        var last = await Api.CompleteAsync(task.TaskId, new { n = 2 });

        var resumed = await Api.TakeAsync(query, 2, lastEventId: seen[^1].Id);
        Assert.Equal([1L, 2L], seen.Select(r => r.Sequence));
        Assert.Equal([3L, last], resumed.Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_reader_that_falls_behind_retention_gets_an_error_record_after_the_200_status()
    {
        var exec = Api.NewId("slow");
        var task = await Api.StartTaskAsync(exec, state: new { text = string.Empty });

        // A client with a tiny socket receive buffer that reads nothing for now: the server's writes stall.
        using var slow = new HttpClient(new SocketsHttpHandler { ConnectCallback = SlowReaderSockets.ConnectWithTinyReceiveBufferAsync }) { BaseAddress = fixture.Server.BaseAddress };
        using var response = await SseClient.OpenAsync(slow, Query.MistralDefaults().Set("workflow_exec_id", exec));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // 64 events of 256 KiB (16 MiB): far more than the socket buffers hold, and retention keeps only the newest 10.
        var chunk = new string('x', 256 * 1024);
        for (var i = 0; i < 64; i++)
        {
            await Api.UpdateAsync(task.TaskId, new { text = chunk });
        }

        await using var stream = new SseStream(response);
        var records = await stream.WaitForEndAsync();

        var error = Assert.Single(records, r => r.IsError);
        Assert.Same(error, records[^1]);
        Assert.Equal("position_expired", error.Json.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(error.Json.GetProperty("error").GetString()));
        var delivered = records.SkipLast(1).Select(r => r.Sequence).ToList();
        Assert.Equal(ResumeTests.Sequences(1, delivered.Count), delivered);
    }

    [Fact]
    public async Task A_start_seq_below_the_oldest_retained_is_410_gone_with_oldest_available_and_zero_means_the_oldest()
    {
        var exec = Api.NewId("gone");
        await Api.PublishTaskAsync(exec, updates: 28);
        using var info = await Api.Http.GetAsync($"v1/streams/{exec}");
        var oldest = (await Api.ExpectAsync(info, HttpStatusCode.OK)).GetProperty("oldest_retained").GetInt64();
        Assert.InRange(oldest, 30 - SmallRetentionServer.MaxEvents + 1, 30);

        foreach (var (path, lastEventId) in new (string, string?)[]
        {
            (Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", oldest - 1), null),
            (Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 1), null),
            (Query.MistralDefaults().Set("workflow_exec_id", exec), (oldest - 2).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Query.Execution(exec).Set("last_event_id", 1), null),
            (Query.Execution(exec).Set("event_source", "DATABASE").Set("last_event_id", oldest - 2), null),
        })
        {
            // Without an Accept header (as curl): how the problem looks to an EventSource is the next test.
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            using var response = await Api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.Gone, "position_expired");
            Assert.Equal(oldest, problem.GetProperty("oldest_available").GetInt64());
        }

        var fromZero = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 0), 2);
        var fromOldest = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", oldest), 2);
        await using var database = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE"));
        Assert.Equal([oldest, oldest + 1], fromZero.Select(r => r.Sequence));
        Assert.Equal([oldest, oldest + 1], fromOldest.Select(r => r.Sequence));
        Assert.Equal(ResumeTests.Sequences(oldest, 30), (await database.WaitForEndAsync()).Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_410_sent_to_an_eventsource_client_still_carries_oldest_available()
    {
        var exec = Api.NewId("gone-sse");
        await Api.PublishTaskAsync(exec, updates: 28);

        // Exactly what EventSource and Mistral's SDK send: Accept: text/event-stream.
        using var response = await Api.OpenSseAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", 1));

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.Gone, "position_expired");
        Assert.True(problem.GetProperty("oldest_available").GetInt64() > 1);
    }

    [Fact]
    public async Task A_wildcard_stream_starts_a_trimmed_execution_at_its_oldest_retained_event_for_start_seq_zero()
    {
        var name = Api.NewId("wf");
        var exec = Api.NewId("gone-wild");
        await Api.PublishTaskAsync(exec, updates: 28, workflowName: name);
        using var info = await Api.Http.GetAsync($"v1/streams/{exec}");
        var oldest = (await Api.ExpectAsync(info, HttpStatusCode.OK)).GetProperty("oldest_retained").GetInt64();

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_name", name));
        var records = await stream.WaitForEventAsync(exec, 30);

        Assert.Equal(ResumeTests.Sequences(oldest, 30), records.Select(r => r.Sequence));
    }
}
