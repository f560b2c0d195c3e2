using System.Text.Json;
using Microsoft.Playwright;

namespace StreamingEvents.Browser.Tests;

/// <summary>What the page's test hooks (<c>window.streamingEvents</c>) report.</summary>
public sealed record PageHooks(
    string? Execution,
    long LastSequence,
    long Received,
    long Applied,
    long Duplicates,
    long Gaps,
    string ConnectionState,
    string ConnectionText,
    long Reconnects,
    long? ResumedFrom,
    string? LastError);

/// <summary>
/// The live page open in a browser tab, with the locators the tests read and waits whose bound is a failure, never a
/// synchronisation: a wait that runs out fails with what the page showed at that moment.
/// </summary>
public sealed class LivePage : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly List<string> _pageErrors = [];

    private LivePage(IPage page)
    {
        Page = page;
        page.PageError += (_, error) =>
        {
            lock (_pageErrors)
            {
                _pageErrors.Add(error);
            }
        };
    }

    public IPage Page { get; }

    public ILocator Connection => Page.GetByTestId("connection");

    public ILocator Resumed => Page.GetByTestId("resumed");

    public ILocator LogRows => Page.GetByTestId("log-row");

    /// <summary>Uncaught script errors of the page so far.</summary>
    public IReadOnlyList<string> PageErrors
    {
        get
        {
            lock (_pageErrors)
            {
                return [.. _pageErrors];
            }
        }
    }

    public static async Task<LivePage> OpenAsync(BrowserFixture browser, Uri address)
    {
        var page = await browser.Context.NewPageAsync();
        page.SetDefaultTimeout((float)Bound.TotalMilliseconds);
        var live = new LivePage(page);
        await page.GotoAsync(address.ToString());
        return live;
    }

    public ILocator TaskCard(string taskId) => Page.Locator($"[data-testid=task][data-task-id='{taskId}']");

    public ILocator TaskText(string taskId) => TaskCard(taskId).GetByTestId("task-text");

    public async Task<PageHooks> HooksAsync()
    {
        var json = await Page.EvaluateAsync<string>("() => JSON.stringify(window.streamingEvents)");
        return JsonSerializer.Deserialize<PageHooks>(json, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("window.streamingEvents is missing.");
    }

    /// <summary>The broker_sequence of every row of the event log, oldest first.</summary>
    public async Task<long[]> LoggedSequencesAsync()
    {
        // The log shows the newest first.
        return await Page.EvaluateAsync<long[]>(
            "() => [...document.querySelectorAll('[data-testid=log-row]')].map(row => Number(row.dataset.seq)).reverse()");
    }

    /// <summary>Waits until the event log shows exactly the sequences 1..<paramref name="last"/>, each once, in order.</summary>
    public async Task ExpectLogOfExactlyAsync(long last)
    {
        await Assertions.Expect(LogRows).ToHaveCountAsync((int)last);
        var logged = await LoggedSequencesAsync();
        long[] expected = [.. Enumerable.Range(1, (int)last).Select(i => (long)i)];
        Assert.Equal(expected, logged);
    }

    /// <summary>Waits until <paramref name="predicate"/> (a JavaScript expression) is true in the page.</summary>
    public async Task WaitUntilAsync(string predicate, string description, TimeSpan? bound = null)
    {
        try
        {
            await Page.WaitForFunctionAsync(predicate, null, new PageWaitForFunctionOptions { Timeout = (float)(bound ?? Bound).TotalMilliseconds });
        }
        catch (TimeoutException error)
        {
            throw new TimeoutException($"Waited {(bound ?? Bound).TotalSeconds} s for {description}; the page showed: {await DescribeAsync()}", error);
        }
    }

    /// <summary>Waits until the page has applied every event up to <paramref name="sequence"/>.</summary>
    public Task WaitForSequenceAsync(long sequence, TimeSpan? bound = null) =>
        WaitUntilAsync($"window.streamingEvents && window.streamingEvents.lastSequence >= {sequence}", $"event #{sequence} to be applied", bound);

    /// <summary>The hooks, the indicator and the notes, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        try
        {
            return await Page.EvaluateAsync<string>("""
                () => JSON.stringify({
                  hooks: window.streamingEvents,
                  connection: document.querySelector('[data-testid=connection]')?.innerText,
                  notes: [...document.querySelectorAll('.note:not([hidden])')].map(n => n.innerText),
                  tasks: window.streamingEvents?.tasks().map(t => ({ id: t.id, status: t.status, message: t.message, updates: t.updates })),
                })
                """) + (PageErrors.Count > 0 ? $" page errors: {string.Join(" | ", PageErrors)}" : string.Empty);
        }
        catch (PlaywrightException error)
        {
            return $"(the page could not be read: {error.Message})";
        }
    }

    public async ValueTask DisposeAsync() => await Page.CloseAsync();
}
