using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace StreamingEvents.Browser.Tests;

/// <summary>The "Start demo" button: a simulated LLM token stream and a progress task, streamed into the page.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DemoTests(BrowserFixture browser, SharedServerFixture shared)
{
    private static readonly TimeSpan DemoBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_demo_button_streams_a_token_text_and_a_progress_bar_to_completion_at_the_chosen_rate()
    {
        var server = shared.Server;
        await using var page = await LivePage.OpenAsync(browser, server.BaseAddress);
        await page.Page.GetByTestId("demo-rate").FillAsync("200");
        await page.Page.GetByTestId("demo-tokens").FillAsync("40");
        await page.Page.GetByTestId("demo-start").ClickAsync();

        await page.WaitUntilAsync("window.streamingEvents.execution?.startsWith('demo-')", "the page to follow the demo's execution");
        var execution = (await page.HooksAsync()).Execution!;
        Assert.Contains($"exec={execution}", page.Page.Url, StringComparison.Ordinal);

        var token = page.Page.Locator("[data-testid=task][data-task-type=token]");
        var progress = page.Page.Locator("[data-testid=task][data-task-type=progress]");
        await Expect(token.GetByTestId("task-text")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\w"));
        await Expect(progress.GetByTestId("task-progress")).ToBeVisibleAsync();
        var expectTimeout = new LocatorAssertionsToHaveAttributeOptions { Timeout = (float)DemoBound.TotalMilliseconds };
        await Expect(token).ToHaveAttributeAsync("data-status", "completed", expectTimeout);
        await Expect(progress).ToHaveAttributeAsync("data-status", "completed", expectTimeout);

        var bar = progress.GetByTestId("task-progress");
        var total = await bar.GetAttributeAsync("aria-valuemax");
        Assert.True(int.Parse(total!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", total!);

        // The text on the page is exactly the service's final state of the task.
        var taskId = await token.GetAttributeAsync("data-task-id");
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"v1/tasks/{taskId}");
        var tokens = stored.GetProperty("state").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(40, tokens.Count);
        Assert.Equal(string.Concat(tokens), await token.GetByTestId("task-text").TextContentAsync());

        var hooks = await page.HooksAsync();
        Assert.Equal((0L, 0L), (hooks.Gaps, hooks.Duplicates));
        await page.ExpectLogOfExactlyAsync(hooks.LastSequence);

        // The new execution is in the list of recent ones.
        await page.Page.GetByTestId("streams-refresh").ClickAsync();
        await Expect(page.Page.Locator($"[data-testid=stream-item][data-exec='{execution}']")).ToBeVisibleAsync();
        Assert.Empty(page.PageErrors);
    }

    [Fact]
    public async Task The_stop_button_cancels_a_running_demo_its_producers_stop_and_the_page_shows_canceled()
    {
        var server = shared.Server;
        await using var page = await LivePage.OpenAsync(browser, server.BaseAddress);
        await page.Page.GetByTestId("demo-rate").FillAsync("5");
        await page.Page.GetByTestId("demo-tokens").FillAsync("5000"); // 1,000 s: only Stop ends it within the test
        await page.Page.GetByTestId("demo-start").ClickAsync();
        await page.WaitUntilAsync("window.streamingEvents.execution?.startsWith('demo-')", "the page to follow the demo's execution");
        var execution = (await page.HooksAsync()).Execution!;

        await Expect(page.Page.GetByTestId("exec-status")).ToHaveTextAsync("RUNNING");
        var token = page.Page.Locator("[data-testid=task][data-task-type=token]");
        await Expect(token.GetByTestId("task-text")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\w"));
        await page.Page.GetByTestId("exec-stop").ClickAsync();

        await Expect(page.Page.GetByTestId("exec-status")).ToHaveTextAsync("CANCELED");
        await Expect(page.Page.GetByTestId("exec-stop")).ToBeHiddenAsync();
        await Expect(token).ToHaveAttributeAsync("data-status", "canceled");
        await Expect(page.Page.Locator("[data-testid=task][data-task-type=progress]")).ToHaveAttributeAsync("data-status", "canceled");

        // The producers stopped: the stream ends with the execution's CANCELED and nothing comes after it.
        var status = await server.Http.GetFromJsonAsync<JsonElement>($"v1/workflows/executions/{execution}");
        Assert.Equal("CANCELED", status.GetProperty("status").GetString());
        var head = (await server.Http.GetFromJsonAsync<JsonElement>($"v1/streams/{execution}")).GetProperty("head").GetInt64();
        var hooks = await page.HooksAsync();
        Assert.Equal(head, hooks.LastSequence);
        Assert.Equal((0L, 0L), (hooks.Gaps, hooks.Duplicates));
        Assert.Empty(page.PageErrors);
    }
}
