using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using StreamingEvents.Frontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>A <see cref="FuzzServer"/> (its errors kept) shared by the tests of a class, and an <see cref="Api"/> on it.</summary>
public sealed class FuzzServerFixture : ServerFixture<FuzzServer>
{
    protected override Task<FuzzServer> StartAsync() => FuzzServer.StartAsync(new Dictionary<string, string?>());

    protected override Uri BaseAddressOf(FuzzServer server) => server.BaseAddress;
}

/// <summary>
/// The server bugs the hostile-input fuzz (<see cref="HttpFuzzTests"/>) found, each as one deterministic request:
/// until they are fixed these tests fail.
/// </summary>
public sealed class HostileInputFindingsTests(FuzzServerFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzServerFixture>
{
    private Api Api => fixture.Api;

    [Theory]
    [InlineData("l1.!!!")]
    [InlineData("l1.AAAAAAAAAAAAAAAAAAAAAB")]
    [InlineData("l1.AAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("l1.AAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("l1._Q_________C__________")]
    public async Task A_list_cursor_that_is_not_the_base64url_of_16_bytes_is_a_400_problem_not_a_500(string cursor)
    {
        // Base64Url.TryDecodeFromChars throws FormatException (it does not return false) for characters outside the
        // alphabet, a length that is not a base64 length, and non-zero trailing bits; EventListEndpoints.DecodeCursor lets it escape.
        using var response = await SendAsync(HttpMethod.Get, $"v1/workflows/events/list?cursor={Uri.EscapeDataString(cursor)}");

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request", "cursor");
    }

    [Theory]
    [InlineData("v1/tasks", """{"type":"\ud800","state":1}""")]
    [InlineData("v1/tasks", """{"type":"token","state":"a\udc00b"}""")]
    [InlineData("v1/tasks", """{"type":"token","state":{"\ud800":1}}""")]
    [InlineData("v1/tasks", """{"type":"token","state":1,"workflow_context":{"workflow_name":"\udfff"}}""")]
    [InlineData("v1/tasks/{task}/state", """{"state":["\ud800"]}""")]
    [InlineData("v1/tasks/{task}/state", """{"patch":[{"op":"append","path":"/text","value":"\ud800"}]}""")]
    [InlineData("v1/tasks/{task}/complete", """{"state":"\udbff"}""")]
    [InlineData("v1/tasks/{task}/fail", """{"message":"\ud800"}""")]
    [InlineData("v1/tasks/{task}/cancel", """{"reason":"\ud800"}""")]
    [InlineData("v1/demo", """{"\ud800":1}""")]
    public async Task A_lone_surrogate_escape_in_a_json_body_is_a_4xx_problem_not_a_500(string route, string body)
    {
        // "\ud800" is valid JSON syntax but no Unicode text: System.Text.Json throws InvalidOperationException (not
        // JsonException) when it unescapes it — RequestJson.OptionalString, RequestJson.OptionalValue (re-serializing),
        // and the duplicate-member check of JsonNode.ParseAsync for member names.
        var task = await Api.StartTaskAsync(Api.NewId("surrogate"), state: new { text = string.Empty });

        using var response = await Api.PostRawAsync(route.Replace("{task}", task.TaskId, StringComparison.Ordinal), body);

        Assert.InRange((int)response.StatusCode, 400, 499);
        await Problems.AssertProblemAsync(response, response.StatusCode, null);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x63 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    public async Task Invalid_UTF_8_inside_a_json_string_is_a_400_problem_and_is_not_published_as_replacement_characters(byte[] invalid)
    {
        // JSON text must be UTF-8 (RFC 8259 §8.1). Today the body is parsed without UTF-8 validation of strings and
        // re-serialized, so each invalid sequence is published as U+FFFD: the state a client sent is silently altered.
        var exec = Api.NewId("utf8");
        var task = await Api.StartTaskAsync(exec, state: "before");
        var body = new MemoryStream();
        body.Write("""{"state":"ab"""u8);
        body.Write(invalid);
        body.Write("""cd"}"""u8);
        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await Api.Http.PostAsync($"v1/tasks/{task.TaskId}/state", content);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, null);
        using var stream = await Api.Http.GetAsync($"v1/streams/{exec}");
        Assert.Equal(1, (await Api.ExpectAsync(stream, HttpStatusCode.OK)).GetProperty("head").GetInt64());
    }

    [Theory]
    [InlineData("GET", "v1/no-such-route")]
    [InlineData("GET", "v1/workflows/executions/x/stream/extra")]
    [InlineData("DELETE", "v1/streams")]
    [InlineData("POST", "v1/workflows/events/stream")]
    [InlineData("PUT", "v1/tasks/x/state")]
    public async Task A_404_or_405_for_a_client_that_accepts_only_text_event_stream_is_still_a_problem(string method, string url)
    {
        // EventSource and Mistral's SDKs send Accept: text/event-stream. The problem writer declines that Accept, and
        // UseStatusCodePages then falls back to "Status Code: 404; Not Found" as text/plain (ProblemMapping covers this
        // case for exceptions only).
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.InRange((int)response.StatusCode, 404, 405);
        await Problems.AssertProblemAsync(response, response.StatusCode, null);
    }

    [Fact]
    public async Task An_event_of_exactly_1_MiB_is_pushed_live_without_the_stream_transport_failing()
    {
        // The cap accepts envelopes up to 1,048,576 bytes, but Orleans' memory stream cache holds at most 1 MiB per
        // message including its own framing (~86 bytes): the pulling agent fails with "Message size is too big", the
        // dequeued batch is lost, and live readers only get those events when they probe storage, seconds later.
        var exec = Api.NewId("cap-live");
        var task = await Api.StartTaskAsync(exec, state: string.Empty);
        var probe = await Api.UpdateAsync(task.TaskId, "x");
        var written = (await Api.TakeAsync(Query.Execution(exec).Set("event_source", "DATABASE").Set("last_event_id", probe - 1), 1))[0];
        var fits = SizeProbes.Cap - (Encoding.UTF8.GetByteCount(written.Data) - 3);
        await using var live = await Api.StreamAsync(Query.Execution(exec).Set("last_event_id", probe));
        var errorsBefore = fixture.Server.Errors.Errors.Count;

        var clock = Stopwatch.StartNew();
        var atCap = await Api.UpdateAsync(task.TaskId, new string('x', fits - 2));
        var after = await Api.UpdateAsync(task.TaskId, "small");
        var records = await live.WaitForEventAsync(exec, after);
        output.WriteLine($"events {atCap} (1 MiB) and {after} arrived live {clock.ElapsedMilliseconds} ms after publishing");

        Assert.Equal([atCap, after], records.Select(r => r.Sequence));
        Assert.Equal(SizeProbes.Cap, Encoding.UTF8.GetByteCount(records[0].Data));
        var transportErrors = fixture.Server.Errors.Errors.Skip(errorsBefore).Where(e => e.Category.StartsWith("Orleans", StringComparison.Ordinal)).ToList();
        Assert.True(transportErrors.Count == 0, $"The stream transport failed on a 1 MiB event:\n{string.Join("\n", transportErrors)}");
    }

    [Fact]
    public async Task A_state_nested_as_deep_as_a_request_may_be_does_not_make_the_list_route_fail()
    {
        // The request limit (64 levels) counts from the body's root; the envelope puts the state 4 levels deeper
        // (data.attributes.payload.value), and EventListEndpoints.DataOf reads envelopes with the default limit of 64.
        // One such event answers 500 to every list page that reaches it (also unfiltered lists of the namespace).
        var exec = Api.NewId("deep-list");
        using var published = await PublishDeepStateAsync(exec, metadata: null);
        if ((int)published.StatusCode is >= 400 and < 500)
        {
            return; // Refusing such a state up front is a fix too.
        }

        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        using var response = await SendAsync(HttpMethod.Get, $"v1/workflows/events/list?workflow_exec_id={exec}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_state_nested_as_deep_as_a_request_may_be_does_not_make_a_metadata_filtered_stream_fail()
    {
        // EventMatcher.MetadataMatches parses each envelope with the default depth limit: the stream that reaches the
        // event ends with "event: error" (reason internal) after its 200 status.
        var exec = Api.NewId("deep-sse");
        using var published = await PublishDeepStateAsync(exec, metadata: new { user = "ann" });
        if ((int)published.StatusCode is >= 400 and < 500)
        {
            return;
        }

        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        await using var stream = await RawSseReader.OpenAsync(Api.Http, Query.MistralDefaults().Set("workflow_exec_id", exec).Set("metadata_filters", """{"user":"ann"}"""));
        var records = await stream.WaitForAsync(r => r.Count > 0, TimeSpan.FromSeconds(30));

        Assert.False(records[0].IsError, $"The stream failed: {records[0].Raw.Data}");
        Assert.Equal(1, records[0].Sequence);
    }

    /// <summary>Starts a task whose state nests 62 arrays: 63 levels in the request body (within its limit of 64), 66 in the envelope.</summary>
    private Task<HttpResponseMessage> PublishDeepStateAsync(string exec, object? metadata)
    {
        var state = new string('[', 62) + "1" + new string(']', 62);
        var meta = metadata is null ? string.Empty : $",\"metadata\":{System.Text.Json.JsonSerializer.Serialize(metadata)}";
        return Api.PostRawAsync("v1/tasks", $$"""{"type":"token","state":{{state}},"workflow_context":{"workflow_exec_id":"{{exec}}"}{{meta}}}""");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url)
    {
        using var request = new HttpRequestMessage(method, url);
        return await Api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
