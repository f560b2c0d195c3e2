using System.Net.Http.Headers;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Testing;
using static Microsoft.Playwright.Assertions;

namespace StreamingEvents.Browser.Tests;

/// <summary>With API keys configured, the page streams with the key it is given (EventSource cannot send headers).</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiKeyTests(BrowserFixture browser)
{
    private const string Key = "browser-test-key-0123456789";

    [Fact]
    public async Task With_keys_configured_the_page_streams_using_the_key_it_was_given()
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
    }
}
