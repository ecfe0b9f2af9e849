using Microsoft.Playwright;

namespace EcsReflex.Report.Tests;

/// <summary>
/// One headless Chromium for the browser tests: Debian's <c>chromium</c> package, driven by Playwright
/// with <c>ExecutablePath</c> (no browser download, ever). When it is missing, a test that still runs
/// (under CI, see <see cref="BrowserFactAttribute"/>) fails and says how to install it.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string DefaultPath = "/usr/bin/chromium";

    /// <summary>Another Chromium can be named with this environment variable (e.g. on a developer's Mac).</summary>
    public const string PathVariable = "REFLEX_CHROMIUM";

    public static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var path = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } p ? p : DefaultPath;
        if (!File.Exists(path))
            throw new InvalidOperationException(
                $"Chromium is missing at {path}. The report's browser tests need Debian's chromium package: " +
                $"run `apt-get update && apt-get install -y chromium` (.ci/run installs it), or set {PathVariable} to a Chromium executable.");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = Args,
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>Opens a page on <paramref name="file"/> and waits until its script has rendered the table.</summary>
    public async Task<(IPage Page, List<string> Requests)> OpenAsync(string file, int width = 1280, int height = 900, float timeoutMs = 60_000)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var requests = new List<string>();
        page.Request += (_, r) => { lock (requests) requests.Add(r.Url); };
        var errors = new List<string>();
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        await page.GotoAsync(new Uri(file).AbsoluteUri, new PageGotoOptions { Timeout = timeoutMs, WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync("() => document.documentElement.dataset.ready === 'true'", null, new PageWaitForFunctionOptions { Timeout = timeoutMs });
        Assert.True(errors.Count == 0, "script errors: " + string.Join("; ", errors));
        return (page, requests);
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "chromium";
}

/// <summary>
/// A browser test. On a developer's machine without Chromium it is skipped with the reason and the
/// install command (the README's test command must work on a fresh clone with only the .NET SDK and
/// Node.js); under CI (the <c>CI</c> variable set) it always runs, and a missing Chromium fails it.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable(ChromiumFixture.PathVariable) is { Length: > 0 } p ? p : ChromiumFixture.DefaultPath;
        if (!File.Exists(path) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            Skip = $"Chromium is not installed at {path}: install Debian's chromium (apt-get install -y chromium) or set {ChromiumFixture.PathVariable}; CI installs it and runs these tests.";
    }
}
