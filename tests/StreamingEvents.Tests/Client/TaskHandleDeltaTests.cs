using System.Text.Json;
using System.Text;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;
using StreamingEvents.Testing;
using StreamingEvents.Tests.Fakes;

namespace StreamingEvents.Tests.Client;

public sealed class TaskHandleDeltaTests
{
    private readonly FakeTaskGrain _grain = new(startedSequence: 1);

    [Fact]
    public async Task In_delta_mode_a_grown_text_is_published_as_an_append_patch()
    {
        var handle = Handle(new Text(Prefix + "Hel"));

        await handle.UpdateStateAsync(new Text(Prefix + "Hello")).Within();

        var draft = Assert.Single(Assert.Single(_grain.UpdateCalls));
        Assert.Equal(PayloadEncoding.JsonPatch, draft.Encoding);
        Assert.Equal("""[{"op":"append","path":"/text","value":"lo"}]""", Encoding.UTF8.GetString(draft.Payload.Span));
    }

    [Fact]
    public async Task An_update_whose_patch_would_be_larger_than_the_state_is_published_whole()
    {
        var handle = Handle(new Text("abc"));

        await handle.UpdateStateAsync(new Text("xyz")).Within();

        var draft = Assert.Single(Assert.Single(_grain.UpdateCalls));
        Assert.Equal(PayloadEncoding.Json, draft.Encoding);
    }

    [Fact]
    public async Task An_update_sent_again_carries_the_same_patch_and_a_refused_one_leaves_the_base_of_the_next()
    {
        _grain.LoseUpdateAnswer = call => call == 1 ? new TimeoutException("the answer was lost") : null;
        _grain.FailUpdate = (call, _) => call == 3 ? new EventTooLargeException(1_048_600, StreamingLimits.MaxEventBytes) : null;
        var handle = Handle(new Text(Prefix + "a"));

        await handle.UpdateStateAsync(new Text(Prefix + "ab")).Within();
        await handle.UpdateStateAsync(new Text(Prefix + "abc")).Within();
        await Assert.ThrowsAsync<EventTooLargeException>(() => handle.UpdateStateAsync(new Text(Prefix + "abcd")).Within());
        await handle.UpdateStateAsync(new Text(Prefix + "abcde")).Within();

        var calls = _grain.UpdateCalls.Select(call => Encoding.UTF8.GetString(Assert.Single(call).Payload.Span)).ToList();
        Assert.Equal(calls[1], calls[2]);
        Assert.All(_grain.Published, draft => Assert.Equal(PayloadEncoding.JsonPatch, draft.Encoding));
        JsonNode? state = JsonNode.Parse($$"""{"text":"{{Prefix}}a"}""");
        var rebuilt = _grain.Published.Select(draft =>
        {
            state = JsonPatch.Apply(state, JsonNode.Parse(draft.Payload.Span)!.AsArray());
            return state!["text"]!.GetValue<string>()[Prefix.Length..];
        }).ToList();
        Assert.Equal(["ab", "abc", "abcde"], rebuilt);
    }

    [Fact]
    public async Task Replaying_the_published_patches_over_the_initial_state_gives_every_state_in_order()
    {
        var handle = Handle(new Text(""));
        var expected = new List<string>();
        var text = "";
        var pending = new List<Task<long>>();
        for (var i = 0; i < 200; i++)
        {
            text += $" token{i}";
            expected.Add(text);
            pending.Add(handle.UpdateStateAsync(new Text(text)));
        }

        await Task.WhenAll(pending).Within();

        JsonNode? state = JsonNode.Parse("""{"text":""}""");
        var rebuilt = new List<string>();
        foreach (var draft in _grain.Published)
        {
            state = draft.Encoding == PayloadEncoding.JsonPatch
                ? JsonPatch.Apply(state, JsonNode.Parse(draft.Payload.Span)!.AsArray())
                : JsonNode.Parse(draft.Payload.Span);
            rebuilt.Add(state!["text"]!.GetValue<string>());
        }

        Assert.Equal(expected, rebuilt);

        // Whole states while they are smaller than a patch, patches from then on.
        var encodings = _grain.UpdateCalls.SelectMany(call => call).Select(d => d.Encoding).ToList();
        var firstPatch = encodings.IndexOf(PayloadEncoding.JsonPatch);
        Assert.InRange(firstPatch, 1, 10);
        Assert.All(encodings.Skip(firstPatch), encoding => Assert.Equal(PayloadEncoding.JsonPatch, encoding));
    }

    [Fact]
    public async Task Completing_a_delta_task_publishes_the_whole_final_state()
    {
        var handle = Handle(new Text("x"));
        await handle.UpdateStateAsync(new Text("xy")).Within();

        await handle.DisposeAsync();

        var terminal = Assert.Single(_grain.FinishCalls);
        Assert.Equal(PayloadEncoding.Json, terminal.Encoding);
        Assert.Equal("""{"text":"xy"}""", Encoding.UTF8.GetString(terminal.Payload.Span));
    }

    /// <summary>Long enough that an append patch is smaller than the whole state.</summary>
    private static readonly string Prefix = new('x', 80);

    private TaskHandle<Text> Handle(Text initial) =>
        new(_grain, new TaskStarted("t1", new ExecutionId("default", "e1"), "token", 1), initial, JsonSerializer.SerializeToUtf8Bytes(initial, JsonDefaults.State), JsonDefaults.State,
            TaskHandleTests.Settings(maxUpdatesPerCall: 16, updates: StateUpdates.Deltas), CancellationToken.None);

    private sealed record Text(string Value)
    {
        [System.Text.Json.Serialization.JsonPropertyName("text")]
        public string Value { get; init; } = Value;
    }
}
