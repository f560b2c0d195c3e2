using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace StreamingEvents.Browser.Tests;

/// <summary>The page renders what a worker publishes over HTTP: text, progress, JSON and terminal states, live.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LivePageTests(BrowserFixture browser, SharedServerFixture shared)
{
    [Fact]
    public async Task The_page_shows_the_streamed_text_and_logs_every_sequence_then_follows_live_updates()
    {
        var server = shared.Server;
        var publisher = new TaskPublisher(server.Http, TaskPublisher.NewExecution("text"));
        var (taskId, last) = await publisher.StartAsync("token", new { text = "" });
        var text = string.Empty;
        foreach (var token in new[] { "Streams", " carry", " state", " from", " workflow", " tasks" })
        {
            text += token;
            last = await publisher.UpdateAsync(taskId, new { text });
        }

        Assert.Equal(7, last);
        await using var page = await LivePage.OpenAsync(browser, new Uri(server.BaseAddress, $"?exec={publisher.Execution}"));

        await Expect(page.TaskText(taskId)).ToHaveTextAsync(text);
        Assert.Equal(text, await page.TaskText(taskId).TextContentAsync());
        await page.ExpectLogOfExactlyAsync(last);
        await Expect(page.Connection).ToHaveTextAsync("live");
        await Expect(page.Page.GetByTestId("exec-id")).ToHaveTextAsync(publisher.Execution);

        // Live, while the page is open: a json_patch with Mistral's `append`, a whole state, then the end of the task.
        await publisher.PatchAsync(taskId, new { op = "append", path = "/text", value = " to live" });
        text += " to live";
        await Expect(page.TaskText(taskId)).ToHaveTextAsync(text);
        text += " interfaces, in order";
        await publisher.UpdateAsync(taskId, new { text });
        text += ".";
        last = await publisher.CompleteAsync(taskId, new { text });

        await Expect(page.TaskCard(taskId)).ToHaveAttributeAsync("data-status", "completed");
        await Expect(page.TaskCard(taskId).GetByTestId("task-status")).ToHaveTextAsync("completed");
        await Expect(page.TaskText(taskId)).ToHaveTextAsync(text);
        Assert.Equal(text, await page.TaskText(taskId).TextContentAsync());
        await page.ExpectLogOfExactlyAsync(last);
        await Expect(page.LogRows.First).ToContainTextAsync("CUSTOM_TASK_COMPLETED");
        var hooks = await page.HooksAsync();
        Assert.Equal((last, last, 0L, 0L, 0L), (hooks.LastSequence, hooks.Applied, hooks.Duplicates, hooks.Gaps, hooks.Reconnects));
        Assert.Empty(page.PageErrors);
    }

    [Fact]
    public async Task A_progress_task_renders_as_a_bar_whose_value_follows_progress_idx_over_progress_total()
    {
        var server = shared.Server;
        var publisher = new TaskPublisher(server.Http, TaskPublisher.NewExecution("progress"));
        var (taskId, _) = await publisher.StartAsync("progress", Progress(0, 4));
        await using var page = await LivePage.OpenAsync(browser, new Uri(server.BaseAddress, $"?exec={publisher.Execution}"));
        var card = page.TaskCard(taskId);
        var bar = card.GetByTestId("task-progress");

        await Expect(bar).ToHaveAttributeAsync("aria-valuemax", "4");
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "0");
        await Expect(card.GetByTestId("progress-count")).ToHaveTextAsync("0 / 4 (0%)");

        await publisher.UpdateAsync(taskId, Progress(1, 4, "alpha"));
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "1");
        await Expect(card.GetByTestId("progress-count")).ToHaveTextAsync("1 / 4 (25%)");
        await Expect(card.GetByTestId("progress-label")).ToHaveTextAsync("alpha");

        // A worker that sends only what changed: RFC 6902 operations on the previous state.
        await publisher.PatchAsync(taskId,
            new { op = "add", path = "/processed_words/-", value = "beta" },
            new { op = "replace", path = "/progress_idx", value = 2 });
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "2");
        await Expect(card.GetByTestId("progress-count")).ToHaveTextAsync("2 / 4 (50%)");
        await Expect(card.GetByTestId("progress-label")).ToHaveTextAsync("alpha beta");
        Assert.Equal("50%", await bar.Locator(".fill").EvaluateAsync<string>("fill => fill.style.width"));

        await publisher.UpdateAsync(taskId, Progress(3, 4, "alpha", "beta", "gamma"));
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "3");
        var last = await publisher.CompleteAsync(taskId, Progress(4, 4, "alpha", "beta", "gamma", "delta"));
        await Expect(card).ToHaveAttributeAsync("data-status", "completed");
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "4");
        await Expect(card.GetByTestId("progress-count")).ToHaveTextAsync("4 / 4 (100%)");
        await page.WaitForSequenceAsync(last);
        var hooks = await page.HooksAsync();
        Assert.Equal((last, 0L, 0L), (hooks.Applied, hooks.Duplicates, hooks.Gaps));
        Assert.Empty(page.PageErrors);
    }

    [Fact]
    public async Task A_failed_task_shows_its_failure_message_and_a_canceled_task_its_reason()
    {
        var server = shared.Server;
        var publisher = new TaskPublisher(server.Http, TaskPublisher.NewExecution("failed"));
        await using var page = await LivePage.OpenAsync(browser, new Uri(server.BaseAddress, $"?exec={publisher.Execution}"));
        // Followed before it published anything: the page waits for the execution's first event.
        await Expect(page.Connection).ToHaveTextAsync("live");

        var (progressId, _) = await publisher.StartAsync("progress", Progress(1, 3, "one"));
        await publisher.UpdateAsync(progressId, Progress(2, 3, "one", "two"));
        await publisher.FailAsync(progressId, "Disk full after word 2");
        var (searchId, _) = await publisher.StartAsync("search", new { query = "orleans streams", results = 2 });
        var last = await publisher.CancelAsync(searchId, "the user left");

        var failed = page.TaskCard(progressId);
        await Expect(failed).ToHaveAttributeAsync("data-status", "failed");
        await Expect(failed.GetByTestId("task-status")).ToHaveTextAsync("failed");
        await Expect(failed.GetByTestId("task-failure")).ToHaveTextAsync("Disk full after word 2");
        await Expect(failed.GetByTestId("task-progress")).ToHaveAttributeAsync("aria-valuenow", "2");

        var canceled = page.TaskCard(searchId);
        await Expect(canceled).ToHaveAttributeAsync("data-status", "canceled");
        await Expect(canceled.GetByTestId("task-failure")).ToHaveTextAsync("canceled: the user left");
        // A state that is neither text nor progress is shown as JSON.
        await Expect(canceled.GetByTestId("task-json")).ToContainTextAsync("\"query\": \"orleans streams\"");

        await page.ExpectLogOfExactlyAsync(last);
        Assert.Empty(page.PageErrors);
    }

    [Fact]
    public async Task The_page_ignores_a_duplicate_and_shows_a_gap_warning_when_a_stream_skips_a_sequence()
    {
        // The service never sends these; a crafted stream stands in for a faulty one, to check the page's own guard.
        string[] records =
        [
            Record(1, "CUSTOM_TASK_STARTED", """{"type":"json","value":{"text":"a"}}"""),
            Record(2, "CUSTOM_TASK_IN_PROGRESS", """{"type":"json_patch","value":[{"op":"append","path":"/text","value":"b"}]}"""),
            Record(2, "CUSTOM_TASK_IN_PROGRESS", """{"type":"json_patch","value":[{"op":"append","path":"/text","value":"b"}]}"""),
            Record(4, "CUSTOM_TASK_IN_PROGRESS", """{"type":"json_patch","value":[{"op":"append","path":"/text","value":"d"}]}"""),
            "event: error\ndata: {\"error\":\"The stream failed inside the service.\",\"reason\":\"internal\"}\n\n",
        ];
        await using var page = await LivePage.OpenAsync(browser, shared.Server.BaseAddress);
        await page.Page.RouteAsync(new Regex("/v1/workflows/events/stream"), route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/event-stream",
            // A long retry hint: the browser does not come back for more within the test.
            Body = "retry: 600000\n: connected\n\n" + string.Concat(records),
        }));
        await page.Page.GetByTestId("follow-exec").FillAsync("crafted-stream");
        await page.Page.GetByTestId("follow-button").ClickAsync();

        await Expect(page.TaskText("t1")).ToHaveTextAsync("abd");
        await Expect(page.Page.GetByTestId("gap-warning")).ToContainTextAsync("expected event #3 but received #4");
        await Expect(page.Page.GetByTestId("stat-gaps")).ToHaveTextAsync("1");
        await Expect(page.Page.GetByTestId("stat-duplicates")).ToHaveTextAsync("1");
        await Expect(page.Page.GetByTestId("stream-error")).ToContainTextAsync("The stream failed inside the service. (internal)");
        var hooks = await page.HooksAsync();
        Assert.Equal((4L, 4L, 3L, 1L, 1L), (hooks.LastSequence, hooks.Received, hooks.Applied, hooks.Duplicates, hooks.Gaps));
        var logged = await page.LoggedSequencesAsync();
        Assert.Equal([1L, 2L, 4L], logged);
        Assert.Empty(page.PageErrors);
    }

    /// <summary>One SSE record of a custom-task event of task <c>t1</c>, as the service writes it.</summary>
    private static string Record(long sequence, string eventType, string payload)
    {
        var envelope = "{\"stream\":\"token\",\"broker_sequence\":" + sequence + ",\"timestamp\":\"2026-04-15T10:30:00.000Z\","
            + "\"data\":{\"event_type\":\"" + eventType + "\",\"attributes\":{\"custom_task_id\":\"t1\",\"custom_task_type\":\"token\",\"payload\":" + payload + "}}}";
        return $"id: {sequence}\ndata: {envelope}\n\n";
    }

    /// <summary>The state of a progress task, as the demo's progress activity publishes it.</summary>
    private static object Progress(int index, int total, params string[] words) =>
        new { processed_words = words, progress_idx = index, progress_total = total };
}
