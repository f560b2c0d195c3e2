using System.Net.Http.Headers;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Testing;
using static Microsoft.Playwright.Assertions;

namespace StreamingEvents.Browser.Tests;

/// <summary>
/// With API keys configured, the page streams with the key it is given: the key goes in headers; EventSource cannot send
/// any, so the stream's URL carries a short-lived token for its one execution, minted with the key, never the key.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiKeyTests(BrowserFixture browser)
{
    private const string Key = "browser-test-key-0123456789";

    [Fact]
    public async Task With_keys_configured_the_page_streams_with_a_token_minted_by_the_key_it_was_given_never_the_key_in_a_url()
    {
        await using var server = await FrontendServer.StartAsync(new Dictionary<string, string?>
        {
            ["StreamingEvents:Auth:Keys:0:Id"] = "browser",
            ["StreamingEvents:Auth:Keys:0:Sha256"] = AuthOptions.Hash(Key),
            ["StreamingEvents:Auth:Keys:0:Scopes:0"] = "admin",
            ["StreamingEvents:Auth:Keys:0:Namespaces:0"] = "*",
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var publisher = new TaskPublisher(http, TaskPublisher.NewExecution("keyed"));
        var (taskId, _) = await publisher.StartAsync("token", new { text = "" });
        await publisher.UpdateAsync(taskId, new { text = "Hello" });

        await using var page = await LivePage.OpenAsync(browser, new Uri(server.BaseAddress, $"?exec={publisher.Execution}&api_key={Key}"));

        await Expect(page.TaskText(taskId)).ToHaveTextAsync("Hello");
        await publisher.UpdateAsync(taskId, new { text = "Hello, keyed world" });
        await Expect(page.TaskText(taskId)).ToHaveTextAsync("Hello, keyed world");
        await Expect(page.Connection).ToHaveTextAsync("live");

        // Neither the stream's URL nor the page's address (hence history and Referer) holds the key.
        var streamUrl = await page.Page.EvaluateAsync<string>("() => window.streamingEvents.streamUrl");
        Assert.Contains("access_token=se1.", streamUrl, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, streamUrl, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, page.Page.Url, StringComparison.Ordinal);
    }
}
