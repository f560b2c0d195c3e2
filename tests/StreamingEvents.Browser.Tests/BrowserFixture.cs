using Microsoft.Playwright;
using StreamingEvents.Testing;

namespace StreamingEvents.Browser.Tests;

/// <summary>
/// One headless Chromium for the assembly: the system's <c>/usr/bin/chromium</c> (Debian's <c>chromium</c> package),
/// never a browser that Playwright downloads, with a fresh profile in a temporary folder. Each test opens its own page.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    private readonly string _profile = Directory.CreateTempSubdirectory("se-chromium-").FullName;
    private IPlaywright? _playwright;
    private IBrowserContext? _context;

    public IBrowserContext Context => _context ?? throw new InvalidOperationException("The browser is not started.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {ChromiumPath} and it is missing. Install Debian's package: " +
                "`apt-get install -y chromium` (eng/test.sh does it when the file is missing). Playwright never downloads a browser here.");
        }

        Assertions.SetDefaultExpectTimeout((float)LivePage.Bound.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync().Within();
        // A persistent context is how Playwright takes a user-data-dir: a fresh, empty one per run.
        _context = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
            Timeout = 60_000,
        }).Within(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }

        _playwright?.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its last files as it exits; the folder is under the temp directory.
        }
    }
}

/// <summary>A frontend shared by the tests that neither stop nor reconfigure it; each of them uses its own execution id.</summary>
public sealed class SharedServerFixture : IAsyncLifetime
{
    private FrontendServer? _server;

    public FrontendServer Server => _server ?? throw new InvalidOperationException("The server is not started.");

    public async Task InitializeAsync() => _server = await FrontendServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The browser tests run one after another: one Chromium, and a 2-core machine.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<SharedServerFixture>
{
    public const string Name = "browser";
}
