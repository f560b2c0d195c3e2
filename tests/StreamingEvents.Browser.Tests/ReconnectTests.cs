using StreamingEvents.Testing;
using static Microsoft.Playwright.Assertions;

namespace StreamingEvents.Browser.Tests;

/// <summary>The browser's own EventSource reconnection resumes exactly where the page left off, across a restart of the service.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReconnectTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_page_recovers_after_the_server_drops_the_connection_and_resumes_exactly_after_its_last_event()
    {
        // Its own server, since it is stopped; a short retry hint so the browser comes back quickly.
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Http:ReconnectDelay"] = "00:00:00.200",
        });
        var publisher = new TaskPublisher(server.Http, TaskPublisher.NewExecution("reconnect"));
        var tokens = new List<string> { "Resume" };
        var (taskId, last) = await publisher.StartAsync("token", new { tokens });
        foreach (var token in new[] { " from", " the", " next" })
        {
            tokens.Add(token);
            last = await publisher.PatchAsync(taskId, new { op = "add", path = "/tokens/-", value = token });
        }

        await using var page = await LivePage.OpenAsync(browser, new Uri(server.BaseAddress, $"?exec={publisher.Execution}"));
        await page.WaitForSequenceAsync(last);
        await Expect(page.TaskText(taskId)).ToHaveTextAsync(string.Concat(tokens));
        await Expect(page.Connection).ToHaveTextAsync("live");
        var received = last;

        // The service goes away (its open streams end) and nothing is published meanwhile: the page says so.
        await server.StopAsync();
        await Expect(page.Connection).ToHaveTextAsync("reconnecting…");
        await server.StartAgainAsync();

        foreach (var token in new[] { " sequence,", " never", " a", " gap", " or", " a", " duplicate." })
        {
            tokens.Add(token);
            last = await publisher.PatchAsync(taskId, new { op = "add", path = "/tokens/-", value = token });
        }

        last = await publisher.CompleteAsync(taskId, new { tokens });

        await Expect(page.Resumed).ToHaveTextAsync($"reconnected, resumed from {received + 1}");
        await Expect(page.Connection).ToHaveTextAsync($"reconnected, resumed from {received + 1}");
        await Expect(page.TaskCard(taskId)).ToHaveAttributeAsync("data-status", "completed");
        Assert.Equal(string.Concat(tokens), await page.TaskText(taskId).TextContentAsync());
        await page.ExpectLogOfExactlyAsync(last);
        var hooks = await page.HooksAsync();
        Assert.Equal((last, last, 0L, 0L), (hooks.LastSequence, hooks.Applied, hooks.Gaps, hooks.Duplicates));
        Assert.True(hooks.Reconnects >= 1, $"The page counted {hooks.Reconnects} reconnections.");
        Assert.Equal(received + 1, hooks.ResumedFrom);
        Assert.Empty(page.PageErrors);
    }
}
